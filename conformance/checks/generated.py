"""fuzz: generated payloads (Hypothesis, schemathesis) find what the fixed checks miss.

Each check is one property, explored by Hypothesis inside the check with the run's budget
(``--examples`` per property, ``--fuzz-seconds`` per property, shrinking included) and seed
(``--hypothesis-seed``, else ``--conformance-seed``: the same seed gives the same requests):

* ``fuzz.valid.*``: valid requests (:mod:`conformance._strategies`) get 200 and a schema-valid
  Message, or a schema-valid stream whose grammar holds; the request's own constraints hold in
  the answer (``output_tokens <= max_tokens``, no stop sequence in the text, a forced tool used).
* ``fuzz.invalid.*``: each generated invalid request gets its exact status and error type in
  the error envelope; none gets a 5xx.
* ``fuzz.schemathesis.*``: schemathesis's own checks over ``schemas/openapi.yaml`` (positive and
  negative generation, ``anthropic-version: 2023-06-01`` pinned, the body schemas being the
  2023-06-01 ones); one shared pass (three parts, one per strategy; under xdist, workers share
  the parts through the run's directory: :class:`_Parts`), then each failing check shrinks its
  own example.
* ``fuzz.compare.agree``: with ``--compare URL2`` the same generated requests go to both
  targets; a disagreement in acceptance, error type or stream grammar fails, with the minimal
  request that shows it.

Requests go through the run context (``ctx.send``) but outside any probe, so the hundreds of
generated exchanges are not evidence: the minimal failing example is re-sent once at the end,
becomes the check's only evidence, and its curl line (key redacted) is in the message. Answers
are cached per run by the request's bytes, so properties over the same strategy and seed (the
two ``valid`` ones, the two ``invalid`` ones) send each request once. The ``valid``,
``invalid`` and ``compare`` properties draw their requests in batches (a Hypothesis example is
a list of up to :data:`BATCH` distinct requests, judged one by one): Hypothesis's own work per
test case is spread over several requests, and a failure still shrinks to one request. The
invalid requests of a batch are mutations of one valid body (drawing it is most of a
mutation's cost).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import json
import os
import time
import warnings
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from contextvars import ContextVar
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import example as hypothesis_example
from hypothesis.errors import HypothesisWarning
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Outcome, check
from conformance._exchange import Exchange
from conformance._grammar import StreamGrammar
from conformance._run import RunContext, discover_model
from conformance._schema import default_schema_dir
from conformance._strategies import (
    Expectations,
    GenRequest,
    Scope,
    invalid_examples,
    invalid_batches,
    mixed_requests,
    valid_examples,
    valid_requests,
)
from conformance._target import Target, Timeouts
from conformance.checks._common import declined, describe, error_type_of

PATH = "/v1/messages"
OPENAPI_VERSION = "2023-06-01"  # the request bodies of schemas/openapi.yaml
OPERATIONS = (("/v1/messages", "POST"), ("/v1/messages/count_tokens", "POST"),
              ("/v1/models", "GET"), ("/v1/models/{model_id}", "GET"))  # schemas/openapi.yaml's
KNOWN_EVENTS = frozenset({"message_start", "content_block_start", "content_block_delta", "content_block_stop",
                          "message_delta", "message_stop", "ping", "error"})

# ----------------------------------------------------------------------------- exploring


class _Failed(Exception):
    """Raised inside the Hypothesis test when the property does not hold."""


class _OutOfTime(BaseException):
    """Raised inside the Hypothesis test once the time bound is spent: Hypothesis lets a
    BaseException through at once, so generation or shrinking stops right there."""


@dataclass
class Exploration:
    """What one property's Hypothesis run found."""

    examples: int = 0  # examples judged (sent or served from the cache)
    failure: Any = None  # the last (smallest) failing example
    reason: str = ""
    out_of_time: bool = False
    notes: dict[str, int] = field(default_factory=dict)  # e.g. declined optional capabilities


def effective_seed(ctx: RunContext) -> int:
    c = ctx.config
    return c.hypothesis_seed if c.hypothesis_seed is not None else c.seed


class _Enough(BaseException):
    """Raised inside the Hypothesis test once ``--examples`` examples were judged (batches)."""


BATCH = 8  # at most this many requests per Hypothesis example (batched properties)


def explore(ctx: RunContext, strategy: st.SearchStrategy, prop: Callable[[Any, Exploration], str | None],
            *, shrink: bool = True, seconds: float | None = None, examples: tuple = (),
            batch: Callable[[Any], Any] | None = None, drawn_lists: bool = False) -> Exploration:
    """Run Hypothesis over ``strategy``: ``prop(example, run)`` returns a failure reason or None.

    ``examples`` are tried first (Hypothesis's explicit phase), then generated ones.
    Bounded by ``--examples`` and ``--fuzz-seconds`` (generation and shrinking together): once
    time is up the run stops at the next example. The smallest failing example seen is kept
    (while shrinking, Hypothesis only tries examples smaller than the best so far), whatever
    Hypothesis raises in the end.

    With ``batch`` (a function giving each example's identity), one Hypothesis example is a
    list of up to :data:`BATCH` distinct examples, which spreads Hypothesis's own work per
    test case over several requests; ``--examples`` still counts examples judged. ``prop``
    judges them one at a time, in order, and the first failing one is the failure: shrinking
    deletes the others from the list and shrinks that one, so the minimal failing example is
    one example, as without batches. (The list is unique, so Hypothesis's mutator does not
    copy one element over another, and no example is sent twice in a batch.)
    With ``drawn_lists``, ``strategy`` draws such lists itself (invalid requests: several
    mutations of one valid body, see :func:`conformance._strategies.invalid_batches`).
    """
    run = Exploration()
    deadline = time.monotonic() + (seconds if seconds is not None else ctx.config.fuzz_seconds)
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    budget = ctx.config.examples
    explicit = len(examples)

    def judge(example: Any) -> None:
        if time.monotonic() > deadline:
            run.out_of_time = True
            raise _OutOfTime
        run.examples += 1
        reason = prop(example, run)
        if reason is not None:
            run.failure, run.reason = example, reason
            raise _Failed(reason)

    if batch is None and not drawn_lists:
        given_strategy, test = strategy, judge
    else:
        given_strategy = strategy if drawn_lists else st.lists(strategy, min_size=1, max_size=BATCH, unique_by=batch)
        examples = (list(examples),) if examples else ()  # one batch: the first failing one ends it

        def test(items: list) -> None:
            for item in items:
                if run.failure is None and run.examples >= budget + explicit:
                    raise _Enough  # generated enough (never while shrinking)
                judge(item)

    @hypothesis_seed(effective_seed(ctx))
    @settings(max_examples=budget, deadline=None, database=None, phases=phases,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              verbosity=Verbosity.quiet, derandomize=False)
    @given(given_strategy)
    def property_holds(example: Any) -> None:
        test(example)

    for ex in reversed(examples):
        property_holds = hypothesis_example(ex)(property_holds)
    try:
        with warnings.catch_warnings(), _no_source_constants():
            warnings.simplefilter("ignore", HypothesisWarning)  # e.g. the repr of an oversize body
            property_holds()
    except (_OutOfTime, _Enough):
        pass
    except Exception:  # noqa: BLE001 (_Failed, or Hypothesis's Flaky when time ran out while shrinking)
        if run.failure is None:
            raise
    return run


@contextlib.contextmanager
def _no_source_constants() -> Iterator[None]:
    """Generation draws from the strategies alone, not from literals in our source.

    Hypothesis mixes literals from the source of every loaded local (non-site-packages) module
    into what it generates. Which modules are loaded differs between a serial run and an xdist
    worker, and the literals change with every edit of our own code, so one seed would not give
    one set of requests (and the kill matrix would not be reproducible). Hypothesis offers no
    setting for this; its private hook is swapped while we explore, and left alone if it moved.
    """
    try:
        from hypothesis.internal.conjecture import providers

        getter, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE.cache, providers.Constants()
    except (ImportError, AttributeError):  # pragma: no cover - a Hypothesis without the feature
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()  # permitted constants computed with the local ones
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.clear()


# ----------------------------------------------------------------------------- per-run state


@dataclass
class _State:
    cache: dict[tuple, Exchange] = field(default_factory=dict)
    schemathesis: Any = None
    openapi: Any = None  # the run's own schemathesis schema (see _schema)
    strategies: Any = None  # the pass's strategies over it (see _strategies)
    probes: int = 0  # schemathesis probes sent through _ProbeApp


_STATES: "weakref.WeakKeyDictionary[RunContext, _State]" = weakref.WeakKeyDictionary()


def _state(ctx: RunContext) -> _State:
    if ctx not in _STATES:
        _STATES[ctx] = _State()
    return _STATES[ctx]


def scope_of(ctx: RunContext) -> Scope:
    c = ctx.config
    return Scope(profile=c.profile, version=c.anthropic_version, model=ctx.model, max_body_bytes=c.max_body_bytes)


def send(ctx: RunContext, req: GenRequest, target: Target | None = None) -> Exchange:
    """The answer to ``req`` (sent once per run and target; later asks are served from the cache)."""
    cache = _state(ctx).cache
    key = (id(target), req.key())
    if key not in cache:
        kw = req.send_kwargs()
        cache[key] = target.send("POST", PATH, **kw) if target is not None else ctx.send("POST", PATH, **kw)
    return cache[key]


def _finish(ctx: RunContext, run: Exploration, what: str, judge: Callable[[GenRequest, Exchange], str | None],
            passed: str) -> Outcome:
    """The outcome of a property: on failure, re-send the minimal example once as the evidence."""
    if run.failure is None:
        extra = "".join(f", {n} {k}" for k, n in sorted(run.notes.items()))
        budget = " (time bound reached)" if run.out_of_time else ""
        return Outcome.passed(f"{run.examples} generated {what}{extra}{budget}: {passed}")
    req: GenRequest = run.failure
    ex = ctx.send("POST", PATH, **req.send_kwargs())
    ctx.evidence(ex)
    again = judge(req, ex)
    reason = again or f"{run.reason} (did not happen again when re-sent)"
    return Outcome.failed(f"{reason}; minimal failing example, {req.describe()}: {ex.request.curl(ctx.secrets)}")


# ----------------------------------------------------------------------------- valid requests

_OPTIONAL = ("tools", "tool_choice", "thinking")


def _uses_optional(req: GenRequest) -> bool:
    return isinstance(req.body, dict) and any(k in req.body for k in _OPTIONAL)


def _stream_problem(ctx: RunContext, ex: Exchange) -> tuple[str | None, dict | None]:
    """(a reason the stream is wrong, the Message rebuilt from it)."""
    g = StreamGrammar()
    for ev in ex.events:
        g.feed(ev)
    g.finish(complete=ex.complete and not ex.transport_error)
    if g.violations:
        v = g.violations[0]
        return f"stream grammar rule {v.rule} broken at event {v.position}: {v.message}", g.message
    for ev in ex.events:
        if ev.event not in KNOWN_EVENTS:
            continue
        try:
            data = json.loads(ev.data)
        except ValueError:
            return f"event {ev.position} data is not JSON", g.message
        errors = ctx.schemas.validate("stream-event", data, profile=ctx.config.profile, version=ctx.config.anthropic_version)
        if errors:
            return f"{ev.event} event {ev.position} invalid: {errors[0].message}", g.message
    if g.message is None:
        return "no Message could be rebuilt from the stream", None
    errors = ctx.schemas.validate("message", g.message, profile=ctx.config.profile, version=ctx.config.anthropic_version)
    if errors:
        return f"the Message rebuilt from the stream is invalid: {errors[0].message}", g.message
    return None, g.message


def _answer(ctx: RunContext, req: GenRequest, ex: Exchange) -> tuple[str | None, dict | None]:
    """(why a valid request's answer is wrong, the Message it carries)."""
    if ex.transport_error and ex.status is None:
        return f"no HTTP response ({ex.transport_error})", None
    if ex.status != 200:
        return f"expected HTTP 200, got {describe(ex)}", None
    if req.stream:
        return _stream_problem(ctx, ex)
    msg = ex.json()
    if not isinstance(msg, dict):
        return f"expected a Message, got {describe(ex)}", None
    errors = ctx.schemas.validate("message", msg, profile=ctx.config.profile, version=ctx.config.anthropic_version)
    if errors:
        return f"the Message is invalid: {errors[0].message}", msg
    return None, msg


def _judge_accepted(ctx: RunContext, req: GenRequest, ex: Exchange, run: Exploration | None = None) -> str | None:
    if _uses_optional(req) and declined(ex):
        if run is not None:
            run.notes["declined an optional capability"] = run.notes.get("declined an optional capability", 0) + 1
        return None
    return _answer(ctx, req, ex)[0]


def _texts(msg: dict) -> list[str]:
    content = msg.get("content") if isinstance(msg.get("content"), list) else []
    return [b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)]


def _judge_constraints(ctx: RunContext, req: GenRequest, ex: Exchange) -> str | None:
    problem, msg = _answer(ctx, req, ex)
    if problem is not None or msg is None:
        return None  # fuzz.valid.accepted judges that; here only answers that carry a Message
    want = Expectations.of(req.body)
    usage = msg.get("usage") if isinstance(msg.get("usage"), dict) else {}
    out = usage.get("output_tokens")
    if isinstance(out, int) and out > want.max_tokens:
        return f"usage.output_tokens {out} exceeds max_tokens {want.max_tokens}"
    for text in _texts(msg):
        for seq in want.stop_sequences:
            if seq in text:
                return f"stop sequence {seq!r} occurs in the answer text {text[:80]!r}"
    stop_reason = msg.get("stop_reason")
    if stop_reason == "stop_sequence" and msg.get("stop_sequence") not in want.stop_sequences:
        return f"stop_reason stop_sequence with stop_sequence {msg.get('stop_sequence')!r}, which the request did not send"
    if want.forced_tool is not None and stop_reason != "max_tokens":
        used = [b.get("name") for b in msg.get("content") or [] if isinstance(b, dict) and b.get("type") == "tool_use"]
        wanted = "a tool_use block" if want.forced_tool == "*" else f"a tool_use block for {want.forced_tool!r}"
        if not used or (want.forced_tool != "*" and want.forced_tool not in used):
            return f"tool_choice forces a tool: expected {wanted}, got {used or 'none'} (stop_reason {stop_reason!r})"
        if stop_reason != "tool_use":
            return f"tool_choice forces a tool: expected stop_reason 'tool_use' after {wanted}, got {stop_reason!r}"
    return None


@check("fuzz.valid.accepted", MUST, "contract §1-§3, §9.18",
       "Generated valid requests (every profile- and version-legal shape, unicode of every kind, streaming "
       "on and off) get 200 with a schema-valid Message, or a schema-valid stream whose grammar holds.")
def valid_accepted(ctx: RunContext) -> Outcome:
    """MUST answer every generated valid request with 200 and a valid Message or stream; a
    correct decline of an optional capability (tools, thinking) is tolerated."""
    scope = scope_of(ctx)
    run = explore(ctx, valid_requests(scope), lambda req, r: _judge_accepted(ctx, req, send(ctx, req), r),
                  examples=valid_examples(scope), batch=GenRequest.key)
    return _finish(ctx, run, "valid requests", lambda req, ex: _judge_accepted(ctx, req, ex),
                   "each got 200 and a valid Message or stream")


@check("fuzz.valid.constraints-hold", MUST, "contract §1.1, §1.5, §2.3, §9.14-15",
       "In the answer to a generated valid request, output_tokens <= max_tokens, no stop sequence occurs in the "
       "text, and a forced tool_choice yields that tool's tool_use (stop_reason tool_use).")
def valid_constraints(ctx: RunContext) -> Outcome:
    """MUST respect the request's own limits in every answer: ``max_tokens``, ``stop_sequences``
    and a forced ``tool_choice``."""
    scope = scope_of(ctx)
    run = explore(ctx, valid_requests(scope), lambda req, r: _judge_constraints(ctx, req, send(ctx, req)),
                  examples=valid_examples(scope), batch=GenRequest.key)
    return _finish(ctx, run, "valid requests", lambda req, ex: _judge_constraints(ctx, req, ex),
                   "every answer respected max_tokens, stop_sequences and tool_choice")


# ----------------------------------------------------------------------------- invalid requests


def _judge_exact(req: GenRequest, ex: Exchange) -> str | None:
    if not req.must:
        return None
    if ex.transport_error and ex.status is None:
        return f"no HTTP response ({ex.transport_error})"
    body = ex.json()
    envelope = isinstance(body, dict) and body.get("type") == "error"
    if ex.status != req.status or error_type_of(ex) != req.error_type or not envelope:
        got = describe(ex) + ("" if envelope or ex.status != req.status or error_type_of(ex) != req.error_type
                              else ' without the envelope\'s top-level "type": "error"')
        return f"expected HTTP {req.status} with error.type {req.error_type!r} in the error envelope, got {got}"
    return None


def _judge_no_5xx(req: GenRequest, ex: Exchange) -> str | None:
    if ex.transport_error and ex.status is None:
        return f"no HTTP response ({ex.transport_error})"
    if ex.status is not None and ex.status >= 500:
        return f"expected a 4xx, got {describe(ex)}"
    return None


@check("fuzz.invalid.rejected-exactly", MUST, "contract §1, §4.1-4.2, §9.6-9.10",
       "Each generated invalid request (missing field, wrong type, out of range, unknown enum or block type, "
       "truncated or non-UTF-8 JSON, unknown model, oversize) gets its exact status and error type in the envelope.")
def invalid_exact(ctx: RunContext) -> Outcome:
    """MUST answer each generated invalid request with the exact status and ``error.type`` the
    contract gives it (400 ``invalid_request_error``, 404 ``not_found_error``, 413
    ``request_too_large``), in the error envelope; never a 2xx."""
    scope = scope_of(ctx)
    run = explore(ctx, invalid_batches(scope, BATCH), lambda req, r: _judge_exact(req, send(ctx, req)),
                  examples=invalid_examples(scope), drawn_lists=True)
    return _finish(ctx, run, "invalid requests", _judge_exact, "each got its exact status and error type")


@check("fuzz.invalid.never-5xx", MUST, "contract §4.2",
       "No generated invalid request (including a wrong content type or an unknown field) gets a 5xx or no answer.")
def invalid_no_5xx(ctx: RunContext) -> Outcome:
    """MUST answer a malformed request as the client's error (4xx), never as a server failure."""
    scope = scope_of(ctx)
    run = explore(ctx, invalid_batches(scope, BATCH), lambda req, r: _judge_no_5xx(req, send(ctx, req)),
                  examples=invalid_examples(scope), drawn_lists=True)
    return _finish(ctx, run, "invalid requests", _judge_no_5xx, "none got a 5xx")


# ----------------------------------------------------------------------------- differential


def _signature(req: GenRequest, ex: Exchange) -> tuple:
    """What must agree between two targets: acceptance, error type, and the stream grammar."""
    if ex.status is None:
        return ("no response",)
    if not 200 <= ex.status < 300:
        return ("rejected", ex.status // 100, error_type_of(ex))
    if req.stream:
        g = StreamGrammar()
        for ev in ex.events:
            g.feed(ev)
        g.finish(complete=ex.complete and not ex.transport_error)
        return ("accepted", "stream", tuple(sorted({v.rule for v in g.violations})))
    return ("accepted",)


def _show(sig: tuple) -> str:
    if sig[0] == "rejected":
        return f"rejected ({sig[1]}xx, error.type {sig[2]!r})"
    if sig[0] == "accepted" and len(sig) > 1:
        return "accepted, stream grammar " + ("held" if not sig[2] else "broken: " + ", ".join(sig[2]))
    return sig[0]


def _compare_target(ctx: RunContext) -> Target:
    c = ctx.config
    t = ctx.target
    assert c.compare is not None
    return Target(c.compare, api_key=c.api_key, auth=t.auth, anthropic_version=c.anthropic_version, headers=c.headers,
                  secret_headers=c.secret_headers, insecure=c.insecure,
                  timeouts=Timeouts(connect=min(10.0, c.timeout), read=c.timeout, event_idle=c.timeout, total=c.total_timeout))


@check("fuzz.compare.agree", SHOULD, "contract §1-§4 (differential)",
       "With --compare URL2, the same generated requests get the same acceptance, error type and stream grammar "
       "verdict from both targets.")
def compare_agree(ctx: RunContext) -> Outcome:
    """SHOULD behave like the reference target (``--compare``) on every generated request."""
    if not ctx.config.compare:
        return Outcome.skipped("no --compare URL2 given")
    other = _compare_target(ctx)
    try:
        model = ctx.config.model or discover_model(other)
        scope = scope_of(ctx)
        if model != ctx.model:
            return Outcome.inconclusive(f"the targets serve different first models ({ctx.model!r}, {model!r}); pass --model")

        def judge(req: GenRequest, mine: Exchange, theirs: Exchange | None = None) -> str | None:
            theirs = theirs if theirs is not None else send(ctx, req, other)
            a, b = _signature(req, mine), _signature(req, theirs)
            if a != b:
                return f"{req.describe()}: this target {_show(a)}, {other.base_url} {_show(b)}"
            return None

        run = explore(ctx, mixed_requests(scope), lambda req, r: judge(req, send(ctx, req)),
                      examples=valid_examples(scope) + invalid_examples(scope), batch=GenRequest.key)
        if run.failure is None:
            return Outcome.passed(f"{run.examples} generated requests: both targets agreed")
        req = run.failure
        mine = ctx.send("POST", PATH, **req.send_kwargs())
        theirs = other.send("POST", PATH, **req.send_kwargs())
        ctx.evidence(mine, theirs)
        reason = judge(req, mine, theirs) or f"{run.reason} (did not happen again when re-sent)"
        return Outcome.failed(f"{reason}; minimal request: {mine.request.curl(ctx.secrets)}")
    finally:
        other.close()


# ----------------------------------------------------------------------------- schemathesis

# schemathesis's built-in checks, in catalog order: (name, level, requirement)
BUILTIN = (
    ("not_a_server_error", MUST, "No request generated from schemas/openapi.yaml, valid or not, gets a 5xx."),
    ("status_code_conformance", SHOULD, "Every status answered is one schemas/openapi.yaml documents for the operation."),
    ("content_type_conformance", MUST, "Every response's content type is one schemas/openapi.yaml documents for its status."),
    ("response_schema_conformance", MUST, "Every response body matches its schema in schemas/openapi.yaml."),
    ("negative_data_rejection", SHOULD, "Requests that break schemas/openapi.yaml are rejected with a 4xx."),
    ("positive_data_acceptance", MUST, "Requests valid against schemas/openapi.yaml (and its cross-field rules) are not refused with a 4xx other than 401/403/404/409/429."),
    ("ignored_auth", MUST, "Operations that require credentials refuse requests without them or with wrong ones."),
)


def _schema(ctx: RunContext) -> Any:
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


_PROBE_CTX: ContextVar[RunContext] = ContextVar("conformance_probe_ctx")
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
            path = path[len(prefix):]
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
        start_response(f"{ex.status} {ex.reason or 'Status'}",
                       [(n, v) for n, v in ex.headers if n not in ("content-length", "transfer-encoding", "connection")])
        return [ex.body or b""]


_PROBE_APP = _ProbeApp()


def _checks() -> dict[str, Any]:
    from schemathesis import checks as base
    from schemathesis.specs.openapi import checks as oas

    return {name: getattr(oas, name, None) or getattr(base, name) for name, _, _ in BUILTIN}


def _auth_headers(ctx: RunContext) -> dict[str, str]:
    key = ctx.config.api_key
    if not key:
        return {}
    return {"authorization": f"Bearer {key}"} if ctx.target.auth == "bearer" else {"x-api-key": key}


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
        return {"mode": self.mode, "message": self.message,
                "sent": {**self.sent, "headers": headers,
                         "content": None if content is None else base64.b64encode(content).decode()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "_Finding":
        content = d["sent"].get("content")
        return cls(d["mode"], d["message"], {**d["sent"], "content": None if content is None else base64.b64decode(content)})


@dataclass
class _Pass:
    """The shared schemathesis pass, or one part of it: per built-in check, the first failing
    case and why, and how many cases each check could judge."""

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
        return {"cases": self.cases, "skipped": self.skipped, "judged": self.judged,
                "failures": {name: f.to_json() for name, f in self.failures.items()}}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "_Pass":
        return cls(d["cases"], {name: _Finding.from_json(f) for name, f in d["failures"].items()}, d["skipped"], d["judged"])


class _Parts:
    """The parts of the schemathesis pass (one per strategy), each computed once per run.

    Without a share directory (one process) every part is computed here. Under xdist the
    workers share the controller's directory: the schemathesis checks are split into two share
    groups, and whichever worker first needs the pass claims each part nobody has claimed (an
    ``O_EXCL`` claim file) and computes it, then waits for the parts another worker claimed. A
    part given up (its run budget ran out) or not delivered within the bound is computed here.
    """

    def __init__(self, directory: str | None, key: str) -> None:
        self.directory = Path(directory) if directory else None
        self.key = key

    def _path(self, index: int, what: str) -> Path:
        assert self.directory is not None
        return self.directory / f"schemathesis-{self.key}-part{index}.{what}"

    def claim(self, index: int) -> bool:
        if self.directory is None:
            return True
        try:
            os.close(os.open(self._path(index, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True

    def put(self, index: int, part: _Pass) -> None:
        if self.directory is not None:
            tmp = self._path(index, f"{os.getpid()}.tmp")
            tmp.write_text(json.dumps(part.to_json()), encoding="utf-8")
            os.replace(tmp, self._path(index, "json"))

    def abandon(self, index: int) -> None:
        if self.directory is not None:
            self._path(index, "abandoned").touch()

    def wait(self, index: int, seconds: float) -> _Pass | None:
        """The part another process claimed, once it is there; None if it was given up or did
        not come within ``seconds``."""
        deadline = time.monotonic() + seconds
        done, abandoned = self._path(index, "json"), self._path(index, "abandoned")
        while time.monotonic() < deadline:
            if done.exists():
                return _Pass.from_json(json.loads(done.read_text(encoding="utf-8")))
            if abandoned.exists():
                return None
            time.sleep(0.02)
        return None


_CLIENT_HEADERS = frozenset({"authorization", "x-api-key", "user-agent", "accept", "accept-encoding", "connection",
                             "x-schemathesis-testcaseid", "content-length", "host"})


def _case_kwargs(ctx: RunContext, case: Any) -> dict[str, Any] | None:
    """``ctx.send`` arguments for a schemathesis case (None: it cannot be sent as HTTP/1.1)."""

    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    # serialised as for the network (the schema's own transport is the in-process _ProbeApp)
    kw = REQUESTS_TRANSPORT.serialize_case(case, base_url=ctx.target.base_url,
                                           headers={"anthropic-version": OPENAPI_VERSION, **_auth_headers(ctx)})
    url = urlsplit(kw["url"])
    path = url.path + (("?" + url.query) if url.query else "")
    params = kw.get("params")
    if params:
        from urllib.parse import urlencode

        path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
    # schemathesis's own auth values (generated from the security schemes) and client headers
    # give way to the run's credentials and the Target's defaults
    headers = {k: v for k, v in (kw.get("headers") or {}).items() if k.lower() not in _CLIENT_HEADERS}
    headers.update({"anthropic-version": OPENAPI_VERSION, **_auth_headers(ctx)})
    for name, value in headers.items():
        if not isinstance(value, str) or not value.isascii() or any(c in value for c in "\r\n\x00"):
            return None
    out: dict[str, Any] = {"headers": headers}
    if "json" in kw:
        try:
            out["content"] = json.dumps(kw["json"], ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
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

    request = requests.Request(sent["method"], url, headers=dict(ex.request.headers), data=ex.request.body or None).prepare()
    headers: dict[str, list[str]] = {}
    for name, value in ex.headers:
        headers.setdefault(name.lower(), []).append(value)
    return Response(status_code=ex.status or 0, headers=headers, content=ex.body, request=request,
                    elapsed=ex.elapsed, verify=True)


def _run_case(ctx: RunContext, case: Any, names: list[str]) -> tuple[dict[str, str], Exchange | None, set[str]]:
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
        cache[key] = ctx.send(sent["method"], sent["path"], headers=sent["headers"], content=sent.get("content"), stream=sent["stream"])
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
                case.validate_response(response, checks=[functions[name]], headers=_auth_headers(ctx), transport_kwargs=transport)
            except _ProbeUnanswered:
                continue
            except FailureGroup as exc:
                failed[name] = "; ".join(str(getattr(f, "title", "") or f).splitlines()[0] for f in exc.exceptions)[:300]
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


def _strategies(ctx: RunContext) -> list[Any]:
    """The pass's strategies, built once per run (and only by a process that draws from them)."""
    state = _state(ctx)
    if state.strategies is None:
        state.strategies = _build_strategies(ctx)
        assert len(state.strategies) == PASS_PARTS
    return state.strategies


def _build_strategies(ctx: RunContext) -> list[Any]:
    from schemathesis.generation import GenerationMode

    schema = _schema(ctx)
    fixed = {"anthropic-version": OPENAPI_VERSION}
    model = ctx.model
    out = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        # one operation after another, POST /v1/messages first: Hypothesis's first and simplest
        # choices go to the operation the contract is about (a small budget still reaches it)
        per_operation = [schema[path][method].as_strategy(generation_mode=mode, headers=fixed)
                         for path, method in OPERATIONS]
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


def _shared_pass(ctx: RunContext) -> _Pass:
    state = _state(ctx)
    if state.schemathesis is None:
        c = ctx.config
        key = hashlib.sha256(repr((effective_seed(ctx), ctx.model, c.examples, c.fuzz_seconds)).encode()).hexdigest()[:16]
        parts = _Parts(c.share_dir, key)
        found: dict[int, _Pass] = {}
        for index in range(PASS_PARTS):
            if parts.claim(index):
                try:
                    found[index] = _run_part(ctx, index)
                except BaseException:
                    parts.abandon(index)
                    raise
                parts.put(index, found[index])
        # a part another worker computes: no longer than its own bound (--fuzz-seconds, and the
        # exchange in progress when that ran out) before it is computed here instead
        bound = c.fuzz_seconds + 2 * c.total_timeout
        for index in range(PASS_PARTS):
            if index not in found:
                found[index] = parts.wait(index, bound) or _run_part(ctx, index)
        result = _Pass()
        for index in range(PASS_PARTS):
            result.add(found[index])
        state.schemathesis = result
    return state.schemathesis


def _run_part(ctx: RunContext, index: int) -> _Pass:
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
    run = explore(ctx, strategy, lambda case, run: drawn.append(case) or prop(case, run), shrink=False)
    if not run.out_of_time:  # a cut list is not what the seed gives
        _DRAWN[key] = drawn
        while len(_DRAWN) > _DRAWN_KEPT:
            _DRAWN.pop(next(iter(_DRAWN)))
    return part


# The cases the shared pass drew, per process: (seed, model, --examples, strategy) -> cases.
# The pass never fails an example, so what Hypothesis draws depends on those four alone, not on
# the answers: a later run with the same four (the kill matrix: one run per fault) replays the
# cases instead of drawing them again (about 3 s of schemathesis generation per run).
_DRAWN: dict[tuple, list[Any]] = {}
_DRAWN_KEPT = 12


def _replay(ctx: RunContext, cases: list[Any], prop: Callable[[Any, Exploration], str | None]) -> Exploration:
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


def _builtin_check(name: str) -> Callable[[RunContext], Outcome]:
    def judge(ctx: RunContext) -> Outcome:
        shared = _shared_pass(ctx)
        if name not in shared.failures:
            judged = shared.judged.get(name, 0)
            if not judged:
                # e.g. ignored_auth without a single 2xx to probe: nothing held, nothing was tested
                return Outcome.inconclusive(f"{shared.cases} schemathesis cases over schemas/openapi.yaml, none that "
                                            f"{name} could judge within the budget (--examples, --fuzz-seconds)")
            return Outcome.passed(f"{shared.cases} schemathesis cases over schemas/openapi.yaml: {name} held "
                                  f"on the {judged} it applies to")
        first = shared.failures[name]
        mode = first.mode
        strategy = next(s for s, m in zip(_strategies(ctx), ("positive", "negative")) if mode is None or m == mode)

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
        ex = ctx.send(sent["method"], sent["path"], headers=headers, content=sent.get("content"), stream=sent["stream"],
                      **({"auth": auth} if auth else {}))
        ctx.evidence(ex)
        return Outcome.failed(f"schemathesis {name}: {message}; minimal case ({mode or 'explicit'}): "
                              f"{ex.request.curl(ctx.secrets)}")

    judge.__name__ = f"schemathesis_{name}"
    judge.__doc__ = f"schemathesis's ``{name}`` check over schemas/openapi.yaml, as a catalog check."
    return judge


for _name, _level, _requirement in BUILTIN:
    check(f"fuzz.schemathesis.{_name.replace('_', '-')}", _level, "schemas/openapi.yaml; contract §1-§6",
          _requirement, profiles=ANTHROPIC_ONLY)(_builtin_check(_name))
