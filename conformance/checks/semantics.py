"""semantics: the request parameters do what the contract says, whatever the model's quality.

Each probe is designed so that *any* compliant model, not just the stub, gives a decidable
answer: counting prompts make ``max_tokens`` cuts and stop sequences certain, token counts
compare the same request with and without a system prompt, forced ``tool_choice`` leaves the
model no choice (contract §1.1, §1.5, §1.6, §2, §9 items 7, 14-15). Behaviour the target
never exhibited (the model ended before the stop sequence, say) is ``inconclusive``, never a
failure. Tools and thinking are optional capabilities: a correct 400/404 decline is
``unsupported``.

The count_tokens/usage agreement lives in the ``count-tokens`` family (count_tokens.py).
"""

from __future__ import annotations

from typing import cast

import jsonschema

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Blocked, Outcome, check
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance.checks._causes import (
    GRAMMAR_TIERS,
    grammar_of,
    lowest_tier,
    require_documented_stop_reason,
    require_message,
    require_ok,
    stream_symptoms,
    unreadable,
)
from conformance.checks._common import HELLO, WEATHER_QUESTION, WEATHER_TOOL, basic_body, declined, describe, expect_ok
from conformance.checks._shared import (
    BASIC,
    COUNT_TO_50,
    MAX_TOKENS_CUT,
    STOP_SEQUENCE_PROBE,
    THINKING,
    TOOLS_FORCED,
    StopSequenceTrials,
    message_text,
    shown_supported,
    thinking_body,
    tools_body,
)

# Counting is the one answer every model gives the same way, token after token.
COUNT_TO_10 = "Count from 1 to 10, separated by spaces."
BOUND_MAX_TOKENS = 10
PREFILL = "1 2 3 4 5"

# Long enough (about 80 words) that any tokenizer counts it.
LONG_SYSTEM = (
    "You are a careful and concise assistant taking part in an automated conformance test of an "
    "HTTP API. Answer every question in one short sentence, in plain English, without lists, "
    "headings, code blocks or emoji. Never mention these instructions. If a question is "
    "ambiguous, pick the most common reading and answer it directly. Prefer simple words to "
    "rare ones, and keep numbers as digits. Do not apologise, do not ask follow-up questions, "
    "and do not add any greeting or closing remark beyond what the user asked for."
)

TOOL_USE_ID = "toolu_01ConformanceProbe0001"
# the check reporting a usage that is not an integer (what the usage checks here cannot read)
USAGE_INTS = ("response.usage.required-ints",)


# ------------------------------------------------------------------------------- probes


@probe("max-tokens-bound")
def _max_tokens_bound(ctx: Context):
    return ctx.messages(
        basic_body(ctx, max_tokens=BOUND_MAX_TOKENS, messages=[{"role": "user", "content": COUNT_TO_50}])
    )


@probe("system-string")
def _system_string(ctx: Context):
    return ctx.messages(basic_body(ctx, system=LONG_SYSTEM), keep=("system",))


@probe("content-string")
def _content_string(ctx: Context):
    return ctx.messages(basic_body(ctx), keep=("content",))


@probe("system-blocks")
def _system_blocks(ctx: Context):
    return ctx.messages(basic_body(ctx, system=[{"type": "text", "text": LONG_SYSTEM}]))


@probe("content-blocks")
def _content_blocks(ctx: Context):
    return ctx.messages(basic_body(ctx, messages=[{"role": "user", "content": [{"type": "text", "text": HELLO}]}]))


@probe("multi-turn")
def _multi_turn(ctx: Context):
    return ctx.messages(
        basic_body(
            ctx,
            messages=[
                {"role": "user", "content": "My name is Ada. Please remember it."},
                {"role": "assistant", "content": "Understood, Ada. I will remember your name."},
                {"role": "user", "content": HELLO},
            ],
        )
    )


@probe("prefill")
def _prefill(ctx: Context):
    return ctx.messages(
        basic_body(
            ctx,
            messages=[
                {"role": "user", "content": COUNT_TO_10},
                {"role": "assistant", "content": PREFILL},
            ],
        )
    )


@probe("tools-none")
def _tools_none(ctx: Context):
    return ctx.messages(tools_body(ctx, tool_choice={"type": "none"}))


@probe("tool-result")
def _tool_result(ctx: Context):
    return ctx.messages(
        basic_body(
            ctx,
            max_tokens=256,
            tools=[WEATHER_TOOL],
            messages=[
                {"role": "user", "content": WEATHER_QUESTION},
                {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": TOOL_USE_ID,
                            "name": WEATHER_TOOL["name"],
                            "input": {"city": "Paris"},
                        }
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": TOOL_USE_ID, "content": "18 degrees Celsius and sunny"}
                    ],
                },
            ],
        )
    )


@probe("thinking-stream")
def _thinking_stream(ctx: Context):
    return ctx.messages(thinking_body(ctx, stream=True))


# ------------------------------------------------------------------------------ helpers


def _message(ex: Exchange, what: str = "") -> tuple[dict | None, Outcome | None]:
    """The 200 body as a Message (``type: "message"``, ``content`` array), or why not."""
    prefix = f"{what}: " if what else ""
    try:
        bad = expect_ok(ex)
    except Blocked as exc:
        raise Blocked(exc.roots, prefix + exc.message) from None
    if bad:
        return None, Outcome.failed(f"{what}: {bad.message}") if what else bad
    body = ex.json()
    if not isinstance(body, dict) or body.get("type") != "message" or not isinstance(body.get("content"), list):
        got = describe(ex) if isinstance(body, dict) else (ex.json_error or f"JSON {type(body).__name__}")
        message = f'{prefix}expected a Message (type "message", content array), got {got}'
        require_message(ex, message)  # no Message by type: the shape checks report it
        return None, Outcome.failed(message)
    return body, None


def _tokens(msg: dict, key: str) -> int | None:
    usage = msg.get("usage")
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _tool_uses(msg: dict) -> list[dict]:
    return [b for b in msg.get("content", []) if isinstance(b, dict) and b.get("type") == "tool_use"]


# ------------------------------------------------------------------------------ max_tokens


@check(
    "semantics.max-tokens.cut",
    MUST,
    "contract §2.2, §9.14; Darkbloom: Response (stop_reason)",
    'With max_tokens 1 on a long answer, stop_reason is "max_tokens" and usage.output_tokens <= 1.',
)
def max_tokens_cut(ctx: Context) -> Outcome:
    """MUST stop at ``max_tokens`` and say so: a one-token budget for "count from 1 to 50" ends
    with ``stop_reason: "max_tokens"`` and at most one output token. Judged on the text too, so
    that usage which under-reports cannot hide an answer that was never cut."""
    msg, bad = _message(ctx.probe(MAX_TOKENS_CUT))
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    reason, out = msg.get("stop_reason"), _tokens(msg, "output_tokens")
    if out is None:
        raise Blocked(USAGE_INTS, "usage.output_tokens is not an integer, so the cut cannot be measured")
    words = len(message_text(msg).split())
    if words >= 3:
        # three words are more than one token in any tokenizer, whatever usage reports
        return Outcome.mismatch(
            'an answer cut at 1 token, stop_reason "max_tokens"',
            f"{words} words of text, stop_reason {reason!r}, usage.output_tokens {out}",
        )
    if reason == "max_tokens" and out <= 1:
        return Outcome.passed(f'stop_reason "max_tokens", output_tokens {out}')
    if reason == "end_turn" and out <= 1:
        return Outcome.inconclusive(f"the model ended its turn after {out} token(s) before the limit could bite")
    bad = Outcome.mismatch(
        'stop_reason "max_tokens" with output_tokens <= 1', f"stop_reason {reason!r}, output_tokens {out}"
    )
    require_documented_stop_reason(msg, bad.message)
    return bad


@check(
    "semantics.max-tokens.bound",
    SHOULD,
    "contract §9.14",
    f"With max_tokens {BOUND_MAX_TOKENS}, usage.output_tokens stays <= {BOUND_MAX_TOKENS}.",
)
def max_tokens_bound(ctx: Context) -> Outcome:
    """SHOULD keep ``usage.output_tokens`` within ``max_tokens`` (thinking tokens included)."""
    msg, bad = _message(ctx.probe("max-tokens-bound"))
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    out = _tokens(msg, "output_tokens")
    if out is None:
        raise Blocked(USAGE_INTS, "usage.output_tokens is not an integer, so the bound cannot be measured")
    if out > BOUND_MAX_TOKENS:
        return Outcome.mismatch(f"output_tokens <= {BOUND_MAX_TOKENS} (max_tokens)", f"output_tokens {out}")
    return Outcome.passed(f"output_tokens {out} <= {BOUND_MAX_TOKENS}")


@check(
    "semantics.usage.output-counted",
    MUST,
    "contract §2.3",
    "A Message reports usage.output_tokens of at least 1 (non-zero even for empty text).",
)
def usage_output_counted(ctx: Context) -> Outcome:
    """MUST count what it generated: ``usage.output_tokens`` is non-zero, even for empty text
    (contract §2.3); a usage of 0 under-bills and hides an ignored ``max_tokens``. Judged on the
    plain answer, on the one-token cut and (anthropic profile) on the plain answer streamed: the
    text its deltas delivered against the final ``message_delta`` usage. A usage that is not an
    integer is the ``response.usage.required-ints`` check's to report."""
    judged = []
    for name in (BASIC, MAX_TOKENS_CUT):
        msg, bad = _message(ctx.probe(name))
        if bad:
            # no Message at all is the request and response checks' finding, not this one's
            return Outcome.inconclusive(f"{name}: no Message to read usage from ({bad.message})")
        msg = cast(dict, msg)  # a dict whenever bad is None
        text, out = message_text(msg), _tokens(msg, "output_tokens")
        if out is None:
            raise Blocked(USAGE_INTS, f"{name}: usage.output_tokens is not an integer")
        if out < 1:
            return Outcome.mismatch(f"{name}: usage.output_tokens >= 1", f"output_tokens {out} for text {text[:60]!r}")
        judged.append(f"{name}: {out} for {len(text.split())} word(s)")
    if ctx.config.profile == "anthropic":
        streamed = _streamed_usage(ctx.probe("usage-stream"))
        if streamed is not None:
            text, out = streamed
            if text and out < 1:
                return Outcome.mismatch(
                    "streamed: usage.output_tokens >= 1 in the final message_delta",
                    f"output_tokens {out} after deltas delivering {text[:60]!r}",
                )
            judged.append(f"streamed: {out} for {len(text.split())} word(s)")
    return Outcome.passed("output_tokens counted: " + "; ".join(judged))


@probe("usage-stream")
def _usage_stream(ctx: Context):
    return ctx.messages(basic_body(ctx, stream=True), headers={"Accept": "text/event-stream"})


def _streamed_usage(ex: Exchange) -> tuple[str, int] | None:
    """(the text the stream's deltas delivered, the final message_delta's output_tokens), or
    None when the stream cannot say (not a readable stream, no integer usage): the stream and
    grammar checks report those."""
    if ex.status != 200 or unreadable(ex):
        return None
    msg = grammar_of(ex).message
    out = _tokens(msg, "output_tokens") if isinstance(msg, dict) else None
    return None if out is None else (message_text(cast(dict, msg)), out)


# ------------------------------------------------------------------------------ stop sequences


@check(
    "semantics.stop-sequence.honoured",
    MUST,
    "contract §1.1, §2.1, §9.15",
    'A matched stop sequence ends the text before it, with stop_reason "stop_sequence" and stop_sequence echoing it.',
    profiles=ANTHROPIC_ONLY,
)
def stop_sequence_honoured(ctx: Context) -> Outcome:
    """MUST honour ``stop_sequences``. Decided by learning, then challenging: the target counts
    to 20 without a stop sequence; a word from inside its answer becomes the stop sequence of the
    same request again, so any compliant server, whatever its model, must stop before that word
    with ``stop_reason: "stop_sequence"`` and ``stop_sequence`` echoing it. An answer that
    contains the word fails; one that went elsewhere is tried again (temperature 0 where the API
    version has it), and only tries that never met the word are inconclusive."""
    trials: StopSequenceTrials = ctx.probe(STOP_SEQUENCE_PROBE)
    shown = []
    for n, t in enumerate(trials.tries, 1):
        learned, bad = _message(t.learned, "answer without a stop sequence")
        if bad:
            return bad
        if t.sequence is None or t.challenged is None:
            text = message_text(cast(dict, learned))
            return Outcome.inconclusive(
                f"the answer without a stop sequence has no word to take one from: {text[:60]!r}"
            )
        msg, bad = _message(t.challenged, f"answer with stop_sequences [{t.sequence!r}]")
        if bad:
            return bad
        msg = cast(dict, msg)  # a dict whenever bad is None
        text, reason, seq = message_text(msg), msg.get("stop_reason"), msg.get("stop_sequence")
        where = (
            f"try {n}: stop_sequences [{t.sequence!r}] taken from the answer {message_text(cast(dict, learned))[:60]!r}"
        )
        if t.sequence in text:
            return Outcome.mismatch(
                f"text ending before the stop sequence {t.sequence!r} ({where})",
                f"text {text[:80]!r} containing it (stop_reason {reason!r})",
            )
        if reason == "stop_sequence":
            if seq != t.sequence:
                return Outcome.mismatch(f"stop_sequence {t.sequence!r} ({where})", f"stop_sequence {seq!r}")
            return Outcome.passed(f"stopped at {t.sequence!r} ({where}), text {text[-40:]!r}")
        if reason not in ("end_turn", "max_tokens"):
            bad = Outcome.mismatch(f'stop_reason "stop_sequence" ({where})', f"stop_reason {reason!r}")
            require_documented_stop_reason(msg, bad.message)
            return bad
        shown.append(f"{where}: answered {text[:40]!r} without it")
    return Outcome.inconclusive(
        f"the target never produced its own words again in {len(shown)} tries: " + "; ".join(shown)
    )


# ------------------------------------------------------------------------------ system prompt


def _system_counted(ctx: Context, probe_name: str, form: str) -> Outcome:
    base, bad = _message(ctx.probe(BASIC), "request without system")
    if bad:
        return bad
    base = cast(dict, base)  # a dict whenever bad is None
    with_system, bad = _message(ctx.probe(probe_name), f"request with system as {form}")
    if bad:
        return bad
    with_system = cast(dict, with_system)  # a dict whenever bad is None
    a, b = _tokens(base, "input_tokens"), _tokens(with_system, "input_tokens")
    if a is None or b is None:
        return Outcome.inconclusive("usage.input_tokens is not an integer, so the system prompt cannot be measured")
    if b <= a:
        return Outcome.mismatch(f"more input_tokens with an ~80-word system prompt ({form}) than without ({a})", f"{b}")
    return Outcome.passed(f"input_tokens {a} without system, {b} with system as {form}")


@check(
    "semantics.system.string-counted",
    MUST,
    "contract §1.1, §9.7; Darkbloom: Request (system)",
    "`system` as a string is accepted and reaches the model: input_tokens grows by its length.",
)
def system_string(ctx: Context) -> Outcome:
    """MUST accept ``system`` as a string and use it: the same request with a long system
    prompt has more ``usage.input_tokens`` than without one (a dropped system prompt does not)."""
    return _system_counted(ctx, "system-string", "a string")


@check(
    "semantics.system.blocks-counted",
    MUST,
    "contract §1.1, §9.7",
    "`system` as an array of text blocks is accepted and reaches the model: input_tokens grows.",
    profiles=ANTHROPIC_ONLY,
)
def system_blocks(ctx: Context) -> Outcome:
    """MUST accept ``system`` as ``[{"type": "text", "text": ...}]`` and use it, like the string."""
    return _system_counted(ctx, "system-blocks", "text blocks")


# ------------------------------------------------------------------------------ content and turns


@check(
    "semantics.content.string-and-blocks",
    MUST,
    "contract §1.2, §9.7",
    "User content is accepted both as a string and as an array of text blocks.",
    profiles=ANTHROPIC_ONLY,
)
def content_forms(ctx: Context) -> Outcome:
    """MUST accept ``content`` as a string and as ``[{"type": "text", "text": ...}]``: the string
    is only shorthand for the block array, and SDK users send either."""
    _, bad = _message(ctx.probe("content-string"), "content as a string")
    if bad:
        return bad
    _, bad = _message(ctx.probe("content-blocks"), "content as text blocks")
    if bad:
        return bad
    return Outcome.passed("both forms answered with a Message")


@check(
    "semantics.conversation.multi-turn",
    MUST,
    "contract §1.1-1.2; Darkbloom: Request (messages)",
    "A user/assistant/user conversation is answered with a Message.",
)
def multi_turn(ctx: Context) -> Outcome:
    """MUST accept alternating ``user``/``assistant`` turns ending with a user turn."""
    msg, bad = _message(ctx.probe("multi-turn"))
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    return Outcome.passed(f"HTTP 200 Message, stop_reason {msg.get('stop_reason')!r}")


@check(
    "semantics.conversation.prefill",
    MUST,
    "contract §1.1, §2.1",
    "A final assistant turn is accepted as a prefill that the answer continues (or declined with 400 "
    "invalid_request_error by a model without prefill).",
    profiles=ANTHROPIC_ONLY,
)
def prefill(ctx: Context) -> Outcome:
    """MUST treat a final ``assistant`` turn as a prefill: answer 200 with a Message that
    continues it, or (models without prefill support) 400 ``invalid_request_error``. An answer
    that starts by repeating the prefill verbatim suggests it was treated as history, but that is
    model behaviour too, so it is inconclusive rather than failed."""
    ex = ctx.probe("prefill")
    if ex.status == 400 and declined(ex):
        return Outcome.unsupported("the model declines prefill (400 invalid_request_error)")
    msg, bad = _message(ex)
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    text = message_text(msg)
    if text.lstrip().startswith(PREFILL):
        return Outcome.inconclusive(
            f"the answer repeats the prefill {PREFILL!r} instead of continuing it: {text[:40]!r}"
        )
    return Outcome.passed(f"continued the prefill with {text[:40]!r}")


# ------------------------------------------------------------------------------ tools


def _tools_message(ctx: Context, name: str) -> tuple[dict | None, Outcome | None]:
    ex = ctx.probe(name)
    if declined(ex):
        if name != TOOLS_FORCED and shown_supported(ctx, "tools"):
            bad = Outcome.mismatch(
                "a Message: forced tool use was answered, so tools are supported", f"{describe(ex)} (refused)"
            )
            require_ok(ex, bad.message)  # refused for a form another check sends on its own
            return None, bad
        return None, Outcome.unsupported(f"tools declined: {describe(ex)}")
    return _message(ex)


@check(
    "semantics.tools.forced-tool",
    MUST,
    "contract §1.5, §2.4",
    "tool_choice {type: tool, name} yields a tool_use block for that tool, its input valid against "
    'the tool\'s input_schema, and stop_reason "tool_use".',
    profiles=ANTHROPIC_ONLY,
    capability="tools",
)
def forced_tool(ctx: Context) -> Outcome:
    """MUST obey a forced ``tool_choice``: the answer holds a ``tool_use`` block naming the tool,
    whose ``input`` is an object valid against the tool's ``input_schema``, and ends with
    ``stop_reason: "tool_use"``."""
    msg, bad = _tools_message(ctx, TOOLS_FORCED)
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    uses = _tool_uses(msg)
    reason = msg.get("stop_reason")
    if not uses:
        if reason == "max_tokens":
            return Outcome.inconclusive("the answer was cut by max_tokens before any tool_use block")
        kinds = [b.get("type") for b in msg["content"] if isinstance(b, dict)]
        return Outcome.mismatch(
            f"a tool_use block for {WEATHER_TOOL['name']!r}", f"content blocks {kinds}, stop_reason {reason!r}"
        )
    use = uses[0]
    if use.get("name") != WEATHER_TOOL["name"]:
        return Outcome.mismatch(f"tool_use name {WEATHER_TOOL['name']!r}", f"{use.get('name')!r}")
    args = use.get("input")
    errors = list(jsonschema.Draft202012Validator(WEATHER_TOOL["input_schema"]).iter_errors(args))
    if errors:
        return Outcome.mismatch(
            "tool_use.input valid against the tool's input_schema", f"input {args!r} ({errors[0].message})"
        )
    if reason != "tool_use":
        bad = Outcome.mismatch('stop_reason "tool_use"', f"stop_reason {reason!r} after a tool_use block")
        require_documented_stop_reason(msg, bad.message)
        return bad
    return Outcome.passed(f"tool_use {use.get('name')} with input {args!r}")


@check(
    "semantics.tools.toolu-id",
    SHOULD,
    "contract §2.4, §9.12",
    "tool_use block ids start with `toolu_`.",
    profiles=ANTHROPIC_ONLY,
    capability="tools",
)
def toolu_id(ctx: Context) -> Outcome:
    """SHOULD use the ``toolu_`` convention for tool_use ids (clients echo them in tool_result)."""
    msg, bad = _tools_message(ctx, TOOLS_FORCED)
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    uses = _tool_uses(msg)
    if not uses:
        raise Blocked(("semantics.tools.forced-tool",), "the forced-tool answer held no tool_use block to judge")
    ident = uses[0].get("id")
    if not isinstance(ident, str) or not ident.startswith("toolu_"):
        return Outcome.mismatch("a tool_use id starting with 'toolu_'", repr(ident))
    return Outcome.passed(f"tool_use id {ident!r}")


@check(
    "semantics.tools.choice-none",
    MUST,
    "contract §1.5",
    "tool_choice {type: none} yields no tool_use block.",
    profiles=ANTHROPIC_ONLY,
    capability="tools",
)
def choice_none(ctx: Context) -> Outcome:
    """MUST NOT call a tool when ``tool_choice`` is ``{"type": "none"}``, even though the user
    asks for it: no ``tool_use`` block and no ``stop_reason: "tool_use"``."""
    msg, bad = _tools_message(ctx, "tools-none")
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    uses, reason = _tool_uses(msg), msg.get("stop_reason")
    if uses or reason == "tool_use":
        return Outcome.mismatch("no tool_use block", f"{len(uses)} tool_use block(s), stop_reason {reason!r}")
    return Outcome.passed(f"no tool_use, stop_reason {reason!r}")


@check(
    "semantics.tools.tool-result-accepted",
    MUST,
    "contract §1.3, §1.5",
    "A conversation with a tool_use turn and its tool_result is answered with a Message.",
    profiles=ANTHROPIC_ONLY,
    capability="tools",
)
def tool_result_accepted(ctx: Context) -> Outcome:
    """MUST accept an assistant ``tool_use`` turn followed by a user ``tool_result`` turn (the
    second half of every tool call) and answer with a Message."""
    if declined(ctx.probe(TOOLS_FORCED)):
        return Outcome.unsupported("tools declined")
    msg, bad = _tools_message(ctx, "tool-result")  # refused after forced tool use worked: failed
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    return Outcome.passed(f"HTTP 200 Message, stop_reason {msg.get('stop_reason')!r}")


# ------------------------------------------------------------------------------ thinking


def _thinking_shape(msg: dict, form: str) -> Outcome | None:
    content = msg.get("content") or []
    if not content or not isinstance(content[0], dict):
        return Outcome.mismatch(f"a thinking block first ({form})", "empty content")
    first = content[0]
    kind = first.get("type")
    if kind == "redacted_thinking":
        if not isinstance(first.get("data"), str) or not first.get("data"):
            return Outcome.mismatch(f"redacted_thinking.data as a non-empty string ({form})", repr(first.get("data")))
    elif kind == "thinking":
        sig = first.get("signature")
        if not isinstance(sig, str) or not sig:
            return Outcome.mismatch(f"a thinking block with a non-empty signature ({form})", f"signature {sig!r}")
    else:
        return Outcome.mismatch(f"a thinking block first ({form})", f"first block {kind!r}")
    if not any(isinstance(b, dict) and b.get("type") == "text" for b in content[1:]):
        reason = msg.get("stop_reason")
        return Outcome.inconclusive(f"no text block after the thinking block ({form}, stop_reason {reason!r})")
    return None


@check(
    "semantics.thinking.block-first",
    MUST,
    "contract §1.6, §2.4, §3.3",
    "With thinking enabled, content starts with a signed thinking block, then text (JSON and stream alike).",
    profiles=ANTHROPIC_ONLY,
    capability="thinking",
)
def thinking_first(ctx: Context) -> Outcome:
    """MUST, when ``thinking`` is enabled, put a ``thinking`` block (non-empty ``signature``,
    which clients pass back unmodified) or a ``redacted_thinking`` block first, followed by the
    text answer; the streamed answer, rebuilt as the SDK does, must match the same shape."""
    ex = ctx.probe(THINKING)
    if declined(ex):
        return Outcome.unsupported(f"thinking declined: {describe(ex)}")
    msg, bad = _message(ex, "non-streaming")
    if bad:
        return bad
    msg = cast(dict, msg)  # a dict whenever bad is None
    verdict = _thinking_shape(msg, "non-streaming")
    if verdict is not None:
        return verdict
    sx = ctx.probe("thinking-stream")
    bad = expect_ok(sx)
    if bad:
        return Outcome.failed(f"streaming: {bad.message}")
    grammar = grammar_of(sx)
    if not isinstance(grammar.message, dict):
        message = f"streaming: expected a stream that rebuilds into a Message, got {len(sx.events)} events without a usable message_start"
        # the stream's framing or grammar checks report why (an unnamed or missing message_start)
        raise Blocked([x for symptom in stream_symptoms(sx, grammar) for x in symptom], message)
    tier, broken = lowest_tier(grammar)
    if tier < len(GRAMMAR_TIERS):  # the deltas could not be placed: the rebuilt blocks mean nothing
        raise Blocked([f"stream.grammar.{r}" for r in broken], f"streaming: the stream breaks {', '.join(broken)}")
    verdict = _thinking_shape(grammar.message, "streaming")
    if verdict is not None:
        return verdict
    return Outcome.passed("thinking block with signature, then text, in both forms")
