"""A strict, incremental Server-Sent Events parser.

Implements the WHATWG HTML "event stream interpretation" (HTML §9.2.6) exactly, on
bytes that arrive in arbitrary pieces, and records everything unusual it sees as an
:class:`Anomaly` instead of raising.

Parsing rules (WHATWG):

* Lines end with CRLF, LF or CR.  A CR at the very end of a chunk may be the first half
  of a CRLF; an LF at the start of the next chunk is then swallowed.
* One leading UTF-8 byte order mark is skipped (recorded as anomaly ``bom``).
* A line starting with ``:`` is a comment.  ``field: value`` strips exactly one leading
  U+0020 from the value; a line without ``:`` is a field name with an empty value.
* Fields: ``event`` (event type), ``data`` (appended to the data buffer), ``id`` (sets the
  last event ID buffer unless the value contains U+0000), ``retry`` (ASCII digits only);
  any other field name is ignored.
* A blank line dispatches the event when the data buffer is non-empty (at least one
  ``data`` line, even an empty one).  Otherwise the data and event-type buffers are reset
  and nothing is dispatched (a "no-op block", counted in :attr:`SSEParser.noop_blocks`).
* At end of stream a partially received event is discarded, never dispatched.

Choices made where WHATWG leaves room or where this harness needs more:

* :attr:`SSEEvent.event` is ``None`` when the event had no ``event`` field, or an empty
  one (a browser would report ``"message"`` for both); the Anthropic SDK drops such events.
* :attr:`SSEEvent.id` is the WHATWG *last event ID*: it persists across events until the
  next valid ``id`` field; ``None`` if no ``id`` field was ever accepted.
* :attr:`SSEEvent.retry` is the value of a valid ``retry`` field seen since the previous
  dispatched event (``None`` if there was none); the persistent reconnection time is
  :attr:`SSEParser.reconnection_time`.
* :attr:`SSEEvent.comments` and :attr:`SSEEvent.raw` cover everything since the previous
  dispatched event: comment-only and other no-op blocks (e.g. ``: keep-alive`` followed by
  a blank line) are carried into the next event.  The leading BOM is part of the first
  event's ``raw``.  So ``b"".join(e.raw for e in events)`` is a prefix of the stream bytes,
  unless bytes were dropped by a ``line-too-long``/``event-too-long``/``preamble-too-long``
  anomaly.  One chunking artefact: when a chunk ends with the CR of a CRLF blank line, the
  event is dispatched at once (WHATWG) and the LF that arrives later is the first byte of
  the next event's ``raw``.
* Invalid UTF-8 is decoded with U+FFFD replacement (as WHATWG does), and recorded as
  anomaly ``invalid-utf8`` with the byte offset of the first bad byte of the line.
  (The official Python SDK decodes strictly and would raise ``UnicodeDecodeError``.)
* A line longer than ``max_line_bytes`` (terminator excluded) is recorded as
  ``line-too-long``; its bytes are discarded as they arrive (the internal buffer never
  exceeds ``max_line_bytes``) and the event it belongs to is not dispatched.  Likewise a
  block (lines since the previous blank line) over ``max_event_bytes`` is recorded as
  ``event-too-long`` and not dispatched.

Anomaly kinds: ``bom``, ``invalid-utf8``, ``line-too-long``, ``event-too-long``,
``preamble-too-long`` (comments/no-op blocks since the last event exceeded
``max_event_bytes``; they are dropped from ``raw``/``comments``), ``no-data`` (a block
with an ``event`` field but no ``data`` line: not dispatched per WHATWG), ``invalid-retry``
(ignored ``retry`` field), ``id-contains-nul`` (ignored ``id`` field),
``unterminated-event`` (stream ended inside a block).
Line endings CR, LF and CRLF are all legal and never recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Anomaly", "SSEEvent", "SSEParser"]

_BOM = b"\xef\xbb\xbf"
_LF = 0x0A
_CR = 0x0D


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched SSE event."""

    event: str | None
    data: str
    id: str | None
    retry: int | None
    comments: tuple[str, ...]
    raw: bytes
    arrived: float
    position: int


@dataclass(frozen=True)
class Anomaly:
    """Something unusual in the byte stream; ``offset`` is a 0-based stream byte offset."""

    kind: str
    message: str
    offset: int


@dataclass
class _Block:
    """Fields of the block being received (lines since the previous blank line)."""

    start: int = 0
    nbytes: int = 0
    event: str | None = None
    data: list[str] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    poisoned: bool = False
    lines: int = 0


class SSEParser:
    """Incremental WHATWG event-stream parser; see the module docstring."""

    def __init__(self, *, max_line_bytes: int = 1_048_576, max_event_bytes: int = 8_388_608) -> None:
        if max_line_bytes < 1 or max_event_bytes < 1:
            raise ValueError("limits must be positive")
        self.max_line_bytes = max_line_bytes
        self.max_event_bytes = max_event_bytes
        self.anomalies: list[Anomaly] = []
        self.bytes_received = 0
        self.last_event_id: str | None = None
        self.reconnection_time: int | None = None
        self.noop_blocks = 0
        self.events_dispatched = 0
        self.closed = False
        self._head = bytearray()  # first bytes while deciding about a BOM
        self._bom_checked = False
        self._offset = 0  # stream offset of the next byte to be processed
        self._line = bytearray()  # bytes of the current unterminated line
        self._line_start = 0
        self._discarding = False  # inside a line that exceeded max_line_bytes
        self._pending_cr = False  # the previous chunk ended with CR
        self._block = _Block()
        # carried since the previous dispatched event
        self._comments: list[str] = []
        self._carry: list[bytes] = []
        self._carry_len = 0
        self._retry: int | None = None

    # ------------------------------------------------------------------ public API

    @property
    def buffered_bytes(self) -> int:
        """Bytes of the current, not yet terminated line held in memory (<= max(max_line_bytes, 2))."""
        return len(self._line) + len(self._head)

    @property
    def pending_event_bytes(self) -> int:
        """Bytes held for the event being received (carried preamble included)."""
        return sum(len(p) for p in self._carry) + sum(len(p) for p in self._block.raw)

    def feed(self, chunk: bytes, at: float) -> list[SSEEvent]:
        """Parse the next piece of the stream; return the events it completes."""
        if self.closed:
            raise RuntimeError("feed() after close()")
        n = len(chunk)
        if not n:
            return []
        self.bytes_received += n
        if not self._bom_checked:
            self._head += chunk
            if len(self._head) < len(_BOM) and _BOM.startswith(self._head):
                return []
            self._bom_checked = True
            chunk = bytes(self._head)
            self._head.clear()
            if chunk.startswith(_BOM):
                self._add(Anomaly("bom", "leading UTF-8 byte order mark skipped", 0))
                self._carry.append(_BOM)
                self._carry_len += len(_BOM)
                self._offset = len(_BOM)
                self._block.start = self._offset
                chunk = chunk[len(_BOM) :]
        out: list[SSEEvent] = []
        if not chunk:
            return out
        if self._pending_cr:
            self._pending_cr = False
            if chunk[0] == _LF:
                # second half of a CRLF whose CR ended the previous chunk
                self._offset += 1
                b = self._block
                if b.lines == 0 and not self._line and not self._discarding:
                    # the CR ended a blank line: the LF belongs to that line, not to this block
                    # (it is kept in raw, but not counted, exactly as a CRLF blank line is counted)
                    b.start = self._offset
                    self._carry.append(b"\n")
                else:
                    b.nbytes += 1
                    if not b.poisoned:
                        b.raw.append(b"\n")
                chunk = chunk[1:]
                if not chunk:
                    return out
        pieces = chunk.splitlines(keepends=True)
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            end = piece[-1]
            if end == _LF:
                term = 2 if len(piece) >= 2 and piece[-2] == _CR else 1
            elif end == _CR:
                term = 1
                if i == last:
                    self._pending_cr = True
            else:
                # unterminated: only the last piece can be
                self._partial(piece)
                continue
            self._terminated(piece, term, at, out)
        return out

    def close(self, at: float) -> list[SSEEvent]:
        """End of stream.  A partially received event is discarded (WHATWG), never dispatched."""
        if self.closed:
            return []
        self.closed = True
        b = self._block
        pending = len(self._head) + len(self._line)
        if pending or self._discarding or b.lines:
            self._add(
                Anomaly(
                    "unterminated-event",
                    f"stream ended inside an event ({b.lines} complete line(s) and {pending} byte(s) of an "
                    "unterminated line since the last blank line); it is discarded, not dispatched",
                    b.start,
                )
            )
        self._line.clear()
        self._head.clear()
        return []

    # ------------------------------------------------------------------ internals

    def _add(self, anomaly: Anomaly) -> None:
        self.anomalies.append(anomaly)

    def _partial(self, piece: bytes) -> None:
        if self._discarding:
            self._offset += len(piece)
            self._block.nbytes += len(piece)
            return
        if not self._line:
            self._line_start = self._offset
        if len(self._line) + len(piece) > self.max_line_bytes:
            self._too_long_line()
            self._offset += len(piece)
            self._block.nbytes += len(piece)
            return
        self._line += piece
        self._offset += len(piece)

    def _too_long_line(self) -> None:
        self._add(
            Anomaly(
                "line-too-long",
                f"line longer than {self.max_line_bytes} bytes; its bytes are discarded and its event is not dispatched",
                self._line_start,
            )
        )
        self._block.nbytes += len(self._line)
        self._line.clear()
        self._discarding = True
        self._poison()

    def _poison(self) -> None:
        b = self._block
        b.poisoned = True
        b.data = []
        b.raw = []

    def _terminated(self, piece: bytes, term: int, at: float, out: list[SSEEvent]) -> None:
        n = len(piece)
        if self._discarding:
            # the end of an over-long line
            self._discarding = False
            self._offset += n
            self._block.nbytes += n
            self._block.lines += 1
            return
        if self._line:
            start = self._line_start
            if len(self._line) + n - term > self.max_line_bytes:
                self._too_long_line()
                self._discarding = False
                self._offset += n
                self._block.nbytes += n
                self._block.lines += 1
                return
            self._line += piece
            raw = bytes(self._line)
            self._line.clear()
            self._offset += n
        else:
            start = self._offset
            self._offset += n
            if n - term > self.max_line_bytes:
                self._line_start = start
                self._too_long_line()
                self._discarding = False
                self._block.nbytes += n
                self._block.lines += 1
                return
            raw = piece
        self._line_done(raw, len(raw) - term, start, at, out)

    def _line_done(self, raw: bytes, length: int, start: int, at: float, out: list[SSEEvent]) -> None:
        b = self._block
        b.nbytes += len(raw)
        if length == 0:
            self._blank(raw, at, out)
            return
        b.lines += 1
        if not b.poisoned:
            if b.nbytes > self.max_event_bytes:
                self._add(
                    Anomaly(
                        "event-too-long",
                        f"event longer than {self.max_event_bytes} bytes; it is not dispatched",
                        b.start,
                    )
                )
                self._poison()
            else:
                b.raw.append(raw)
        content = raw[:length]
        try:
            line = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._add(
                Anomaly(
                    "invalid-utf8",
                    f"invalid UTF-8 ({exc.reason}) in a line; decoded with U+FFFD replacement",
                    start + exc.start,
                )
            )
            line = content.decode("utf-8", "replace")
        if line[0] == ":":
            if not b.poisoned:
                self._comments.append(line[1:])
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            if not b.poisoned:
                b.data.append(value)
        elif name == "event":
            b.event = value
        elif name == "id":
            if "\x00" in value:
                self._add(Anomaly("id-contains-nul", "id field containing U+0000 ignored", start))
            else:
                self.last_event_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self.reconnection_time = self._retry = int(value)
            else:
                self._add(Anomaly("invalid-retry", f"retry field {value!r} is not ASCII digits; ignored", start))
        # any other field name is ignored (WHATWG)

    def _blank(self, raw: bytes, at: float, out: list[SSEEvent]) -> None:
        b = self._block
        nxt = _Block(start=self._offset)
        if b.poisoned:
            # drop the event, and what was carried for it
            self._block = nxt
            self._carry = []
            self._carry_len = 0
            self._comments = []
            self._retry = None
            return
        if not b.data:
            self.noop_blocks += 1
            if b.event:
                self._add(
                    Anomaly(
                        "no-data",
                        f"event {b.event!r} has no data line; not dispatched (WHATWG)",
                        b.start,
                    )
                )
            self._carry.extend(b.raw)
            self._carry.append(raw)
            # a blank line counts 1 byte whatever its terminator, so the limit does not depend on chunking
            self._carry_len += sum(len(p) for p in b.raw) + 1
            self._block = nxt
            if self._carry_len > self.max_event_bytes:
                self._add(
                    Anomaly(
                        "preamble-too-long",
                        f"comments and empty blocks since the last event exceed {self.max_event_bytes} bytes; "
                        "dropped from raw/comments",
                        b.start,
                    )
                )
                self._carry = []
                self._carry_len = 0
                self._comments = []
            return
        parts = self._carry
        parts.extend(b.raw)
        parts.append(raw)
        out.append(
            SSEEvent(
                event=b.event or None,
                data="\n".join(b.data),
                id=self.last_event_id,
                retry=self._retry,
                comments=tuple(self._comments),
                raw=b"".join(parts),
                arrived=at,
                position=self.events_dispatched,
            )
        )
        self.events_dispatched += 1
        self._block = nxt
        self._carry = []
        self._carry_len = 0
        self._comments = []
        self._retry = None
