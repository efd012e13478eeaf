"""response: a non-streaming 200 is an Anthropic Message, not something else that also parses.

The stock SDK parses without validating (contract §7): an OpenAI ``chat.completion``, a missing
``usage`` or a foreign ``stop_reason`` all "work" until user code touches them. These checks
hold the body, its ids, its stop fields, its usage and its headers to contract §2 and §5.2
(§9 items 11-13, 28), reading the ``basic`` probe (the smallest valid request) plus a second
identical request for id uniqueness. The stop-field and schema checks also read the 200 bodies
of a few semantics probes (stop sequence, max_tokens cut, forced tool, thinking) so that a
defect visible only on those answers is caught here too.
"""

from __future__ import annotations

from typing import Any, cast

from conformance._catalog import MUST, SHOULD, Outcome, check
from conformance._exchange import Exchange
from conformance._grammar import STOP_REASONS
from conformance._probes import Context
from conformance.checks._causes import NO_OPENAI, message_symptoms, require_documented_stop_reason, require_message
from conformance.checks._common import describe, expect_ok
from conformance.checks._shared import BASIC, BASIC_AGAIN, MAX_TOKENS_CUT, STOP_SEQUENCE_PROBE, THINKING, TOOLS_FORCED

# Top-level and usage field names of an OpenAI chat.completion: the Darkbloom defects (§8.5).
OPENAI_TOP_LEVEL = ("object", "choices", "finish_reason", "prompt_tokens", "completion_tokens", "created")
OPENAI_USAGE = ("prompt_tokens", "completion_tokens", "total_tokens", "finish_reason")


def _message(ex: Exchange, *, shape: bool = False) -> tuple[dict | None, Outcome | None]:
    """The 200 body as a JSON object, or the failed outcome saying why there is none. A body
    that is no Message by ``type`` blocks the checks of its fields (the shape checks, which
    pass ``shape``, report it)."""
    bad = expect_ok(ex)
    if bad:
        return None, bad
    body = ex.json()
    if not isinstance(body, dict):
        what = ex.json_error or f"JSON {type(body).__name__}"
        return None, Outcome.mismatch("a JSON object (a Message) as the 200 body", what)
    if not shape:
        require_message(ex, f"expected a Message, got {describe(ex)}")
    return body, None


def _basic_message(ctx: Context, *, shape: bool = False) -> tuple[dict | None, Outcome | None]:
    return _message(ctx.probe(BASIC), shape=shape)


def _extra_messages(ctx: Context, names: tuple[str, ...]) -> list[tuple[str, dict]]:
    """200 Message bodies of other probes (skipped when that probe did not answer 200)."""
    out = []
    for name in names:
        ex = ctx.probe(name)
        ex = getattr(ex, "exchange", ex)  # a probe of several tries: its deciding answer
        if isinstance(ex, Exchange) and ex.status == 200 and isinstance(ex.json(), dict):
            out.append((name, ex.json()))
    return out


def _schema_probes(ctx: Context) -> tuple[str, ...]:
    if ctx.config.profile == "anthropic":
        return (STOP_SEQUENCE_PROBE, MAX_TOKENS_CUT, TOOLS_FORCED, THINKING)
    return (MAX_TOKENS_CUT,)


@check(
    "response.shape.message-schema",
    MUST,
    "contract §2.1-2.4, §9.11; Darkbloom: Response",
    "A non-streaming 200 body is a Message valid against schemas/message.json (the profile's variant).",
)
def message_schema(ctx: Context) -> Outcome:
    """MUST answer a non-streaming request with a Message: ``id``, ``type: "message"``,
    ``role: "assistant"``, ``content`` blocks, ``model``, ``stop_reason``, ``stop_sequence`` and
    ``usage`` with the documented types (the darkbloom profile's schema has its documented subset).
    The basic answer is judged, and every other 200 Message the semantics probes received."""
    body, bad = _basic_message(ctx, shape=True)
    if bad:
        return bad
    body = cast(dict, body)  # a dict whenever bad is None
    judged = [(BASIC, body)] + _extra_messages(ctx, _schema_probes(ctx))
    first: Outcome | None = None
    causes: list = []
    for name, msg in judged:
        errors = ctx.schemas.validate("message", msg, profile=ctx.config.profile, version=ctx.config.anthropic_version)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            first = first or Outcome.failed(f"{name} answer is not a valid Message: {errors[0].message}{more}")
            # a Message whose every error is in a field a narrow check judges is that check's;
            # an OpenAI chat.completion is no-openai-fields'
            openai = msg.get("type") != "message" and any(k in msg for k in OPENAI_TOP_LEVEL)
            causes.append(((NO_OPENAI,),) if openai else message_symptoms(msg, errors))
    if first is not None:
        return first.caused_by(causes) if all(causes) else first
    return Outcome.passed(f"{len(judged)} Message bod{'y' if len(judged) == 1 else 'ies'} valid against the schema")


@check(
    "response.shape.json-content-type",
    MUST,
    "contract §2, §7",
    "A non-streaming 200 Message is sent with content-type application/json.",
)
def json_content_type(ctx: Context) -> Outcome:
    """MUST send the Message as ``application/json``: with any other type the SDK may hand the
    caller a ``str`` instead of a Message (contract §7)."""
    ex = ctx.probe(BASIC)
    bad = expect_ok(ex)
    if bad:
        return bad
    if ex.content_type != "application/json":
        return Outcome.mismatch("content-type application/json", repr(ex.header("content-type")))
    return Outcome.passed("content-type application/json")


@check(
    "response.shape.no-openai-fields",
    MUST,
    "contract §8.5, §9.11",
    "The Message carries no OpenAI chat.completion fields (object, choices, finish_reason, created, "
    "prompt_tokens, completion_tokens).",
)
def no_openai_fields(ctx: Context) -> Outcome:
    """MUST NOT answer with an OpenAI ``chat.completion`` (or a hybrid): no ``object``,
    ``choices``, ``finish_reason``, ``created``, ``prompt_tokens``, ``completion_tokens`` at the top
    level, and no ``prompt_tokens``/``completion_tokens``/``total_tokens`` in ``usage``: the SDK
    parses such a body silently and ``msg.content[0]`` then breaks in user code (§7, §8.5)."""
    body, bad = _basic_message(ctx, shape=True)
    if bad:
        return bad
    body = cast(dict, body)  # a dict whenever bad is None
    found = [k for k in OPENAI_TOP_LEVEL if k in body]
    usage = body.get("usage")
    if isinstance(usage, dict):
        found += [f"usage.{k}" for k in OPENAI_USAGE if k in usage]
    if found:
        return Outcome.mismatch("no OpenAI chat.completion fields", "fields " + ", ".join(found))
    return Outcome.passed("no OpenAI fields")


@check("response.ids.msg-prefix", SHOULD, "contract §2.1, §9.12", "The Message id is a string starting with `msg_`.")
def msg_prefix(ctx: Context) -> Outcome:
    """SHOULD use the ``msg_`` id convention (the SDK does not enforce it; logs and tools rely
    on it to tell Messages apart from other objects)."""
    body, bad = _basic_message(ctx)
    if bad:
        return bad
    body = cast(dict, body)  # a dict whenever bad is None
    ident = body.get("id")
    if not isinstance(ident, str) or not ident.startswith("msg_"):
        return Outcome.mismatch("an id starting with 'msg_'", repr(ident) if ident is not None else "no id")
    return Outcome.passed(f"id {ident!r}")


@check(
    "response.ids.unique",
    MUST,
    "contract §2.1, §9.11; Darkbloom: Response (id: unique identifier)",
    "Two identical requests get two different Message ids.",
)
def unique_ids(ctx: Context) -> Outcome:
    """MUST give every Message its own id: the id is documented as a *unique* identifier, and
    clients key logs, caches and feedback on it."""
    first, bad = _basic_message(ctx)
    if bad:
        return bad
    first = cast(dict, first)  # a dict whenever bad is None
    second, bad = _message(ctx.probe(BASIC_AGAIN))
    if bad:
        return bad
    second = cast(dict, second)  # a dict whenever bad is None
    a, b = first.get("id"), second.get("id")
    if not isinstance(a, str) or not isinstance(b, str) or not a or not b:
        return Outcome.mismatch("a non-empty string id on both answers", f"ids {a!r} and {b!r}")
    if a == b:
        return Outcome.mismatch("two different ids for two requests", f"the same id {a!r} twice")
    return Outcome.passed(f"ids {a!r} and {b!r} differ")


@check(
    "response.stop-reason.enum",
    MUST,
    "contract §2.2, §9.13; Darkbloom: Response",
    "stop_reason is non-null and one of end_turn, max_tokens, stop_sequence, tool_use, pause_turn, "
    "refusal, model_context_window_exceeded.",
)
def stop_reason_enum(ctx: Context) -> Outcome:
    """MUST report why generation stopped with a documented ``stop_reason`` (never null in a
    non-streaming Message); OpenAI's ``stop``/``length``/``tool_calls`` are not Anthropic values."""
    body, bad = _basic_message(ctx)
    if bad:
        return bad
    body = cast(dict, body)  # a dict whenever bad is None
    judged = [(BASIC, body)] + _extra_messages(ctx, (MAX_TOKENS_CUT,))
    for name, msg in judged:
        reason = msg.get("stop_reason")
        if reason not in STOP_REASONS:
            got = "no stop_reason" if "stop_reason" not in msg else repr(reason)
            return Outcome.mismatch("a documented stop_reason", f"{got} on the {name} answer")
    return Outcome.passed(", ".join(sorted({repr(m.get("stop_reason")) for _, m in judged})))


@check(
    "response.stop-sequence.null-unless-stopped",
    MUST,
    "contract §2.1, §9.13",
    'stop_sequence is a string exactly when stop_reason is "stop_sequence", and null otherwise.',
)
def stop_sequence_iff(ctx: Context) -> Outcome:
    """MUST set ``stop_sequence`` to the matched string when (and only when) ``stop_reason`` is
    ``"stop_sequence"``; otherwise it is null. Judged on the basic answer, the max_tokens probe
    and (anthropic profile) the stop-sequence probe. (An absent ``stop_sequence`` counts as null here; whether
    it must be present is the schema check's business.)"""
    body, bad = _basic_message(ctx)
    if bad:
        return bad
    body = cast(dict, body)  # a dict whenever bad is None
    # stop_sequences is not in the Darkbloom page, so that profile does not send it
    others = (STOP_SEQUENCE_PROBE, MAX_TOKENS_CUT) if ctx.config.profile == "anthropic" else (MAX_TOKENS_CUT,)
    judged = [(BASIC, body)] + _extra_messages(ctx, others)
    for name, msg in judged:
        reason, seq = msg.get("stop_reason"), msg.get("stop_sequence")
        if reason == "stop_sequence":
            if not isinstance(seq, str) or not seq:
                return Outcome.mismatch(
                    'stop_sequence set to the matched string when stop_reason is "stop_sequence"',
                    f"stop_sequence {seq!r} on the {name} answer",
                )
        elif seq is not None:
            bad = Outcome.mismatch(
                f"stop_sequence null with stop_reason {reason!r}", f"stop_sequence {seq!r} on the {name} answer"
            )
            require_documented_stop_reason(msg, bad.message)
            return bad
    return Outcome.passed("; ".join(f"{n}: {m.get('stop_reason')!r}/{m.get('stop_sequence')!r}" for n, m in judged))


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@check(
    "response.usage.required-ints",
    MUST,
    "contract §2.3, §9.11; Darkbloom: Response (usage)",
    "usage.input_tokens and usage.output_tokens are non-negative integers.",
)
def usage_ints(ctx: Context) -> Outcome:
    """MUST report ``usage.input_tokens`` and ``usage.output_tokens`` as non-negative integers:
    the SDK's ``msg.usage.input_tokens`` raises when they are missing (contract §7)."""
    body, bad = _basic_message(ctx)
    if bad:
        return bad
    body = cast(dict, body)  # a dict whenever bad is None
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return Outcome.mismatch("a usage object", "no usage" if usage is None else f"usage {usage!r}")
    for key in ("input_tokens", "output_tokens"):
        if key not in usage:
            return Outcome.mismatch(f"usage.{key} as a non-negative integer", f"no usage.{key}")
        if not _is_count(usage[key]):
            return Outcome.mismatch(f"usage.{key} as a non-negative integer", repr(usage[key]))
    return Outcome.passed(f"input_tokens {usage['input_tokens']}, output_tokens {usage['output_tokens']}")


@check(
    "response.headers.request-id",
    SHOULD,
    "contract §5.2, §9.28",
    "A 200 Message response carries a `request-id` header.",
)
def request_id_header(ctx: Context) -> Outcome:
    """SHOULD send ``request-id`` on every response: the SDK exposes exactly this header as
    ``message._request_id`` (``x-request-id`` is not read)."""
    ex = ctx.probe(BASIC)
    bad = expect_ok(ex)
    if bad:
        return bad
    value = ex.header("request-id")
    if not value:
        alt = ex.header("x-request-id")
        got = f"no request-id header (x-request-id {alt!r} is not read by the SDK)" if alt else "no request-id header"
        return Outcome.mismatch("a request-id header", got)
    return Outcome.passed(f"request-id {value!r}")
