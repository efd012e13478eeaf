"""count-tokens: ``POST /v1/messages/count_tokens`` (contract §6).

The contract makes it a SHOULD (§9 item 30); the Darkbloom page does not document it, so it is
in the anthropic profile only. There the endpoint's existence is itself the requirement: the
``shape`` check fails when it is declined (404/400), and the checks that build on it
(validation, the system prompt, agreement with usage) are then ``unsupported`` rather than
failed a second time.
"""

from __future__ import annotations

from conformance._catalog import ANTHROPIC_ONLY, SHOULD, Blocked, Outcome, check
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance.checks._common import (
    basic_body,
    declined,
    describe,
    expect_error,
    expect_ok,
    first_error,
    missing_endpoint,
    schema_errors,
)
from conformance.checks.semantics import LONG_SYSTEM

COUNT_TOKENS = "/v1/messages/count_tokens"

COUNT_SYSTEM = "You are a terse assistant. Answer in one short sentence."
COUNT_MESSAGES = [
    {"role": "user", "content": "My name is Ada."},
    {"role": "assistant", "content": "Hello, Ada."},
    {"role": "user", "content": "What is the capital of France? Answer in one word."},
]


# ------------------------------------------------------------------------------- probes


COUNT_HELLO = [{"role": "user", "content": "Say hello."}]


@probe("count-tokens")
def _count_tokens(ctx: Context):
    return ctx.send("POST", COUNT_TOKENS, json={"model": ctx.model, "messages": COUNT_HELLO})


@probe("count-tokens-system")
def _count_tokens_system(ctx: Context):
    return ctx.send("POST", COUNT_TOKENS, json={"model": ctx.model, "system": LONG_SYSTEM, "messages": COUNT_HELLO})


@probe("count-tokens-no-messages")
def _count_tokens_no_messages(ctx: Context):
    return ctx.send("POST", COUNT_TOKENS, json={"model": ctx.model})


@probe("count-tokens-vs-usage")
def _count_tokens_vs_usage(ctx: Context):
    counted = ctx.send(
        "POST", COUNT_TOKENS, json={"model": ctx.model, "system": COUNT_SYSTEM, "messages": COUNT_MESSAGES}
    )
    used = ctx.messages(basic_body(ctx, system=COUNT_SYSTEM, messages=COUNT_MESSAGES))
    return {"count": counted, "message": used}


# ------------------------------------------------------------------------------ checks


@check(
    "count-tokens.response.shape",
    SHOULD,
    "contract §6, §9.30",
    'POST /v1/messages/count_tokens answers 200 {"input_tokens": int}.',
    profiles=ANTHROPIC_ONLY,
    capability="count_tokens",
)
def count_tokens_shape(ctx: Context) -> Outcome:
    """SHOULD implement ``POST /v1/messages/count_tokens`` answering ``{"input_tokens": int}``
    for a valid ``{model, messages}`` body."""
    ex = ctx.probe("count-tokens")
    if declined(ex) and ex.status == 404:
        return missing_endpoint(ex, "POST /v1/messages/count_tokens")
    bad = expect_ok(ex)
    if bad:
        return bad
    errors = schema_errors(ctx, "count-tokens-response", ex.json())
    if errors:
        return first_error(errors, "the count_tokens answer")
    return Outcome.passed(f"input_tokens {ex.json()['input_tokens']}")


def _count_tokens_available(ctx: Context) -> Outcome | None:
    """Unsupported when the endpoint is declined the documented way; blocked by the shape check
    when it is missing otherwise (a 404 outside the envelope, a 405): that one reports it."""
    ex = ctx.probe("count-tokens")
    if declined(ex):
        return Outcome.unsupported(f"count_tokens declined: {describe(ex)}")
    if ex.status in (404, 405):
        raise Blocked(("count-tokens.response.shape",), f"count_tokens not served: {describe(ex)}")
    return None


@check(
    "count-tokens.validation.missing-messages",
    SHOULD,
    "contract §4.2, §6, §9.30",
    "count_tokens without `messages` answers 400 invalid_request_error.",
    profiles=ANTHROPIC_ONLY,
    capability="count_tokens",
)
def count_tokens_validation(ctx: Context) -> Outcome:
    """SHOULD validate count_tokens requests like messages requests: ``messages`` is required,
    so a body without it is 400 ``invalid_request_error``."""
    unavailable = _count_tokens_available(ctx)
    if unavailable:
        return unavailable
    ex = ctx.probe("count-tokens-no-messages")
    if ex.status == 200:
        return Outcome.mismatch(
            "HTTP 400 invalid_request_error", f"{describe(ex)}: a body without messages was counted"
        )
    return expect_error(ex, 400, "invalid_request_error")


def _input_tokens(ex: Exchange) -> int | None:
    body = ex.json()
    value = body.get("input_tokens") if isinstance(body, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@check(
    "count-tokens.system.counted",
    SHOULD,
    "contract §6, §9.30",
    "count_tokens counts the system prompt: the same body with a long system prompt counts more.",
    profiles=ANTHROPIC_ONLY,
    capability="count_tokens",
)
def count_tokens_system(ctx: Context) -> Outcome:
    """SHOULD count every input the model sees: adding an ~80-word ``system`` prompt to a
    count_tokens body raises ``input_tokens`` (a server that drops the system prompt does not)."""
    unavailable = _count_tokens_available(ctx)
    if unavailable:
        return unavailable
    plain, with_system = ctx.probe("count-tokens"), ctx.probe("count-tokens-system")
    for ex, what in ((plain, "without system"), (with_system, "with system")):
        bad = expect_ok(ex)
        if bad:
            return Outcome.failed(f"count_tokens {what}: {bad.message}")
    a, b = _input_tokens(plain), _input_tokens(with_system)
    if a is None or b is None:
        return Outcome.inconclusive(
            f"no integer input_tokens to compare ({a!r}, {b!r}); see count-tokens.response.shape"
        )
    if b <= a:
        return Outcome.mismatch(f"more input_tokens with an ~80-word system prompt than without ({a})", f"{b}")
    return Outcome.passed(f"input_tokens {a} without system, {b} with")


@check(
    "count-tokens.usage.matches-messages",
    SHOULD,
    "contract §6, §2.3",
    "count_tokens for a request (model, system, messages) equals usage.input_tokens of that request.",
    profiles=ANTHROPIC_ONLY,
    capability="count_tokens",
)
def count_tokens_matches(ctx: Context) -> Outcome:
    """SHOULD count what the model will be billed for: ``input_tokens`` of count_tokens for a
    multi-turn request with a system prompt equals ``usage.input_tokens`` of the same request
    sent to ``/v1/messages`` (a count that skips the system prompt or per-message overhead
    does not)."""
    unavailable = _count_tokens_available(ctx)
    if unavailable:
        return unavailable
    pair = ctx.probe("count-tokens-vs-usage")
    counted, used = pair["count"], pair["message"]
    bad = expect_ok(counted)
    if bad:
        return Outcome.failed(f"count_tokens: {bad.message}")
    bad = expect_ok(used)
    if bad:
        return Outcome.failed(f"messages: {bad.message}")
    body, msg = counted.json(), used.json()
    n = body.get("input_tokens") if isinstance(body, dict) else None
    usage = msg.get("usage") if isinstance(msg, dict) else None
    m = usage.get("input_tokens") if isinstance(usage, dict) else None
    if not isinstance(n, int) or isinstance(n, bool) or not isinstance(m, int) or isinstance(m, bool):
        return Outcome.inconclusive(f"no integer to compare (count_tokens {n!r}, usage.input_tokens {m!r})")
    if n != m:
        return Outcome.mismatch(f"count_tokens input_tokens equal to usage.input_tokens ({m})", f"{n}")
    return Outcome.passed(f"both {n}")
