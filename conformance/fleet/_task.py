"""What a Dask worker runs for one cell: :func:`run_cell`.

The task's argument (:func:`cell_spec`) holds the run's options, the *name* of the environment
variable with the API key and the names of those with secret header values; never a secret.
The worker reads them from its own environment and hands them to the cell's subprocess through
its environment (``CONFORMANCE_API_KEY``; secret headers through ``PYTEST_ADDOPTS``), so no
secret is in a task argument, a task result, the scheduler's memory or a process listing. The
result carries the run's report files (compressed), redacted once more with the worker's
secrets, and what the cell cost (wall time, CPU seconds, peak memory).

The cell runs under a bound (its run budget plus a grace period): a cell still running then is
ended (its whole process group) and reported as an error. Imports nothing from Dask at module
level: a worker imports this module by name to run the task.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence

from conformance import __version__
from conformance._options import BY_NAME, ENV_API_KEY, ENV_TARGET

TOPIC = "conformance-fleet"  # the Dask event topic a started cell is announced on
CELL_MODULE = "conformance.fleet._cell"
OUTPUT_TAIL = 256 * 1024  # bytes of the run's terminal output kept with the cell
ERROR_PREFIX = "conformance: error: "
_POLL = (0.02, 0.25)  # first and longest interval between looks at the cell's process
_TERM_GRACE = 5.0  # seconds between SIGTERM and SIGKILL when a cell is ended


def cell_spec(cell: Any, *, attempt: int, bound: float, command: Sequence[str] | None = None) -> dict[str, Any]:
    """The task argument for ``cell`` (a :class:`conformance.fleet.spec.Cell`): plain data, no secret."""
    return {
        "id": cell.id,
        "label": cell.label,
        "attempt": attempt,
        "argv": list(cell.argv),
        "files": {name: list(v) for name, v in cell.files.items()},
        "api_key_env": cell.api_key_env,
        "secret_headers_env": dict(cell.secret_headers_env),
        "bound": bound,
        "command": list(command) if command else None,
    }


def _announce(spec: Mapping[str, Any]) -> str:
    """Tell the client (Dask event) that the cell started here; the worker's address."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return ""
    try:
        worker.log_event(
            TOPIC, {"cell": spec["id"], "attempt": spec["attempt"], "worker": worker.address, "pid": os.getpid()}
        )
    except Exception:  # noqa: BLE001 - progress is best effort; the cell runs regardless
        pass
    return str(worker.address)


def _outcome(spec: Mapping[str, Any], worker: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": spec["id"],
        "attempt": spec["attempt"],
        "status": "error",
        "exit_code": None,
        "error": None,
        "gate": None,
        "counts": {},
        "failed": [],
        "model": None,
        "duration": 0.0,
        "cpu_seconds": None,
        "max_rss_mb": None,
        "worker": worker,
        "host": socket.gethostname(),
        "harness_version": __version__,
        "files": {},
        "output": "",
    }
    base.update(fields)
    return base


def run_cell(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Run one cell on this worker and return its outcome (status ``passed``, ``failed`` or
    ``error``, the run's exit code, gate line, counts, report files, cost)."""
    from conformance._redact import Redactor

    worker = _announce(spec)
    secrets: dict[str, str] = {}
    missing = []
    key_env = spec["api_key_env"]
    key = os.environ.get(key_env) or ""
    if not key:
        missing.append(key_env)
    header_values: dict[str, str] = {}
    for header, env in spec["secret_headers_env"].items():
        value = os.environ.get(env) or ""
        if not value:
            missing.append(env)
        header_values[header] = value
        secrets[value] = env
    if missing:
        where = f"worker {worker}" if worker else f"host {socket.gethostname()}"
        return _outcome(spec, worker, error=f"environment variable {', '.join(missing)} is not set on {where}")
    secrets[key] = ENV_API_KEY
    redactor = Redactor(secrets, names=spec["secret_headers_env"].keys())

    with tempfile.TemporaryDirectory(prefix="conformance-cell-") as tmp:
        work = Path(tmp)
        reports = work / "reports"
        argv = list(spec["argv"])
        for name, (file_name, content) in spec["files"].items():
            path = work / "files" / name / file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            argv.append(f"{BY_NAME[name].long}={path}")
        argv += [f"{BY_NAME['secret-header'].long}={h}" for h in header_values]
        argv.append(f"{BY_NAME['report-dir'].long}={reports}")
        env = {
            k: v
            for k, v in os.environ.items()
            if not (k.startswith("CONFORMANCE_") or k in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", ENV_TARGET))
        }
        env[ENV_API_KEY] = key
        if header_values:
            env["PYTEST_ADDOPTS"] = " ".join(
                shlex.quote(f"{BY_NAME['header'].long}={h}:{v}") for h, v in header_values.items()
            )
        env["CONFORMANCE_FLEET_PARENT"] = str(os.getpid())
        command = list(spec.get("command") or [sys.executable, "-m", CELL_MODULE])
        log_path = work / "output.txt"
        started = time.monotonic()
        with open(log_path, "wb") as log:
            try:
                code, usage, ended = _run_bounded(command + argv, env, work, log, float(spec["bound"]))
            except OSError as exc:
                return _outcome(spec, worker, error=f"cannot start the cell's run: {exc.strerror or exc}")
        duration = time.monotonic() - started
        output = _tail(log_path)
        files = {}
        if reports.is_dir():
            for path in sorted(reports.iterdir()):
                if path.is_file():
                    text = redactor.text(path.read_text(encoding="utf-8", errors="replace"))
                    files[path.name] = zlib.compress(text.encode("utf-8"), 6)
        doc = None
        if "results.json" in files:
            try:
                doc = json.loads(zlib.decompress(files["results.json"]))
            except ValueError:
                doc = None
    output = redactor.text(output)
    cost: dict[str, Any] = {"duration": round(duration, 3)}
    if usage is not None:
        cost["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 3)
        cost["max_rss_mb"] = round(usage.ru_maxrss / 1024, 1)  # Linux: KiB
    fields: dict[str, Any] = {"exit_code": code, "files": files, "output": output, **cost}
    if doc is not None:
        fields.update(
            gate=doc["gate"]["verdict"],
            counts=doc.get("counts") or {},
            failed=[r["id"] for r in doc["results"] if r["verdict"] in ("failed", "error")],
            model=doc.get("model"),
        )
    if ended:
        fields.update(
            status="error",
            error=f"did not finish within {spec['bound']:g} s (the run budget and the fleet's grace): ended",
        )
    elif code == 0 and doc is not None:
        fields["status"] = "passed"
    elif code == 1:
        fields["status"] = "failed"
    else:
        fields["error"] = _error_line(output, code)
    return _outcome(spec, worker, **fields)


def _run_bounded(
    argv: list[str], env: dict[str, str], cwd: Path, log: Any, bound: float
) -> tuple[int | None, Any, bool]:
    """Run ``argv`` in its own session; (exit code, rusage, ended by the bound). Every wait is
    bounded: the process group gets SIGTERM at ``bound``, SIGKILL ``_TERM_GRACE`` s later."""
    import subprocess

    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True
    )
    deadline = time.monotonic() + bound
    ended = False
    interval = _POLL[0]
    reaped: tuple[int, Any] | None = None
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                reaped = (status, usage)
                break
            now = time.monotonic()
            if now >= deadline:
                if not ended:
                    ended = True
                    _signal_group(proc.pid, signal.SIGTERM)
                    deadline = now + _TERM_GRACE
                else:
                    _signal_group(proc.pid, signal.SIGKILL)
                    _, status, usage = os.wait4(proc.pid, 0)
                    reaped = (status, usage)
                    break
            time.sleep(min(interval, max(deadline - now, 0.001)))
            interval = min(interval * 2, _POLL[1])
    finally:
        # whatever the run left in its group (or the run itself, on an exception here)
        _signal_group(proc.pid, signal.SIGKILL)
        if reaped is None:
            try:
                _, status, usage = os.wait4(proc.pid, 0)
                reaped = (status, usage)
            except ChildProcessError:
                pass
    code = os.waitstatus_to_exitcode(reaped[0]) if reaped is not None else None
    usage = reaped[1] if reaped is not None else None
    proc.returncode = code  # reaped here: Popen must not wait for it again
    return code, usage, ended


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path) -> str:
    size = path.stat().st_size
    with open(path, "rb") as f:
        if size > OUTPUT_TAIL:
            f.seek(size - OUTPUT_TAIL)
        data = f.read()
    text = data.decode("utf-8", errors="replace")
    return text if size <= OUTPUT_TAIL else "[... output cut ...]\n" + text.split("\n", 1)[-1]


def _error_line(output: str, code: int | None) -> str:
    """Why a run could not happen: its ``conformance: error:`` line, else what its exit says."""
    for line in output.splitlines():
        if line.startswith(ERROR_PREFIX):
            return line[len(ERROR_PREFIX) :].strip()
    if code == 5:
        return "no check ran (exit 5)"
    if code is not None and code < 0:
        return f"the run was ended by signal {signal.Signals(-code).name}"
    last = next((line.strip() for line in reversed(output.splitlines()) if line.strip()), "")
    return f"the run exited {code}" + (f": {last[:200]}" if last else "")
