"""Faults of the stream: framing (§3.1, §8.6-8.8), grammar (§3.2-3.3) and errors (§4.3, §8.7)."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Callable

from ._base import OPENAI_STOP, SDK_STREAMS, Events, Fault, Frame, Json, defect, dump, on_type, without

# ---- framing


def _openai_chunks(events: Events, created: int) -> Events:
    """Darkbloom's stream (§8.6): chat.completion.chunk objects (framed data-only, then [DONE])."""
    start = next((e for e in events if e["type"] == "message_start"), None)
    ident = "chatcmpl-" + (start["message"]["id"][4:] if start else "0")
    model = start["message"]["model"] if start else ""

    def chunk(delta: Json, finish: str | None) -> Json:
        return {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    out = [chunk({"role": "assistant", "content": ""}, None)]
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta":
            out.append(chunk({"content": e["delta"]["text"]}, None))
        elif e["type"] == "message_delta":
            out.append(chunk({}, OPENAI_STOP.get(e["delta"]["stop_reason"], "stop")))
        elif e["type"] == "error":
            out.append({"error": {"message": e["error"]["message"], "type": "provider_error"}})
    out.append({"object": "chat.completion.chunk", "choices": [], "se_signature": "stub", "response_hash": "stub"})
    return out


def _unnamed(index: int, payload: Json, frame: Frame) -> Frame:
    return dataclasses.replace(frame, event=None)


def _named_message(index: int, payload: Json, frame: Frame) -> Frame:
    return dataclasses.replace(frame, event="message") if frame.event is not None else frame


def _empty_ping(index: int, payload: Json, frame: Frame) -> Frame:
    # the last frame hook: an empty ping is written as is, whatever the others did
    return Frame("ping", "") if payload.get("type") == "ping" and "object" not in payload else frame


# ---- grammar: message_start


def _fill_start_content(events: Events, created: int) -> Events:
    blocks: dict[int, Json] = {}
    for e in events:
        if e["type"] == "content_block_start":
            blocks[e["index"]] = copy.deepcopy(e["content_block"])
        elif e["type"] == "content_block_delta":
            block, delta = blocks[e["index"]], e["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                block["_json"] = block.get("_json", "") + delta["partial_json"]
    for block in blocks.values():
        if "_json" in block:
            block["input"] = json.loads(block.pop("_json") or "{}")
    for e in events:
        if e["type"] == "message_start":
            e["message"]["content"] = [blocks[i] for i in sorted(blocks)]
    return events


def _final_stop_reason_at_start(events: Events, created: int) -> Events:
    final = next((e["delta"] for e in events if e["type"] == "message_delta"), None)
    for e in events:
        if e["type"] == "message_start" and final is not None:
            e["message"].update(stop_reason=final["stop_reason"], stop_sequence=final["stop_sequence"])
    return events


def _no_input_tokens(e: Json) -> None:
    e["message"]["usage"].pop("input_tokens", None)


# ---- grammar: content blocks


def _repeat(kind: str) -> Callable[[Events, int], Events]:
    """Each event of type ``kind`` sent twice; a repeated content_block_start goes just before
    the block's first delta (where an adapter that opens a block per upstream chunk sends it)."""

    def hook(events: Events, created: int) -> Events:
        out: Events = []
        pending: Json | None = None
        for e in events:
            if pending is not None and e["type"] in ("content_block_delta", "content_block_stop"):
                out.append(pending)
                pending = None
            out.append(e)
            if e["type"] == kind:
                if kind == "content_block_start":
                    pending = copy.deepcopy(e)
                else:
                    out.append(copy.deepcopy(e))
        return out

    return hook


def _stop_after_message_delta(events: Events, created: int) -> Events:
    """The last content_block_stop moved to just after message_delta."""
    stops = [i for i, e in enumerate(events) if e["type"] == "content_block_stop"]
    delta = next((i for i, e in enumerate(events) if e["type"] == "message_delta"), None)
    if not stops or delta is None:
        return events
    stop = events[stops[-1]]
    out = [e for i, e in enumerate(events) if i != stops[-1]]
    out.insert(out.index(events[delta]) + 1, stop)
    return out


def _shift_index(e: Json) -> None:
    e["index"] += 1


def _drop_index(e: Json) -> None:
    del e["index"]


def _double_indices(events: Events, created: int) -> Events:
    for e in events:
        if "index" in e:
            e["index"] *= 2
    return events


def _thinking_as_text(events: Events, created: int) -> Events:
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "thinking_delta":
            e["delta"] = {"type": "text_delta", "text": e["delta"]["thinking"]}
    return events


def _is_signature(e: Json) -> bool:
    return e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta"


def _signature_first(events: Events, created: int) -> Events:
    """Move each signature_delta to just after its thinking block's content_block_start."""
    signatures = {e["index"]: e for e in events if _is_signature(e)}
    out: Events = []
    for e in events:
        if _is_signature(e):
            continue
        out.append(e)
        if e["type"] == "content_block_start" and e["index"] in signatures:
            out.append(signatures[e["index"]])
    return out


def _snapshot_deltas(events: Events, created: int) -> Events:
    sofar: dict[int, str] = {}
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta":
            sofar[e["index"]] = sofar.get(e["index"], "") + e["delta"]["text"]
            e["delta"]["text"] = sofar[e["index"]]
    return events


# ---- grammar: message_delta and the end


def _null_stop_reason(e: Json) -> None:
    e["delta"]["stop_reason"] = None


def _usage_increments(events: Events, created: int) -> Events:
    """message_delta split in two: the tokens before the last one, then the last one alone."""
    out: Events = []
    for e in events:
        total = e.get("usage", {}).get("output_tokens") if e["type"] == "message_delta" else None
        if isinstance(total, int) and total >= 2:
            first = copy.deepcopy(e)
            first["usage"]["output_tokens"] = total - 1
            out.append(first)
            e = copy.deepcopy(e)
            e["usage"] = {"output_tokens": 1}
        out.append(e)
    return out


# ---- errors


def _unnamed_error(index: int, payload: Json, frame: Frame) -> Frame:
    if frame.event != "error":
        return frame
    return dataclasses.replace(frame, event=None, data=dump({"error": payload["error"]}))


def _openai_error(index: int, payload: Json, frame: Frame) -> Frame:
    if frame.event != "error":  # not an error event, or already rewritten (mid-stream-error-unnamed)
        return frame
    error = payload["error"]
    return dataclasses.replace(
        frame, data=dump({"error": {"message": error["message"], "type": error["type"], "code": None}})
    )


def _continue_after_error(events: Events, created: int) -> Events:
    if events and events[-1]["type"] == "error":
        events += [
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 1},
            },
            {"type": "message_stop"},
        ]
    return events


FAULTS: tuple[Fault, ...] = (
    # ---- stream framing (§3.1, §8.6-8.8)
    defect(
        "openai-stream",
        "stream is OpenAI chat.completion.chunk data-only SSE with [DONE] (Darkbloom §8.6)",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "stream.grammar.event-named",
        "stream.events.schema",
        "sdk.messages.create-stream",
        "fuzz.valid.accepted",
        *SDK_STREAMS,
        events=_openai_chunks,
        replaces=frozenset({"events"}),
        done_sentinel=True,
    ),
    defect(
        "unnamed-sse-events",
        "Anthropic payloads but no event: lines (proxy drops them, Darkbloom §8.6)",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "stream.grammar.event-named",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        frame=_unnamed,
    ),
    defect(
        "done-sentinel",
        "data: [DONE] after message_stop",
        "stream.grammar.no-done-sentinel",
        "stream.grammar.nothing-after-message-stop",
        done_sentinel=True,
    ),
    defect(
        "event-name-mismatch",
        "every event is named event: message instead of its data.type",
        "stream.grammar.type-matches-event",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        frame=_named_message,
    ),
    defect(
        "empty-ping-data",
        'keep-alive pings are written as event: ping with an empty data: line instead of {"type":"ping"}',
        "stream.grammar.data-is-json-object",
        frame=_empty_ping,
    ),
    defect(
        "stream-json-content-type",
        "streams are sent with content-type application/json",
        "stream.framing.content-type",
        stream_content_type="application/json",
    ),
    defect(
        "accept-decides-stream",
        "SSE only if Accept includes text/event-stream, else a JSON Message (the SDK sends Accept: application/json)",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "stream.framing.sse-despite-accept-json",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        stream_from_accept=True,
    ),
    defect(
        "buffered-stream",
        "all events written at once after ~300 ms (a buffering proxy)",
        "stream.delivery.incremental",
        buffered=0.3,
    ),
    # ---- stream grammar: message_start (§3.2-3.3)
    defect(
        "missing-message-start",
        "no message_start event",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "stream.grammar.message-start-first",
        "stream.grammar.message-start-once",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        events=without("message_start"),
    ),
    defect(
        "message-start-content-not-empty",
        "message_start.message.content already holds the final blocks",
        "stream.grammar.message-start-content-empty",
        events=_fill_start_content,
    ),
    defect(
        "message-start-final-stop-reason",
        "message_start.message is the finished Message minus content: stop_reason already set (a buffering adapter)",
        "stream.grammar.message-start-stop-reason-null",
        events=_final_stop_reason_at_start,
    ),
    defect(
        "input-tokens-missing-in-message-start",
        "message_start.message.usage lacks input_tokens (sent only at the end)",
        "stream.grammar.message-start-usage",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        events=on_type("message_start", _no_input_tokens),
    ),
    # ---- stream grammar: content blocks
    defect(
        "delta-without-index",
        "content_block_delta events carry no index (an adapter that only ever streams one block)",
        "stream.grammar.payload-structure",
        events=on_type("content_block_delta", _drop_index),
    ),
    defect(
        "repeated-block-start",
        "content_block_start is sent again with the block's first delta (the adapter opens a block per upstream chunk)",
        "stream.grammar.block-start-once",
        events=_repeat("content_block_start"),
    ),
    defect(
        "repeated-block-stop",
        "content_block_stop is sent twice per block (on the upstream finish and again on close)",
        "clients.claude-code.print",
        "stream.grammar.block-stop-once",
        events=_repeat("content_block_stop"),
    ),
    defect(
        "one-based-block-stop",
        "content_block_stop carries the block's index + 1 (1-based), naming a block that is not open",
        "stream.grammar.block-stop-open-index",
        events=on_type("content_block_stop", _shift_index),
    ),
    defect(
        "block-stop-after-message-delta",
        "the last content_block_stop comes after message_delta (the finish reason is forwarded before the block is closed)",
        "stream.grammar.blocks-before-message-delta",
        "stream.grammar.blocks-closed",
        events=_stop_after_message_delta,
    ),
    defect(
        "missing-content-block-stop",
        "blocks are never closed with content_block_stop",
        "clients.claude-code.print",
        "stream.grammar.blocks-closed",
        "stream.grammar.block-start-while-open",
        events=without("content_block_stop"),
    ),
    defect(
        "delta-index-skew",
        "content_block_delta.index is one more than the open block's index",
        "stream.grammar.delta-open-index",
        "sdk.messages.stream-final-message",
        "sdk.messages.stream-tool-use",
        "sdk.messages.stream-thinking",
        events=on_type("content_block_delta", _shift_index),
    ),
    defect(
        "non-contiguous-block-index",
        "block indices go 0, 2, 4, … instead of 0, 1, 2",
        "stream.grammar.block-index-contiguous",
        "sdk.messages.stream-thinking",
        events=_double_indices,
    ),
    defect(
        "thinking-as-text-delta",
        "thinking content streamed as text_delta inside thinking blocks (reasoning_content mapped to text)",
        "stream.grammar.delta-type-matches-block",
        events=_thinking_as_text,
    ),
    defect(
        "signature-first",
        "signature_delta sent first in a thinking block, before its thinking deltas",
        "stream.grammar.signature-delta-last",
        events=_signature_first,
    ),
    defect(
        "thinking-without-signature",
        "thinking blocks end without a signature_delta",
        "stream.grammar.thinking-signature",
        "sdk.messages.stream-thinking",
        "semantics.thinking.block-first",
        events=lambda events, created: [e for e in events if not _is_signature(e)],
    ),
    defect(
        "snapshot-deltas",
        "text_delta carries the cumulative text instead of the increment",
        "stream.deltas.increments",
        events=_snapshot_deltas,
    ),
    # ---- stream grammar: message_delta and the end of the stream
    defect(
        "no-message-delta",
        "no message_delta: stop_reason and the final usage are never streamed",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "stream.grammar.message-delta-present",
        events=without("message_delta"),
    ),
    defect(
        "null-stop-reason-in-stream",
        "message_delta.delta.stop_reason is null (the finish reason of the upstream's last chunk is lost)",
        "clients.typescript-sdk.stream-final-message",
        "stream.grammar.message-delta-stop-reason",
        events=on_type("message_delta", _null_stop_reason),
    ),
    defect(
        "usage-increments",
        "usage is reported per upstream chunk: a second message_delta carries only the last token's count, not the total",
        "stream.grammar.output-tokens-cumulative",
        events=_usage_increments,
    ),
    defect(
        "missing-message-stop",
        "no message_stop event",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "stream.grammar.stream-truncated",
        "fuzz.valid.accepted",
        "sdk.messages.create-stream",
        events=without("message_stop"),
    ),
    defect(
        "repeated-message-stop",
        "message_stop is sent twice (on the finish and again at upstream EOF)",
        "stream.grammar.message-stop-once",
        events=_repeat("message_stop"),
    ),
    # ---- stream errors (§4.3, §8.7)
    defect(
        "mid-stream-error-unnamed",
        'a post-200 failure is sent as data: {"error":…} without event: error (Darkbloom §8.7)',
        "stream.errors.mid-stream-event",
        "stream.grammar.event-named",
        frame=_unnamed_error,
    ),
    defect(
        "openai-error-event",
        'a post-200 failure is event: error with OpenAI data {"error":{message,type,code}}',
        "stream.grammar.error-envelope",
        frame=_openai_error,
    ),
    defect(
        "stream-continues-after-error",
        "after an error event the stream still sends message_delta and message_stop (an unconditional finally)",
        "stream.grammar.error-ends-stream",
        events=_continue_after_error,
    ),
)
