"""Diagnosis: known defect patterns recognised in a run, named with their likely cause and fix.

A pure function over the result model: :func:`diagnose` reads the evidence (recorded
exchanges) of every check that did not hold (failed, error, expected failure) and looks for the
symptoms of defects seen in real Anthropic-compatible servers: an OpenAI error envelope, an
OpenAI-style stream on the Anthropic route, a ``chat.completion`` body, ``finish_reason``
values in ``stop_reason``, ... A pattern is reported with the checks whose evidence shows it,
so one cause explains many failures. Each pattern is proven against the stub fault that
produces it (``tests/report/test_diagnosis.py``).
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from conformance._grammar import KNOWN_EVENTS

__all__ = ["PATTERNS", "Pattern", "diagnose"]

# Verdicts whose evidence is searched: the check did not hold (or is known not to).
_SEARCHED = frozenset({"failed", "error", "expected failure"})
_OPENAI_FINISH = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


@dataclass(frozen=True)
class Pattern:
    id: str
    title: str
    cause: str
    fix: str
    # exchange (evidence dict) -> a short example of the symptom, or None
    detect: Callable[[dict], str | None]
    # only failing checks matching one of these globs are attributed (empty: any)
    checks: tuple[str, ...] = ()


# -- evidence helpers -------------------------------------------------------------------------


def _loads(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _body(ex: dict) -> Any:
    """The JSON body of a non-stream answer, or None."""
    if ex.get("events"):
        return None
    return _loads(ex.get("body"))


def _payloads(ex: dict) -> Iterable[tuple[dict, Any]]:
    for ev in ex.get("events") or ():
        yield ev, _loads(ev.get("data"))


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _where(ex: dict) -> str:
    req = ex.get("request") or {}
    path = str(req.get("url", "")).split("://", 1)[-1]
    path = "/" + path.split("/", 1)[1] if "/" in path else path
    return f"{req.get('method', '')} {path}".strip()


# -- detectors --------------------------------------------------------------------------------


def _openai_error_envelope(ex: dict) -> str | None:
    body = _body(ex)
    status = ex.get("status")
    if isinstance(status, int) and status >= 400 and isinstance(body, dict):
        if isinstance(body.get("error"), dict) and body.get("type") != "error":
            return f"{_where(ex)} -> {status} {_short(body)}"
    return None


def _openai_stream(ex: dict) -> str | None:
    for ev, data in _payloads(ex):
        if isinstance(data, dict) and (data.get("object") == "chat.completion.chunk" or "choices" in data):
            return f"{_where(ex)}: event #{ev.get('position')} data: {_short(ev.get('data'))}"
    return None


def _unnamed_events(ex: dict) -> str | None:
    for ev, data in _payloads(ex):
        if not ev.get("event") and isinstance(data, dict) and data.get("type") in KNOWN_EVENTS:
            return f"{_where(ex)}: event #{ev.get('position')} has no event: line, data type {data.get('type')!r}"
    return None


def _done_sentinel(ex: dict) -> str | None:
    for ev, _ in _payloads(ex):
        if str(ev.get("data", "")).strip() == "[DONE]":
            return f"{_where(ex)}: event #{ev.get('position')} is data: [DONE]"
    return None


def _chat_completion_body(ex: dict) -> str | None:
    body = _body(ex)
    if isinstance(body, dict) and (body.get("object") == "chat.completion" or isinstance(body.get("choices"), list)):
        return f"{_where(ex)} -> {ex.get('status')} object {body.get('object')!r} with choices[]"
    return None


def _openai_stop_reason(ex: dict) -> str | None:
    body = _body(ex)
    if isinstance(body, dict) and body.get("stop_reason") in _OPENAI_FINISH:
        return f"{_where(ex)}: stop_reason {body['stop_reason']!r}"
    for ev, data in _payloads(ex):
        if isinstance(data, dict) and data.get("type") == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason") if isinstance(data.get("delta"), dict) else None
            if reason in _OPENAI_FINISH:
                return f"{_where(ex)}: message_delta (event #{ev.get('position')}) stop_reason {reason!r}"
    return None


def _tool_input_string(ex: dict) -> str | None:
    body = _body(ex)
    if isinstance(body, dict) and isinstance(body.get("content"), list):
        for block in body["content"]:
            if isinstance(block, dict) and block.get("type") == "tool_use" and isinstance(block.get("input"), str):
                return f"{_where(ex)}: tool_use.input is the string {_short(block['input'], 60)}"
    tool_blocks: dict[Any, list[str]] = {}  # keyed by the event's index, whatever JSON value it is
    for _, data in _payloads(ex):
        if not isinstance(data, dict):
            continue
        if data.get("type") == "content_block_start" and isinstance(data.get("content_block"), dict):
            block = data["content_block"]
            if block.get("type") == "tool_use":
                if isinstance(block.get("input"), str) and block["input"]:
                    return f"{_where(ex)}: content_block_start tool_use.input is a string"
                tool_blocks[data.get("index")] = []
        elif data.get("type") == "content_block_delta" and data.get("index") in tool_blocks:
            delta = data.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("partial_json"), str):
                tool_blocks[data["index"]].append(delta["partial_json"])
    for index, parts in tool_blocks.items():
        value = _loads("".join(parts))
        if isinstance(value, str):
            return f"{_where(ex)}: streamed tool input (block {index}) is the JSON string {_short(''.join(parts), 60)}"
    return None


def _input_tokens_missing(ex: dict) -> str | None:
    for _event, data in _payloads(ex):
        if isinstance(data, dict) and data.get("type") == "message_start" and isinstance(data.get("message"), dict):
            usage = data["message"].get("usage")
            if not isinstance(usage, dict) or "input_tokens" not in usage:
                return f"{_where(ex)}: message_start.message.usage is {_short(usage, 60)}"
    return None


def _delta_wrong_index(ex: dict) -> str | None:
    open_blocks: set[Any] = set()
    for ev, data in _payloads(ex):
        if not isinstance(data, dict):
            continue
        kind, index = data.get("type"), data.get("index")
        if kind == "content_block_start":
            open_blocks.add(index)
        elif kind == "content_block_stop":
            open_blocks.discard(index)
        elif kind == "content_block_delta" and index not in open_blocks:
            opened = ", ".join(str(i) for i in sorted(open_blocks, key=str)) or "none"
            return f"{_where(ex)}: content_block_delta (event #{ev.get('position')}) at index {index}; open block(s): {opened}"
    return None


def _buffered_stream(ex: dict) -> str | None:
    events = ex.get("events") or []
    deltas = [i for i, ev in enumerate(events) if ev.get("event") == "content_block_delta"]
    if len(deltas) < 2:
        return None
    window = events[deltas[0] :]
    if len({ev.get("arrived") for ev in window}) == 1:
        return (
            f"{_where(ex)}: {len(window)} events from the first delta to the end arrived in one read, "
            f"{float(events[0].get('arrived') or 0) * 1000:.0f} ms after the request"
        )
    return None


def _openai_ids(ex: dict) -> str | None:
    body = _body(ex)
    # a whole chat.completion body is its own pattern; this one is about otherwise Anthropic answers
    if isinstance(body, dict) and body.get("type") == "message" and str(body.get("id", "")).startswith("chatcmpl-"):
        return f"{_where(ex)}: id {body['id']!r}"
    for _, data in _payloads(ex):
        if isinstance(data, dict) and data.get("type") == "message_start" and isinstance(data.get("message"), dict):
            mid = data["message"].get("id")
            if isinstance(mid, str) and mid.startswith("chatcmpl-"):
                return f"{_where(ex)}: message_start id {mid!r}"
    return None


def _openai_models(ex: dict) -> str | None:
    body = _body(ex)
    if "/v1/models" in str((ex.get("request") or {}).get("url", "")) and isinstance(body, dict):
        data = body.get("data")
        items = data if isinstance(data, list) else [body]
        for item in items:
            if isinstance(item, dict) and item.get("object") == "model" and "owned_by" in item:
                return f"{_where(ex)}: {_short(item, 80)}"
    return None


_STREAM_FIX_ROUTE = (
    "Serve /v1/messages with Anthropic's own event stream: every event as `event: <type>` plus "
    "`data: <JSON whose type equals the event name>`, ending with message_stop and nothing after it."
)

PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "openai-error-envelope",
        "OpenAI error envelope",
        'Errors are produced by an OpenAI-compatible layer: {"error": {"type", "message"}} without the top-level '
        '"type": "error" (and without request_id).',
        'Return {"type": "error", "error": {"type": <Anthropic error type>, "message": ...}, "request_id": ...} '
        "with the matching HTTP status for every error.",
        _openai_error_envelope,
    ),
    Pattern(
        "openai-stream",
        "An OpenAI-style stream on the Anthropic route",
        "The streaming path forwards an OpenAI chat.completion.chunk stream (data-only SSE, choices[].delta, "
        "data: [DONE]) instead of translating it.",
        "Translate the upstream stream into message_start, content_block_start/delta/stop, message_delta and "
        "message_stop events. " + _STREAM_FIX_ROUTE,
        _openai_stream,
    ),
    Pattern(
        "unnamed-sse-events",
        "Unnamed SSE events (an OpenAI-style stream on the Anthropic route)",
        "The server (or a proxy) writes only data: lines; Anthropic clients dispatch on the event: line, "
        "so they see no events at all.",
        "Write an `event: <type>` line before each data: line and make sure proxies pass it through. "
        + _STREAM_FIX_ROUTE,
        _unnamed_events,
    ),
    Pattern(
        "done-sentinel",
        "data: [DONE] after message_stop (an OpenAI-style stream on the Anthropic route)",
        "An OpenAI streaming helper appends the [DONE] sentinel; Anthropic streams end with message_stop.",
        "Drop the [DONE] line: close the stream right after the message_stop event.",
        _done_sentinel,
    ),
    Pattern(
        "chat-completion-body",
        "chat.completion body on /v1/messages",
        "The non-streaming path returns the upstream OpenAI chat.completion object (choices[].message, "
        "usage.prompt_tokens) untranslated.",
        'Return a Message: {"id": "msg_…", "type": "message", "role": "assistant", "content": [blocks], '
        '"model", "stop_reason", "stop_sequence", "usage": {"input_tokens", "output_tokens"}}.',
        _chat_completion_body,
    ),
    Pattern(
        "openai-stop-reasons",
        "finish_reason values in stop_reason",
        'OpenAI finish_reason values ("stop", "length", "tool_calls") are copied into stop_reason without mapping.',
        'Map stop -> "end_turn" (or "stop_sequence" when a stop sequence matched, with stop_sequence set), '
        'length -> "max_tokens", tool_calls -> "tool_use", in the Message and in message_delta.',
        _openai_stop_reason,
    ),
    Pattern(
        "tool-input-as-string",
        "tool_use.input as a string",
        "The OpenAI tool_calls[].function.arguments string is copied into tool_use.input (or streamed JSON-encoded) "
        "instead of being parsed.",
        "Parse the arguments: tool_use.input must be a JSON object; when streaming, input_json_delta.partial_json "
        "fragments must concatenate to that object's JSON text.",
        _tool_input_string,
    ),
    Pattern(
        "input-tokens-missing-in-message-start",
        "input_tokens missing from message_start",
        "Usage is only known (or only sent) at the end of the stream, so message_start.message.usage lacks input_tokens.",
        "Send usage.input_tokens (the prompt size is known before generation starts) in message_start; "
        "send output_tokens cumulatively in message_delta.",
        _input_tokens_missing,
    ),
    Pattern(
        "delta-wrong-index",
        "Deltas on the wrong index",
        "The translator numbers content_block_delta events differently from content_block_start "
        "(e.g. an off-by-one, or the upstream choice index).",
        "Give each delta the index of the block currently open (the index of its content_block_start); "
        "indices count 0, 1, 2, … per message.",
        _delta_wrong_index,
    ),
    Pattern(
        "buffered-stream",
        "Buffered (fake) streaming",
        "The whole answer is generated (or buffered by a proxy) and then written at once, so a client sees no "
        "incremental output.",
        "Flush each event as it is produced; disable proxy buffering for text/event-stream "
        "(e.g. nginx `proxy_buffering off` / `X-Accel-Buffering: no`).",
        _buffered_stream,
        checks=("stream.delivery.*", "stream.timing.*"),
    ),
    Pattern(
        "openai-ids",
        "OpenAI-style ids",
        "Upstream chatcmpl-… ids (and call_… tool ids) are passed through.",
        "Mint ids with the Anthropic prefixes: msg_ for messages, toolu_ for tool_use blocks.",
        _openai_ids,
    ),
    Pattern(
        "openai-models-list",
        "OpenAI models list",
        'GET /v1/models returns OpenAI model objects {id, object: "model", created, owned_by}.',
        'Return {"data": [{"type": "model", "id", "display_name", "created_at"}], "has_more", "first_id", "last_id"} '
        "and support after_id/before_id/limit.",
        _openai_models,
    ),
)


def diagnose(doc: dict, patterns: Iterable[Pattern] = PATTERNS) -> list[dict]:
    """Named defect patterns found in ``doc`` (a results document), most checks explained first.

    Each item: ``{id, title, cause, fix, checks: [check ids whose evidence shows it], example}``.
    """
    found = []
    searched = [r for r in doc.get("results", []) if r.get("verdict") in _SEARCHED]
    for pat in patterns:
        ids: list[str] = []
        example = ""
        for r in searched:
            if pat.checks and not any(fnmatch.fnmatchcase(r["id"], g) for g in pat.checks):
                continue
            for ex in r.get("evidence") or ():
                hit = pat.detect(ex)
                if hit:
                    ids.append(r["id"])
                    example = example or hit
                    break
        if ids:
            found.append(
                {
                    "id": pat.id,
                    "title": pat.title,
                    "cause": pat.cause,
                    "fix": pat.fix,
                    "checks": ids,
                    "example": example,
                }
            )
    found.sort(key=lambda d: -len(d["checks"]))
    return found
