"""Faults of the non-streaming Message body (§2, §8.5), several of which also show in the stream."""

from __future__ import annotations

import json

from ._base import OPENAI_STOP, SDK_STREAMS, Events, Fault, Json, defect, dump, on_type


def _chat_completion(msg: Json, created: int) -> Json:
    """Darkbloom's non-streaming body (§8.5)."""
    text = "".join(b.get("text", "") for b in msg["content"] if b["type"] == "text")
    usage = msg["usage"]
    return {
        "id": "chatcmpl-" + msg["id"][4:],
        "object": "chat.completion",
        "created": created,
        "model": msg["model"],
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": OPENAI_STOP.get(msg["stop_reason"], "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": usage.get("input_tokens", 0),
            "completion_tokens": usage.get("output_tokens", 0),
            "total_tokens": usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
        },
    }


def _openai_stop(msg: Json, created: int) -> Json:
    msg["stop_reason"] = OPENAI_STOP.get(msg["stop_reason"], msg["stop_reason"])
    return msg


def _delta_openai_stop(e: Json) -> None:
    e["delta"]["stop_reason"] = OPENAI_STOP.get(e["delta"]["stop_reason"], e["delta"]["stop_reason"])


def _no_output_tokens(msg: Json, created: int) -> Json:
    msg["usage"].pop("output_tokens", None)
    return msg


def _delta_no_output_tokens(e: Json) -> None:
    e["usage"].pop("output_tokens", None)


def _zero_output_tokens(msg: Json, created: int) -> Json:
    msg["usage"]["output_tokens"] = 0
    return msg


def _delta_zero_output_tokens(e: Json) -> None:
    e["usage"]["output_tokens"] = 0


def _tool_input_as_string(msg: Json, created: int) -> Json:
    for block in msg["content"]:
        if block["type"] == "tool_use":
            block["input"] = dump(block["input"])
    return msg


def _tool_input_string_in_stream(events: Events, created: int) -> Events:
    """Stream the tool input as a JSON-encoded string: the fragments concatenate to '"{...}"'."""
    fragments: dict[int, list[Json]] = {}
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta":
            fragments.setdefault(e["index"], []).append(e)
    for deltas in fragments.values():
        whole = "".join(d["delta"]["partial_json"] for d in deltas)
        encoded = json.dumps(whole)
        size = max(1, -(-len(encoded) // max(1, len(deltas))))
        for i, d in enumerate(deltas):
            d["delta"]["partial_json"] = encoded[i * size : (i + 1) * size]
    for e in events:
        if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use":
            e["content_block"]["input"] = ""
    return events


FAULTS: tuple[Fault, ...] = (
    # ---- the Message body (§2, §8.5)
    defect(
        "chat-completion-body",
        "non-streaming body is an OpenAI chat.completion (Darkbloom §8.5)",
        "clients.typescript-sdk.create",
        "clients.typescript-sdk.auth-*",
        "response.shape.message-schema",
        "response.shape.no-openai-fields",
        "sdk.messages.create",
        "fuzz.valid.accepted",
        "fuzz.schemathesis.response-schema-conformance",
        "sdk.messages.raw-response-headers",
        message=_chat_completion,
        replaces=frozenset({"message"}),
    ),
    defect(
        "message-text-content-type",
        "the 200 Message is sent with content-type text/plain (a client that honours the content type cannot read it as JSON)",
        "clients.typescript-sdk.create",
        "clients.typescript-sdk.auth-*",
        "response.shape.json-content-type",
        "fuzz.schemathesis.content-type-conformance",
        message_content_type="text/plain; charset=utf-8",
    ),
    defect(
        "openai-stop-reasons",
        'stop reasons are OpenAI finish_reasons: "stop", "length", "tool_calls"',
        "response.stop-reason.enum",
        "stream.grammar.stop-reason-in-enum",
        "sdk.messages.create",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        "sdk.messages.raw-response-headers",
        # whole-Message checks: failed, folded under the stop-reason checks (same cause)
        "request.accept.all-parameters",
        "stream.rebuild.message-schema",
        "client-requests.beta.header-list",
        "client-requests.cache-control.accepted",
        "client-requests.thinking.signed-history",
        "client-requests.tools.content-round-trip",
        "client-requests.tools.tool-result-forms",
        message=_openai_stop,
        events=on_type("message_delta", _delta_openai_stop),
    ),
    defect(
        "missing-output-tokens",
        "usage.output_tokens absent from the Message and from message_delta.usage",
        "response.usage.required-ints",
        "stream.grammar.message-delta-usage",
        "sdk.messages.create",
        "stream.rebuild.agrees-with-json",
        "sdk.messages.create-stream",
        *SDK_STREAMS,
        "sdk.messages.raw-response-headers",
        message=_no_output_tokens,
        events=on_type("message_delta", _delta_no_output_tokens),
    ),
    defect(
        "output-tokens-zero",
        "usage.output_tokens is 0 in the Message and in message_delta.usage, whatever was "
        "generated (a backend that reports no usage)",
        "semantics.usage.output-counted",
        "stream.grammar.output-tokens-cumulative",
        "fuzz.valid.accepted",
        message=_zero_output_tokens,
        events=on_type("message_delta", _delta_zero_output_tokens),
    ),
    defect(
        "stream-output-tokens-zero",
        "message_delta.usage.output_tokens is 0 after the text was streamed; the Message's usage "
        "is right (a streaming path that never fills in usage)",
        "semantics.usage.output-counted",
        events=on_type("message_delta", _delta_zero_output_tokens),
    ),
    defect(
        "non-msg-ids",
        "message ids chatcmpl-…, tool_use ids call_…",
        "response.ids.msg-prefix",
        "stream.ids.prefixes",
        "semantics.tools.toolu-id",
        message_id=lambda clean: "chatcmpl-" + clean[4:],
        tool_id=lambda clean: "call_" + clean[6:],
    ),
    defect(
        "duplicate-ids",
        "every message has the same id",
        "response.ids.unique",
        message_id=lambda clean: "msg_" + "0" * 24,
    ),
    defect(
        "tool-input-as-string",
        "tool_use.input is a JSON string, not an object (streamed as a JSON-encoded string)",
        "response.shape.message-schema",
        "semantics.tools.forced-tool",
        "stream.grammar.tool-input-json",
        "sdk.messages.stream-tool-use",
        message=_tool_input_as_string,
        events=_tool_input_string_in_stream,
    ),
)
