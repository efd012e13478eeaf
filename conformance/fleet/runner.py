"""The fleet's client: the Dask cluster, the cells as tasks, retries, ``--resume``, progress.

By default a ``LocalCluster`` of worker processes sized to the machine (one per core, each
running ``--cells-per-worker`` cells at once: a cell mostly waits on its target); with a
scheduler address, the cluster already running there (its workers need the package
installed and the keys' environment variables set). Each cell is one task
(:func:`conformance.fleet._task.run_cell`); its outcome is written to ``OUTPUT/cells/CELL`` the
moment it arrives, so an interrupted fleet keeps what finished and ``--resume`` runs the rest.

A worker that dies while running a cell has the cell retried once, elsewhere, then reported:
on the local cluster the scheduler gives up on the first death (``allowed-failures`` 0) and the
client resubmits once; on another cluster, whose scheduler may retry by itself, the client
counts the cell's starts and ends a third one. Every wait is bounded: a cell by its run budget
plus ``--cell-grace`` (on the worker, and again here should the worker go silent), the
connection by ``--connect-timeout``, a cluster without workers by ``--no-worker-timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

from conformance.fleet import report
from conformance.fleet._task import TOPIC, cell_spec, run_cell
from conformance.fleet.progress import FleetProgress
from conformance.fleet.spec import Cell, Fleet

EXTRA_HINT = "pip install 'messages-conformance[fleet]'"
_SLACK = 30.0  # seconds past a cell's bound before the client stops waiting for its worker
_TICK = 0.2


class FleetError(Exception):
    """The fleet cannot run (no Dask, scheduler unreachable, ...): one line, exit 2."""


@dataclass
class FleetSettings:
    output: Path = Path("reports/fleet")
    scheduler: str | None = None  # tcp://HOST:8786 (or tls://); None: a LocalCluster
    workers: int | None = None  # LocalCluster worker processes; None: one per core
    cells_per_worker: int = 4  # LocalCluster threads per worker: cells each runs at once
    resume: bool = False
    cell_grace: float = 60.0  # seconds a cell may run past its run budget before it is ended
    connect_timeout: float = 30.0
    no_worker_timeout: float = 300.0
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    progress: bool | None = None  # the bar; None: when the output is a terminal
    # What a cell runs instead of `conformance run` (the self-tests' stand-ins); None: the run.
    command: Sequence[str] | None = None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _security(settings: FleetSettings) -> Any:
    """Dask TLS from the options; None leaves Dask's own configuration (``distributed.comm.tls``,
    ``DASK_DISTRIBUTED__COMM__TLS__*``) in charge."""
    given = {"--tls-ca-file": settings.tls_ca_file, "--tls-cert": settings.tls_cert, "--tls-key": settings.tls_key}
    if not any(given.values()):
        return None
    for flag, path in given.items():
        if path and not Path(path).is_file():
            raise FleetError(f"{flag} {path}: no such file")
    from distributed.security import Security

    return Security(
        tls_ca_file=settings.tls_ca_file,
        tls_client_cert=settings.tls_cert,
        tls_client_key=settings.tls_key,
        require_encryption=True,
    )


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own log lines (a restarted worker, a closed comm) would break up the progress;
    the fleet says what happened to each cell itself."""
    loggers = [logging.getLogger(n) for n in ("distributed", "distributed.nanny", "distributed.scheduler", "tornado")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


async def _probe(address: str, security: Any, timeout: float) -> None:
    from distributed.comm import connect
    from distributed.security import Security

    comm = await connect(address, timeout=timeout, **(security or Security()).get_connection_args("client"))
    await comm.close()


@contextlib.contextmanager
def dask_client(settings: FleetSettings) -> Iterator[tuple[Any, str]]:
    """A connected Dask client and a line describing the cluster."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise FleetError(f"conformance fleet needs Dask ({exc.name or exc} is missing): {EXTRA_HINT}") from None
    with _quiet_dask():
        if settings.scheduler:
            security = _security(settings)
            try:
                # reach the scheduler once without a Client: a Client that fails half-way
                # through its start leaves a traceback and a 10 s wait at interpreter exit
                asyncio.run(_probe(settings.scheduler, security, settings.connect_timeout))
                client = Client(
                    settings.scheduler,
                    timeout=settings.connect_timeout,
                    security=security,
                    set_as_default=False,
                )
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                hint = ""
                if settings.scheduler.startswith("tls://") and security is None:
                    hint = " (a tls:// scheduler needs --tls-ca-file, --tls-cert and --tls-key, or Dask's TLS configuration)"
                raise FleetError(
                    f"cannot reach the Dask scheduler {settings.scheduler}: {_one_line(exc)}{hint}"
                ) from None
            try:
                workers = client.nthreads()
                line = (
                    f"dask: scheduler {settings.scheduler}, {len(workers)} worker(s), {sum(workers.values())} thread(s)"
                )
                if "dashboard" in (client.scheduler_info().get("services") or {}):
                    line += f"; dashboard {client.dashboard_link}"
                yield client, line
            finally:
                client.close(timeout=10)
        else:
            n_workers = settings.workers or os.cpu_count() or 1
            try:
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    cluster = LocalCluster(
                        n_workers=n_workers,
                        threads_per_worker=settings.cells_per_worker,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                        # the scheduler's HTTP routes (health, metrics) on any free port, not :8787
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.CRITICAL,
                    )
            except (OSError, TimeoutError, RuntimeError) as exc:
                raise FleetError(f"cannot start a local Dask cluster: {_one_line(exc)}") from None
            try:
                client = Client(cluster, set_as_default=False)
                try:
                    line = (
                        f"dask: LocalCluster, {n_workers} worker process(es) × {settings.cells_per_worker} cell(s) each"
                    )
                    yield client, line
                finally:
                    client.close(timeout=10)
            finally:
                cluster.close(timeout=10)


def _kept(fleet: Fleet, out_dir: Path) -> dict[str, dict[str, Any]]:
    """Cells a --resume keeps: finished (a gate verdict) by this fleet file and harness version."""
    kept = {}
    for cell in fleet.cells:
        record = report.read_cell(out_dir, cell.id)
        if (
            record is not None
            and record.get("fleet_key") == fleet.key
            and record.get("status") in ("passed", "failed")
            and (out_dir / report.CELLS_DIR / cell.id / "results.json").is_file()
        ):
            kept[cell.id] = {**record, "resumed": True}
    return kept


def run_fleet(fleet: Fleet, settings: FleetSettings, out: IO[str] | None = None) -> int:
    """Run the fleet's cells (those not kept by ``--resume``), write every report and return the
    exit code: 1 when a cell failed its gate, otherwise 2 when a cell could not run, otherwise 0.
    Raises :class:`FleetError` when the fleet cannot run at all."""
    out = out or sys.stdout
    out_dir = settings.output
    try:
        (out_dir / report.CELLS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FleetError(f"cannot write {out_dir}: {exc.strerror or exc}") from None
    records: dict[str, dict[str, Any]] = _kept(fleet, out_dir) if settings.resume else {}
    todo = [c for c in fleet.cells if c.id not in records]
    targets = len({c.target for c in fleet.cells})
    head = f"conformance fleet: {fleet.path}: {len(fleet.cells)} cell(s) of {targets} target(s)"
    if settings.resume:
        head += f"; {len(records)} kept from an earlier run (--resume), {len(todo)} to run"
    out.write(head + f"; reports in {out_dir}/\n")
    out.flush()
    started = time.monotonic()
    interrupted = False
    cluster_line = ""
    show_bar = settings.progress if settings.progress is not None else out.isatty()
    try:
        if todo:
            with dask_client(settings) as (client, cluster_line):
                out.write(cluster_line + "\n")
                out.flush()
                with FleetProgress(len(fleet.cells), len(records), out, bar=show_bar, axes=fleet.axes) as progress:
                    try:
                        _execute(client, fleet, todo, settings, progress, records)
                    except KeyboardInterrupt:
                        interrupted = True
                        progress.line("interrupted: cancelling the cells still running")
    except KeyboardInterrupt:  # while the cluster started or stopped
        interrupted = True
        out.write("interrupted\n")
    for cell in todo:
        if cell.id not in records:
            records[cell.id] = _error_record(fleet, cell, "not run: the fleet was interrupted", 0)
    ordered = [records[c.id] for c in fleet.cells]
    meta = {
        "cluster": cluster_line.removeprefix("dask: "),
        "wall_seconds": round(time.monotonic() - started, 3),
        "interrupted": interrupted,
    }
    paths, final = report.write_fleet_report(out_dir, fleet, ordered, meta=meta)
    status = report.exit_code(final)
    out.write("\n" + report.gate_table_text(fleet, final) + "\n\n")
    out.write(report.verdict_line(final) + "\n")
    out.write("matrix: " + ", ".join(str(p) for p in paths) + "\n")
    if any(r["status"] == "error" for r in final):
        out.write(f"conformance fleet {fleet.path} -o {out_dir} --resume runs only the cells without a verdict\n")
    out.flush()
    return status


def _error_record(fleet: Fleet, cell: Cell, error: str, attempts: int, **extra: Any) -> dict[str, Any]:
    outcome = {"status": "error", "error": error, **extra}
    return report.cell_record(cell, fleet, outcome, attempts)


def _execute(
    client: Any,
    fleet: Fleet,
    todo: Sequence[Cell],
    settings: FleetSettings,
    progress: FleetProgress,
    records: dict[str, dict[str, Any]],
) -> None:
    from distributed import KilledWorker

    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    done: queue.SimpleQueue[Any] = queue.SimpleQueue()
    with contextlib.suppress(Exception):  # progress only: cells run without it
        client.subscribe_topic(TOPIC, events.put)
    futures: dict[Any, tuple[Cell, int]] = {}
    live: dict[str, Any] = {}  # cell id -> its current future
    starts: dict[str, list[tuple[float, str]]] = {}  # cell id -> (time, worker) of each start
    submitted = 0

    def bound(cell: Cell) -> float:
        return cell.run_budget + settings.cell_grace

    def submit(cell: Cell, attempt: int) -> None:
        nonlocal submitted
        spec = cell_spec(cell, attempt=attempt, bound=bound(cell), command=settings.command)
        key = f"conformance-cell-{cell.id}-{attempt}-{uuid.uuid4().hex[:8]}"
        future = client.submit(run_cell, spec, key=key, pure=False, retries=0)
        futures[future] = (cell, attempt)
        live[cell.id] = future
        future.add_done_callback(done.put)
        submitted += 1

    def finish(cell: Cell, record: dict[str, Any], outcome: dict[str, Any] | None = None) -> None:
        if outcome is not None:
            report.write_cell(settings.output, record, outcome.get("files") or {}, outcome.get("output") or "")
        else:
            report.write_cell(settings.output, record, {}, "")
        records[cell.id] = record
        live.pop(cell.id, None)
        progress.finished(record)

    def give_up(cell: Cell, error: str, tries: int = 1) -> None:
        future = live.pop(cell.id, None)
        if future is not None:
            future.cancel()
        finish(cell, _error_record(fleet, cell, error, max(len(starts.get(cell.id, [])), tries)))

    for cell in todo:
        submit(cell, 1)
    by_id = {c.id: c for c in todo}
    no_worker_since: float | None = None
    next_worker_look = time.monotonic() + 5.0
    while len(records) < len(fleet.cells):
        # cells that started on a worker (Dask events): running count, retries by the scheduler
        while True:
            try:
                _, msg = events.get_nowait()
            except queue.Empty:
                break
            cell_id = msg.get("cell") if isinstance(msg, dict) else None
            if cell_id not in by_id or cell_id in records:
                continue
            starts.setdefault(cell_id, []).append((time.monotonic(), str(msg.get("worker"))))
            progress.started(cell_id)
            if len(starts[cell_id]) > 2:  # a scheduler that retries by itself: once is enough
                give_up(by_id[cell_id], "its worker died twice (the cell was retried once, elsewhere)")
        try:
            future = done.get(timeout=_TICK)
        except queue.Empty:
            future = None
        if future is not None and future in futures:
            cell, attempt = futures.pop(future)
            current: Any = live.get(cell.id)
            if cell.id in records or current is not future:  # decided already, or an earlier try
                continue
            tries = max(len(starts.get(cell.id, [])), attempt)
            try:
                outcome = future.result(timeout=60)
            except KilledWorker as exc:
                worker = getattr(getattr(exc, "last_worker", None), "address", "?")
                tries = max(tries, attempt + exc.allowed_failures)
                if tries < 2:
                    progress.stopped(cell.id)
                    progress.line(f"worker {worker} died running {cell.label}: retrying the cell elsewhere")
                    submit(cell, attempt + 1)
                else:
                    give_up(cell, f"its worker died {tries} times (last {worker}); the cell was retried once", tries)
                continue
            except Exception as exc:  # noqa: BLE001 - a worker-side failure is this cell's error, not the fleet's
                if future.cancelled():
                    give_up(cell, "cancelled by the Dask scheduler", tries)
                else:
                    give_up(cell, f"the worker could not run the cell: {type(exc).__name__}: {_one_line(exc)}", tries)
                continue
            record = report.cell_record(cell, fleet, outcome, tries)
            finish(cell, record, outcome)
            continue
        now = time.monotonic()
        # a cell whose worker went silent past the cell's own bound
        for cell_id in list(live):
            runs = starts.get(cell_id)
            if runs and now - runs[-1][0] > bound(by_id[cell_id]) + _SLACK:
                give_up(
                    by_id[cell_id], f"no outcome from worker {runs[-1][1]} within {bound(by_id[cell_id]) + _SLACK:g} s"
                )
        # a cluster without workers
        if now >= next_worker_look:
            next_worker_look = now + 5.0
            try:
                n_workers = len(client.nthreads())
            except Exception:  # noqa: BLE001 - a scheduler that does not answer counts as none
                n_workers = 0
            if n_workers:
                no_worker_since = None
            elif no_worker_since is None:
                no_worker_since = now
            elif now - no_worker_since > settings.no_worker_timeout:
                for cell_id in list(live):
                    give_up(by_id[cell_id], f"no Dask worker for {settings.no_worker_timeout:g} s")
