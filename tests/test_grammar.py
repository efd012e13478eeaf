"""Tests for conformance._grammar: the Messages stream grammar state machine."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import conformance._grammar as grammar_module
from conformance._grammar import RULES, STOP_REASONS, StreamGrammar
from conformance._sse import SSEEvent, SSEParser

Item = tuple[str | None, Any]  # (event name or None, payload; a str payload is sent verbatim)


# --------------------------------------------------------------------------- builders


def ms(*, input_tokens: Any = 3, output_tokens: Any = 1, **over: Any) -> Item:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    message.update(over)
    return ("message_start", {"type": "message_start", "message": message})


def cbs(i: Any, block: dict | None = None) -> Item:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": i, "content_block": block or {"type": "text", "text": ""}},
    )


def tool(i: int, name: str = "get_weather") -> Item:
    return cbs(i, {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {}})


def thinking(i: int) -> Item:
    return cbs(i, {"type": "thinking", "thinking": "", "signature": ""})


def delta(i: Any, d: dict) -> Item:
    return ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})


def text(i: Any, t: str) -> Item:
    return delta(i, {"type": "text_delta", "text": t})


def pj(i: int, s: str) -> Item:
    return delta(i, {"type": "input_json_delta", "partial_json": s})


def think(i: int, s: str) -> Item:
    return delta(i, {"type": "thinking_delta", "thinking": s})


def sig(i: int, s: str = "c2ln") -> Item:
    return delta(i, {"type": "signature_delta", "signature": s})


def cbe(i: Any) -> Item:
    return ("content_block_stop", {"type": "content_block_stop", "index": i})


def md(reason: Any = "end_turn", out: Any = 5, seq: Any = None, usage: Any = "default") -> Item:
    u = {"output_tokens": out} if usage == "default" else usage
    payload: dict = {"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": seq}}
    if u is not None:
        payload["usage"] = u
    return ("message_delta", payload)


STOP: Item = ("message_stop", {"type": "message_stop"})
PING: Item = ("ping", {"type": "ping"})


def err(kind: str = "overloaded_error", message: str = "Overloaded") -> Item:
    return ("error", {"type": "error", "error": {"type": kind, "message": message}})


def events(items: list[Item]) -> list[SSEEvent]:
    out = []
    for n, (name, payload) in enumerate(items):
        data = payload if isinstance(payload, str) else json.dumps(payload)
        out.append(SSEEvent(name, data, None, None, (), b"", float(n), n))
    return out


def run(items: list[Item], *, complete: bool = True) -> StreamGrammar:
    g = StreamGrammar()
    for e in events(items):
        g.feed(e)
    g.finish(complete=complete)
    return g


def render(items: list[Item], nl: str = "\n") -> bytes:
    parts = []
    for name, payload in items:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        head = f"event: {name}{nl}" if name is not None else ""
        parts.append(f"{head}data: {data}{nl}{nl}")
    return "".join(parts).encode()


def run_bytes(data: bytes, chunk: int = 7) -> tuple[StreamGrammar, SSEParser]:
    p, g = SSEParser(), StreamGrammar()
    for i in range(0, len(data), chunk):
        for e in p.feed(data[i : i + chunk], float(i)):
            g.feed(e)
    p.close(float(len(data)))
    g.finish()
    return g, p


def rules(g: StreamGrammar) -> set[str]:
    return {v.rule for v in g.violations}


TEXT_STREAM: list[Item] = [ms(), cbs(0), text(0, "Hel"), text(0, "lo"), cbe(0), md(out=5), STOP]

TOOL_STREAM: list[Item] = [
    ms(),
    cbs(0),
    text(0, "Let me check."),
    cbe(0),
    tool(1),
    pj(1, ""),
    pj(1, '{"city": '),
    pj(1, '"Par'),
    pj(1, 'is", "days": [1, 2]}'),
    cbe(1),
    md("tool_use", 20),
    STOP,
]

THINKING_STREAM: list[Item] = [
    ms(),
    thinking(0),
    think(0, "Let me "),
    think(0, "think."),
    sig(0, "EqQBCgIYAh"),
    cbe(0),
    cbs(1),
    text(1, "42"),
    cbe(1),
    md(out=30),
    STOP,
]


# --------------------------------------------------------------------------- conforming streams


def test_text_stream() -> None:
    g = run(TEXT_STREAM)
    assert g.violations == []
    assert g.message == {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 5},
    }
    assert g.error is None
    assert g.event_names == [n for n, _ in TEXT_STREAM]
    assert {"message-start-first", "delta-open-index", "stream-truncated"} <= g.rules_checked
    # not applicable to a text-only stream
    assert not {"thinking-signature", "tool-input-json", "error-envelope"} & g.rules_checked


def test_tool_use_stream() -> None:
    g = run(TOOL_STREAM)
    assert g.violations == []
    assert g.message is not None
    assert g.message["content"] == [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris", "days": [1, 2]}},
    ]
    assert g.message["stop_reason"] == "tool_use"
    assert "tool-input-json" in g.rules_checked


def test_tool_use_without_fragments_keeps_shell_input() -> None:
    g = run([ms(), tool(0), pj(0, ""), cbe(0), md("tool_use"), STOP])
    assert g.violations == []
    assert g.message is not None and g.message["content"][0]["input"] == {}


def test_thinking_stream() -> None:
    g = run(THINKING_STREAM)
    assert g.violations == []
    assert g.message is not None
    assert g.message["content"] == [
        {"type": "thinking", "thinking": "Let me think.", "signature": "EqQBCgIYAh"},
        {"type": "text", "text": "42"},
    ]
    assert "thinking-signature" in g.rules_checked


def test_ping_everywhere() -> None:
    items: list[Item] = [PING, PING]
    for it in TOOL_STREAM:
        items += [it, PING]
    items.pop()  # nothing after message_stop
    g = run(items)
    assert g.violations == []
    assert g.message == run(TOOL_STREAM).message


def test_error_mid_stream() -> None:
    g = run([ms(), cbs(0), text(0, "Hi"), PING, err()])
    assert g.violations == []
    assert g.error == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert g.message is not None and g.message["content"] == [{"type": "text", "text": "Hi"}]
    assert g.message["stop_reason"] is None
    assert "stream-truncated" not in g.rules_checked


def test_error_before_message_start() -> None:
    g = run([PING, ("error", {"type": "error", "error": {"type": "api_error", "message": "x"}, "request_id": "req_1"})])
    assert g.violations == []
    assert g.message is None
    assert g.error is not None and g.error["request_id"] == "req_1"


def test_stop_sequence_and_usage_accumulation() -> None:
    start = ms(
        input_tokens=10, output_tokens=1, usage={"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 0}
    )
    last = md(
        "stop_sequence",
        seq="END",
        usage={"output_tokens": 9, "input_tokens": None, "cache_read_input_tokens": 4, "server_tool_use": None},
    )
    g = run([start, cbs(0), text(0, "a"), cbe(0), md(out=4, reason="end_turn"), last, STOP])
    assert g.violations == []
    assert g.message is not None
    assert g.message["stop_reason"] == "stop_sequence"
    assert g.message["stop_sequence"] == "END"
    assert g.message["usage"] == {"input_tokens": 10, "output_tokens": 9, "cache_read_input_tokens": 4}


def test_citations_and_redacted_thinking() -> None:
    citation = {
        "type": "char_location",
        "cited_text": "x",
        "document_index": 0,
        "document_title": None,
        "start_char_index": 0,
        "end_char_index": 1,
    }
    items = [
        ms(),
        cbs(0, {"type": "redacted_thinking", "data": "b3BhcXVl"}),
        cbe(0),
        cbs(1),
        text(1, "x"),
        delta(1, {"type": "citations_delta", "citation": citation}),
        cbe(1),
        md(),
        STOP,
    ]
    g = run(items)
    assert g.violations == []
    assert g.message is not None
    assert g.message["content"] == [
        {"type": "redacted_thinking", "data": "b3BhcXVl"},
        {"type": "text", "text": "x", "citations": [citation]},
    ]


def test_unknown_event_and_delta_types_are_recorded_not_violations() -> None:
    items = [
        ("future_event", {"type": "future_event"}),
        ms(),
        cbs(0),
        delta(0, {"type": "future_delta", "x": 1}),
        text(0, "a"),
        cbe(0),
        ("future_event", {"type": "future_event", "n": 2}),
        md(),
        STOP,
    ]
    g = run(items)
    assert g.violations == []
    assert g.unknown_events == [(0, "future_event"), (6, "future_event")]
    assert g.unknown_deltas == [(3, "future_delta")]
    assert g.message is not None and g.message["content"] == [{"type": "text", "text": "a"}]


def test_extra_fields_tolerated() -> None:
    items = [(n, {**p, "extra": {"x": 1}}) for n, p in THINKING_STREAM]
    g = run(items)
    assert g.violations == []


@pytest.mark.parametrize("nl", ["\n", "\r\n", "\r"])
def test_through_the_sse_parser(nl: str) -> None:
    g, p = run_bytes(render([PING, *THINKING_STREAM], nl), chunk=5)
    assert p.anomalies == []
    assert g.violations == []
    assert g.message == run(THINKING_STREAM).message


def test_openai_style_stream_is_caught() -> None:
    chunk = {"id": "c", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "hi"}}]}
    g, _ = run_bytes(render([(None, chunk), (None, chunk), (None, "[DONE]")]))
    assert {"event-named", "no-done-sentinel", "message-start-once", "stream-truncated"} == rules(g)
    assert g.message is None


def test_no_message_start_at_all() -> None:
    g = run([PING])
    assert rules(g) == {"message-start-once", "stream-truncated"}


def test_truncated_by_transport_says_so() -> None:
    g = run([ms(), cbs(0), text(0, "a")], complete=False)
    [v] = g.violations
    assert v.rule == "stream-truncated" and v.position == -1
    assert "transport" in v.message and "content_block_stop for index 0" in v.message and "message_delta" in v.message


def test_violated_and_unknown_rule() -> None:
    g = run(TEXT_STREAM[:-1])
    assert [v.position for v in g.violated("stream-truncated")] == [-1]
    assert g.violated("message-stop-once") == []
    with pytest.raises(KeyError):
        g.violated("no-such-rule")


def test_feed_after_finish_raises() -> None:
    g = run(TEXT_STREAM)
    with pytest.raises(RuntimeError):
        g.feed(events([PING])[0])


def test_every_rule_is_documented() -> None:
    doc = grammar_module.__doc__ or ""
    documented = set(re.findall(r"^\s+``([a-z0-9-]+)``\s", doc, re.MULTILINE))
    assert documented == set(RULES)
    for rule_id in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule_id)


# --------------------------------------------------------------------------- one stream per rule


def _replace(base: list[Item], i: int, *new: Item) -> list[Item]:
    return [*base[:i], *new, *base[i + 1 :]]


def _insert(base: list[Item], i: int, *new: Item) -> list[Item]:
    return [*base[:i], *new, *base[i:]]


T = TEXT_STREAM  # ms, cbs0, text, text, cbe0, md, stop

VIOLATIONS: list[tuple[str, list[Item], int]] = [
    # (rule, stream, position of the violation)
    ("event-named", _insert(T, 1, (None, {"type": "ping"})), 1),
    ("no-done-sentinel", _insert(T, 6, (None, "[DONE]")), 6),
    ("no-done-sentinel", _insert(T, 6, ("done", "[DONE]")), 6),
    ("data-is-json-object", _insert(T, 1, ("ping", "not json")), 1),
    ("data-is-json-object", _insert(T, 1, ("ping", "[1, 2]")), 1),
    ("type-matches-event", _insert(T, 1, ("ping", {"type": "pong"})), 1),
    ("type-matches-event", _insert(T, 1, ("ping", {})), 1),
    ("payload-structure", _insert(T, 2, text("0", "x")), 2),
    ("payload-structure", _insert(T, 2, text(0, None)), 2),  # type: ignore[arg-type]
    ("payload-structure", _insert(T, 2, delta(0, {"text": "no type"})), 2),
    ("payload-structure", _replace(T, 0, ("message_start", {"type": "message_start", "message": None})), 0),
    ("message-start-first", [cbs(0), cbe(0), ms(), md(), STOP], 0),
    ("message-start-first", [PING, md(), ms(), STOP], 1),
    ("message-start-once", _insert(T, 1, ms()), 1),
    ("message-start-content-empty", _replace(T, 0, ms(content=[{"type": "text", "text": "x"}])), 0),
    ("message-start-content-empty", _replace(T, 0, ms(content=None)), 0),
    ("message-start-stop-reason-null", _replace(T, 0, ms(stop_reason="end_turn")), 0),
    ("message-start-stop-reason-null", _replace(T, 0, ms(stop_sequence="x")), 0),
    ("message-start-usage", _replace(T, 0, ms(usage={"output_tokens": 1})), 0),
    ("message-start-usage", _replace(T, 0, ms(input_tokens="3")), 0),
    ("message-start-usage", _replace(T, 0, ms(usage=None)), 0),
    ("block-index-contiguous", [ms(), cbs(1), text(1, "x"), cbe(1), md(), STOP], 1),
    ("block-index-contiguous", [ms(), cbs(0), cbe(0), cbs(2), cbe(2), cbs(1), cbe(1), md(), STOP], 3),
    ("block-start-once", [ms(), cbs(0), cbe(0), cbs(0), md(), STOP], 3),
    ("block-start-while-open", [ms(), cbs(0), cbs(1), text(1, "x"), cbe(1), cbe(0), md(), STOP], 2),
    ("block-stop-once", _insert(T, 5, cbe(0)), 5),
    ("block-stop-open-index", _insert(T, 5, cbe(5)), 5),
    ("blocks-before-message-delta", [ms(), md(), cbs(0), cbe(0), STOP], 2),
    ("delta-open-index", _insert(T, 5, text(0, "late")), 5),
    ("delta-open-index", [ms(), cbs(0), text(1, "x"), cbe(0), md(), STOP], 2),
    ("delta-type-matches-block", _insert(T, 2, pj(0, "{}")), 2),
    ("delta-type-matches-block", [ms(), tool(0), text(0, "x"), cbe(0), md("tool_use"), STOP], 2),
    ("delta-type-matches-block", [ms(), thinking(0), text(0, "x"), sig(0), cbe(0), md(), STOP], 2),
    ("delta-type-matches-block", [ms(), cbs(0), sig(0), cbe(0), md(), STOP], 2),
    ("signature-delta-last", [ms(), thinking(0), think(0, "a"), sig(0), think(0, "b"), cbe(0), md(), STOP], 4),
    ("signature-delta-last", [ms(), thinking(0), sig(0), sig(0), cbe(0), md(), STOP], 3),
    ("thinking-signature", [ms(), thinking(0), think(0, "a"), cbe(0), md(), STOP], 3),
    ("tool-input-json", [ms(), tool(0), pj(0, '{"a": '), cbe(0), md("tool_use"), STOP], 1),
    ("tool-input-json", [ms(), tool(0), pj(0, "[1]"), cbe(0), md("tool_use"), STOP], 1),
    ("blocks-closed", [ms(), cbs(0), text(0, "x"), md(), STOP], 3),
    ("blocks-closed", [ms(), cbs(0), cbe(0), cbs(1), text(1, "x"), PING, md(), STOP], 6),
    ("message-delta-present", [ms(), cbs(0), cbe(0), STOP], 3),
    ("message-delta-stop-reason", _replace(T, 5, md(None)), 5),
    ("stop-reason-in-enum", _replace(T, 5, md("stop")), 5),
    ("stop-sequence-iff", _replace(T, 5, md("stop_sequence", seq=None)), 5),
    ("stop-sequence-iff", _replace(T, 5, md("end_turn", seq="END")), 5),
    ("message-delta-usage", _replace(T, 5, md(usage={"input_tokens": 3})), 5),
    ("message-delta-usage", _replace(T, 5, md(usage=None)), 5),
    ("message-delta-usage", _replace(T, 5, md(out=5.0)), 5),
    ("output-tokens-cumulative", _replace(T, 0, ms(output_tokens=10)), 5),
    ("output-tokens-cumulative", _insert(T, 5, md(out=8)), 6),
    ("message-stop-once", [*T, STOP], 7),
    ("nothing-after-message-stop", [*T, PING], 7),
    ("error-envelope", [ms(), ("error", {"type": "error", "error": {"type": "overloaded_error"}})], 1),
    ("error-envelope", [ms(), ("error", {"error": {"type": "api_error", "message": "m"}})], 1),
    ("error-envelope", [ms(), ("error", {"type": "error", "error": "boom"})], 1),
    ("error-ends-stream", [ms(), err(), PING], 2),
    ("error-ends-stream", [ms(), err(), *T[1:]], 2),
    ("stream-truncated", T[:-1], -1),
    ("stream-truncated", [ms()], -1),
]


@pytest.mark.parametrize(
    ("rule_id", "items", "position"),
    VIOLATIONS,
    ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(VIOLATIONS)],
)
def test_each_rule_is_caught(rule_id: str, items: list[Item], position: int) -> None:
    g = run(items)
    assert rules(g) == {rule_id}, g.violations
    assert position in [v.position for v in g.violated(rule_id)]
    assert rule_id in g.rules_checked
    for v in g.violations:
        assert v.message and v.message.startswith("expected"), v


def test_done_after_message_stop_breaks_two_rules() -> None:
    g = run([*T, (None, "[DONE]")])
    assert rules(g) == {"no-done-sentinel", "nothing-after-message-stop"}
    assert g.message == run(T).message


def test_non_json_error_event() -> None:
    g = run([ms(), ("error", "Internal Server Error")])
    assert rules(g) == {"data-is-json-object", "error-envelope"}
    assert g.error == {"raw": "Internal Server Error"}


def test_table_covers_every_rule() -> None:
    assert {r for r, _, _ in VIOLATIONS} == set(RULES)


def test_conforming_streams_pass_the_rules_the_table_breaks() -> None:
    # the base streams of the table really are clean (so each table case isolates its rule)
    for base in (TEXT_STREAM, TOOL_STREAM, THINKING_STREAM):
        assert run(base).violations == []


# --------------------------------------------------------------------------- stateful emitter model

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
_tool_inputs = st.dictionaries(st.text(max_size=5), _json_values, max_size=3)


class ConformingEmitter(RuleBasedStateMachine):
    """A conforming server's emitter; the grammar must never complain."""

    def __init__(self) -> None:
        super().__init__()
        self.g = StreamGrammar()
        self.n = 0
        self.started = False
        self.open: dict | None = None
        self.expected: list[dict] = []
        self.message_deltas = 0
        self.output_tokens = 1
        self.stop_reason: str | None = None
        self.stopped = False

    def emit(self, name: str, payload: dict) -> None:
        self.g.feed(SSEEvent(name, json.dumps(payload), None, None, (), b"", float(self.n), self.n))
        self.n += 1

    @precondition(lambda self: not self.started)
    @rule(input_tokens=st.integers(0, 10**6))
    def start_message(self, input_tokens: int) -> None:
        self.started = True
        self.emit(*ms(input_tokens=input_tokens, output_tokens=self.output_tokens))

    @precondition(lambda self: self.started and self.open is None and self.message_deltas == 0)
    @rule(
        kind=st.sampled_from(["text", "tool_use", "server_tool_use", "thinking", "redacted_thinking"]),
        tool_input=_tool_inputs,
    )
    def start_block(self, kind: str, tool_input: dict) -> None:
        i = len(self.expected)
        if kind == "text":
            shell: dict = {"type": "text", "text": ""}
            final = dict(shell)
        elif kind in ("tool_use", "server_tool_use"):
            shell = {"type": kind, "id": f"toolu_{i}", "name": "t", "input": {}}
            final = {**shell, "input": tool_input}
        elif kind == "thinking":
            shell = {"type": "thinking", "thinking": "", "signature": ""}
            final = dict(shell)
        else:
            shell = {"type": "redacted_thinking", "data": "ZGF0YQ=="}
            final = dict(shell)
        self.open = {"index": i, "type": kind, "json": json.dumps(tool_input), "signed": False}
        self.expected.append(final)
        self.emit(*cbs(i, shell))

    @precondition(lambda self: self.open is not None and self.open["type"] == "text")
    @rule(t=st.text(max_size=5))
    def text_delta(self, t: str) -> None:
        assert self.open is not None
        self.expected[-1]["text"] += t
        self.emit(*text(self.open["index"], t))

    @precondition(lambda self: self.open is not None and self.open["type"] == "text")
    @rule(cited=st.text(max_size=5))
    def citations_delta(self, cited: str) -> None:
        assert self.open is not None
        c = {
            "type": "web_search_result_location",
            "cited_text": cited,
            "url": "u",
            "title": None,
            "encrypted_index": "e",
        }
        self.expected[-1].setdefault("citations", []).append(c)
        self.emit(*delta(self.open["index"], {"type": "citations_delta", "citation": c}))

    @precondition(
        lambda self: (
            self.open is not None and self.open["type"] in ("tool_use", "server_tool_use") and self.open["json"]
        )
    )
    @rule(n=st.integers(0, 8))
    def json_delta(self, n: int) -> None:
        assert self.open is not None
        frag, self.open["json"] = self.open["json"][:n], self.open["json"][n:]
        self.emit(*pj(self.open["index"], frag))

    @precondition(lambda self: self.open is not None and self.open["type"] == "thinking" and not self.open["signed"])
    @rule(t=st.text(max_size=5))
    def thinking_delta(self, t: str) -> None:
        assert self.open is not None
        self.expected[-1]["thinking"] += t
        self.emit(*think(self.open["index"], t))

    @precondition(lambda self: self.open is not None and self.open["type"] == "thinking" and not self.open["signed"])
    @rule(s=st.text(min_size=1, max_size=8))
    def signature_delta(self, s: str) -> None:
        assert self.open is not None
        self.open["signed"] = True
        self.expected[-1]["signature"] = s
        self.emit(*sig(self.open["index"], s))

    @precondition(lambda self: not self.stopped)
    @rule()
    def ping(self) -> None:
        self.emit(*PING)

    @precondition(
        lambda self: (
            self.open is not None
            and not (self.open["type"] in ("tool_use", "server_tool_use") and self.open["json"])
            and not (self.open["type"] == "thinking" and not self.open["signed"])
        )
    )
    @rule()
    def stop_block(self) -> None:
        assert self.open is not None
        self.emit(*cbe(self.open["index"]))
        self.open = None

    @precondition(lambda self: self.started and self.open is None and not self.stopped)
    @rule(reason=st.sampled_from(sorted(STOP_REASONS)), more=st.integers(0, 5), seq=st.text(min_size=1, max_size=3))
    def message_delta(self, reason: str, more: int, seq: str) -> None:
        self.output_tokens += more
        self.message_deltas += 1
        self.stop_reason = reason
        self.emit(*md(reason, self.output_tokens, seq if reason == "stop_sequence" else None))

    @precondition(lambda self: self.message_deltas > 0 and not self.stopped)
    @rule()
    def message_stop(self) -> None:
        self.stopped = True
        self.emit(*STOP)

    @precondition(lambda self: self.stopped)
    @rule()
    def connection_closes(self) -> None:
        pass  # a conforming server sends nothing after message_stop

    @invariant()
    def no_violation(self) -> None:
        assert self.g.violations == []

    @invariant()
    def content_matches_blocks_started(self) -> None:
        if self.g.message is not None:
            assert len(self.g.message["content"]) == len(self.expected)

    def teardown(self) -> None:
        self.g.finish(complete=self.stopped)
        if self.stopped:
            assert self.g.violations == []
            m = self.g.message
            assert m is not None
            assert m["content"] == self.expected
            assert m["stop_reason"] == self.stop_reason
            assert m["usage"]["output_tokens"] == self.output_tokens
        else:
            expected = {"stream-truncated"} | (set() if self.started else {"message-start-once"})
            assert rules(self.g) == expected


ConformingEmitter.TestCase.settings = settings(
    max_examples=50, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestConformingEmitter = ConformingEmitter.TestCase


# --------------------------------------------------------------------------- mutation property


@st.composite
def conforming_streams(draw: st.DrawFn) -> list[Item]:
    items: list[Item] = []

    def maybe_ping() -> None:
        if draw(st.integers(0, 4)) == 0:
            items.append(PING)

    maybe_ping()
    items.append(ms())
    maybe_ping()
    for i in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["text", "tool_use", "thinking", "redacted_thinking"]))
        if kind == "text":
            items.append(cbs(i))
            for _ in range(draw(st.integers(0, 3))):
                items.append(text(i, draw(st.text(max_size=4))))
                maybe_ping()
        elif kind == "tool_use":
            items.append(tool(i))
            s = json.dumps(draw(_tool_inputs))
            cuts = sorted(draw(st.lists(st.integers(0, len(s)), max_size=4)))
            for a, b in zip([0, *cuts], [*cuts, len(s)], strict=True):
                items.append(pj(i, s[a:b]))
                maybe_ping()
        elif kind == "thinking":
            items.append(thinking(i))
            for _ in range(draw(st.integers(0, 2))):
                items.append(think(i, draw(st.text(max_size=4))))
            items.append(sig(i))
        else:
            items.append(cbs(i, {"type": "redacted_thinking", "data": "eA=="}))
        maybe_ping()
        items.append(cbe(i))
        maybe_ping()
    out = 1
    for _ in range(draw(st.integers(1, 2))):
        out += draw(st.integers(1, 3))
        items.append(md("end_turn", out))
        maybe_ping()
    items.append(STOP)
    return items


_NAMES = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
    "future_event",
    None,
]


def _is_delta(it: Item, dtype: str | None = None) -> bool:
    return it[0] == "content_block_delta" and (dtype is None or it[1]["delta"]["type"] == dtype)


@st.composite
def mutated_streams(draw: st.DrawFn) -> tuple[str, list[Item]]:
    items = draw(conforming_streams())
    n_md = sum(1 for it in items if it[0] == "message_delta")
    kind = draw(st.sampled_from(["drop", "dup-start", "swap", "reindex", "rename", "done"]))
    if kind == "drop":
        # only events whose loss changes the grammar (dropping a ping or a text delta is harmless to it)
        cands = [
            k
            for k, it in enumerate(items)
            if it[0] in ("message_start", "content_block_start", "content_block_stop", "message_stop")
            or _is_delta(it, "signature_delta")
            or (it[0] == "message_delta" and n_md == 1)
        ]
        k = draw(st.sampled_from(cands))
        return kind, items[:k] + items[k + 1 :]
    if kind == "dup-start":
        start = next(k for k, it in enumerate(items) if it[0] == "message_start")
        k = draw(st.integers(start + 1, len(items)))
        return kind, _insert(items, k, items[start])
    if kind == "swap":
        idx = [k for k, it in enumerate(items) if it[0] != "ping"]
        pairs = [
            (a, b)
            for a in idx
            for b in idx
            if a < b
            and items[a] != items[b]
            and not (_is_delta(items[a]) and _is_delta(items[b]) and items[a][1]["index"] == items[b][1]["index"])
            and not (items[a][0] == items[b][0] == "message_delta")
        ]
        a, b = draw(st.sampled_from(pairs))
        out = list(items)
        out[a], out[b] = out[b], out[a]
        return kind, out
    if kind == "reindex":
        cands = [k for k, it in enumerate(items) if _is_delta(it)]
        if not cands:
            return "done", [*items, (None, "[DONE]")]
        k = draw(st.sampled_from(cands))
        name, payload = items[k]
        new = draw(st.integers(0, 5).filter(lambda x: x != payload["index"]))
        return kind, _replace(items, k, (name, {**payload, "index": new}))
    if kind == "rename":
        k = draw(st.integers(0, len(items) - 1))
        name, payload = items[k]
        new = draw(st.sampled_from([x for x in _NAMES if x != name]))
        return kind, _replace(items, k, (new, payload))
    return kind, [*items, (None, "[DONE]")]


@settings(max_examples=150, deadline=None)
@given(conforming_streams())
def test_generated_conforming_streams_pass(items: list[Item]) -> None:
    g = run(items)
    assert g.violations == []
    g2, _ = run_bytes(render(items), chunk=11)
    assert g2.violations == []
    assert g2.message == g.message


@settings(max_examples=200, deadline=None)
@given(mutated_streams())
def test_mutations_are_caught(case: tuple[str, list[Item]]) -> None:
    kind, items = case
    g = run(items)
    assert g.violations, (kind, items)
    # and the same holds when the stream goes through the byte-level parser
    g2, _ = run_bytes(render(items), chunk=13)
    assert rules(g2) == rules(g)


_vocab_values = st.one_of(
    _json_values,
    st.sampled_from([0, 1, -1, 2**70, "0", 1.5, True, [], {}, "text", "tool_use", "thinking", "end_turn"]),
)
_payloads = st.one_of(
    st.text(max_size=8),
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from([n for n in _NAMES if n]) | _vocab_values,
            "index": _vocab_values,
            "message": st.fixed_dictionaries(
                {}, optional={"content": _vocab_values, "usage": _vocab_values, "stop_reason": _vocab_values}
            )
            | _vocab_values,
            "content_block": st.fixed_dictionaries({}, optional={"type": _vocab_values, "text": _vocab_values})
            | _vocab_values,
            "delta": st.fixed_dictionaries(
                {},
                optional={
                    "type": st.sampled_from(
                        ["text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"]
                    )
                    | _vocab_values,
                    "text": _vocab_values,
                    "partial_json": _vocab_values,
                    "thinking": _vocab_values,
                    "signature": _vocab_values,
                    "citation": _vocab_values,
                    "stop_reason": _vocab_values,
                    "stop_sequence": _vocab_values,
                },
            )
            | _vocab_values,
            "usage": st.fixed_dictionaries({}, optional={"output_tokens": _vocab_values}) | _vocab_values,
            "error": _vocab_values,
        },
    ),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_NAMES), _payloads), max_size=12), st.booleans())
def test_arbitrary_input_never_crashes(items: list[Item], complete: bool) -> None:
    g = run(items, complete=complete)
    assert {v.rule for v in g.violations} <= set(RULES)
    assert all(v.position == -1 or 0 <= v.position < len(items) for v in g.violations)
    assert {v.rule for v in g.violations} <= g.rules_checked
    assert g.event_names == [n for n, _ in items]
