"""stream: `"stream": true` answers are a named-event SSE stream in the §3.3 grammar.

The official SDK dispatches on the ``event:`` name, accumulates the message from the deltas
and raises on ``event: error`` (contract §3, §4.3, §7); a stream that breaks any of the rules
below breaks ``create(stream=True)`` or ``messages.stream()`` for its users (§9 items 16-24).

Every stream probe (plain text, forced tool use, extended thinking, and the failure-injection
request) is fed through one :class:`~conformance._grammar.StreamGrammar`; there is one check per
grammar rule (``stream.grammar.<rule>``), judged over every probe whose stream came back.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Blocked, Outcome, check
from conformance._exchange import Exchange
from conformance._grammar import KNOWN_EVENTS, RULES, StreamGrammar, Violation
from conformance._options import STUB_TRIGGERS
from conformance._probes import Context, probe
from conformance.checks._causes import (
    GRAMMAR_TIERS,
    STREAM_FRAMING,
    lowest_tier,
    message_symptoms,
    require_stream,
    stream_symptoms,
    unreadable,
)
from conformance.checks._common import (
    WEATHER_QUESTION,
    WEATHER_TOOL,
    basic_body,
    declined,
    describe,
    expect_ok,
    trigger_model,
)

SSE = "text/event-stream"
# Streaming is not on the Darkbloom page (its request schema is closed and has no `stream`).
PROFILES = ANTHROPIC_ONLY

# Only a target offering a failure-injection model can show a mid-stream failure on demand.
MID_STREAM_ERROR_MODEL = STUB_TRIGGERS["mid-stream-error"]

# stream.delivery.incremental. A buffered ("fake") stream is written in one go once the whole
# answer exists, so its events, from the first content delta to the last, arrive in one read.
# No minimum duration is required: a fast local server that writes each event on its own may
# finish a whole stream within a millisecond (the clean stub does), and a slow first event says
# nothing either (the clean stub's first answer takes ~100 ms while it warms up).


@dataclass
class StreamRun:
    """One streamed request and what the grammar made of it."""

    name: str
    exchange: Exchange
    grammar: StreamGrammar | None = None  # None: no 200 stream to judge
    declined: bool = False  # an optional capability refused the documented way
    block_types: set[str] = field(default_factory=set)

    @property
    def streamed(self) -> bool:
        return self.grammar is not None


def _run(ctx: Context, name: str, body: dict, **kw: Any) -> StreamRun:
    """A streamed request as a browser or curl user sends it (``Accept: text/event-stream``), so
    that each stream check judges its own rule; whether ``Accept: application/json`` (the SDK's)
    still streams is ``sse-despite-accept-json``'s alone."""
    kw.setdefault("headers", {"Accept": SSE})
    return judge_stream(name, ctx.messages(body, stream=True, **kw))


def judge_stream(name: str, ex: Exchange) -> StreamRun:
    """Feed a recorded answer through the grammar (only a 200 is a stream to judge)."""
    run = StreamRun(name, ex)
    if ex.status != 200:
        run.declined = declined(ex)
        return run
    g = StreamGrammar()
    for ev in ex.events:
        g.feed(ev)
        if ev.event == "content_block_start":
            btype = _block_type(ev.data)
            if btype:
                run.block_types.add(btype)
    g.finish(complete=ex.complete and not ex.transport_error)
    run.grammar = g
    return run


def _block_type(data: str) -> str | None:
    import json

    try:
        p = json.loads(data)
        t = p["content_block"]["type"]
    except (ValueError, TypeError, KeyError):
        return None
    return t if isinstance(t, str) else None


@probe("stream-basic")
def _basic(ctx: Context) -> StreamRun:
    return _run(ctx, "basic text stream", basic_body(ctx, stream=True))


@probe("stream-twin")
def _twin(ctx: Context) -> Exchange:
    """The basic stream's request without ``stream``: the JSON answer to compare with."""
    return ctx.messages(basic_body(ctx))


@probe("stream-accept-json")
def _accept_json(ctx: Context) -> StreamRun:
    return _run(
        ctx,
        "stream with Accept: application/json",
        basic_body(ctx, stream=True),
        headers={"Accept": "application/json"},
    )


@probe("stream-tool")
def _tool(ctx: Context) -> StreamRun:
    body = basic_body(
        ctx,
        stream=True,
        max_tokens=256,
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": WEATHER_TOOL["name"]},
    )
    return _run(ctx, "tool_use stream", body)


@probe("stream-thinking")
def _thinking(ctx: Context) -> StreamRun:
    body = basic_body(ctx, stream=True, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024})
    return _run(ctx, "thinking stream", body)


@probe("stream-mid-error")
def _mid_error(ctx: Context) -> StreamRun:
    body = basic_body(ctx, stream=True)
    body["model"] = trigger_model(ctx, "mid-stream-error")
    return _run(ctx, f"stream with model {body['model']!r}", body)


def _content_runs(ctx: Context) -> list[StreamRun]:
    """The probes whose streams carry an answer (plain text, tool use, thinking)."""
    names = ["stream-basic", "stream-tool"]
    if ctx.config.profile == "anthropic":
        names.append("stream-thinking")
    return [ctx.probe(n) for n in names]


def _grammar_runs(ctx: Context) -> list[StreamRun]:
    """Every stream the grammar judges: the content streams and the failure-injection one."""
    return _content_runs(ctx) + [ctx.probe("stream-mid-error")]


def _where(run: StreamRun, position: int) -> str:
    return f"{run.name}, " + ("at the end of the stream" if position < 0 else f"event #{position}")


# -- grammar: one check per rule ------------------------------------------------------------

_GROUPS: list[tuple[tuple[str, ...], str]] = [
    (("event-named", "no-done-sentinel"), "contract §3.1, §9.17, §9.22"),
    (("data-is-json-object", "type-matches-event", "payload-structure"), "contract §3.1-3.2, §9.17"),
    (("message-start-first", "message-start-once"), "contract §3.3, §9.18"),
    (("message-start-content-empty", "message-start-stop-reason-null", "message-start-usage"), "contract §3.2, §9.19"),
    (
        (
            "block-index-contiguous",
            "block-start-once",
            "block-start-while-open",
            "block-stop-once",
            "block-stop-open-index",
            "blocks-before-message-delta",
            "delta-open-index",
            "delta-type-matches-block",
            "signature-delta-last",
            "thinking-signature",
            "blocks-closed",
        ),
        "contract §3.3, §9.18",
    ),
    (("tool-input-json",), "contract §3.3, §9.21"),
    (
        ("message-delta-present", "message-stop-once", "nothing-after-message-stop", "stream-truncated"),
        "contract §3.3, §9.18",
    ),
    (("message-delta-stop-reason", "message-delta-usage", "output-tokens-cumulative"), "contract §3.2, §3.4, §9.20"),
    (("stop-reason-in-enum", "stop-sequence-iff"), "contract §2.2, §9.13"),
    (("error-envelope", "error-ends-stream"), "contract §3.3, §4.3, §9.23"),
]
_REF = {rule: ref for rules, ref in _GROUPS for rule in rules}

# Rules that only apply when the stream held a particular kind of content; when no probe's
# stream held it, the rule was not exercised and the check cannot decide.
_NEEDS: dict[str, tuple[str, str]] = {
    "thinking-signature": ("thinking", "no stream contained a thinking block"),
    "signature-delta-last": ("thinking", "no stream contained a thinking block"),
    "tool-input-json": ("tool_use", "no stream contained a tool_use block"),
    "error-envelope": ("error", "no stream contained an error event"),
    "error-ends-stream": ("error", "no stream contained an error event"),
}


def _exercised(run: StreamRun, need: str) -> bool:
    if need == "error":
        return any(ev.event == "error" for ev in run.exchange.events)
    return need in run.block_types or (need == "tool_use" and "server_tool_use" in run.block_types)


def _undecided(runs: list[StreamRun], message: str) -> Outcome:
    """Inconclusive, unless a stream could not be read at all (not an event stream, events
    unnamed or misnamed): then blocked by the check that reports that."""
    roots: dict[str, None] = {}
    for r in runs:
        roots.update(dict.fromkeys(unreadable(r.exchange, r.grammar)))
    if roots:
        raise Blocked(roots, message)
    return Outcome.inconclusive(message)


def _tier(rule: str) -> int:
    return next((i for i, rules in enumerate(GRAMMAR_TIERS) if rule in rules), len(GRAMMAR_TIERS))


def _judge_rule(ctx: Context, rule: str) -> Outcome:
    runs = _grammar_runs(ctx)
    streamed = [r for r in runs if r.streamed]
    if not streamed:
        basic = runs[0].exchange
        return Outcome.inconclusive(f"no stream probe got HTTP 200 (the basic stream got {describe(basic)})")
    broken: list[tuple[StreamRun, Violation]] = []
    # A stream that breaks a rule of a lower tier (or is no event stream) cannot be judged by
    # this rule: its breaks of this rule only echo that one (contract §3.1: unnamed events are
    # not dispatched at all).
    below: dict[str, None] = {}
    for r in streamed:
        assert r.grammar is not None
        hits = [(r, v) for v in r.grammar.violated(rule)]
        if hits and r.exchange.content_type != SSE:
            below.update(dict.fromkeys(STREAM_FRAMING))
            continue
        tier, lower = lowest_tier(r.grammar)
        if hits and tier < _tier(rule):
            below.update(dict.fromkeys(f"stream.grammar.{x}" for x in lower))
            continue
        broken += hits
    if not broken and below:
        raise Blocked(below, f"the streams could not be judged by rule {rule}: they break {', '.join(below)} first")
    if broken:
        r, v = broken[0]
        more = f" (and {len(broken) - 1} more violation(s))" if len(broken) > 1 else ""
        return Outcome.failed(f"{v.message} ({_where(r, v.position)}){more}")
    if rule in _NEEDS:
        need, why = _NEEDS[rule]
        if not any(_exercised(r, need) for r in streamed):
            return _undecided(streamed, f"{why}, so the rule was not exercised")
    return Outcome.passed(f"held in {len(streamed)} stream(s): " + ", ".join(r.name for r in streamed))


def _register_rule(rule: str, description: str) -> None:
    requirement = description[:1].upper() + description[1:] + "."

    def judge(ctx: Context) -> Outcome:
        return _judge_rule(ctx, rule)

    judge.__name__ = "grammar_" + rule.replace("-", "_")
    judge.__doc__ = f"MUST, in every streamed answer: {description} (stream grammar rule ``{rule}``)."
    check(f"stream.grammar.{rule}", MUST, _REF.get(rule, "contract §3.3"), requirement, profiles=PROFILES)(judge)


for _rule, _description in RULES.items():
    _register_rule(_rule, _description)


# -- framing --------------------------------------------------------------------------------


@check(
    "stream.framing.content-type",
    MUST,
    "contract §3.1, §9.16",
    'A `"stream": true` request gets HTTP 200 with `content-type: text/event-stream`.',
    profiles=PROFILES,
)
def content_type(ctx: Context) -> Outcome:
    """MUST answer a streamed request with 200 and ``content-type: text/event-stream``."""
    ex = ctx.probe("stream-basic").exchange
    bad = expect_ok(ex)
    if bad:
        return bad
    if ex.content_type != SSE:
        return Outcome.mismatch(f"content-type {SSE}", f"content-type {ex.header('content-type')!r}")
    return Outcome.passed(f"HTTP 200 {SSE}")


@check(
    "stream.framing.sse-despite-accept-json",
    MUST,
    "contract §3.1, §9.16",
    "The body's `stream` decides SSE vs JSON, not `Accept: application/json` (the SDK sends it on streams).",
    profiles=PROFILES,
)
def sse_despite_accept(ctx: Context) -> Outcome:
    """MUST stream when ``"stream": true``, even with ``Accept: application/json`` (SDK sends it)."""
    run = ctx.probe("stream-accept-json")
    ex = run.exchange
    bad = expect_ok(ex)
    if bad:
        return bad
    if ex.content_type != SSE:
        body = ex.json()
        what = f"type {body.get('type')!r} JSON body" if isinstance(body, dict) else "no event stream"
        message = f"expected content-type {SSE}, got content-type {ex.header('content-type')!r} ({what})"
        if ctx.probe("stream-basic").exchange.content_type != SSE:  # no stream even when asked for one
            raise Blocked(("stream.framing.content-type",), message)
        return Outcome.failed(message)
    names = [ev.event for ev in ex.events]
    require_stream(ex, f"expected an event stream starting with message_start, got events {names[:5]!r}", run.grammar)
    if "message_start" not in names:
        return Outcome.mismatch("an event stream starting with message_start", f"events {names[:5]!r}")
    return Outcome.passed(f"HTTP 200 {SSE} with {len(names)} events")


# -- payloads and the rebuilt message -------------------------------------------------------


@check(
    "stream.events.schema",
    MUST,
    "contract §3.2",
    "Every documented event's data validates against schemas/stream-event.json (unknown event names are ignored).",
    profiles=PROFILES,
)
def events_schema(ctx: Context) -> Outcome:
    """MUST send valid payloads: the data of every event named with a documented type (and of
    unnamed events) is valid against stream-event.json; unknown event names are skipped, as
    clients must ignore them (contract §3.3)."""
    import json

    streamed = [r for r in _grammar_runs(ctx) if r.streamed]
    if not streamed:
        return Outcome.inconclusive("no stream probe got HTTP 200")
    count = skipped = 0
    for r in streamed:
        for ev in r.exchange.events:
            if ev.event is not None and ev.event not in KNOWN_EVENTS:
                skipped += 1  # new event types may appear; clients ignore them (§3.3)
                continue
            try:
                data = json.loads(ev.data)
            except ValueError:
                data = None
                # the grammar's broken rules on this stream say the same (folded under them)
                causes = [v for v in (stream_symptoms(r.exchange, r.grammar),) if v]
                if ev.data.strip() == "[DONE]":
                    got = f"`data: [DONE]` ({_where(r, ev.position)})"
                    return Outcome.mismatch("a JSON event payload", got, causes=causes)
                got = f"data {ev.data[:60]!r} ({_where(r, ev.position)})"
                return Outcome.mismatch("a JSON event payload", got, causes=causes)
            errors = ctx.schemas.validate(
                "stream-event", data, profile=ctx.config.profile, version=ctx.config.anthropic_version
            )
            if errors:
                kind = data.get("type") if isinstance(data, dict) else None
                return Outcome.failed(
                    f"{kind or ev.event or 'unnamed'} event invalid: {errors[0].message} ({_where(r, ev.position)})"
                ).caused_by(v for v in (stream_symptoms(r.exchange, r.grammar),) if v)
            count += 1
    extra = f" ({skipped} event(s) of unknown types ignored)" if skipped else ""
    return Outcome.passed(f"{count} events valid in {len(streamed)} stream(s){extra}")


@check(
    "stream.rebuild.message-schema",
    MUST,
    "contract §3.2-3.4, §2.1",
    "The message rebuilt from a stream (as the SDK accumulates it) is a valid Message.",
    profiles=PROFILES,
)
def rebuild_schema(ctx: Context) -> Outcome:
    """MUST stream enough to rebuild a complete Message valid against schemas/message.json."""
    runs = [r for r in _content_runs(ctx) if r.streamed]
    if not runs:
        return Outcome.inconclusive("no stream probe got HTTP 200")
    for r in runs:
        assert r.grammar is not None
        msg = r.grammar.message
        if msg is None:
            message = f"expected a stream that rebuilds to a Message, got no message_start in the {r.name}"
            raise Blocked([x for symptom in stream_symptoms(r.exchange, r.grammar) for x in symptom], message)
        errors = ctx.schemas.validate("message", msg, profile=ctx.config.profile, version=ctx.config.anthropic_version)
        if errors:
            return Outcome.failed(f"the Message rebuilt from the {r.name} is invalid: {errors[0].message}").caused_by(
                v for v in (message_symptoms(msg, errors, streamed=True),) if v
            )
    return Outcome.passed(f"{len(runs)} rebuilt Message(s) valid")


def _text(msg: dict) -> str:
    return "".join(
        b.get("text") or "" for b in msg.get("content") or [] if isinstance(b, dict) and b.get("type") == "text"
    )


def _types(msg: dict) -> list[Any]:
    return [b.get("type") if isinstance(b, dict) else type(b).__name__ for b in msg.get("content") or []]


def _total_input(usage: Any) -> int | None:
    if not isinstance(usage, dict) or not isinstance(usage.get("input_tokens"), int):
        return None
    return sum(
        v
        for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        if isinstance(v := usage.get(k), int)
    )


@check(
    "stream.rebuild.agrees-with-json",
    MUST,
    "contract §3.2-3.4",
    "A stream and its non-streamed twin agree: block types and order, stop_reason, usage.",
    profiles=PROFILES,
)
def agrees_with_json(ctx: Context) -> Outcome:
    """MUST describe the same answer streamed as unstreamed: the same request gives the same input
    token count, and where the text is the same, the same block types, stop_reason and output tokens."""
    run = ctx.probe("stream-basic")
    twin = ctx.probe("stream-twin")
    if not run.streamed or run.grammar is None or run.grammar.message is None:
        return _undecided([run], f"the basic stream did not rebuild to a message ({describe(run.exchange)})")
    if twin.status != 200 or not isinstance(twin.json(), dict):
        return Outcome.inconclusive(f"the non-streamed twin did not answer a Message ({describe(twin)})")
    s, j = run.grammar.message, twin.json()
    s_in, j_in = _total_input(s.get("usage")), _total_input(j.get("usage"))
    if s_in is not None and j_in is not None and s_in != j_in:
        return Outcome.mismatch(
            f"the same input token count for the same request (JSON: {j_in})", f"{s_in} in the stream"
        )
    same_text = _text(s) == _text(j)
    diffs = []
    if _types(s) != _types(j):
        diffs.append(f"block types {_types(s)} streamed vs {_types(j)} in JSON")
    if s.get("stop_reason") != j.get("stop_reason"):
        diffs.append(f"stop_reason {s.get('stop_reason')!r} streamed vs {j.get('stop_reason')!r} in JSON")
    s_out = (s.get("usage") or {}).get("output_tokens") if isinstance(s.get("usage"), dict) else None
    j_out = (j.get("usage") or {}).get("output_tokens") if isinstance(j.get("usage"), dict) else None
    if same_text and s_out != j_out:
        diffs.append(f"usage.output_tokens {s_out!r} streamed vs {j_out!r} in JSON for the same text")
    if diffs:
        if same_text:
            return Outcome.failed("the same text, but " + "; ".join(diffs))
        return Outcome.inconclusive(
            "the two answers differ in text (a nondeterministic model), and " + "; ".join(diffs)
        )
    how = "identical text" if same_text else "different text, same structure"
    return Outcome.passed(f"{how}: blocks {_types(s)}, stop_reason {s.get('stop_reason')!r}, input tokens {s_in}")


# -- deltas and ids -------------------------------------------------------------------------


def _delta_pieces(events: list) -> dict[tuple[int, str], list[str]]:
    """text/thinking delta strings per (block index, delta type), in order."""
    import json

    pieces: dict[tuple[int, str], list[str]] = {}
    for ev in events:
        if ev.event != "content_block_delta":
            continue
        try:
            p = json.loads(ev.data)
            idx, d = p["index"], p["delta"]
            kind = d["type"]
        except (ValueError, TypeError, KeyError):
            continue
        key = {"text_delta": "text", "thinking_delta": "thinking"}.get(kind)
        if key and isinstance(d.get(key), str) and isinstance(idx, int):
            pieces.setdefault((idx, kind), []).append(d[key])
    return pieces


@check(
    "stream.deltas.increments",
    MUST,
    "contract §3.3, §9.21",
    "text_delta and thinking_delta carry increments, not the text so far (snapshots).",
    profiles=PROFILES,
)
def delta_increments(ctx: Context) -> Outcome:
    """MUST send increments: the concatenated deltas are the block's text. A stream whose every
    delta repeats the text accumulated so far (a snapshot) is rebuilt by the SDK with the text
    repeated."""
    streamed = [r for r in _content_runs(ctx) if r.streamed]
    if not streamed:
        return Outcome.inconclusive("no stream probe got HTTP 200")
    judged = 0
    for r in streamed:
        for (idx, kind), parts in _delta_pieces(r.exchange.events).items():
            # Snapshot evidence: each delta after the first extends the one before it
            # ("Hi", "Hi there", "Hi there!"): a run of increments practically never does.
            pairs = [(a, b) for a, b in itertools.pairwise(parts) if a.strip()]
            if len(pairs) < 2:
                continue
            judged += 1
            if all(len(b) > len(a) and b.startswith(a) for a, b in pairs):
                return Outcome.mismatch(
                    f"{kind} increments for block {idx}",
                    f"{len(parts)} deltas each extending the previous one (snapshots), e.g. {pairs[-1][1][:60]!r} ({r.name})",
                )
    if not judged:
        return _undecided(streamed, "no block was streamed in enough deltas to tell increments from snapshots")
    return Outcome.passed(f"{judged} block(s) streamed as increments")


@check(
    "stream.ids.prefixes",
    SHOULD,
    "contract §2.1, §2.4, §9.12",
    "message_start.message.id starts with `msg_`, and streamed tool_use ids with `toolu_`.",
    profiles=PROFILES,
)
def id_prefixes(ctx: Context) -> Outcome:
    """SHOULD use the Anthropic id conventions in streams too: ``msg_`` message ids and
    ``toolu_`` tool-use ids."""
    import json

    streamed = [r for r in _content_runs(ctx) if r.streamed]
    if not streamed:
        return Outcome.inconclusive("no stream probe got HTTP 200")
    seen = []
    for r in streamed:
        msg = r.grammar.message if r.grammar else None
        if isinstance(msg, dict) and "id" in msg:
            mid = msg.get("id")
            if not (isinstance(mid, str) and mid.startswith("msg_")):
                return Outcome.mismatch("a message id starting with msg_", f"{mid!r} ({r.name})")
            seen.append(mid)
        for ev in r.exchange.events:
            if ev.event != "content_block_start":
                continue
            try:
                cb = json.loads(ev.data)["content_block"]
            except (ValueError, TypeError, KeyError):
                continue
            if isinstance(cb, dict) and cb.get("type") == "tool_use":
                tid = cb.get("id")
                if not (isinstance(tid, str) and tid.startswith("toolu_")):
                    return Outcome.mismatch("a tool_use id starting with toolu_", f"{tid!r} ({_where(r, ev.position)})")
                seen.append(tid)
    if not seen:
        return _undecided(streamed, "no stream carried a message id")
    return Outcome.passed(f"ids {', '.join(seen[:4])}")


# -- delivery -------------------------------------------------------------------------------


@check(
    "stream.delivery.incremental",
    MUST,
    "contract §3.1, §3.3",
    "Events are sent as they are produced, not buffered and written all at once.",
    profiles=PROFILES,
)
def incremental(ctx: Context) -> Outcome:
    """MUST deliver a stream incrementally: the events from the first content delta to the end
    do not all arrive in one read (a buffering server or proxy writes them in one go)."""
    run = ctx.probe("stream-basic")
    if not run.streamed:
        return Outcome.inconclusive(f"the basic stream got {describe(run.exchange)}")
    events = run.exchange.events
    deltas = [ev for ev in events if ev.event == "content_block_delta"]
    if len(deltas) < 2:
        return _undecided([run], f"the answer had {len(deltas)} content delta(s): too few to see incremental delivery")
    window = events[events.index(deltas[0]) :]
    spread = window[-1].arrived - window[0].arrived
    reads = len({ev.arrived for ev in window})
    silence = events[0].arrived
    got = (
        f"{len(window)} events from the first content delta to the end in {reads} read(s) within "
        f"{spread * 1000:.2f} ms, after {silence * 1000:.0f} ms before the first event"
    )
    expected = "events delivered as produced, in several reads"
    if reads < 2:
        return Outcome.mismatch(expected, got)
    return Outcome.passed(got)


# -- mid-stream failures --------------------------------------------------------------------


@check(
    "stream.errors.mid-stream-event",
    MUST,
    "contract §4.3, §9.23",
    "A failure after the 200 is reported as `event: error` with the error envelope, and the stream ends.",
    profiles=PROFILES,
)
def mid_stream_event(ctx: Context) -> Outcome:
    """MUST report a post-200 failure as ``event: error`` carrying ``{"type":"error","error":{...}}``
    and send nothing after it (an unnamed error or a silent stop is invisible to the SDK)."""
    run = ctx.probe("stream-mid-error")
    ex = run.exchange
    if ex.status != 200:
        if ex.status == 404 or declined(ex):
            return Outcome.inconclusive(
                f"the target offers no way to cause a mid-stream failure (model {trigger_model(ctx, 'mid-stream-error')!r}: "
                f"{describe(ex)}; declare one with --trigger mid-stream-error=MODEL)"
            )
        return Outcome.inconclusive(f"the failure came before the stream started ({describe(ex)}), which is allowed")
    import json

    if ex.content_type != SSE:
        raise Blocked(STREAM_FRAMING, f"expected an event stream, got {describe(ex)}")
    events = ex.events
    for i, ev in enumerate(events):
        if ev.event == "error":
            try:
                data = json.loads(ev.data)
            except ValueError:
                data = None
            err = data.get("error") if isinstance(data, dict) else None
            if not (
                isinstance(data, dict)
                and data.get("type") == "error"
                and isinstance(err, dict)
                and isinstance(err.get("type"), str)
                and isinstance(err.get("message"), str)
            ):
                return Outcome.mismatch(
                    'error data {"type":"error","error":{"type":str,"message":str}}',
                    f"{ev.data[:80]!r} (event #{ev.position})",
                )
            if i + 1 < len(events):
                return Outcome.mismatch(
                    "the end of the stream after the error event",
                    f"{events[i + 1].event or 'an unnamed event'!r} (event #{events[i + 1].position})",
                )
            return Outcome.passed(f"event: error with error.type {err['type']!r} ended the stream")
        if ev.event is None:
            try:
                data = json.loads(ev.data)
            except ValueError:
                data = None
            if isinstance(data, dict) and ("error" in data or data.get("type") == "error"):
                message = (
                    "expected the failure as a named `event: error`, got an unnamed data event "
                    f"{ev.data[:80]!r} (event #{ev.position}), which the SDK ignores"
                )
                if any(e.event is None for e in events[:i]):  # no event of the stream is named
                    raise Blocked(("stream.grammar.event-named",), message)
                return Outcome.failed(message)
    names = [ev.event for ev in events]
    if "message_stop" in names:
        return Outcome.inconclusive(
            f"the model {MID_STREAM_ERROR_MODEL!r} streamed a complete answer: no failure occurred"
        )
    end = "a broken transport" if ex.transport_error else "the end of the stream"
    return Outcome.mismatch(
        "an `event: error` before the stream ends unfinished",
        f"{end} after {len(events)} event(s) with neither message_stop nor an error event",
    )
