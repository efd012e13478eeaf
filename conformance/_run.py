"""The engine of one run: the run context checks read from (a :class:`conformance._probes.Context`),
the preflight, one check run under its bounds, and the results document. The configuration is
:mod:`conformance._config`; the gate and expected failures are :mod:`conformance._gate`.

This module knows nothing of pytest: the plugin, ``conformance run`` and the self-tests (the
kill matrix) all drive it the same way::

    with RunContext.open(RunConfig(target="http://127.0.0.1:8080", api_key="k")) as ctx:
        results = [run_check(ctx, c) for c in load_catalog().select(profile="anthropic")]
    gate_verdict(results, gate="must")
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from conformance._catalog import Check, Outcome, Verdict
from conformance._config import RunConfig, RunSetupError
from conformance._discover import discover_model
from conformance._exchange import Exchange
from conformance._gate import ExpectedFailures, gate_verdict
from conformance._probes import PROBES
from conformance._schema import SchemaSet, load_schemas
from conformance._target import Target, TargetError, Timeouts

__all__ = [
    "RunConfig",
    "RunContext",
    "RunSetupError",
    "Result",
    "discover_model",
    "preflight",
    "results_document",
    "run_check",
]


class CheckTimeout(BaseException):
    """Raised (by SIGALRM) into a check that overran its bound; never escapes :func:`run_check`.

    A BaseException so that a check's own ``except Exception`` (the SDK family records every
    exception as the SDK's verdict) cannot swallow it.
    """


class ProbeUnfinished(Exception):
    """A probe was cut off by an earlier check's bound; checks reading it fail at once."""


# Seconds past a check's bound before SIGALRM interrupts it: Target exchanges end on their own
# at the bound (Target.deadline); only calls that bypass the Target (the SDK) need the signal.
ALARM_GRACE = 0.5
ALARM_REPEAT = 0.25  # seconds between further alarms while an interrupted check winds down


def _exchanges_in(value: Any) -> list[Exchange]:
    if isinstance(value, Exchange):
        return [value]
    if isinstance(value, Mapping):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [e for v in value for e in _exchanges_in(v)]
    return []


class RunContext:
    """What checks read from: the target, the schemas, the model, and cached probes."""

    def __init__(self, config: RunConfig, target: Target, schemas: SchemaSet) -> None:
        self.config = config
        self.target = target
        self.schemas = schemas
        self._model: str | None = config.model
        self._probes: dict[str, tuple[Any, list[Exchange]]] = {}
        self._seen: list[Exchange] = []  # exchanges the current check looked at
        self._recording: list[Exchange] | None = None
        self._unfinished: dict[str, str] = {}  # probe name -> why it never finished
        self.run_deadline: float | None = None  # time.perf_counter() when the run budget ends
        self.failures_in_a_row = 0  # requests in a row that got no HTTP response at all
        self.last_transport_error: str | None = None

    @classmethod
    def open(cls, config: RunConfig, *, started: float | None = None) -> "RunContext":
        """The context for ``config``; the run budget counts from ``started`` (perf_counter,
        default now)."""
        config.validate()
        auth = "bearer" if config.auth == "bearer" else "x-api-key"
        try:
            target = Target(
                config.target,
                api_key=config.api_key,
                auth=auth,
                anthropic_version=config.anthropic_version,
                headers=config.headers,
                secret_headers=config.secret_headers,
                timeouts=Timeouts(
                    connect=min(10.0, config.timeout),
                    read=config.timeout,
                    event_idle=config.timeout,
                    total=config.total_timeout,
                ),
                insecure=config.insecure,
            )
        except TargetError as exc:
            raise RunSetupError(str(exc)) from None
        ctx = cls(config, target, load_schemas())
        if config.run_budget is not None:
            ctx.run_deadline = (time.perf_counter() if started is None else started) + config.run_budget
        return ctx

    def __enter__(self) -> "RunContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.target.close()

    # Requests go through here so that a probe's exchanges are recorded as evidence.
    def send(self, method: str, path: str, **kw: Any) -> Exchange:
        ex = self.target.send(method, path, **kw)
        if self._recording is not None:
            self._recording.append(ex)
        if ex.status is not None:
            self.failures_in_a_row = 0
        elif ex.transport_error and not self._bound_reached() and not ex.transport_error.startswith("not sent: "):
            self.failures_in_a_row += 1
            self.last_transport_error = ex.transport_error
        return ex

    def _bound_reached(self) -> bool:
        d = self.target.deadline
        return d is not None and time.perf_counter() >= d[0]

    @property
    def target_dead(self) -> bool:
        """True once ``stop_after_failures`` requests in a row got no HTTP response."""
        n = self.config.stop_after_failures
        return bool(n) and self.failures_in_a_row >= n  # type: ignore[operator]

    def stop_reason(self) -> str | None:
        """Why no further check should run (run budget spent, target dead), or None."""
        if self.run_deadline is not None and time.perf_counter() >= self.run_deadline:
            return f"run budget of {self.config.run_budget:g} s exhausted (--run-budget)"
        if self.target_dead:
            return (
                f"target stopped answering: {self.failures_in_a_row} requests in a row got no "
                f"response (last: {self.last_transport_error})"
            )
        return None

    def messages(self, body: dict, **kw: Any) -> Exchange:
        return self.send("POST", "/v1/messages", json=body, **kw)

    def probe(self, name: str) -> Any:
        """The result of probe ``name``, run once per context; its exchanges become evidence."""
        if name in self._unfinished:
            raise ProbeUnfinished(self._unfinished[name])
        if name not in self._probes:
            if self._recording is not None:
                raise RuntimeError(f"probe {name!r} started inside another probe")
            self._recording = []
            try:
                value = PROBES[name](self)
            except CheckTimeout:
                self._unfinished[name] = f"probe {name!r} did not finish within an earlier check's bound"
                raise
            finally:
                recorded, self._recording = self._recording, None
            self._probes[name] = (value, recorded or _exchanges_in(value))
        value, exchanges = self._probes[name]
        for ex in exchanges:
            if ex not in self._seen:
                self._seen.append(ex)
        return value

    def record(self, ex: Exchange) -> None:
        """An exchange made outside the Target (the SDK's own client): part of the running
        probe's recording, or else of the current check's evidence."""
        if self._recording is not None:
            self._recording.append(ex)
        else:
            self.evidence(ex)

    def evidence(self, *exchanges: Exchange) -> None:
        """Make exchanges sent outside a probe part of the current check's evidence (e.g. the
        minimal failing example of a generated run, re-sent once)."""
        for ex in exchanges:
            if ex not in self._seen:
                self._seen.append(ex)

    def take_evidence(self) -> list[Exchange]:
        seen, self._seen = self._seen, []
        return seen

    @property
    def model(self) -> str:
        """The model every probe uses: ``--model``, else the first id of ``GET /v1/models``."""
        if self._model is None:
            self._model = discover_model(self.target)
        return self._model

    @property
    def secrets(self) -> frozenset[str]:
        return self.target.secrets


def _hint(error: str) -> str:
    """What to do about a target that could not be reached at all."""
    if "--insecure" in error:
        return ""
    if "did not resolve" in error:
        return " (check the host name in --target)"
    if "timeout" in error or "budget" in error:
        return " (check --target, or raise --timeout if the server is just slow)"
    return " (check --target and that the server is running)"


def preflight(ctx: RunContext) -> None:
    """Fail fast, with one line, when the target cannot be reached at all.

    With ``--auth both`` the probes use whichever style the target accepts (x-api-key first),
    so a target that refuses one style still gets every other check run; the auth checks
    report the refusal.
    """
    ex = ctx.target.send("GET", "/v1/models?limit=1")
    if ex.transport_error and ex.status is None:
        raise RunSetupError(f"cannot reach {ctx.target.base_url}: {ex.transport_error}{_hint(ex.transport_error)}")
    switched = False
    if ex.status in (401, 403):
        tried = [ctx.target.auth]
        if ctx.config.auth == "both":
            other = "bearer" if ctx.target.auth == "x-api-key" else "x-api-key"
            retry = ctx.target.send("GET", "/v1/models?limit=1", auth=other)
            if retry.status is not None and retry.status not in (401, 403):
                ctx.target.auth = other
                tried = []
                switched = True
            else:
                tried.append(other)
        if tried:  # nothing would get past authentication: no check could say anything
            if not ctx.config.api_key:
                raise RunSetupError(
                    f"the target answered {ex.status} to every credential style and no API key was "
                    "given: pass --api-key or set CONFORMANCE_API_KEY"
                )
            raise RunSetupError(
                f"the target answered {ex.status} to the API key (sent as {' and as '.join(tried)}): "
                "check --api-key / CONFORMANCE_API_KEY" + ("" if len(tried) > 1 else " or try --auth both")
            )
    _ = ctx.model  # resolves (or fails clearly) before any check runs
    if switched:  # the model list refused the first style: the other routes may not
        _negotiate_routes(ctx)


def _negotiate_routes(ctx: RunContext) -> None:
    """The credential style of each route, decided on that route: a cheap valid request in the
    style the model list accepted, then, refused with 401/403, in the other style. A target whose
    routes take different styles (a gateway in front of two services) is then probed in a style
    each route accepts; the refusal itself is the ``auth.accept.*`` checks' to report. Run when
    the model list refused the first style (a target that takes it on every route costs nothing)."""
    base = ctx.target.auth
    other = "bearer" if base == "x-api-key" else "x-api-key"
    hello = {"model": ctx.model, "messages": [{"role": "user", "content": "Say hi."}]}
    for route, path, body in (
        ("messages", "/v1/messages", {**hello, "max_tokens": 1}),
        ("count_tokens", "/v1/messages/count_tokens", hello),
    ):
        if ctx.target.send("POST", path, json=body).status not in (401, 403):
            continue
        retry = ctx.target.send("POST", path, json=body, auth=other)
        if retry.status is not None and retry.status not in (401, 403):
            ctx.target.route_auth[route] = other


# -- results --------------------------------------------------------------------------------


@dataclass
class Result:
    """What one check concluded, with everything a report needs to show why."""

    check: Check
    outcome: Outcome
    duration: float
    evidence: list[dict] = field(default_factory=list)
    note: str = ""  # e.g. the expected-failure reason

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    def to_dict(self) -> dict:
        c = self.check
        return {
            "id": c.id,
            "title": c.title,
            "family": c.family,
            "level": c.level.value,
            "profiles": sorted(c.profiles),
            "ref": c.ref,
            "requirement": c.requirement,
            "capability": c.capability,
            "verdict": self.verdict.value,
            "message": self.outcome.message,
            "note": self.note,
            "duration": round(self.duration, 6),
            "evidence": self.evidence,
        }


@contextlib.contextmanager
def _alarm(at: float | None):
    """Raise :class:`CheckTimeout` in this thread at ``at`` (perf_counter), where possible.

    Only on the main thread of a platform with ``setitimer``, and only when no one else's
    interval timer is running; elsewhere the bound still holds for every Target exchange.
    """
    usable = (
        at is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return

    def fire(signum: int, frame: object) -> None:
        raise CheckTimeout()

    # An exception raised where Python cannot propagate it (a gc callback, a __del__) is
    # "unraisable": dropped, and reported with a traceback. Keep those quiet, and re-fire
    # every ALARM_REPEAT seconds until the check has really stopped.
    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, CheckTimeout):
            hook(unraisable)

    previous = signal.signal(signal.SIGALRM, fire)
    sys.unraisablehook = quiet
    try:
        signal.setitimer(signal.ITIMER_REAL, max(at - time.perf_counter(), 0.001), ALARM_REPEAT)  # type: ignore[operator]
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)
        finally:
            signal.signal(signal.SIGALRM, previous)
            sys.unraisablehook = hook


def run_check(ctx: RunContext, entry: Check, expectations: ExpectedFailures | None = None) -> Result:
    """Judge one check; a harness bug becomes an ``error`` verdict, never a target failure.

    Bounds: a check that is still running when its ``check_timeout`` ends fails (the target
    was too slow or never finished an answer); one cut off by the run budget, and every check
    after it, is an ``error`` ("not run"/"not finished": nothing was judged), as is every check
    once the target stopped answering (``stop_after_failures``).
    """
    ctx.take_evidence()
    start = time.perf_counter()
    cfg = ctx.config
    stop = ctx.stop_reason()
    if stop is not None:
        result = Result(entry, Outcome(Verdict.ERROR, f"not run: {stop}"), 0.0)
        if expectations is not None:
            expectations.apply(result)
        return result
    bound: tuple[float, str] | None = None
    if cfg.check_timeout is not None:
        bound = (start + cfg.check_timeout, f"per-check bound of {cfg.check_timeout:g} s reached (--check-timeout)")
    if ctx.run_deadline is not None and (bound is None or ctx.run_deadline < bound[0]):
        bound = (ctx.run_deadline, f"run budget of {cfg.run_budget:g} s exhausted (--run-budget)")
    outcome: Outcome | None = None
    ctx.target.deadline = bound
    try:
        try:
            with _alarm(None if bound is None else bound[0] + ALARM_GRACE):
                outcome = entry.judge(ctx)
        finally:
            ctx.target.deadline = None
        if not isinstance(outcome, Outcome):
            raise TypeError(f"check {entry.id} returned {type(outcome).__name__}, not Outcome")
    except RunSetupError:
        raise
    except CheckTimeout:
        outcome = None
    except ProbeUnfinished as exc:
        outcome = Outcome(Verdict.FAILED, str(exc))
    except Exception as exc:  # the harness broke: say so, with where
        tb = traceback.extract_tb(exc.__traceback__)[-1]
        outcome = Outcome(
            Verdict.ERROR, f"harness error: {type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})"
        )
    duration = time.perf_counter() - start
    if bound is not None and time.perf_counter() >= bound[0]:
        seen = f"; {outcome.message}" if outcome is not None and outcome.message else ""
        if ctx.run_deadline is not None and time.perf_counter() >= ctx.run_deadline:
            outcome = Outcome(
                Verdict.ERROR, f"not finished: run budget of {cfg.run_budget:g} s exhausted (--run-budget){seen}"
            )
        else:
            outcome = Outcome(
                Verdict.FAILED,
                f"did not finish within the per-check bound of {cfg.check_timeout:g} s (--check-timeout){seen}",
            )
    assert outcome is not None
    evidence = [ex.to_dict(ctx.secrets) for ex in ctx.take_evidence()]
    result = Result(entry, outcome, duration, evidence)
    if expectations is not None:
        expectations.apply(result)
    return result


# -- expected failures and the gate ---------------------------------------------------------


def _client_versions() -> dict[str, dict[str, str]]:
    """The clients the run drove (their installed versions) and the SDK release the schemas
    were aligned with (``schemas/data/sdk-alignment.json``): a verdict about what a client
    accepts holds for these versions."""
    from importlib.metadata import PackageNotFoundError, version

    from conformance._schema import default_schema_dir, load_json_file

    clients = {}
    for dist in ("anthropic",):
        try:
            clients[dist] = version(dist)
        except PackageNotFoundError:
            pass
    out = {"clients": clients}
    try:
        alignment = load_json_file(default_schema_dir() / "data" / "sdk-alignment.json")
        out["schemas_aligned_with"] = {"anthropic": alignment["anthropic"]}
    except Exception:  # noqa: BLE001 (a checkout without the file: say nothing rather than guess)
        pass
    return out


def results_document(results: Iterable[Result | dict], config: RunConfig, model: str | None, gate: str) -> dict:
    """The run as one JSON-serialisable document (the result model every writer reads)."""
    from conformance import __version__

    rows = [r.to_dict() if isinstance(r, Result) else r for r in results]
    code, line = gate_verdict(rows, gate)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return {
        "harness": {"name": "conformance", "version": __version__, **_client_versions()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "target": config.target,
        "profile": config.profile,
        "anthropic_version": config.anthropic_version,
        "model": model,
        "seed": config.seed,
        "gate": {"level": gate, "exit_code": code, "verdict": line},
        "counts": counts,
        "results": rows,
    }


def dump_json(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
