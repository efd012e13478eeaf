"""Controls: legal variations of the wire a correct client must accept (§3.1, §3.2 ping anywhere,
unknown events and fields ignored). They trip no check."""

from __future__ import annotations

import dataclasses

from ._base import Events, Fault, Frame, Json, control


def _ping_between(events: Events, created: int) -> Events:
    spaced: Events = []
    for e in events:
        if spaced:
            spaced.append({"type": "ping"})
        spaced.append(e)
    return spaced


def _extra_message_fields(msg: Json, created: int) -> Json:
    msg["x_stub_extra"] = {"note": "clients must ignore unknown fields"}
    msg["usage"]["x_stub_extra"] = 0
    for block in msg["content"]:
        block["x_stub_extra"] = True
    return msg


def _extra_event_fields(events: Events, created: int) -> Events:
    for e in events:
        e["x_stub_extra"] = 1
        for key in ("message", "delta", "content_block", "usage"):
            if isinstance(e.get(key), dict):
                e[key]["x_stub_extra"] = 1
        if isinstance(e.get("message"), dict):
            e["message"]["usage"]["x_stub_extra"] = 1
    return events


def _extra_error_fields(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    body["error"]["x_stub_detail"] = "extra"
    body["x_stub_extra"] = True
    return status, body, headers


def _extra_page_fields(page: Json, all_models: tuple[Json, ...]) -> Json:
    return {**page, "x_stub_extra": 1, "data": [{**m, "x_stub_extra": 1} for m in page["data"]]}


def _split(chunks: list[bytes]) -> list[bytes]:
    pieces: list[bytes] = []
    for chunk in chunks:
        i, step = 0, 1
        while i < len(chunk):
            pieces.append(chunk[i : i + step])
            i += step
            step = step % 7 + 1
    return pieces


def _annotation(events: Events, created: int) -> Events:
    at = next((i for i, e in enumerate(events) if e["type"] == "content_block_stop"), len(events) - 1)
    events.insert(at, {"type": "content_block_annotation", "index": events[at].get("index", 0), "note": "ignore me"})
    return events


def _retry_and_id(index: int, payload: Json, frame: Frame) -> Frame:
    return dataclasses.replace(frame, id=str(index + 1), retry=3000)


def _ratelimit_headers(headers: dict[str, str], request_id: str) -> dict[str, str]:
    return {
        **headers,
        "anthropic-organization-id": "00000000-0000-4000-8000-000000000000",
        "anthropic-ratelimit-requests-limit": "1000",
        "anthropic-ratelimit-requests-remaining": "999",
        "anthropic-ratelimit-requests-reset": "2030-01-01T00:00:00Z",
    }


FAULTS: tuple[Fault, ...] = (
    control("crlf-line-endings", "SSE lines end with \\r\\n", sse_eol="\r\n"),
    control("cr-line-endings", "SSE lines end with \\r", sse_eol="\r"),
    control("ping-between-every-event", "a ping event between every two events", events=_ping_between),
    control(
        "extra-response-fields",
        "unknown extra fields in the Message, blocks, usage, events and error bodies",
        message=_extra_message_fields,
        events=_extra_event_fields,
        error=_extra_error_fields,
        models_page=_extra_page_fields,
    ),
    control("sse-comments", "': keep-alive' comment lines before and between events", sse_comments=True),
    control("split-writes", "every event written in 1-7 byte pieces, each flushed", write=_split),
    control(
        "unknown-event-type",
        "an extra event content_block_annotation (legal, §3.3; SDK 2.14 ignores it, but raises in strict mode)",
        events=_annotation,
    ),
    control("retry-and-id-fields", "SSE id: and retry: lines on events", frame=_retry_and_id),
    control(
        "multi-line-data", "each event's JSON spread over several data: lines (joined with \\n)", multi_line_data=True
    ),
    control(
        "no-space-after-colon",
        "field lines written as event:name / data:{…} without the optional space",
        sse_separator=":",
    ),
    control(
        "ratelimit-headers",
        "anthropic-ratelimit-* and anthropic-organization-id response headers",
        headers=_ratelimit_headers,
    ),
)
