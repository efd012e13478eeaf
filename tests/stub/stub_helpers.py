"""Small request and SSE helpers for the stub tests (independent of the harness's parser)."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

KEY = "test-key"
MODEL = "claude-sonnet-4-5"
V1 = "2023-06-01"
V2 = "2026-10-21"

# one shared client: httpx.post() builds a new client (and SSL context) per call, ~50 ms each
HTTP = httpx.Client(timeout=10)


def headers(version: str = V1, **extra: str) -> dict[str, str]:
    return {"x-api-key": KEY, "anthropic-version": version, "content-type": "application/json", **extra}


def body(text: str = "Hello there", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 200, "messages": [{"role": "user", "content": text}], **extra}


def post(url: str, payload: Any, *, version: str = V1, path: str = "/v1/messages", **hdrs: str) -> httpx.Response:
    return HTTP.post(url + path, json=payload, headers=headers(version, **hdrs))


def parse_sse(raw: str) -> list[tuple[str | None, str]]:
    """Split on blank lines; return (event name or None, joined data) per event (WHATWG rules,
    without comments/id/retry)."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    events = []
    for chunk in re.split(r"\n\n", raw):
        name, data = None, []
        for line in chunk.split("\n"):
            if not line or line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        if name is not None or data:
            events.append((name, "\n".join(data)))
    return events


def stream_payloads(url: str, payload: dict, **kw: Any) -> tuple[httpx.Response, list[tuple[str | None, Any]]]:
    """POST a streaming request; return the response and (event, parsed data) pairs."""
    r = post(url, {**payload, "stream": True}, **kw)
    out = []
    for name, data in parse_sse(r.text):
        try:
            out.append((name, json.loads(data)))
        except json.JSONDecodeError:
            out.append((name, data))
    return r, out


def assemble(events: list[tuple[str | None, Any]]) -> dict[str, Any]:
    """Fold a clean stream into a Message the way a client would (checks grammar on the way)."""
    names = [n for n, _ in events if n != "ping"]
    assert names[0] == "message_start" and names[-1] == "message_stop", names
    message: dict[str, Any] = {}
    blocks: list[dict[str, Any]] = []
    partial: dict[int, str] = {}
    open_index: int | None = None
    for name, data in events:
        assert name == data["type"], (name, data)
        if name == "message_start":
            message = data["message"]
            assert message["content"] == [] and message["stop_reason"] is None
        elif name == "content_block_start":
            assert data["index"] == len(blocks) and open_index is None
            open_index = data["index"]
            blocks.append(dict(data["content_block"]))
        elif name == "content_block_delta":
            assert data["index"] == open_index
            block, delta = blocks[open_index], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial[open_index] = partial.get(open_index, "") + delta["partial_json"]
        elif name == "content_block_stop":
            assert data["index"] == open_index
            if open_index in partial:
                blocks[open_index]["input"] = json.loads(partial[open_index])
            open_index = None
        elif name == "message_delta":
            message["stop_reason"] = data["delta"]["stop_reason"]
            message["stop_sequence"] = data["delta"]["stop_sequence"]
            message["usage"].update(data["usage"])
    message["content"] = blocks
    return message
