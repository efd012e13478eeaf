"""The Messages streaming grammar (contract §3.1-3.4, §9 items 17-24) as a state machine.

Feed the :class:`~conformance._sse.SSEEvent` objects of one streamed response to
:class:`StreamGrammar` in order, then call :meth:`StreamGrammar.finish`.  It records every
violation of the grammar as a :class:`Violation` and rebuilds the final Message the way the
official SDK's stream accumulator does.  Payloads are not validated against JSON Schema
here; only the structure the grammar needs is checked, and extra fields are tolerated.

Event dispatch follows the SDK: the ``event:`` name decides what an event is (not
``data.type``); unnamed events are discarded (after being reported); ``ping`` is allowed
anywhere before the end; unknown event names and unknown delta types are not violations
(clients must ignore them) and are recorded in :attr:`StreamGrammar.unknown_events` /
:attr:`StreamGrammar.unknown_deltas`.

Rule ids (the harness reports them as ``stream.grammar.<rule>``):

framing
  ``event-named``                    every event has an ``event:`` field (no unnamed ``data:`` event)
  ``no-done-sentinel``               no ``data: [DONE]`` sentinel (named or not)
  ``data-is-json-object``            an event's data parses as a JSON object
  ``type-matches-event``             ``data.type`` equals the event name (``error`` events: see ``error-envelope``)
  ``payload-structure``              fields the grammar needs are present with the right JSON type
                                     (``index`` integer, ``content_block``/``delta``/``message`` objects with a
                                     string ``type``, the delta's text/partial_json/thinking/signature string or
                                     citation object)
message_start
  ``message-start-first``            the first event other than ping/error/unknown is ``message_start``
  ``message-start-once``             exactly one ``message_start`` (a second one, or none at all)
  ``message-start-content-empty``    ``message_start.message.content`` is ``[]``
  ``message-start-stop-reason-null`` ``message_start.message`` has ``stop_reason`` (and ``stop_sequence``) null
  ``message-start-usage``            ``message_start.message.usage`` is an object with integer ``input_tokens``
                                     (and integer ``output_tokens`` when present)
content blocks
  ``block-index-contiguous``         ``content_block_start`` indices are 0, 1, 2, ... in order
  ``block-start-once``               at most one ``content_block_start`` per index
  ``block-start-while-open``         no ``content_block_start`` while another block is open
  ``block-stop-once``                at most one ``content_block_stop`` per index
  ``block-stop-open-index``          ``content_block_stop`` names a block that is open
  ``blocks-before-message-delta``    no ``content_block_*`` event after the first ``message_delta``
  ``delta-open-index``               ``content_block_delta`` only for the currently open block index
  ``delta-type-matches-block``       text_delta/citations_delta -> text, input_json_delta -> tool_use/
                                     server_tool_use, thinking_delta/signature_delta -> thinking
  ``signature-delta-last``           nothing follows a thinking block's ``signature_delta`` before its stop
  ``thinking-signature``             a thinking block gets a signature (``signature_delta``) before its stop
  ``tool-input-json``                the concatenated ``partial_json`` of a tool block parses as a JSON object
                                     (no fragments, or only empty ones: the start shell's input stands)
  ``blocks-closed``                  every started block is stopped before ``message_delta`` / ``message_stop``
message_delta
  ``message-delta-present``          at least one ``message_delta`` before ``message_stop``
  ``message-delta-stop-reason``      ``message_delta.delta.stop_reason`` is non-null
  ``stop-reason-in-enum``            that ``stop_reason`` is one of the documented values
  ``stop-sequence-iff``              ``stop_sequence`` is non-null iff ``stop_reason`` is ``"stop_sequence"``
  ``message-delta-usage``            ``message_delta.usage`` is an object with integer ``output_tokens``
  ``output-tokens-cumulative``       ``output_tokens`` never decreases (message_start value, then each message_delta)
end of stream
  ``message-stop-once``              at most one ``message_stop``
  ``nothing-after-message-stop``     no event (ping included) after ``message_stop``
  ``error-envelope``                 an ``error`` event's data is ``{"type":"error","error":{"type":str,"message":str}}``
  ``error-ends-stream``              no event after an ``error`` event
  ``stream-truncated``               the stream ends with ``message_stop`` or an ``error`` event
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Callable, cast

from conformance._sse import SSEEvent

__all__ = ["RULES", "STOP_REASONS", "StreamGrammar", "Violation"]

RULES: dict[str, str] = {
    "event-named": "every event has an `event:` field",
    "no-done-sentinel": "no `data: [DONE]` sentinel",
    "data-is-json-object": "event data is a JSON object",
    "type-matches-event": "data.type equals the event name",
    "payload-structure": "fields the grammar needs are present with the right JSON type",
    "message-start-first": "message_start is the first event other than ping/error/unknown",
    "message-start-once": "exactly one message_start",
    "message-start-content-empty": "message_start.message.content is []",
    "message-start-stop-reason-null": "message_start.message.stop_reason and stop_sequence are null",
    "message-start-usage": "message_start.message.usage has integer input_tokens",
    "block-index-contiguous": "content_block_start indices are 0, 1, 2, ... in order",
    "block-start-once": "one content_block_start per index",
    "block-start-while-open": "no content_block_start while another block is open",
    "block-stop-once": "one content_block_stop per index",
    "block-stop-open-index": "content_block_stop names an open block",
    "blocks-before-message-delta": "no content_block_* event after message_delta",
    "delta-open-index": "content_block_delta only for the open block",
    "delta-type-matches-block": "delta type matches the block type",
    "signature-delta-last": "signature_delta is the last delta of a thinking block",
    "thinking-signature": "a thinking block gets a signature before its stop",
    "tool-input-json": "concatenated partial_json parses as a JSON object",
    "blocks-closed": "every block is stopped before message_delta/message_stop",
    "message-delta-present": "at least one message_delta before message_stop",
    "message-delta-stop-reason": "message_delta.delta.stop_reason is non-null",
    "stop-reason-in-enum": "stop_reason is a documented value",
    "stop-sequence-iff": "stop_sequence non-null iff stop_reason is stop_sequence",
    "message-delta-usage": "message_delta.usage.output_tokens is an integer",
    "output-tokens-cumulative": "output_tokens never decreases",
    "message-stop-once": "at most one message_stop",
    "nothing-after-message-stop": "no event after message_stop",
    "error-envelope": "error event data is the error envelope",
    "error-ends-stream": "no event after an error event",
    "stream-truncated": "the stream ends with message_stop or an error event",
}

STOP_REASONS = frozenset(
    {"end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal", "model_context_window_exceeded"}
)

# The event names of the stream grammar (contract §3): the one list every module reads.
KNOWN_EVENTS = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use"})
_DELTA_BLOCKS: dict[str, frozenset[str]] = {
    "text_delta": frozenset({"text"}),
    "citations_delta": frozenset({"text"}),
    "input_json_delta": _TOOL_BLOCKS,
    "thinking_delta": frozenset({"thinking"}),
    "signature_delta": frozenset({"thinking"}),
}
_DELTA_FIELD: dict[str, tuple[str, type]] = {
    "text_delta": ("text", str),
    "citations_delta": ("citation", dict),
    "input_json_delta": ("partial_json", str),
    "thinking_delta": ("thinking", str),
    "signature_delta": ("signature", str),
}


@dataclass(frozen=True)
class Violation:
    rule: str
    position: int
    message: str


def _is_int(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _show(x: Any, limit: int = 60) -> str:
    try:
        s = json.dumps(x, ensure_ascii=False)
    except (TypeError, ValueError):
        s = repr(x)
    return s if len(s) <= limit else s[: limit - 3] + "..."


_MISSING = object()


def _get(d: dict, key: str) -> Any:
    return d.get(key, _MISSING)


def _desc(x: Any) -> str:
    return "missing" if x is _MISSING else _show(x)


class _Block:
    __slots__ = ("index", "type", "open", "stopped", "signed", "after_signature", "json_parts", "obj", "position")

    def __init__(self, index: int, btype: str | None, obj: dict | None, position: int, signed: bool) -> None:
        self.index = index
        self.type = btype
        self.open = True
        self.stopped = False
        self.signed = signed
        self.after_signature = False
        self.json_parts: list[str] = []
        self.obj = obj
        self.position = position


class StreamGrammar:
    """State machine for one streamed Messages response.  See the module docstring."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.message: dict | None = None
        self.error: dict | None = None
        self.event_names: list[str | None] = []
        self.unknown_events: list[tuple[int, str]] = []
        self.unknown_deltas: list[tuple[int, str]] = []
        self.unknown_blocks: list[tuple[int, str]] = []
        self.finished = False
        self._evaluated: set[str] = set()
        self._started = False
        self._first_seen = False
        self._blocks: dict[int, _Block] = {}
        self._open: list[int] = []  # open block indices, most recent last
        self._next_index = 0
        self._message_deltas = 0
        self._output_tokens: int | None = None
        self._stopped = False
        self._errored = False

    # ------------------------------------------------------------------ public API

    @property
    def rules_checked(self) -> frozenset[str]:
        """Rules this machine has evaluated so far on this stream (a rule not in it was not applicable)."""
        return frozenset(self._evaluated)

    def violated(self, rule: str) -> list[Violation]:
        if rule not in RULES:
            raise KeyError(f"unknown rule {rule!r}")
        return [v for v in self.violations if v.rule == rule]

    def feed(self, event: SSEEvent) -> None:
        if self.finished:
            raise RuntimeError("feed() after finish()")
        pos = event.position
        name = event.event
        self.event_names.append(name)

        done = event.data.strip() == "[DONE]"
        self._check("no-done-sentinel", not done, pos, "expected no [DONE] sentinel, got `data: [DONE]`")
        if self._errored:
            self._check("error-ends-stream", False, pos, f"expected end of stream after the error event, got {name!r}")
            return
        if self._stopped:
            if name == "message_stop" and not done:
                self._check("message-stop-once", False, pos, "expected end of stream, got a second message_stop")
            else:
                self._check(
                    "nothing-after-message-stop", False, pos, f"expected end of stream after message_stop, got {name!r}"
                )
            return
        if done:
            return
        self._check(
            "event-named",
            name is not None,
            pos,
            lambda: f"expected an `event:` line, got an unnamed event with data {_show(event.data)}",
        )
        if name is None:
            return  # the SDK discards unnamed events

        try:
            payload = json.loads(event.data)
        except ValueError:
            payload = _MISSING
        is_obj = isinstance(payload, dict)
        self._check(
            "data-is-json-object",
            is_obj,
            pos,
            lambda: (
                f"expected a JSON object as data of {name!r}, got "
                + ("invalid JSON" if payload is _MISSING else f"JSON {type(payload).__name__}")
                + f": {_show(event.data)}"
            ),
        )
        p: dict | None = payload if is_obj else None
        if p is not None and name != "error":
            t = _get(p, "type")
            self._check("type-matches-event", t == name, pos, lambda: f"expected data.type {name!r}, got {_desc(t)}")

        if name == "ping":
            return
        if name == "error":
            self._on_error(p, event, pos)
            return
        if name not in KNOWN_EVENTS:
            self.unknown_events.append((pos, name))
            return

        if not self._first_seen:
            self._first_seen = True
            self._check(
                "message-start-first",
                name == "message_start",
                pos,
                f"expected message_start as the first event, got {name!r}",
            )

        getattr(self, "_on_" + name)(p, pos)

    def finish(self, *, complete: bool = True) -> None:
        """End of stream; ``complete=False`` when the transport broke before a clean end."""
        if self.finished:
            return
        self.finished = True
        for b in self._blocks.values():
            if b.open and b.type in _TOOL_BLOCKS:
                self._parse_tool_input(b, check=False)
        if self._errored:
            return
        if not self._started:
            self._check("message-start-once", False, -1, "expected exactly one message_start, got none")
        how = "end of stream" if complete else "a broken transport (the stream did not end cleanly)"
        missing = []
        if self._open:
            missing.append(f"content_block_stop for index {', '.join(map(str, self._open))}")
        if self._message_deltas == 0:
            missing.append("message_delta")
        detail = f" (also missing: {'; '.join(missing)})" if missing else ""
        self._check(
            "stream-truncated",
            self._stopped,
            -1,
            f"expected message_stop or an error event, got {how}{detail}",
        )

    # ------------------------------------------------------------------ helpers

    def _check(self, rule: str, ok: bool, position: int, message: str | Callable[[], str]) -> bool:
        """Record ``rule`` as evaluated, and a violation unless ``ok``. A message that shows
        values is a callable, made only for a violation (the checks run on every event)."""
        self._evaluated.add(rule)
        if not ok:
            self.violations.append(Violation(rule, position, message if isinstance(message, str) else message()))
        return ok

    def _structure(self, ok: bool, pos: int, message: str | Callable[[], str]) -> bool:
        return self._check("payload-structure", ok, pos, message)

    def _index(self, p: dict | None, name: str, pos: int) -> int | None:
        if p is None:
            return None
        idx = _get(p, "index")
        if self._structure(_is_int(idx), pos, lambda: f"expected an integer index in {name}, got {_desc(idx)}"):
            return idx
        return None

    def _after_delta(self, name: str, pos: int) -> None:
        self._check(
            "blocks-before-message-delta",
            self._message_deltas == 0,
            pos,
            f"expected no {name} after message_delta, got one",
        )

    def _close_check(self, pos: int, where: str) -> None:
        still = [i for i in self._open if not self._blocks[i].stopped]
        self._check(
            "blocks-closed",
            not still,
            pos,
            f"expected every block stopped before {where}, got index {', '.join(map(str, still))} still open",
        )
        # report each open block once
        for i in still:
            self._blocks[i].open = False
        self._open = []

    # ------------------------------------------------------------------ events

    def _on_error(self, p: dict | None, event: SSEEvent, pos: int) -> None:
        self._errored = True
        self.error = p if p is not None else {"raw": event.data}
        ok = False
        got = "non-object data"
        if p is not None:
            t = _get(p, "type")
            err = _get(p, "error")
            if t != "error":
                got = f"type {_desc(t)}"
            elif not isinstance(err, dict):
                got = f"error {_desc(err)}"
            else:
                et, em = _get(err, "type"), _get(err, "message")
                if not isinstance(et, str):
                    got = f"error.type {_desc(et)}"
                elif not isinstance(em, str):
                    got = f"error.message {_desc(em)}"
                else:
                    ok = True
        self._check(
            "error-envelope",
            ok,
            pos,
            f'expected {{"type":"error","error":{{"type":str,"message":str}}}}, got {got}',
        )

    def _on_message_start(self, p: dict | None, pos: int) -> None:
        if self._started:
            self._check("message-start-once", False, pos, "expected exactly one message_start, got a second one")
            return
        self._check("message-start-once", True, pos, "")
        self._started = True
        if p is None:
            self.message = {"content": []}
            return
        m = _get(p, "message")
        if not self._structure(
            isinstance(m, dict), pos, lambda: f"expected message_start.message to be an object, got {_desc(m)}"
        ):
            self.message = {"content": []}
            return
        content = _get(m, "content")
        self._check(
            "message-start-content-empty",
            content == [],
            pos,
            lambda: f"expected message_start.message.content [], got {_desc(content)}",
        )
        sr, ss = m.get("stop_reason"), m.get("stop_sequence")
        self._check(
            "message-start-stop-reason-null",
            sr is None and ss is None,
            pos,
            lambda: f"expected stop_reason and stop_sequence null in message_start, got {_show(sr)} and {_show(ss)}",
        )
        usage = _get(m, "usage")
        if not isinstance(usage, dict):
            self._check(
                "message-start-usage",
                False,
                pos,
                lambda: f"expected a usage object in message_start, got {_desc(usage)}",
            )
        else:
            it, ot = _get(usage, "input_tokens"), usage.get("output_tokens")
            ok = _is_int(it) and (ot is None or _is_int(ot))
            self._check(
                "message-start-usage",
                ok,
                pos,
                lambda: f"expected integer usage.input_tokens (and output_tokens), got {_desc(it)} and {_show(ot)}",
            )
            if _is_int(ot):
                self._output_tokens = ot
        self.message = copy.deepcopy(m)
        if not isinstance(self.message.get("content"), list):
            self.message["content"] = []

    def _on_content_block_start(self, p: dict | None, pos: int) -> None:
        self._after_delta("content_block_start", pos)
        idx = self._index(p, "content_block_start", pos)
        cb = _MISSING if p is None else _get(p, "content_block")
        btype = None
        if p is not None and self._structure(
            isinstance(cb, dict) and isinstance(cb.get("type"), str),
            pos,
            lambda: f"expected content_block to be an object with a string type, got {_desc(cb)}",
        ):
            btype = cast(dict, cb)["type"]  # a dict: checked by the _structure call above
        if idx is None:
            idx = self._next_index  # unreadable index: assume the expected one
        if idx in self._blocks:
            self._check(
                "block-start-once", False, pos, f"expected one content_block_start for index {idx}, got another"
            )
            return
        self._check("block-start-once", True, pos, "")
        self._check(
            "block-index-contiguous",
            idx == self._next_index,
            pos,
            f"expected content_block_start index {self._next_index}, got {idx}",
        )
        self._check(
            "block-start-while-open",
            not self._open,
            pos,
            f"expected index {self._open[-1] if self._open else ''} stopped before a new block starts, got content_block_start({idx})",
        )
        self._next_index = max(self._next_index, idx + 1)
        obj = None
        if self.message is not None and isinstance(cb, dict):
            obj = copy.deepcopy(cb)
            self.message["content"].append(obj)
        if btype in _TOOL_BLOCKS and isinstance(cb, dict) and "input" in cb:
            # the start shell's input is what a client holds when no delta follows (the SDK's)
            self._check(
                "tool-input-json",
                isinstance(cb["input"], dict),
                pos,
                lambda: (
                    f"expected the {btype} block's input at content_block_start to be an object, got {_desc(cb['input'])}"
                ),
            )
        signed = btype == "thinking" and isinstance(cb, dict) and bool(cb.get("signature"))
        if btype is not None and btype not in {"text", "thinking", "redacted_thinking"} | _TOOL_BLOCKS:
            self.unknown_blocks.append((pos, btype))
        self._blocks[idx] = _Block(idx, btype, obj, pos, signed)
        self._open.append(idx)

    def _on_content_block_delta(self, p: dict | None, pos: int) -> None:
        self._after_delta("content_block_delta", pos)
        idx = self._index(p, "content_block_delta", pos)
        if idx is None or p is None:
            return
        current = self._open[-1] if self._open else None
        if not self._check(
            "delta-open-index",
            idx == current,
            pos,
            f"expected a delta for the open block index {current}, got index {idx}",
        ):
            return
        block = self._blocks[idx]
        d = _get(p, "delta")
        if not self._structure(
            isinstance(d, dict) and isinstance(d.get("type"), str),
            pos,
            lambda: f"expected delta to be an object with a string type, got {_desc(d)}",
        ):
            return
        dt = d["type"]
        if dt not in _DELTA_BLOCKS:
            self.unknown_deltas.append((pos, dt))
            return
        if block.type is not None and not self._check(
            "delta-type-matches-block",
            block.type in _DELTA_BLOCKS[dt],
            pos,
            f"expected a delta for a {block.type} block, got {dt}",
        ):
            return
        key, typ = _DELTA_FIELD[dt]
        val = _get(d, key)
        if not self._structure(
            isinstance(val, typ), pos, lambda: f"expected {dt}.{key} to be a {typ.__name__}, got {_desc(val)}"
        ):
            return
        if block.type == "thinking":
            self._check(
                "signature-delta-last",
                not block.after_signature,
                pos,
                f"expected content_block_stop after signature_delta, got {dt}",
            )
        obj = block.obj
        if dt == "text_delta":
            if obj is not None:
                obj["text"] = (obj.get("text") or "") + val
        elif dt == "citations_delta":
            if obj is not None:
                if not obj.get("citations"):
                    obj["citations"] = []
                obj["citations"].append(copy.deepcopy(val))
        elif dt == "input_json_delta":
            block.json_parts.append(val)
        elif dt == "thinking_delta":
            if obj is not None:
                obj["thinking"] = (obj.get("thinking") or "") + val
        elif dt == "signature_delta":
            block.signed = True
            block.after_signature = True
            if obj is not None:
                obj["signature"] = val

    def _parse_tool_input(self, block: _Block, *, check: bool) -> None:
        buf = "".join(block.json_parts)
        if not buf:
            return  # the start shell's input stands (SDK behaviour)
        try:
            value = json.loads(buf)
        except ValueError:
            value = _MISSING
        if check:
            self._check(
                "tool-input-json",
                isinstance(value, dict),
                block.position,
                lambda: (
                    f"expected concatenated partial_json of block {block.index} to be a JSON object, got "
                    + ("invalid JSON" if value is _MISSING else type(value).__name__)
                    + f": {_show(buf)}"
                ),
            )
        if isinstance(value, dict) and block.obj is not None:
            block.obj["input"] = value

    def _on_content_block_stop(self, p: dict | None, pos: int) -> None:
        self._after_delta("content_block_stop", pos)
        idx = self._index(p, "content_block_stop", pos)
        if idx is None:
            if self._open:  # unreadable index: assume the open block was meant
                idx = self._open[-1]
            else:
                return
        block = self._blocks.get(idx)
        if block is not None and block.stopped:
            self._check("block-stop-once", False, pos, f"expected one content_block_stop for index {idx}, got another")
            return
        self._check("block-stop-once", True, pos, "")
        if not self._check(
            "block-stop-open-index",
            block is not None and idx in self._open,
            pos,
            f"expected content_block_stop for an open block (open: {self._open}), got index {idx}",
        ):
            return
        assert block is not None
        block.stopped = True
        block.open = False
        self._open.remove(idx)
        if block.type == "thinking":
            self._check(
                "thinking-signature",
                block.signed,
                pos,
                f"expected a signature_delta before content_block_stop of thinking block {idx}, got none",
            )
        if block.type in _TOOL_BLOCKS:
            self._parse_tool_input(block, check=True)

    def _on_message_delta(self, p: dict | None, pos: int) -> None:
        if self._message_deltas == 0:
            self._close_check(pos, "message_delta")
        self._message_deltas += 1
        if p is None:
            return
        d = _get(p, "delta")
        if self._structure(
            isinstance(d, dict), pos, lambda: f"expected message_delta.delta to be an object, got {_desc(d)}"
        ):
            assert isinstance(d, dict)
            sr = d.get("stop_reason")
            if self._check(
                "message-delta-stop-reason", sr is not None, pos, "expected a non-null delta.stop_reason, got null"
            ):
                self._check(
                    "stop-reason-in-enum",
                    isinstance(sr, str) and sr in STOP_REASONS,
                    pos,
                    lambda: f"expected stop_reason in {sorted(STOP_REASONS)}, got {_show(sr)}",
                )
                ss = d.get("stop_sequence")
                if sr == "stop_sequence":
                    self._check(
                        "stop-sequence-iff",
                        ss is not None,
                        pos,
                        'expected a non-null stop_sequence with stop_reason "stop_sequence", got null',
                    )
                else:
                    self._check(
                        "stop-sequence-iff",
                        ss is None,
                        pos,
                        lambda: f"expected stop_sequence null with stop_reason {_show(sr)}, got {_show(ss)}",
                    )
            if self.message is not None:
                self.message["stop_reason"] = sr
                self.message["stop_sequence"] = d.get("stop_sequence")
                if "stop_details" in d:
                    self.message["stop_details"] = copy.deepcopy(d["stop_details"])
                if d.get("container") is not None:
                    self.message["container"] = copy.deepcopy(d["container"])
        u = _get(p, "usage")
        ot = u.get("output_tokens", _MISSING) if isinstance(u, dict) else _MISSING
        if not self._check(
            "message-delta-usage",
            _is_int(ot),
            pos,
            lambda: (
                "expected integer message_delta.usage.output_tokens, got "
                + (f"usage {_desc(u)}" if not isinstance(u, dict) else _desc(ot))
            ),
        ):
            return
        assert isinstance(u, dict) and isinstance(ot, int)
        prev = self._output_tokens
        self._check(
            "output-tokens-cumulative",
            prev is None or ot >= prev,
            pos,
            f"expected cumulative output_tokens >= {prev}, got {ot}",
        )
        self._output_tokens = ot
        if self.message is not None:
            usage = self.message.get("usage")
            if not isinstance(usage, dict):
                usage = self.message["usage"] = {}
            usage["output_tokens"] = ot
            for k, v in u.items():
                if k != "output_tokens" and v is not None:
                    usage[k] = copy.deepcopy(v)

    def _on_message_stop(self, p: dict | None, pos: int) -> None:
        self._check(
            "message-delta-present",
            self._message_deltas > 0,
            pos,
            "expected at least one message_delta before message_stop, got none",
        )
        if self._message_deltas == 0:
            self._close_check(pos, "message_stop")
        self._check("message-stop-once", True, pos, "")
        self._stopped = True
