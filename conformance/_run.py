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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

from conformance._catalog import Blocked, Check, Outcome, Verdict
from conformance._config import RunConfig, RunSetupError
from conformance._discover import discover_model
from conformance._exchange import Exchange
from conformance._fold import fold
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


# String forms a target may refuse while it accepts the same text as blocks: the check that
# reports the refusal, and the note a check judged on the re-sent form carries.
_STRING_FORMS = {
    "content": (
        "request.accept.content-string",
        "sent with message content as text blocks, which the target accepts; it refuses content as a "
        "string (request.accept.content-string)",
    ),
    "system": (
        "request.accept.system-string",
        "sent with system as text blocks, which the target accepts; it refuses system as a string "
        "(request.accept.system-string)",
    ),
}
_REFUSALS = frozenset({400, 404, 422})
_HI = "Say hi."
_HI_BLOCKS = [{"type": "text", "text": _HI}]


def _has_string(body: Any, form: str) -> bool:
    if not isinstance(body, dict):
        return False
    if form == "system":
        return isinstance(body.get("system"), str)
    return any(isinstance(m, dict) and isinstance(m.get("content"), str) for m in body.get("messages") or ())


def _as_blocks(body: dict, forms: Iterable[str]) -> dict:
    out = dict(body)
    if "system" in forms and isinstance(out.get("system"), str):
        out["system"] = [{"type": "text", "text": out["system"]}]
    if "content" in forms and isinstance(out.get("messages"), list):
        out["messages"] = [
            {**m, "content": [{"type": "text", "text": m["content"]}]}
            if isinstance(m, dict) and isinstance(m.get("content"), str)
            else m
            for m in out["messages"]
        ]
    return out


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
        self._forms: dict[str, bool] = {}  # string form -> refused (while blocks are accepted)

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

    def messages(self, body: dict, *, keep: Iterable[str] = (), path: str = "/v1/messages", **kw: Any) -> Exchange:
        """``POST /v1/messages`` (or ``path``: the same route with a query, ``?beta=true``). A
        target seen to refuse user content or ``system`` as a string
        while it accepts the same text as blocks gets it as blocks (and the check says so),
        unless the probe judges that form (``keep``): one refused form is then one red line,
        its check's, not a refusal of every probe that happens to use it."""
        forms = [f for f in _STRING_FORMS if f not in keep and _has_string(body, f)]
        refused = [f for f in forms if self._refuses(f, learn=False)]
        if refused:
            return self._adapted_send(path, body, refused, **kw)
        ex = self.send("POST", path, json=body, **kw)
        if forms and ex.status in _REFUSALS:
            refused = [f for f in forms if self._refuses(f, learn=True)]
            if refused:
                return self._adapted_send(path, body, refused, **kw)
        return ex

    def _adapted_send(self, path: str, body: dict, refused: list[str], **kw: Any) -> Exchange:
        ex = self.send("POST", path, json=_as_blocks(body, refused), **kw)
        ex.adapted = "; ".join(_STRING_FORMS[f][1] for f in refused)
        return ex

    def _refuses(self, form: str, *, learn: bool) -> bool:
        """Whether the target refuses ``form`` as a string and accepts it as text blocks, learned
        once per process by a pair of minimal requests (not evidence of any check)."""
        if form not in self._forms and learn:
            base = {"model": self.model, "max_tokens": 16, "messages": [{"role": "user", "content": _HI_BLOCKS}]}
            as_string = (
                {**base, "messages": [{"role": "user", "content": _HI}]}
                if form == "content"
                else {**base, "system": _HI}
            )
            first = self.target.send("POST", "/v1/messages", json=as_string)
            refused = False
            if first.status in _REFUSALS:
                blocks = _as_blocks(as_string, [form])
                refused = self.target.send("POST", "/v1/messages", json=blocks).status == 200
            self._forms[form] = refused
        return self._forms.get(form, False)

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
            **({"blocked_by": list(self.outcome.blocked_by)} if self.outcome.blocked_by else {}),
            **({"causes": [[list(s) for s in v] for v in self.outcome.causes]} if self.outcome.causes else {}),
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
    except Blocked as exc:
        # A check among its own roots reports the property: the failure is its own, the same
        # cause as a more general form listed before it if that one fails too.
        if entry.id in exc.roots or not exc.roots:
            earlier = exc.before(entry.id)
            outcome = Outcome.failed(exc.message).caused_by([(earlier,)] if earlier else [])
        else:
            outcome = Outcome(Verdict.BLOCKED, exc.message, blocked_by=exc.roots)
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
    looked_at = ctx.take_evidence()
    notes = list(dict.fromkeys(ex.adapted for ex in looked_at if ex.adapted))
    if notes:  # judged on a probe re-sent in a form the target accepts: say so
        outcome = replace(outcome, message=f"{outcome.message} [{'; '.join(notes)}]".strip())
    evidence = [ex.to_dict(ctx.secrets) for ex in looked_at]
    result = Result(entry, outcome, duration, evidence)
    if expectations is not None:
        expectations.apply(result)
    return result


# -- expected failures and the gate ---------------------------------------------------------


def _client_versions(rows: Iterable[dict] = ()) -> dict[str, dict[str, str]]:
    """The clients the run drove (their installed versions; the Node clients' pinned ones when a
    ``clients.*`` check ran them) and the SDK release the schemas were aligned with
    (``schemas/data/sdk-alignment.json``): a verdict about what a client accepts holds for these
    versions."""
    from importlib.metadata import PackageNotFoundError, version

    from conformance._schema import default_schema_dir, load_json_file

    clients = {}
    for dist in ("anthropic",):
        try:
            clients[dist] = version(dist)
        except PackageNotFoundError:
            pass
    if any(r["id"].startswith("clients.") and r.get("raw_verdict", r["verdict"]) != "skipped" for r in rows):
        from conformance.clients import pinned_versions

        clients.update(pinned_versions())  # installed with npm ci from the lockfile: exactly these
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

    rows = fold(r.to_dict() if isinstance(r, Result) else r for r in results)
    code, line = gate_verdict(rows, gate)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    return {
        "harness": {"name": "conformance", "version": __version__, **_client_versions(rows)},
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
