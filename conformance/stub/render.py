"""Turn a planned :class:`~conformance.stub.generate.Reply` into wire shapes, clean.

Message JSON per contract §2, SSE event payloads per §3.2-3.3, error envelope per §4.1.
Faults never appear here: :mod:`conformance.stub.faults` rewrites these shapes afterwards.
"""

from __future__ import annotations

from typing import Any

from .generate import Block, Reply, json_chunks, text_chunks


def usage(reply: Reply) -> dict[str, Any]:
    """``usage`` with the two required ints and the nullable cache fields (§2.3)."""
    return {
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }


def message(reply: Reply, *, msg_id: str, model: str) -> dict[str, Any]:
    """The non-streaming 200 body (§2.1)."""
    return {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [b.wire() for b in reply.blocks],
        "stop_reason": reply.stop_reason,
        "stop_sequence": reply.stop_sequence,
        "usage": usage(reply),
    }


def message_start(reply: Reply, *, msg_id: str, model: str) -> dict[str, Any]:
    """``message_start``: empty content, null stop_reason, usage with input_tokens (§9 item 19)."""
    start_usage = usage(reply)
    start_usage["output_tokens"] = min(1, reply.output_tokens)
    return {
        "type": "message_start",
        "message": {
            "id": msg_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        },
    }


def _shell(block: Block) -> dict[str, Any]:
    """The empty block sent in ``content_block_start`` (§3.2)."""
    if block.type == "text":
        return {"type": "text", "text": ""}
    if block.type == "thinking":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "tool_use", "id": block.tool_id, "name": block.name, "input": {}}


def block_events(index: int, block: Block) -> list[dict[str, Any]]:
    """start, deltas (increments, §9 item 21), stop for one block."""
    events: list[dict[str, Any]] = [{"type": "content_block_start", "index": index, "content_block": _shell(block)}]

    def delta(payload: dict[str, Any]) -> None:
        events.append({"type": "content_block_delta", "index": index, "delta": payload})

    if block.type == "text":
        for piece in text_chunks(block.text):
            delta({"type": "text_delta", "text": piece})
    elif block.type == "thinking":
        for piece in text_chunks(block.text):
            delta({"type": "thinking_delta", "thinking": piece})
        delta({"type": "signature_delta", "signature": block.signature})  # just before the stop
    else:
        for piece in json_chunks(block.input):
            delta({"type": "input_json_delta", "partial_json": piece})
    events.append({"type": "content_block_stop", "index": index})
    return events


def stream_events(reply: Reply, *, msg_id: str, model: str) -> list[dict[str, Any]]:
    """The whole stream in §3.3 order, with one ``ping`` after ``message_start``."""
    events = [message_start(reply, msg_id=msg_id, model=model), {"type": "ping"}]
    for index, block in enumerate(reply.blocks):
        events.extend(block_events(index, block))
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": reply.stop_reason, "stop_sequence": reply.stop_sequence},
            "usage": {"output_tokens": reply.output_tokens, "input_tokens": reply.input_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events


def error_body(error_type: str, message_text: str, request_id: str | None) -> dict[str, Any]:
    """The error envelope (§4.1)."""
    return {"type": "error", "error": {"type": error_type, "message": message_text}, "request_id": request_id}
