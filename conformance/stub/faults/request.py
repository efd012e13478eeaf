"""Faults of the request side: auth (§5.1, §8.1), parsing and validation (§1, §5.1, §8.4),
accepted request shapes (§1.1-1.3) and request semantics (§1, §8.12)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from ..generate import Options
from ._base import Events, Fault, Json, defect, on_type

_SAMPLING = ("temperature", "top_p", "top_k")
# the request.validation checks a body the schema refuses (not the parsing ones)
SCHEMA_VALIDATION = (
    "request.validation.missing-model",
    "request.validation.mistyped-model",
    "request.validation.missing-messages",
    "request.validation.mistyped-messages",
    "request.validation.missing-max-tokens",
    "request.validation.mistyped-max-tokens",
    "request.validation.numeric-string-max-tokens",
    "request.validation.bad-role",
    "request.validation.empty-messages",
    "request.validation.negative-max-tokens",
    "request.validation.unknown-block-type",
    "request.validation.unknown-top-level-field",
)


# ---- parsing and validation


def repair_json(text: str) -> str:
    """Close what a truncated JSON text left open: a string, then arrays and objects."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    repaired = text + ('"' if in_string else "")
    repaired = repaired.rstrip().rstrip(",")
    return repaired + "".join(reversed(stack))


def lenient_json(data: bytes) -> Any:
    """lenient-body-parsing: Latin-1 when not UTF-8, truncated JSON closed (ValueError if hopeless)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(repair_json(text))


def _default_max_tokens(body: Json, version: str, schema: str) -> Json:
    if "max_tokens" not in body and schema == "messages-request":
        body["max_tokens"] = 8192
    return body


def _hide_sampling_2026(body: Json, version: str, schema: str) -> Json:
    if version == "2026-10-21":
        return {k: v for k, v in body.items() if k not in _SAMPLING}
    return body


# ---- refusals of valid requests: (status, error type, message) or None

Refusal = tuple[int, str, str] | None


def _contents(body: Json) -> list[tuple[int, Any, Any]]:
    return [(i, m.get("role"), m.get("content")) for i, m in enumerate(body.get("messages") or [])]


def _refuse_beta(body: Json, headers: Any) -> Refusal:
    return (500, "api_error", "internal server error") if headers.get("anthropic-beta") else None


def _refuse_sampling(body: Json, headers: Any) -> Refusal:
    for name in _SAMPLING:
        if name in body:
            return 400, "invalid_request_error", f"{name}: Extra inputs are not permitted"
    return None


def _refuse_string_content(body: Json, headers: Any) -> Refusal:
    for i, _, content in _contents(body):
        if isinstance(content, str):
            return 400, "invalid_request_error", f"messages.{i}.content: Input should be a valid list"
    return None


def _refuse_blocks(body: Json, headers: Any) -> Refusal:
    if isinstance(body.get("system"), list):
        return 400, "invalid_request_error", "system: Input should be a valid string"
    for i, _, content in _contents(body):
        if isinstance(content, list):
            return 400, "invalid_request_error", f"messages.{i}.content: Input should be a valid string"
    return None


def _refuse_string_system(body: Json, headers: Any) -> Refusal:
    return (
        (400, "invalid_request_error", "system: Input should be a valid list")
        if isinstance(body.get("system"), str)
        else None
    )


def _refuse_tool_results(body: Json, headers: Any) -> Refusal:
    for i, _, content in _contents(body):
        if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return 400, "invalid_request_error", f"messages.{i}.content: tool_result blocks are not supported"
    return None


def _crash_on_system_blocks(body: Json, headers: Any) -> Refusal:
    return (500, "api_error", "internal server error") if isinstance(body.get("system"), list) else None


def _crash_on_assistant_string(body: Json, headers: Any) -> Refusal:
    if any(role == "assistant" and isinstance(c, str) for _, role, c in _contents(body)):
        return 500, "api_error", "internal server error"
    return None


# ---- request semantics


CANNED_REPLY = "Hello! I am a canned reply from a mock server, glad to help you today."


def _options(**changes: Any) -> Callable[[Options], Options]:
    return lambda opts: dataclasses.replace(opts, **changes)


def _drop_system(body: Json) -> Json:
    return {k: v for k, v in body.items() if k != "system"} if "system" in body else body


def _drop_tool_choice_none(body: Json) -> Json:
    if (body.get("tool_choice") or {}).get("type") == "none":
        # the stub calls a tool only when forced: "the model still calls it" is a forced choice
        return {**body, "tool_choice": {"type": "any"}}
    return body


def _stop_sequence_null(msg: Json, created: int) -> Json:
    msg["stop_sequence"] = None
    return msg


def _delta_stop_sequence_null(e: Json) -> None:
    e["delta"]["stop_sequence"] = None


def _stop_sequence_empty(msg: Json, created: int) -> Json:
    if msg["stop_sequence"] is None:
        msg["stop_sequence"] = ""
    return msg


def _stop_sequence_empty_in_stream(events: Events, created: int) -> Events:
    for e in events:
        if e["type"] == "message_start":
            e["message"]["stop_sequence"] = ""
        elif e["type"] == "message_delta" and e["delta"]["stop_sequence"] is None:
            e["delta"]["stop_sequence"] = ""
    return events


def _tool_use_end_turn(msg: Json, created: int) -> Json:
    if msg["stop_reason"] == "tool_use":
        msg["stop_reason"] = "end_turn"
    return msg


def _delta_tool_use_end_turn(e: Json) -> None:
    if e["delta"]["stop_reason"] == "tool_use":
        e["delta"]["stop_reason"] = "end_turn"


FAULTS: tuple[Fault, ...] = (
    # ---- auth (§5.1, §8.1)
    defect(
        "ignore-auth",
        "any or no credentials accepted",
        "clients.typescript-sdk.error-authentication",
        "auth.reject.*",
        "sdk.errors.authentication",
        "fuzz.schemathesis.ignored-auth",
        skips_auth=True,
    ),
    defect(
        "bearer-only",
        "x-api-key ignored; only Authorization: Bearer authenticates (Darkbloom §8.1)",
        "auth.accept.x-api-key",
        auth_styles=frozenset({"bearer"}),
    ),
    defect(
        "x-api-key-messages-bearer-models",
        "POST /v1/messages (and count_tokens) accept only x-api-key, GET /v1/models only Authorization: Bearer "
        "(two services behind one gateway, each with its own auth middleware)",
        "auth.accept.bearer",
        route_auth_styles=(
            ("messages", frozenset({"x-api-key"})),
            ("count_tokens", frozenset({"x-api-key"})),
            ("models", frozenset({"bearer"})),
        ),
    ),
    defect(
        "x-api-key-only",
        "Authorization: Bearer ignored; only x-api-key authenticates (the SDK 2.x sends Bearer)",
        "auth.accept.bearer",
        auth_styles=frozenset({"x-api-key"}),
    ),
    defect(
        "ignore-anthropic-version",
        "anthropic-version neither required nor checked (Darkbloom §8.4)",
        "request.version.missing-version-header",
        "request.version.unknown-version-header",
        checks_version=False,
    ),
    # ---- request parsing and validation (§1, §5.1, §8.4)
    defect(
        "lenient-body-parsing",
        "any content-type accepted, non-UTF-8 bodies decoded as Latin-1, truncated JSON repaired (a forgiving JSON library)",
        "request.validation.malformed-json",
        "request.validation.non-utf8-body",
        "request.validation.wrong-content-type",
        "fuzz.compare.agree",
        lenient_body=True,
    ),
    defect(
        "no-size-limit",
        "the declared request-size limit is never enforced: no 413, any body is read",
        "request.size.oversize",
        "fuzz.invalid.rejected-exactly",
        unlimited_body=True,
    ),
    defect(
        "no-validation",
        "invalid requests are answered 200 (defaults filled in)",
        "clients.typescript-sdk.error-bad-request",
        *SCHEMA_VALIDATION,
        "sdk.errors.bad-request",
        "fuzz.invalid.rejected-exactly",
        "fuzz.schemathesis.negative-data-rejection",
        "count-tokens.validation.missing-messages",
        "request.version.sampling-params-2026",
        "client-requests.errors.invalid-stream",
        validation="none",
        breaks="many",  # no validation rule holds: each rule's check fails
    ),
    defect(
        "default-max-tokens",
        "missing max_tokens silently defaulted to 8192 instead of 400 (Darkbloom §8.4)",
        "clients.typescript-sdk.error-bad-request",
        "request.validation.missing-max-tokens",
        "fuzz.invalid.rejected-exactly",
        "sdk.errors.bad-request",
        request_body=_default_max_tokens,
    ),
    defect(
        "sampling-params-accepted-2026",
        "temperature/top_p/top_k accepted under anthropic-version 2026-10-21",
        "request.version.sampling-params-2026",
        request_body=_hide_sampling_2026,
    ),
    defect(
        "sampling-params-rejected-2023",
        "temperature/top_p/top_k refused (400) under every version, 2023-06-01 included",
        "request.version.temperature-accepted-2023",
        refuse=_refuse_sampling,
    ),
    defect(
        "5xx-on-unknown-beta",
        "an anthropic-beta value the server does not know crashes its feature lookup (500 api_error)",
        "request.headers.unknown-beta-tolerated",
        refuse=_refuse_beta,
    ),
    defect(
        "unknown-model-fallback",
        "unknown model ids are served by a default model instead of 404",
        "clients.typescript-sdk.error-not-found",
        "request.model.unknown-model",
        "sdk.errors.not-found",
        "fuzz.invalid.rejected-exactly",
        unknown_model_fallback=True,
    ),
    # ---- accepted request shapes (§1.1-1.3)
    defect(
        "tool-result-refused",
        "tools work (forced tool_use is answered) but a conversation carrying a tool_result gets 400: "
        "the adapter maps tool calls out and never maps their results back in",
        "semantics.tools.tool-result-accepted",
        "fuzz.valid.accepted",
        "fuzz.schemathesis.positive-data-acceptance",
        refuse=_refuse_tool_results,
    ),
    defect(
        "content-blocks-only",
        "message content must be an array of blocks: the string shorthand gets 400 (a typed []ContentBlock field)",
        "request.accept.content-string",
        "request.accept.darkbloom-example",
        "fuzz.valid.accepted",
        "fuzz.schemathesis.positive-data-acceptance",
        refuse=_refuse_string_content,
    ),
    defect(
        "string-content-only",
        "content and system must be strings: text blocks get 400 (an adapter built for the chat.completions shape)",
        "request.accept.content-blocks",
        "request.accept.system-blocks",
        "semantics.content.string-and-blocks",
        refuse=_refuse_blocks,
    ),
    defect(
        "system-blocks-only",
        "system must be an array of text blocks: a string system prompt gets 400",
        "request.accept.system-string",
        "request.accept.darkbloom-example",
        refuse=_refuse_string_system,
    ),
    defect(
        "system-array-500",
        "a system prompt given as text blocks crashes the converter (500 api_error)",
        "request.accept.system-blocks",
        refuse=_crash_on_system_blocks,
    ),
    defect(
        "assistant-string-content-500",
        "assistant turns with string content crash the converter (500 api_error): multi-turn and prefill break",
        "request.accept.multi-turn",
        "semantics.conversation.multi-turn",
        "semantics.conversation.prefill",
        refuse=_crash_on_assistant_string,
    ),
    # ---- request semantics (§1, §8.12)
    defect(
        "ignore-max-tokens",
        "max_tokens not enforced: full answer, output_tokens may exceed it, stop_reason end_turn",
        "semantics.max-tokens.*",
        "fuzz.valid.constraints-hold",
        options=_options(honour_max_tokens=False),
    ),
    defect(
        "ignore-stop-sequences",
        "stop_sequences never read (Darkbloom §8.12)",
        "semantics.stop-sequence.honoured",
        "fuzz.valid.constraints-hold",
        options=_options(honour_stop_sequences=False),
    ),
    defect(
        "canned-reply",
        "every answer is one canned sentence, whatever the prompt, and stop_sequences are never "
        "read (a mock server's fixed reply)",
        "semantics.stop-sequence.honoured",
        "fuzz.valid.constraints-hold",
        options=_options(honour_stop_sequences=False, canned_text=CANNED_REPLY),
    ),
    defect(
        "stop-sequence-in-text",
        "the matched stop sequence is kept at the end of the text",
        "semantics.stop-sequence.honoured",
        "fuzz.valid.constraints-hold",
        options=_options(keep_stop_sequence=True),
    ),
    defect(
        "stop-sequence-not-echoed",
        'stop_reason "stop_sequence" but stop_sequence null',
        "semantics.stop-sequence.honoured",
        "response.stop-sequence.null-unless-stopped",
        message=_stop_sequence_null,
        events=on_type("message_delta", _delta_stop_sequence_null),
    ),
    defect(
        "empty-stop-sequence",
        'stop_sequence is "" instead of null when no stop sequence matched (a Go string zero value)',
        "response.stop-sequence.null-unless-stopped",
        "stream.grammar.stop-sequence-iff",
        "stream.grammar.message-start-stop-reason-null",
        message=_stop_sequence_empty,
        events=_stop_sequence_empty_in_stream,
    ),
    defect(
        "ignore-system",
        "system prompt dropped: not counted in input_tokens (Darkbloom §8.12 streaming path)",
        "semantics.system.*",
        "count-tokens.system.counted",
        generation=_drop_system,
    ),
    defect(
        "tool-use-end-turn",
        'a tool_use answer reports stop_reason "end_turn" (finish_reason mapping bug)',
        "semantics.tools.forced-tool",
        "fuzz.valid.constraints-hold",
        "sdk.messages.stream-tool-use",
        message=_tool_use_end_turn,
        events=on_type("message_delta", _delta_tool_use_end_turn),
    ),
    defect(
        "tool-choice-none-ignored",
        'tool_choice {"type":"none"} ignored: the model still calls the tool it is asked for',
        "semantics.tools.choice-none",
        generation=_drop_tool_choice_none,
    ),
)
