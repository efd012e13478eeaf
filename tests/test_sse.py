"""Tests for conformance._sse: exact WHATWG event-stream parsing on arbitrary chunking."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance._sse import SSEEvent, SSEParser


def parse(data: bytes, *, chunk: int | None = None, **kw) -> tuple[list[SSEEvent], SSEParser]:
    p = SSEParser(**kw)
    out: list[SSEEvent] = []
    if chunk is None:
        out += p.feed(data, 0.0)
    else:
        for i in range(0, len(data), chunk):
            out += p.feed(data[i : i + chunk], float(i))
    out += p.close(float(len(data)))
    return out, p


def kinds(p: SSEParser) -> list[str]:
    return [a.kind for a in p.anomalies]


def summary(events: list[SSEEvent]) -> list[tuple]:
    return [(e.event, e.data, e.id, e.retry, e.comments, e.position) for e in events]


@pytest.mark.parametrize("nl", [b"\n", b"\r\n", b"\r"])
def test_line_endings(nl: bytes) -> None:
    data = nl.join([b"event: a", b"data: one", b"", b"event: b", b"data: two", b"", b""])
    events, p = parse(data)
    assert summary(events) == [("a", "one", None, None, (), 0), ("b", "two", None, None, (), 1)]
    assert p.anomalies == []
    assert b"".join(e.raw for e in events) == data


def test_mixed_line_endings() -> None:
    data = b"event: a\r\ndata: 1\rdata: 2\n\r\nevent: b\ndata: 3\r\r"
    events, p = parse(data)
    assert summary(events) == [("a", "1\n2", None, None, (), 0), ("b", "3", None, None, (), 1)]
    assert events[0].raw == b"event: a\r\ndata: 1\rdata: 2\n\r\n"
    assert p.anomalies == []


def test_crlf_split_across_chunks() -> None:
    p = SSEParser()
    assert p.feed(b"event: a\r", 1.0) == []
    assert p.feed(b"\ndata: x\r", 2.0) == []
    # this CR ends the blank line: dispatch at once (WHATWG), not when the LF arrives
    [ev] = p.feed(b"\n\r", 3.0)
    assert (ev.event, ev.data, ev.arrived) == ("a", "x", 3.0)
    # the LF completing that CRLF is swallowed, not taken as a second (blank) line
    assert p.feed(b"\ndata: y\r\n\r\n", 4.0)[0].data == "y"
    assert p.noop_blocks == 0
    p.close(5.0)
    assert p.anomalies == []


def test_cr_then_cr_is_two_line_ends() -> None:
    p = SSEParser()
    assert p.feed(b"data: a\r", 0) == []
    [ev] = p.feed(b"\r", 1)
    assert ev.data == "a"


def test_multiline_data_and_empty_data_line() -> None:
    events, _ = parse(b"data: a\ndata\ndata:\ndata: b\n\ndata:\n\n")
    assert [e.data for e in events] == ["a\n\n\nb", ""]
    assert [e.event for e in events] == [None, None]


def test_comments_attach_to_next_event_and_do_not_dispatch() -> None:
    data = b": keep-alive\n\n:x\nevent: a\n: inside\ndata: 1\n\n: trailing\n\n"
    events, p = parse(data)
    assert len(events) == 1
    assert events[0].comments == (" keep-alive", "x", " inside")
    assert events[0].raw == b": keep-alive\n\n:x\nevent: a\n: inside\ndata: 1\n\n"
    assert p.noop_blocks == 2
    assert p.anomalies == []


def test_id_persists_and_nul_id_ignored() -> None:
    events, p = parse(b"id: 7\ndata: a\n\ndata: b\n\nid: x\x00y\ndata: c\n\nid\ndata: d\n\n")
    assert [e.id for e in events] == ["7", "7", "7", ""]
    assert kinds(p) == ["id-contains-nul"]
    assert p.last_event_id == ""


def test_retry_digits_only() -> None:
    events, p = parse(b"retry: 1500\ndata: a\n\ndata: b\n\nretry: 1.5\ndata: c\n\nretry: \xd9\xa3\ndata: d\n\n")
    assert [e.retry for e in events] == [1500, None, None, None]
    assert p.reconnection_time == 1500
    assert kinds(p) == ["invalid-retry", "invalid-retry"]  # "1.5" and Arabic-Indic digit three


def test_field_without_colon_and_unknown_fields() -> None:
    events, p = parse(b"event\ndata\nfoo: bar\nDATA: no\n\n")
    assert summary(events) == [(None, "", None, None, (), 0)]
    assert p.anomalies == []


def test_only_one_leading_space_stripped() -> None:
    events, _ = parse(b"event:  two\ndata:   x \ndata:y\n\n")
    assert events[0].event == " two"
    assert events[0].data == "  x \ny"


def test_value_may_contain_colons() -> None:
    events, _ = parse(b'data: {"a": "b:c"}\n\n')
    assert events[0].data == '{"a": "b:c"}'


def test_empty_event_field_is_unnamed() -> None:
    events, _ = parse(b"event:\ndata: a\n\n")
    assert events[0].event is None


def test_event_without_data_is_not_dispatched() -> None:
    events, p = parse(b"event: message_stop\n\nevent: a\ndata: 1\n\n")
    assert summary(events) == [("a", "1", None, None, (), 0)]
    assert kinds(p) == ["no-data"]
    assert p.noop_blocks == 1


def test_bom_stripped_and_noted() -> None:
    data = b"\xef\xbb\xbfdata: a\n\n"
    for chunk in (None, 1, 2):
        events, p = parse(data, chunk=chunk)
        assert [e.data for e in events] == ["a"]
        assert kinds(p) == ["bom"]
        assert events[0].raw == data


def test_only_leading_bom_is_stripped() -> None:
    events, p = parse(b"data: a\n\n\xef\xbb\xbfdata: b\n\n")
    # a BOM later in the stream is part of a field name ("\ufeffdata"), so that field is ignored
    assert [e.data for e in events] == ["a"]
    assert p.anomalies == []


def test_partial_bom_prefix_that_is_not_a_bom() -> None:
    events, p = parse(b"\xef\xbbdata: a\n\ndata: b\n\n", chunk=1)
    assert [e.data for e in events] == ["b"]
    assert kinds(p) == ["invalid-utf8"]
    assert p.anomalies[0].offset == 0


def test_unterminated_event_at_close() -> None:
    events, p = parse(b"data: a\n\nevent: b\ndata: partial")
    assert [e.data for e in events] == ["a"]
    assert kinds(p) == ["unterminated-event"]
    assert p.anomalies[0].offset == 9


def test_unterminated_event_missing_only_blank_line() -> None:
    events, p = parse(b"data: a\n")
    assert events == []
    assert kinds(p) == ["unterminated-event"]


def test_clean_close_has_no_anomaly() -> None:
    _, p = parse(b"data: a\n\n")
    assert p.anomalies == []
    assert p.close(9.0) == []


def test_feed_after_close_raises() -> None:
    p = SSEParser()
    p.close(0)
    with pytest.raises(RuntimeError):
        p.feed(b"data: a\n\n", 1)


def test_invalid_utf8_replaced_and_located() -> None:
    data = b"data: ok\n\ndata: a\xff\xfeb\n\n"
    events, p = parse(data)
    assert [e.data for e in events] == ["ok", "a\ufffd\ufffdb"]
    [a] = p.anomalies
    assert a.kind == "invalid-utf8"
    assert a.offset == data.index(b"\xff")


def test_multibyte_utf8_split_across_chunks() -> None:
    data = "data: h\u00e9llo \u2603 \U0001f600\n\n".encode()
    events, p = parse(data, chunk=1)
    assert events[0].data == "h\u00e9llo \u2603 \U0001f600"
    assert p.anomalies == []


def test_done_sentinel_is_an_unnamed_event() -> None:
    events, p = parse(b"data: [DONE]\n\n")
    assert summary(events) == [(None, "[DONE]", None, None, (), 0)]
    assert p.anomalies == []


def test_arrived_is_time_of_blank_line() -> None:
    p = SSEParser()
    assert p.feed(b"event: a\ndata: 1\n", 1.5) == []
    [ev] = p.feed(b"\n", 2.5)
    assert ev.arrived == 2.5


def test_bytes_received_counts_everything() -> None:
    data = b"\xef\xbb\xbf: c\n\ndata: x\n\ndata: partial"
    _, p = parse(data, chunk=3)
    assert p.bytes_received == len(data)


def test_line_too_long_is_bounded_and_drops_its_event() -> None:
    cap = 1_048_576
    p = SSEParser(max_line_bytes=cap)
    events = p.feed(b"data: before\n\n", 0)
    body = b"data: " + b"x" * (10 * 1024 * 1024) + b"\n\n"
    maxbuf = 0
    step = 64 * 1024
    for i in range(0, len(body), step):
        events += p.feed(body[i : i + step], 1)
        maxbuf = max(maxbuf, p.buffered_bytes, p.pending_event_bytes)
    events += p.feed(b"data: after\n\n", 2)
    p.close(3)
    assert [e.data for e in events] == ["before", "after"]
    assert [e.position for e in events] == [0, 1]
    assert kinds(p) == ["line-too-long"]
    assert p.anomalies[0].offset == len(b"data: before\n\n")
    assert maxbuf <= cap


def test_line_too_long_in_a_single_chunk() -> None:
    events, p = parse(b"data: " + b"y" * 100 + b"\ndata: z\n\ndata: ok\n\n", max_line_bytes=50)
    assert [e.data for e in events] == ["ok"]
    assert kinds(p) == ["line-too-long"]


def test_line_exactly_at_cap_is_accepted() -> None:
    line = b"data: " + b"y" * 44  # 50 bytes
    for chunk in (None, 7):
        events, p = parse(line + b"\r\n\r\n", max_line_bytes=50, chunk=chunk)
        assert [e.data for e in events] == ["y" * 44]
        assert p.anomalies == []


def test_event_too_long() -> None:
    data = b"".join(b"data: %02d\n" % i for i in range(20)) + b"\ndata: small\n\n"
    events, p = parse(data, max_event_bytes=100, chunk=16)
    assert [e.data for e in events] == ["small"]
    assert kinds(p) == ["event-too-long"]
    assert p.pending_event_bytes == 0


def test_performance_typical_stream() -> None:
    ev = (
        b"event: content_block_delta\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"some words here"}}\n\n'
    )
    stream = b": hello\n\n" + ev * 200
    chunks = [stream[i : i + 4096] for i in range(0, len(stream), 4096)]
    best = float("inf")
    for _ in range(5):
        p = SSEParser()
        t0 = time.perf_counter()
        n = 0
        for c in chunks:
            n += len(p.feed(c, 0.0))
        best = min(best, time.perf_counter() - t0)
        assert n == 200
    assert best / 200 < 100e-6  # well under a millisecond per event


# --------------------------------------------------------------------------- property

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
    max_size=12,
)
_name = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n:"), min_size=1, max_size=8
)

_line = st.one_of(
    st.tuples(st.just("event"), _text),
    st.tuples(st.just("data"), _text),
    st.tuples(st.just("id"), _text),
    st.tuples(st.just("retry"), st.from_regex(r"\A[0-9]{1,4}\Z") | _text),
    st.tuples(st.just(""), _text),  # comment
    st.tuples(_name, _text),  # unknown field
    st.tuples(_name, st.none()),  # field without colon
)
_block = st.lists(_line, max_size=5)


def _render(blocks: list[list[tuple[str, str | None]]], endings: list[bytes], space: list[bool]) -> bytes:
    out: list[bytes] = []
    k = 0

    def nl() -> bytes:
        nonlocal k
        k += 1
        return endings[k % len(endings)]

    for block in blocks:
        for j, (name, value) in enumerate(block):
            if value is None:
                line = name
            else:
                sep = ": " if space[(k + j) % len(space)] else ":"
                line = f"{name}{sep}{value}"
            out.append(line.encode() + nl())
        out.append(nl())
    return b"".join(out)


@st.composite
def _streams(draw) -> tuple[bytes, list[int]]:
    blocks = draw(st.lists(_block, max_size=6))
    endings = draw(st.lists(st.sampled_from([b"\n", b"\r\n", b"\r"]), min_size=1, max_size=4))
    space = draw(st.lists(st.booleans(), min_size=1, max_size=3))
    data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + _render(blocks, endings, space)
    data += draw(st.sampled_from([b"", b"data: tail", b"\xff"]))
    if draw(st.booleans()):
        cuts = list(range(1, len(data)))  # one byte at a time
    else:
        cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=12))))
    return data, cuts


def _feed_split(data: bytes, cuts: list[int]) -> tuple[list[SSEEvent], SSEParser]:
    p = SSEParser()
    out: list[SSEEvent] = []
    prev = 0
    for c in [*cuts, len(data)]:
        out += p.feed(data[prev:c], 0.0)
        prev = c
    out += p.close(0.0)
    return out, p


@settings(max_examples=150, deadline=None)
@given(_streams())
def test_chunking_does_not_change_events(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    whole, p1 = parse(data)
    split, p2 = _feed_split(data, cuts)
    assert summary(split) == summary(whole)
    assert p2.anomalies == p1.anomalies
    assert p2.bytes_received == p1.bytes_received == len(data)
    # raw: identical, except that when a chunk ends between the CR and LF of a blank line
    # the event is dispatched on the CR and the LF starts the next event's raw
    moved = False
    for a, b in zip(whole, split, strict=True):  # summary(split) == summary(whole): as many events
        r = b.raw
        if moved:
            assert r.startswith(b"\n")
            r = r[1:]
        moved = r != a.raw
        if moved:
            assert r.endswith(b"\r") and a.raw == r + b"\n"
    assert data.startswith(b"".join(e.raw for e in whole))
    assert data.startswith(b"".join(e.raw for e in split))


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["message_start", "ping", "x"]), _text), max_size=8),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
def test_rendered_events_round_trip(events: list[tuple[str, str]], nl: bytes) -> None:
    data = b"".join(f"event: {n}".encode() + nl + f"data: {d}".encode() + nl + nl for n, d in events)
    got, p = _feed_split(data, list(range(1, len(data))))
    assert [(e.event, e.data) for e in got] == events
    assert p.anomalies == []


_bytes_soup = st.lists(
    st.sampled_from(
        [
            b"\r",
            b"\n",
            b"\r\n",
            b":",
            b" ",
            b"data",
            b"event",
            b"id",
            b"retry",
            b"7",
            b"\x00",
            b"\xef\xbb\xbf",
            b"\xff",
            b"\xc3",
            b"\xa9",
            b"x",
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(_bytes_soup, st.lists(st.integers(0, 200), max_size=10), st.integers(1, 30))
def test_arbitrary_bytes_chunk_invariant(data: bytes, cuts: list[int], cap: int) -> None:
    cuts = sorted({c for c in cuts if c <= len(data)})
    whole, p1 = parse(data, max_line_bytes=cap, max_event_bytes=4 * cap)
    p2 = SSEParser(max_line_bytes=cap, max_event_bytes=4 * cap)
    split: list[SSEEvent] = []
    prev = 0
    for c in [*cuts, len(data)]:
        split += p2.feed(data[prev:c], 0.0)
        prev = c
        assert p2.buffered_bytes <= max(cap, 2)  # up to 2 bytes of a possible BOM are held back
    p2.close(0.0)
    assert summary(split) == summary(whole)
    assert p2.anomalies == p1.anomalies
