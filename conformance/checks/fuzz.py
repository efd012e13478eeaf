"""fuzz: generated requests (:mod:`conformance._strategies`) find what the fixed checks miss.

Each check is one property over generated requests, explored by :func:`conformance._driver.explore`
within the run's budget (``--examples``, ``--fuzz-seconds``) and seed:

* ``fuzz.valid.*``: valid requests get 200 and a schema-valid Message, or a schema-valid stream
  whose grammar holds; the request's own constraints hold in the answer (``output_tokens <=
  max_tokens``, no stop sequence in the text, a forced tool used).
* ``fuzz.invalid.*``: each generated invalid request gets its exact status and error type in
  the error envelope; none gets a 5xx.
* ``fuzz.compare.agree``: with ``--compare URL2`` the same generated requests go to both
  targets; a disagreement in acceptance, error type or stream grammar fails, with the minimal
  request that shows it.

The generated exchanges are not evidence: the minimal failing example is re-sent once at the
end, becomes the check's only evidence, and its curl line (key redacted) is in the message.
The properties draw their requests in batches (:data:`conformance._driver.BATCH`); the invalid
requests of a batch are mutations of one valid body. Properties over the same strategy and
seed (the two ``valid`` ones, the two ``invalid`` ones) send each request once.
"""

from __future__ import annotations

import json
from typing import Callable

from conformance._catalog import MUST, SHOULD, Outcome, check
from conformance._discover import discover_model
from conformance._driver import (
    BATCH,
    PATH,
    Exploration,
    explore,
    scope_of,
    send,
)
from conformance._exchange import Exchange
from conformance._grammar import KNOWN_EVENTS
from conformance._probes import Context
from conformance._strategies import (
    Expectations,
    GenRequest,
    invalid_batches,
    invalid_examples,
    mixed_requests,
    valid_examples,
    valid_requests,
)
from conformance._target import Target, Timeouts
from conformance.checks._causes import grammar_of, symptoms
from conformance.checks._common import declined, describe, error_type_of
from conformance.checks._shared import shown_supported


def _finish(
    ctx: Context, run: Exploration, what: str, judge: Callable[[GenRequest, Exchange], str | None], passed: str
) -> Outcome:
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
    outcome = Outcome.failed(f"{reason}; minimal failing example, {req.describe()}: {ex.request.curl(ctx.secrets)}")
    return outcome.caused_by(_causes(ctx, req, ex)) if again else outcome


def _causes(ctx: Context, req: GenRequest, ex: Exchange) -> list:
    """The minimal failing example's symptoms, when narrow checks report them (a valid request
    refused for a form of it, a stream or Message whose defect a narrow check names): the
    property's failure is then the same cause, shown under them."""
    if not req.valid and ex.status == req.status:  # the right status: the envelope is what is wrong
        body = ex.json()
        if not (isinstance(body, dict) and body.get("type") == "error"):
            return [(("errors.envelope.shape", "errors.envelope.content-type"),)]
    scope = (ctx.config.profile, ctx.config.anthropic_version)
    return [v for v in (symptoms(ex, valid=req.valid, schemas=ctx.schemas, scope=scope),) if v]


# ----------------------------------------------------------------------------- valid requests

_OPTIONAL = ("tools", "tool_choice", "thinking")


def _uses_optional(req: GenRequest) -> bool:
    return isinstance(req.body, dict) and any(k in req.body for k in _OPTIONAL)


def _stream_problem(ctx: Context, ex: Exchange) -> tuple[str | None, dict | None]:
    """(a reason the stream is wrong, the Message rebuilt from it)."""
    g = grammar_of(ex)
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
        errors = ctx.schemas.validate(
            "stream-event", data, profile=ctx.config.profile, version=ctx.config.anthropic_version
        )
        if errors:
            return f"{ev.event} event {ev.position} invalid: {errors[0].message}", g.message
    if g.message is None:
        return "no Message could be rebuilt from the stream", None
    errors = ctx.schemas.validate(
        "message", g.message, profile=ctx.config.profile, version=ctx.config.anthropic_version
    )
    if errors:
        return f"the Message rebuilt from the stream is invalid: {errors[0].message}", g.message
    return None, g.message


def _answer(ctx: Context, req: GenRequest, ex: Exchange) -> tuple[str | None, dict | None]:
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


def _capabilities(req: GenRequest) -> set[str]:
    body = req.body if isinstance(req.body, dict) else {}
    return ({"tools"} if "tools" in body or "tool_choice" in body else set()) | (
        {"thinking"} if "thinking" in body else set()
    )


def _judge_accepted(ctx: Context, req: GenRequest, ex: Exchange, run: Exploration | None = None) -> str | None:
    # a decline is forgiven only while some capability the request uses is not shown supported
    if _uses_optional(req) and declined(ex) and not all(shown_supported(ctx, c) for c in _capabilities(req)):
        if run is not None:
            run.notes["declined an optional capability"] = run.notes.get("declined an optional capability", 0) + 1
        return None
    return _answer(ctx, req, ex)[0]


def _texts(msg: dict) -> list[str]:
    content = msg.get("content")
    if not isinstance(content, list):
        content = []
    return [
        b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
    ]


def _judge_constraints(ctx: Context, req: GenRequest, ex: Exchange) -> str | None:
    problem, msg = _answer(ctx, req, ex)
    if problem is not None or msg is None:
        return None  # fuzz.valid.accepted judges that; here only answers that carry a Message
    want = Expectations.of(req.body)
    usage = msg.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    out = usage.get("output_tokens")
    if isinstance(out, int) and out > want.max_tokens:
        return f"usage.output_tokens {out} exceeds max_tokens {want.max_tokens}"
    for text in _texts(msg):
        for seq in want.stop_sequences:
            if seq in text:
                return f"stop sequence {seq!r} occurs in the answer text {text[:80]!r}"
    stop_reason = msg.get("stop_reason")
    if stop_reason == "stop_sequence" and msg.get("stop_sequence") not in want.stop_sequences:
        return (
            f"stop_reason stop_sequence with stop_sequence {msg.get('stop_sequence')!r}, which the request did not send"
        )
    if want.forced_tool is not None and stop_reason != "max_tokens":
        used = [b.get("name") for b in msg.get("content") or [] if isinstance(b, dict) and b.get("type") == "tool_use"]
        wanted = "a tool_use block" if want.forced_tool == "*" else f"a tool_use block for {want.forced_tool!r}"
        if not used or (want.forced_tool != "*" and want.forced_tool not in used):
            return f"tool_choice forces a tool: expected {wanted}, got {used or 'none'} (stop_reason {stop_reason!r})"
        if stop_reason != "tool_use":
            return f"tool_choice forces a tool: expected stop_reason 'tool_use' after {wanted}, got {stop_reason!r}"
    return None


@check(
    "fuzz.valid.accepted",
    MUST,
    "contract §1-§3, §9.18",
    "Generated valid requests (every profile- and version-legal shape, unicode of every kind, streaming "
    "on and off) get 200 with a schema-valid Message, or a schema-valid stream whose grammar holds.",
)
def valid_accepted(ctx: Context) -> Outcome:
    """MUST answer every generated valid request with 200 and a valid Message or stream; a
    correct decline of an optional capability (tools, thinking) is tolerated."""
    scope = scope_of(ctx)
    run = explore(
        ctx,
        valid_requests(scope),
        lambda req, r: _judge_accepted(ctx, req, send(ctx, req), r),
        examples=valid_examples(scope),
        batch=GenRequest.key,
    )
    return _finish(
        ctx,
        run,
        "valid requests",
        lambda req, ex: _judge_accepted(ctx, req, ex),
        "each got 200 and a valid Message or stream",
    )


@check(
    "fuzz.valid.constraints-hold",
    MUST,
    "contract §1.1, §1.5, §2.3, §9.14-15",
    "In the answer to a generated valid request, output_tokens <= max_tokens, no stop sequence occurs in the "
    "text, and a forced tool_choice yields that tool's tool_use (stop_reason tool_use).",
)
def valid_constraints(ctx: Context) -> Outcome:
    """MUST respect the request's own limits in every answer: ``max_tokens``, ``stop_sequences``
    and a forced ``tool_choice``."""
    scope = scope_of(ctx)
    run = explore(
        ctx,
        valid_requests(scope),
        lambda req, r: _judge_constraints(ctx, req, send(ctx, req)),
        examples=valid_examples(scope),
        batch=GenRequest.key,
    )
    return _finish(
        ctx,
        run,
        "valid requests",
        lambda req, ex: _judge_constraints(ctx, req, ex),
        "every answer respected max_tokens, stop_sequences and tool_choice",
    )


# ----------------------------------------------------------------------------- invalid requests


def _judge_exact(req: GenRequest, ex: Exchange) -> str | None:
    if not req.must:
        return None
    if ex.transport_error and ex.status is None:
        return f"no HTTP response ({ex.transport_error})"
    body = ex.json()
    envelope = isinstance(body, dict) and body.get("type") == "error"
    if ex.status != req.status or error_type_of(ex) != req.error_type or not envelope:
        got = describe(ex) + (
            ""
            if envelope or ex.status != req.status or error_type_of(ex) != req.error_type
            else ' without the envelope\'s top-level "type": "error"'
        )
        return f"expected HTTP {req.status} with error.type {req.error_type!r} in the error envelope, got {got}"
    return None


def _judge_no_5xx(req: GenRequest, ex: Exchange) -> str | None:
    if ex.transport_error and ex.status is None:
        return f"no HTTP response ({ex.transport_error})"
    if ex.status is not None and ex.status >= 500:
        return f"expected a 4xx, got {describe(ex)}"
    return None


@check(
    "fuzz.invalid.rejected-exactly",
    MUST,
    "contract §1, §4.1-4.2, §9.6-9.10",
    "Each generated invalid request (missing field, wrong type, out of range, unknown enum or block type, "
    "truncated or non-UTF-8 JSON, unknown model, oversize) gets its exact status and error type in the envelope.",
)
def invalid_exact(ctx: Context) -> Outcome:
    """MUST answer each generated invalid request with the exact status and ``error.type`` the
    contract gives it (400 ``invalid_request_error``, 404 ``not_found_error``, 413
    ``request_too_large``), in the error envelope; never a 2xx."""
    scope = scope_of(ctx)
    run = explore(
        ctx,
        invalid_batches(scope, BATCH),
        lambda req, r: _judge_exact(req, send(ctx, req)),
        examples=invalid_examples(scope),
        drawn_lists=True,
    )
    return _finish(ctx, run, "invalid requests", _judge_exact, "each got its exact status and error type")


@check(
    "fuzz.invalid.never-5xx",
    MUST,
    "contract §4.2",
    "No generated invalid request (including a wrong content type or an unknown field) gets a 5xx or no answer.",
)
def invalid_no_5xx(ctx: Context) -> Outcome:
    """MUST answer a malformed request as the client's error (4xx), never as a server failure."""
    scope = scope_of(ctx)
    run = explore(
        ctx,
        invalid_batches(scope, BATCH),
        lambda req, r: _judge_no_5xx(req, send(ctx, req)),
        examples=invalid_examples(scope),
        drawn_lists=True,
    )
    return _finish(ctx, run, "invalid requests", _judge_no_5xx, "none got a 5xx")


# ----------------------------------------------------------------------------- differential


def _signature(req: GenRequest, ex: Exchange) -> tuple:
    """What must agree between two targets: acceptance, error type, and the stream grammar."""
    if ex.status is None:
        return ("no response",)
    if not 200 <= ex.status < 300:
        return ("rejected", ex.status // 100, error_type_of(ex))
    if req.stream:
        g = grammar_of(ex)
        return ("accepted", "stream", tuple(sorted({v.rule for v in g.violations})))
    return ("accepted",)


def _show(sig: tuple) -> str:
    if sig[0] == "rejected":
        return f"rejected ({sig[1]}xx, error.type {sig[2]!r})"
    if sig[0] == "accepted" and len(sig) > 1:
        return "accepted, stream grammar " + ("held" if not sig[2] else "broken: " + ", ".join(sig[2]))
    return sig[0]


def _compare_target(ctx: Context) -> Target:
    c = ctx.config
    t = ctx.target
    assert c.compare is not None
    return Target(
        c.compare,
        api_key=c.api_key,
        auth=t.auth,
        anthropic_version=c.anthropic_version,
        headers=c.headers,
        secret_headers=c.secret_headers,
        insecure=c.insecure,
        timeouts=Timeouts(connect=min(10.0, c.timeout), read=c.timeout, event_idle=c.timeout, total=c.total_timeout),
    )


@check(
    "fuzz.compare.agree",
    SHOULD,
    "contract §1-§4 (differential)",
    "With --compare URL2, the same generated requests get the same acceptance, error type and stream grammar "
    "verdict from both targets.",
)
def compare_agree(ctx: Context) -> Outcome:
    """SHOULD behave like the reference target (``--compare``) on every generated request."""
    if not ctx.config.compare:
        return Outcome.skipped("no --compare URL2 given")
    other = _compare_target(ctx)
    try:
        model = ctx.config.model or discover_model(other)
        scope = scope_of(ctx)
        if model != ctx.model:
            return Outcome.inconclusive(
                f"the targets serve different first models ({ctx.model!r}, {model!r}); pass --model"
            )

        def judge(req: GenRequest, mine: Exchange, theirs: Exchange | None = None) -> str | None:
            theirs = theirs if theirs is not None else send(ctx, req, other)
            a, b = _signature(req, mine), _signature(req, theirs)
            if a != b:
                return f"{req.describe()}: this target {_show(a)}, {other.base_url} {_show(b)}"
            return None

        run = explore(
            ctx,
            mixed_requests(scope),
            lambda req, r: judge(req, send(ctx, req)),
            examples=valid_examples(scope) + invalid_examples(scope),
            batch=GenRequest.key,
        )
        if run.failure is None:
            return Outcome.passed(f"{run.examples} generated requests: both targets agreed")
        req = run.failure
        mine = ctx.send("POST", PATH, **req.send_kwargs())
        theirs = other.send("POST", PATH, **req.send_kwargs())
        ctx.evidence(mine, theirs)
        again = judge(req, mine, theirs)
        reason = again or f"{run.reason} (did not happen again when re-sent)"
        outcome = Outcome.failed(f"{reason}; minimal request: {mine.request.curl(ctx.secrets)}")
        return outcome.caused_by(_causes(ctx, req, mine)) if again else outcome
    finally:
        other.close()
