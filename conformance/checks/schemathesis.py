"""fuzz.schemathesis: schemathesis's own checks over ``schemas/openapi.yaml``, as catalog checks.

Cases come from schemathesis's positive and negative generation over every operation of
``schemas/openapi.yaml``, with ``anthropic-version: 2023-06-01`` pinned (the body schemas are
the 2023-06-01 ones) and the run's model named, and go through the run context (``ctx.send``)
outside any probe. Every built-in check judges every case in one shared pass of
:data:`PASS_PARTS` parts, one per strategy, explored by :func:`conformance._driver.explore`
within the run's budget and seed; under xdist the workers of a run compute each part once and
share it through the run's directory (:class:`conformance._share.Parts`). Each check that failed
in the pass then shrinks its own example; the minimal case, re-sent once, is its only evidence,
and its curl line (key redacted) is in the message. A check that had nothing to judge in the
whole pass is inconclusive. schemathesis's own probes (``ignored_auth``) go to the run's
:class:`~conformance._target.Target` through an in-process WSGI app (:class:`_ProbeApp`).

The cases of a pass depend only on the seed, the model and ``--examples``: a later run in the
same process with the same three replays the cases drawn before (a draw that ``--fuzz-seconds``
cut short is not kept) instead of drawing them again.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import time
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from hypothesis import strategies as st

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Outcome, check
from conformance._driver import Exploration, effective_seed, explore
from conformance._exchange import Exchange
from conformance._probes import Context
from conformance._schema import default_schema_dir
from conformance._share import Parts
from conformance.checks._causes import symptoms

OPENAPI_VERSION = "2023-06-01"  # the request bodies of schemas/openapi.yaml
OPERATIONS = (
    ("/v1/messages", "POST"),
    ("/v1/messages/count_tokens", "POST"),
    ("/v1/models", "GET"),
    ("/v1/models/{model_id}", "GET"),
)  # schemas/openapi.yaml's


# schemathesis's built-in checks, in catalog order: (name, level, requirement)
BUILTIN = (
    ("not_a_server_error", MUST, "No request generated from schemas/openapi.yaml, valid or not, gets a 5xx."),
    (
        "status_code_conformance",
        SHOULD,
        "Every status answered is one schemas/openapi.yaml documents for the operation.",
    ),
    (
        "content_type_conformance",
        MUST,
        "Every response's content type is one schemas/openapi.yaml documents for its status.",
    ),
    ("response_schema_conformance", MUST, "Every response body matches its schema in schemas/openapi.yaml."),
    ("negative_data_rejection", SHOULD, "Requests that break schemas/openapi.yaml are rejected with a 4xx."),
    (
        "positive_data_acceptance",
        MUST,
        "Requests valid against schemas/openapi.yaml (and its cross-field rules) are not refused with a 4xx other than 401/403/404/409/429.",
    ),
    ("ignored_auth", MUST, "Operations that require credentials refuse requests without them or with wrong ones."),
)


@dataclass
class _State:
    """What the schemathesis checks keep per run."""

    cache: dict[tuple, Exchange] = field(default_factory=dict)  # the answers to the cases sent
    schemathesis: Any = None  # the shared pass (_Pass)
    openapi: Any = None  # the run's own schemathesis schema (see _schema)
    strategies: Any = None  # the pass's strategies over it (see _strategies)
    probes: int = 0  # schemathesis probes sent through _ProbeApp


_STATES: "weakref.WeakKeyDictionary[Context, _State]" = weakref.WeakKeyDictionary()


def _state(ctx: Context) -> _State:
    if ctx not in _STATES:
        _STATES[ctx] = _State()
    return _STATES[ctx]


def _schema(ctx: Context) -> Any:
    """schemas/openapi.yaml loaded for this run: schemathesis keeps state on a schema from one
    generation to the next, so a schema shared by runs in one process (the kill matrix, an
    xdist worker) would make what a run generates depend on the runs before it."""
    state = _state(ctx)
    if state.openapi is None:
        state.openapi = _load_schema()
    return state.openapi


def _load_schema() -> Any:
    import schemathesis

    schema = schemathesis.openapi.from_path(str(default_schema_dir() / "openapi.yaml"))
    # schemathesis sends its own probes (ignored_auth re-sends a case without credentials and
    # with wrong ones) through ``schema.transport``; a WSGI app there routes them to the run's
    # Target, so they are capped, bounded and redacted like every other exchange
    schema.app = _PROBE_APP
    # with an app, schemathesis would also mine its source (this module) for literals to
    # generate with: what it generates would then change with our code, not with the contract
    schema.config.analysis.constants.enabled = False
    return schema


class _ProbeUnanswered(Exception):
    """A schemathesis probe got no HTTP response: the check cannot judge this case."""


_PROBE_CTX: ContextVar[Context] = ContextVar("conformance_probe_ctx")
_HOP_HEADERS = frozenset({"host", "content-length", "connection", "user-agent", "accept-encoding"})


class _ProbeApp:
    """The WSGI seam between schemathesis's probes and the run's :class:`Target`.

    schemathesis builds the probe (path, query, headers, body, credentials removed or replaced)
    and hands it to this app in-process; the app sends it with ``auth="none"`` (the probe's own
    headers carry whatever credentials schemathesis meant to send) and answers with what came
    back, body read under the Target's cap.
    """

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        ctx = _PROBE_CTX.get()
        path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "/")
        prefix = urlsplit(ctx.target.base_url).path.rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix) :]
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers: dict[str, str | None] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                headers[key[5:].replace("_", "-").lower()] = value
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        headers = {k: v for k, v in headers.items() if k not in _HOP_HEADERS}
        # the Target's own defaults must not put credentials back
        headers.setdefault("x-api-key", None)
        headers.setdefault("authorization", None)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        ex = ctx.send(environ["REQUEST_METHOD"], path, headers=headers, content=body or None, auth="none", stream=False)
        _state(ctx).probes += 1
        if ex.status is None:
            raise _ProbeUnanswered(ex.transport_error or "no HTTP response")
        start_response(
            f"{ex.status} {ex.reason or 'Status'}",
            [(n, v) for n, v in ex.headers if n not in ("content-length", "transfer-encoding", "connection")],
        )
        return [ex.body or b""]


_PROBE_APP = _ProbeApp()


def _checks() -> dict[str, Any]:
    from schemathesis import checks as base
    from schemathesis.specs.openapi import checks as oas

    return {name: getattr(oas, name, None) or getattr(base, name) for name, _, _ in BUILTIN}


def _auth_headers(ctx: Context, path: str) -> dict[str, str]:
    """The run's credentials in the style the route of ``path`` accepts (the Target's choice)."""
    key = ctx.config.api_key
    if not key:
        return {}
    return {"authorization": f"Bearer {key}"} if ctx.target.style_for(path) == "bearer" else {"x-api-key": key}


_CREDENTIALS = frozenset({"authorization", "x-api-key"})


@dataclass(frozen=True)
class _Finding:
    """A built-in check's first failing case: its generation mode, why, and the request as
    ``ctx.send`` arguments (what can cross from one process to another)."""

    mode: str | None
    message: str
    sent: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        content = self.sent.get("content")
        # the key never goes to disk: re-sent, the case gets the run's credentials from the Target
        headers = {k: v for k, v in (self.sent.get("headers") or {}).items() if k.lower() not in _CREDENTIALS}
        return {
            "mode": self.mode,
            "message": self.message,
            "sent": {
                **self.sent,
                "headers": headers,
                "content": None if content is None else base64.b64encode(content).decode(),
            },
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "_Finding":
        content = d["sent"].get("content")
        return cls(
            d["mode"], d["message"], {**d["sent"], "content": None if content is None else base64.b64decode(content)}
        )


@dataclass
class _Pass:
    """The shared schemathesis pass, or one part of it: per built-in check, the first failing
    case and why, and how many cases each check could judge (a part crosses from one process
    to another as :meth:`to_json`)."""

    cases: int = 0
    failures: dict[str, _Finding] = field(default_factory=dict)
    skipped: int = 0
    judged: dict[str, int] = field(default_factory=dict)  # per check, the cases it had something to judge

    def add(self, part: "_Pass") -> None:
        """Count ``part`` in; a check's first failure stays the one found in the earlier part."""
        self.cases += part.cases
        self.skipped += part.skipped
        for name, n in part.judged.items():
            self.judged[name] = self.judged.get(name, 0) + n
        for name, finding in part.failures.items():
            self.failures.setdefault(name, finding)

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "skipped": self.skipped,
            "judged": self.judged,
            "failures": {name: f.to_json() for name, f in self.failures.items()},
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "_Pass":
        return cls(
            d["cases"], {name: _Finding.from_json(f) for name, f in d["failures"].items()}, d["skipped"], d["judged"]
        )


_CLIENT_HEADERS = frozenset(
    {
        "authorization",
        "x-api-key",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
        "x-schemathesis-testcaseid",
        "content-length",
        "host",
    }
)


def _case_kwargs(ctx: Context, case: Any) -> dict[str, Any] | None:
    """``ctx.send`` arguments for a schemathesis case (None: it cannot be sent as HTTP/1.1)."""

    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    # serialised as for the network (the schema's own transport is the in-process _ProbeApp)
    kw = REQUESTS_TRANSPORT.serialize_case(
        case,
        base_url=ctx.target.base_url,
        headers={"anthropic-version": OPENAPI_VERSION, **_auth_headers(ctx, case.path)},
    )
    url = urlsplit(kw["url"])
    path = url.path + (("?" + url.query) if url.query else "")
    params = kw.get("params")
    if params:
        from urllib.parse import urlencode

        path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
    # schemathesis's own auth values (generated from the security schemes) and client headers
    # give way to the run's credentials and the Target's defaults
    headers = {k: v for k, v in (kw.get("headers") or {}).items() if k.lower() not in _CLIENT_HEADERS}
    headers.update({"anthropic-version": OPENAPI_VERSION, **_auth_headers(ctx, path)})
    for value in headers.values():
        if not isinstance(value, str) or not value.isascii() or any(c in value for c in "\r\n\x00"):
            return None
    out: dict[str, Any] = {"headers": headers}
    if "json" in kw:
        try:
            out["content"] = json.dumps(kw["json"], ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
                "utf-8"
            )
        except (ValueError, TypeError, UnicodeEncodeError):
            return None
    elif kw.get("data") is not None:
        data = kw["data"]
        out["content"] = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")
    out["stream"] = isinstance(kw.get("json"), dict) and kw["json"].get("stream") is True
    return {"method": kw["method"], "path": path, **out}


def _response(ex: Exchange, url: str, sent: dict[str, Any]) -> Any:
    """A schemathesis Response over a recorded exchange."""
    import requests
    from schemathesis.core.transport import Response

    request = requests.Request(
        sent["method"], url, headers=dict(ex.request.headers), data=ex.request.body or None
    ).prepare()
    headers: dict[str, list[str]] = {}
    for name, value in ex.headers:
        headers.setdefault(name.lower(), []).append(value)
    return Response(
        status_code=ex.status or 0, headers=headers, content=ex.body, request=request, elapsed=ex.elapsed, verify=True
    )


def _run_case(ctx: Context, case: Any, names: list[str]) -> tuple[dict[str, str], Exchange | None, set[str]]:
    """Send one case through the context: (failing built-in checks -> their message, the
    exchange, the checks that had something to judge in this case).

    A check judges a case when it applies to it: ignored_auth only when it sent its probes (a
    2xx to a case with credentials), the data checks only to cases of their generation mode.
    A check that judged nothing in a whole run cannot claim to have held (see _builtin_check).
    """
    from schemathesis.core.failures import FailureGroup

    sent = _case_kwargs(ctx, case)
    if sent is None:
        return {}, None, set()
    state = _state(ctx)
    cache = state.cache
    key = ("schemathesis", sent["method"], sent["path"], tuple(sorted(sent["headers"].items())), sent.get("content"))
    if key not in cache:
        cache[key] = ctx.send(
            sent["method"], sent["path"], headers=sent["headers"], content=sent.get("content"), stream=sent["stream"]
        )
    ex = cache[key]
    if ex.status is None:
        failing = {name: f"no HTTP response ({ex.transport_error})" for name in names if name == "not_a_server_error"}
        return failing, ex, set(failing)
    response = _response(ex, ctx.target.base_url + sent["path"], sent)
    functions = _checks()
    failed: dict[str, str] = {}
    judged: set[str] = set()
    mode = case.meta.generation.mode if case.meta is not None else None
    # no credentials here: ignored_auth re-sends the case with them removed or replaced,
    # through _ProbeApp and so through the run's Target
    transport = {"base_url": ctx.target.base_url, "headers": {"anthropic-version": OPENAPI_VERSION}, "app": _PROBE_APP}
    streamed = (ex.content_type or "") == "text/event-stream"
    # a body over the target's declared limit gets 413 request_too_large (contract §4.2),
    # whatever schemathesis meant it to show
    limit = ctx.config.max_body_bytes
    oversize = ex.status == 413 and limit is not None and len(sent.get("content") or b"") > limit
    token = _PROBE_CTX.set(ctx)  # where _ProbeApp sends schemathesis's own probes
    try:
        for name in names:
            if name == "positive_data_acceptance" and _cross_field(case):
                continue
            if name in ("negative_data_rejection", "positive_data_acceptance") and oversize:
                continue
            if name == "response_schema_conformance" and streamed:
                # openapi.yaml describes the stream as one string, so schemathesis would hold each
                # event's JSON against `type: string`; streams are judged by stream.* and fuzz.valid.*
                continue
            probes = state.probes
            try:
                case.validate_response(
                    response,
                    checks=[functions[name]],
                    headers=_auth_headers(ctx, sent["path"]),
                    transport_kwargs=transport,
                )
            except _ProbeUnanswered:
                continue
            except FailureGroup as exc:
                failed[name] = "; ".join(str(getattr(f, "title", "") or f).splitlines()[0] for f in exc.exceptions)[
                    :300
                ]
            except AssertionError as exc:
                failed[name] = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            if name in failed or _applies(name, mode, probes != state.probes):
                judged.add(name)
    finally:
        _PROBE_CTX.reset(token)
    return failed, ex, judged


def _applies(name: str, mode: Any, probed: bool) -> bool:
    """Whether a built-in check that raised nothing had something to judge in a case."""
    if name == "ignored_auth":
        return probed
    if name == "negative_data_rejection":
        return mode is not None and not mode.is_positive
    if name == "positive_data_acceptance":
        return mode is None or mode.is_positive
    return True


def _cross_field(case: Any) -> bool:
    from conformance._strategies import cross_field_problem

    return case.method.upper() == "POST" and cross_field_problem(case.body) is not None


# The strategies of the pass (_strategies), one part each: positive cases of every operation,
# negative ones, and negative ones of POST /v1/messages alone.
PASS_PARTS = 3


def _strategies(ctx: Context) -> list[Any]:
    """The pass's strategies, built once per run (and only by a process that draws from them)."""
    state = _state(ctx)
    if state.strategies is None:
        state.strategies = _build_strategies(ctx)
        assert len(state.strategies) == PASS_PARTS
    return state.strategies


def _build_strategies(ctx: Context) -> list[Any]:
    from schemathesis.generation import GenerationMode

    schema = _schema(ctx)
    fixed = {"anthropic-version": OPENAPI_VERSION}
    model = ctx.model
    out = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        # one operation after another, POST /v1/messages first: Hypothesis's first and simplest
        # choices go to the operation the contract is about (a small budget still reaches it)
        per_operation = [
            schema[path][method].as_strategy(generation_mode=mode, headers=fixed) for path, method in OPERATIONS
        ]
        out.append(st.one_of(per_operation).map(functools.partial(_serve_model, model)))
    # and the negative cases of POST /v1/messages alone, with a budget of their own: a server
    # that accepts anything must meet several of them, whatever the other operations drew
    messages = schema["/v1/messages"]["POST"].as_strategy(generation_mode=GenerationMode.NEGATIVE, headers=fixed)
    out.append(messages.map(functools.partial(_serve_model, model)))
    return out


def _serve_model(model: str, case: Any) -> Any:
    """Cases name the run's model, so the target answers them rather than 404 for an unknown
    model: a positive case is then accepted, and a negative one is judged on what it negates.
    (``model`` is any string in the request schemas, so a string model is never the negated
    part; a negative ``model_id`` in a path may be, so only positive ones are replaced.)"""
    if isinstance(case.body, dict) and isinstance(case.body.get("model"), str):
        case.body["model"] = model
    path = case.path_parameters or {}
    if "model_id" in path and case.meta is not None and case.meta.generation.mode.is_positive:
        path["model_id"] = model
    # Is the case positive or negative? schemathesis decides at generation, and decides again
    # (against the schema) for every part of a case that was assigned since, when its ``meta``
    # is next read. Its ignored_auth check assigns the headers only when it probes, that is
    # after a 2xx, and the mode read afterwards can differ: a negation that left the body valid
    # is found then. Re-judged here, before anything is sent, the mode is the same whatever the
    # target answers, so one seed gives one pass (and the kill matrix one row per fault).
    for name in _CONTAINERS:
        setattr(case, name, getattr(case, name))
    case.meta  # noqa: B018 (the read is the re-judging)
    return case


_CONTAINERS = ("path_parameters", "headers", "cookies", "query", "body")


def _shared_pass(ctx: Context) -> _Pass:
    state = _state(ctx)
    if state.schemathesis is None:
        c = ctx.config
        key = hashlib.sha256(repr((effective_seed(ctx), ctx.model, c.examples, c.fuzz_seconds)).encode()).hexdigest()[
            :16
        ]
        parts = Parts(c.share_dir, f"schemathesis-{key}")
        found: dict[int, _Pass] = {}
        for index in range(PASS_PARTS):
            if parts.claim(index):
                try:
                    found[index] = _run_part(ctx, index)
                except BaseException:
                    parts.abandon(index)
                    raise
                parts.put(index, found[index].to_json())
        # a part another worker computes: no longer than its own bound (--fuzz-seconds, and the
        # exchange in progress when that ran out) before it is computed here instead
        bound = c.fuzz_seconds + 2 * c.total_timeout
        for index in range(PASS_PARTS):
            if index not in found:
                shared = parts.wait(index, bound)
                found[index] = _Pass.from_json(shared) if shared is not None else _run_part(ctx, index)
        result = _Pass()
        for index in range(PASS_PARTS):
            result.add(found[index])
        state.schemathesis = result
    return state.schemathesis


def _run_part(ctx: Context, index: int) -> _Pass:
    """One part of the pass: the cases of one strategy, each judged by every built-in check."""
    part = _Pass()
    names = [name for name, _, _ in BUILTIN]

    def prop(case: Any, run: Exploration) -> str | None:
        failed, ex, judged = _run_case(ctx, case, [n for n in names if n not in part.failures])
        if ex is None:
            part.skipped += 1
            return None
        part.cases += 1
        for name in judged:
            part.judged[name] = part.judged.get(name, 0) + 1
        for name, message in failed.items():
            if name not in part.failures:
                mode = case.meta.generation.mode.value if case.meta is not None else None
                part.failures[name] = _Finding(mode, message, _case_kwargs(ctx, case) or {})
        return None

    strategy = _strategies(ctx)[index]
    key = (effective_seed(ctx), ctx.model, ctx.config.examples, index)
    if key in _DRAWN:
        _replay(ctx, _DRAWN[key], prop)
        return part
    drawn: list[Any] = []

    def draw(case: Any, run: Exploration) -> str | None:
        drawn.append(case)
        return prop(case, run)

    run = explore(ctx, strategy, draw, shrink=False)
    if not run.out_of_time:  # a cut list is not what the seed gives
        _DRAWN[key] = drawn
        while len(_DRAWN) > _DRAWN_KEPT:
            _DRAWN.pop(next(iter(_DRAWN)))
    return part


# The cases the shared pass drew, per process: (seed, model, --examples, strategy) -> cases.
# The pass never fails an example, so what Hypothesis draws depends on those four alone, not on
# the answers: a later run with the same four (the kill matrix: one run per fault) replays the
# cases instead of drawing them again.
_DRAWN: dict[tuple, list[Any]] = {}
_DRAWN_KEPT = 12


def _replay(ctx: Context, cases: list[Any], prop: Callable[[Any, Exploration], str | None]) -> Exploration:
    """:func:`explore` over cases drawn before, within the same --fuzz-seconds bound."""
    run = Exploration()
    deadline = time.monotonic() + ctx.config.fuzz_seconds
    for case in cases:
        if time.monotonic() > deadline:
            run.out_of_time = True
            break
        run.examples += 1
        prop(case, run)
    return run


def _builtin_check(name: str) -> Callable[[Context], Outcome]:
    def judge(ctx: Context) -> Outcome:
        shared = _shared_pass(ctx)
        if name not in shared.failures:
            judged = shared.judged.get(name, 0)
            if not judged:
                # e.g. ignored_auth without a single 2xx to probe: nothing held, nothing was tested
                return Outcome.inconclusive(
                    f"{shared.cases} schemathesis cases over schemas/openapi.yaml, none that "
                    f"{name} could judge within the budget (--examples, --fuzz-seconds)"
                )
            return Outcome.passed(
                f"{shared.cases} schemathesis cases over schemas/openapi.yaml: {name} held "
                f"on the {judged} it applies to"
            )
        first = shared.failures[name]
        mode = first.mode
        strategy = next(
            s for s, m in zip(_strategies(ctx), ("positive", "negative"), strict=False) if mode is None or m == mode
        )

        def prop(case: Any, run: Exploration) -> str | None:
            return _run_case(ctx, case, [name])[0].get(name)

        run = explore(ctx, strategy, prop, shrink=True)
        if run.failure is not None:
            sent, message = _case_kwargs(ctx, run.failure), run.reason
            mode = run.failure.meta.generation.mode.value if run.failure.meta is not None else mode
        else:
            sent, message = first.sent, first.message
        assert sent
        auth = "none" if name == "ignored_auth" else None
        headers = {k: v for k, v in sent["headers"].items() if not (auth and k.lower() in _CREDENTIALS)}
        ex = ctx.send(
            sent["method"],
            sent["path"],
            headers=headers,
            content=sent.get("content"),
            stream=sent["stream"],
            **({"auth": auth} if auth else {}),
        )
        ctx.evidence(ex)
        outcome = Outcome.failed(
            f"schemathesis {name}: {message}; minimal case ({mode or 'explicit'}): {ex.request.curl(ctx.secrets)}"
        )
        # a defect narrow checks report (a form refused, a Message field) is the same cause
        return outcome.caused_by([found] if (found := _symptoms(ctx, name, mode, ex)) else [])

    judge.__name__ = f"schemathesis_{name}"
    judge.__doc__ = f"schemathesis's ``{name}`` check over schemas/openapi.yaml, as a catalog check."
    return judge


def _symptoms(ctx: Context, name: str, mode: str | None, ex: Exchange) -> tuple:
    """What the narrow checks report about a schemathesis check's minimal case, by check: the
    answer's envelope or content type for an error, the request's refused forms or invalid parts,
    the Message's fields; empty when none of theirs."""
    status = ex.status or 0
    if name == "ignored_auth":  # a request without credentials answered
        return (("auth.reject.missing-key", "auth.reject.wrong-key"),) if status < 400 else ()
    if name == "content_type_conformance":
        return (("errors.envelope.content-type",),) if status >= 400 else (("response.shape.json-content-type",),)
    if name == "response_schema_conformance" and status >= 400:
        return (("errors.envelope.shape",),)
    if mode is None:
        return ()
    scope = (ctx.config.profile, ctx.config.anthropic_version)
    return symptoms(ex, valid=mode == "positive", schemas=ctx.schemas, scope=scope)


for _name, _level, _requirement in BUILTIN:
    check(
        f"fuzz.schemathesis.{_name.replace('_', '-')}",
        _level,
        "schemas/openapi.yaml; contract §1-§6",
        _requirement,
        profiles=ANTHROPIC_ONLY,
    )(_builtin_check(_name))
