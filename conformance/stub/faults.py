"""The fault catalog (data) and the layer that applies faults to the clean stub.

A fault is a realistic defect seen in Anthropic-compatible servers and adapters (most from
the Darkbloom coordinator, contract §8), or a *control*: a legal variation of the wire format
that a correct client must accept, which must trip no check. ``trips`` lists fnmatch globs of
check IDs (``family.topic.name``) a correct harness must fail when the fault is on; controls
have none.

How faults are applied (the clean path in ``app.py``/``render.py`` reads like the contract):

* request-side switches, consulted at a few decision points (:class:`FaultSet` properties:
  auth styles, version rule, validation mode, generation options, unknown-model policy,
  count_tokens, models listing, missing endpoints);
* response transformers over finished shapes: :meth:`FaultSet.message` (Message JSON),
  :meth:`FaultSet.error` (status, envelope, headers), :meth:`FaultSet.headers`;
* stream transformers, in three stages: payload list (:meth:`FaultSet.events`), SSE frames
  (:meth:`FaultSet.frames`), bytes and timing (:meth:`FaultSet.encode`).
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from typing import Any, Callable, Literal

from . import _json
from .generate import Options

Kind = Literal["defect", "control"]


@dataclass(frozen=True)
class Fault:
    """One catalog entry: what it is and which check IDs must fail because of it."""

    name: str
    kind: Kind
    description: str
    trips: tuple[str, ...] = ()


def _d(name: str, description: str, *trips: str) -> Fault:
    return Fault(name, "defect", description, trips)


def _c(name: str, description: str) -> Fault:
    return Fault(name, "control", description, ())


FAULTS: tuple[Fault, ...] = (
    # ---- errors (§4, §8.2-8.3)
    _d("openai-error-envelope", 'errors are {"error":{type,message}}: no top-level "type":"error", no request_id (Darkbloom §8.2)',
       "errors.envelope.shape", "errors.request-id.body"),
    _d("wrong-error-type", "non-Anthropic error types: model_not_found, rate_limit_exceeded, provider_error, internal_error (Darkbloom §8.3)",
       "errors.status.type-agrees", "request.model.unknown-model", "models.retrieve.unknown", "errors.status.overload-529",
       "errors.status.rate-limit-429", "fuzz.invalid.rejected-exactly"),
    _d("status-503-for-overload", "capacity shortage answered 503 instead of 529 overloaded_error (Darkbloom §8.3)",
       "errors.status.overload-529", "errors.status.type-agrees"),
    _d("server-error-on-bad-input", "invalid requests get 500 api_error instead of 400 invalid_request_error",
       "request.validation.*", "count-tokens.validation.missing-messages", "sdk.errors.bad-request",
       "fuzz.invalid.never-5xx", "fuzz.schemathesis.not-a-server-error"),
    _d("retry-on-client-error", "4xx errors carry x-should-retry: true, so SDKs retry a 400 (§9 item 29)",
       "errors.retry.no-should-retry-on-400"),
    _d("validation-422", "invalid requests get 422 (the FastAPI/pydantic default) instead of 400, in the error envelope",
       "request.validation.missing-model", "fuzz.invalid.rejected-exactly", "fuzz.schemathesis.status-code-conformance"),
    _d("429-without-retry-after", "rate-limit answers (429) carry no retry-after header, so clients guess their backoff",
       "errors.status.rate-limit-429"),
    _d("405-without-allow", "a wrong method gets 405 without the Allow header RFC 9110 requires", "errors.routing.wrong-method"),
    _d("plain-text-404", 'unknown paths answer text/plain "404 page not found" (Go default mux, Darkbloom §8.10)',
       "errors.routing.unknown-path", "errors.envelope.*"),  # schemathesis meets an unknown path only by chance
    _d("json-errors-as-text", "error bodies are JSON but sent as content-type text/plain", "errors.envelope.content-type",
       "fuzz.schemathesis.content-type-conformance"),
    # ---- headers (§5.2, §8.9)
    _d("no-request-id", "no request-id header, no request_id in error bodies",
       "errors.request-id.*", "response.headers.request-id", "sdk.messages.raw-response-headers"),
    _d("x-request-id-only", "request id only as X-Request-ID (Darkbloom §8.9); SDK reads request-id",
       "errors.request-id.*", "response.headers.request-id", "sdk.messages.raw-response-headers"),
    # ---- auth (§5.1, §8.1)
    _d("ignore-auth", "any or no credentials accepted", "auth.reject.*", "sdk.errors.authentication", "fuzz.schemathesis.ignored-auth"),
    _d("bearer-only", "x-api-key ignored; only Authorization: Bearer authenticates (Darkbloom §8.1)", "auth.accept.x-api-key"),
    _d("x-api-key-only", "Authorization: Bearer ignored; only x-api-key authenticates (the SDK 2.x sends Bearer)",
       "auth.accept.bearer", "sdk.messages.*"),
    _d("ignore-anthropic-version", "anthropic-version neither required nor checked (Darkbloom §8.4)",
       "request.version.missing-version-header", "request.version.unknown-version-header"),
    # ---- request parsing and validation (§1, §5.1, §8.4)
    _d("lenient-body-parsing", "any content-type accepted, non-UTF-8 bodies decoded as Latin-1, truncated JSON repaired (a forgiving JSON library)",
       "request.validation.malformed-json", "request.validation.non-utf8-body", "request.validation.wrong-content-type",
       "fuzz.compare.agree"),
    _d("no-size-limit", "the declared request-size limit is never enforced: no 413, any body is read", "request.size.oversize",
       "fuzz.invalid.rejected-exactly"),
    _d("no-validation", "invalid requests are answered 200 (defaults filled in)", "request.validation.*", "sdk.errors.bad-request",
       "fuzz.invalid.rejected-exactly", "fuzz.schemathesis.negative-data-rejection"),
    _d("default-max-tokens", "missing max_tokens silently defaulted to 8192 instead of 400 (Darkbloom §8.4)",
       "request.validation.missing-max-tokens", "fuzz.invalid.rejected-exactly"),
    _d("sampling-params-accepted-2026", "temperature/top_p/top_k accepted under anthropic-version 2026-10-21",
       "request.version.sampling-params-2026"),
    _d("sampling-params-rejected-2023", "temperature/top_p/top_k refused (400) under every version, 2023-06-01 included",
       "request.version.temperature-accepted-2023"),
    _d("5xx-on-unknown-beta", "an anthropic-beta value the server does not know crashes its feature lookup (500 api_error)",
       "request.headers.unknown-beta-tolerated"),
    _d("unknown-model-fallback", "unknown model ids are served by a default model instead of 404",
       "request.model.unknown-model", "sdk.errors.not-found", "fuzz.invalid.rejected-exactly"),
    # ---- accepted request shapes (§1.1-1.3)
    _d("content-blocks-only", "message content must be an array of blocks: the string shorthand gets 400 (a typed []ContentBlock field)",
       "request.accept.content-string", "request.accept.darkbloom-example", "sdk.messages.create",
       "fuzz.valid.accepted", "fuzz.schemathesis.positive-data-acceptance"),
    _d("string-content-only", "content and system must be strings: text blocks get 400 (an adapter built for the chat.completions shape)",
       "request.accept.content-blocks", "request.accept.system-blocks", "semantics.content.string-and-blocks"),
    _d("system-blocks-only", "system must be an array of text blocks: a string system prompt gets 400",
       "request.accept.system-string", "request.accept.darkbloom-example", "semantics.system.string-counted"),
    _d("system-array-500", "a system prompt given as text blocks crashes the converter (500 api_error)",
       "request.accept.system-blocks", "semantics.system.blocks-counted"),
    _d("assistant-string-content-500", "assistant turns with string content crash the converter (500 api_error): multi-turn and prefill break",
       "request.accept.multi-turn", "semantics.conversation.multi-turn", "semantics.conversation.prefill"),
    # ---- request semantics (§1, §8.12)
    _d("ignore-max-tokens", "max_tokens not enforced: full answer, output_tokens may exceed it, stop_reason end_turn",
       "semantics.max-tokens.*", "fuzz.valid.constraints-hold"),
    _d("ignore-stop-sequences", "stop_sequences never read (Darkbloom §8.12)", "semantics.stop-sequence.honoured",
       "fuzz.valid.constraints-hold"),
    _d("stop-sequence-in-text", "the matched stop sequence is kept at the end of the text", "semantics.stop-sequence.honoured",
       "fuzz.valid.constraints-hold"),
    _d("stop-sequence-not-echoed", 'stop_reason "stop_sequence" but stop_sequence null',
       "semantics.stop-sequence.honoured", "response.stop-sequence.null-unless-stopped"),
    _d("empty-stop-sequence", 'stop_sequence is "" instead of null when no stop sequence matched (a Go string zero value)',
       "response.stop-sequence.null-unless-stopped", "stream.grammar.stop-sequence-iff", "stream.grammar.message-start-stop-reason-null"),
    _d("ignore-system", "system prompt dropped: not counted in input_tokens (Darkbloom §8.12 streaming path)",
       "semantics.system.*", "count-tokens.system.counted"),
    _d("tool-use-end-turn", 'a tool_use answer reports stop_reason "end_turn" (finish_reason mapping bug)', "semantics.tools.forced-tool",
       "fuzz.valid.constraints-hold"),
    _d("tool-choice-none-ignored", 'tool_choice {"type":"none"} dropped (treated as auto): the model still calls the tool it is asked for',
       "semantics.tools.choice-none"),
    # ---- the Message body (§2, §8.5)
    _d("chat-completion-body", "non-streaming body is an OpenAI chat.completion (Darkbloom §8.5)",
       "response.shape.message-schema", "response.shape.no-openai-fields", "response.stop-reason.enum",
       "response.usage.required-ints", "sdk.messages.create", "fuzz.valid.accepted", "fuzz.schemathesis.response-schema-conformance"),
    _d("message-text-content-type", "the 200 Message is sent with content-type text/plain (a client that honours the content type cannot read it as JSON)",
       "response.shape.json-content-type", "fuzz.schemathesis.content-type-conformance"),
    _d("openai-stop-reasons", 'stop reasons are OpenAI finish_reasons: "stop", "length", "tool_calls"',
       "response.stop-reason.enum", "stream.grammar.stop-reason-in-enum", "sdk.messages.create"),
    _d("missing-output-tokens", "usage.output_tokens absent from the Message and from message_delta.usage",
       "response.usage.required-ints", "stream.grammar.message-delta-usage", "sdk.messages.create"),
    _d("non-msg-ids", "message ids chatcmpl-…, tool_use ids call_…",
       "response.ids.msg-prefix", "stream.ids.prefixes", "semantics.tools.toolu-id"),
    _d("duplicate-ids", "every message has the same id", "response.ids.unique"),
    _d("tool-input-as-string", "tool_use.input is a JSON string, not an object (streamed as a JSON-encoded string)",
       "response.shape.message-schema", "semantics.tools.forced-tool", "stream.grammar.tool-input-json",
       "sdk.messages.stream-tool-use"),
    # ---- stream framing (§3.1, §8.6-8.8)
    _d("openai-stream", "stream is OpenAI chat.completion.chunk data-only SSE with [DONE] (Darkbloom §8.6)",
       "stream.grammar.event-named", "stream.grammar.no-done-sentinel", "stream.events.schema", "sdk.messages.create-stream",
       "fuzz.valid.accepted"),
    _d("unnamed-sse-events", "Anthropic payloads but no event: lines (proxy drops them, Darkbloom §8.6)",
       "stream.grammar.event-named", "sdk.messages.create-stream"),
    _d("done-sentinel", "data: [DONE] after message_stop", "stream.grammar.no-done-sentinel"),
    _d("event-name-mismatch", "every event is named event: message instead of its data.type",
       "stream.grammar.type-matches-event", "sdk.messages.create-stream"),
    _d("empty-ping-data", 'keep-alive pings are written as event: ping with an empty data: line instead of {"type":"ping"}',
       "stream.grammar.data-is-json-object"),
    _d("stream-json-content-type", "streams are sent with content-type application/json", "stream.framing.content-type"),
    _d("accept-decides-stream", "SSE only if Accept includes text/event-stream, else a JSON Message (the SDK sends Accept: application/json)",
       "stream.framing.sse-despite-accept-json", "sdk.messages.create-stream"),
    _d("buffered-stream", "all events written at once after ~300 ms (a buffering proxy)", "stream.delivery.incremental"),
    # ---- stream grammar: message_start (§3.2-3.3)
    _d("missing-message-start", "no message_start event",
       "stream.grammar.message-start-first", "stream.grammar.message-start-once", "sdk.messages.create-stream"),
    _d("message-start-content-not-empty", "message_start.message.content already holds the final blocks",
       "stream.grammar.message-start-content-empty"),
    _d("message-start-final-stop-reason", "message_start.message is the finished Message minus content: stop_reason already set (a buffering adapter)",
       "stream.grammar.message-start-stop-reason-null"),
    _d("input-tokens-missing-in-message-start", "message_start.message.usage lacks input_tokens (sent only at the end)",
       "stream.grammar.message-start-usage", "sdk.messages.create-stream"),
    # ---- stream grammar: content blocks
    _d("delta-without-index", "content_block_delta events carry no index (an adapter that only ever streams one block)",
       "stream.grammar.payload-structure"),
    _d("repeated-block-start", "content_block_start is sent again with the block's first delta (the adapter opens a block per upstream chunk)",
       "stream.grammar.block-start-once"),
    _d("repeated-block-stop", "content_block_stop is sent twice per block (on the upstream finish and again on close)",
       "stream.grammar.block-stop-once"),
    _d("one-based-block-stop", "content_block_stop carries the block's index + 1 (1-based), naming a block that is not open",
       "stream.grammar.block-stop-open-index"),
    _d("block-stop-after-message-delta", "the last content_block_stop comes after message_delta (the finish reason is forwarded before the block is closed)",
       "stream.grammar.blocks-before-message-delta", "stream.grammar.blocks-closed"),
    _d("missing-content-block-stop", "blocks are never closed with content_block_stop",
       "stream.grammar.blocks-closed", "stream.grammar.block-start-while-open"),
    _d("delta-index-skew", "content_block_delta.index is one more than the open block's index",
       "stream.grammar.delta-open-index", "sdk.messages.stream-final-message"),
    _d("non-contiguous-block-index", "block indices go 0, 2, 4, … instead of 0, 1, 2", "stream.grammar.block-index-contiguous"),
    _d("thinking-as-text-delta", "thinking content streamed as text_delta inside thinking blocks (reasoning_content mapped to text)",
       "stream.grammar.delta-type-matches-block"),
    _d("signature-first", "signature_delta sent first in a thinking block, before its thinking deltas",
       "stream.grammar.signature-delta-last"),
    _d("thinking-without-signature", "thinking blocks end without a signature_delta",
       "stream.grammar.thinking-signature", "sdk.messages.stream-thinking"),
    _d("snapshot-deltas", "text_delta carries the cumulative text instead of the increment", "stream.deltas.increments"),
    # ---- stream grammar: message_delta and the end of the stream
    _d("no-message-delta", "no message_delta: stop_reason and the final usage are never streamed", "stream.grammar.message-delta-present"),
    _d("null-stop-reason-in-stream", "message_delta.delta.stop_reason is null (the finish reason of the upstream's last chunk is lost)",
       "stream.grammar.message-delta-stop-reason"),
    _d("usage-increments", "usage is reported per upstream chunk: a second message_delta carries only the last token's count, not the total",
       "stream.grammar.output-tokens-cumulative"),
    _d("missing-message-stop", "no message_stop event", "stream.grammar.stream-truncated", "fuzz.valid.accepted"),
    _d("repeated-message-stop", "message_stop is sent twice (on the finish and again at upstream EOF)", "stream.grammar.message-stop-once"),
    # ---- stream errors (§4.3, §8.7)
    _d("mid-stream-error-unnamed", 'a post-200 failure is sent as data: {"error":…} without event: error (Darkbloom §8.7)',
       "stream.errors.mid-stream-event", "stream.grammar.event-named"),
    _d("openai-error-event", 'a post-200 failure is event: error with OpenAI data {"error":{message,type,code}}',
       "stream.grammar.error-envelope"),
    _d("stream-continues-after-error", "after an error event the stream still sends message_delta and message_stop (an unconditional finally)",
       "stream.grammar.error-ends-stream"),
    # ---- related endpoints (§6, §8.10-8.11)
    _d("count-tokens-mismatch", "count_tokens ignores system, tools and per-message overhead, so it differs from usage.input_tokens",
       "count-tokens.usage.matches-messages", "count-tokens.system.counted"),
    _d("no-count-tokens", "POST /v1/messages/count_tokens not implemented (404) (Darkbloom §8.10)", "count-tokens.response.shape"),
    _d("models-no-pagination", "GET /v1/models ignores after_id/before_id/limit and omits has_more (endless SDK auto-pagination)",
       "models.pagination.after-id", "models.list.shape"),
    _d("models-openai-shape", 'GET /v1/models is {"object":"list","data":[{id,object,created,owned_by}]} (Darkbloom §8.11)',
       "models.list.shape", "sdk.models.list", "fuzz.schemathesis.response-schema-conformance"),
    _d("no-model-retrieve", "GET /v1/models/{id} not implemented (404 for listed ids) (Darkbloom §8.10)", "models.retrieve.shape"),
    # ---- controls: legal variations (§3.1, §3.2 ping anywhere, unknown events ignored)
    _c("crlf-line-endings", "SSE lines end with \\r\\n"),
    _c("cr-line-endings", "SSE lines end with \\r"),
    _c("ping-between-every-event", "a ping event between every two events"),
    _c("extra-response-fields", "unknown extra fields in the Message, blocks, usage, events and error bodies"),
    _c("sse-comments", "': keep-alive' comment lines before and between events"),
    _c("split-writes", "every event written in 1-7 byte pieces, each flushed"),
    _c("unknown-event-type", "an extra event content_block_annotation (legal, §3.3; SDK 2.14 ignores it, but raises in strict mode)"),
    _c("retry-and-id-fields", "SSE id: and retry: lines on events"),
    _c("multi-line-data", "each event's JSON spread over several data: lines (joined with \\n)"),
    _c("no-space-after-colon", "field lines written as event:name / data:{…} without the optional space"),
    _c("ratelimit-headers", "anthropic-ratelimit-* and anthropic-organization-id response headers"),
)

BY_NAME: dict[str, Fault] = {f.name: f for f in FAULTS}


class UnknownFault(ValueError):
    """A fault name that is not in the catalog."""


@dataclass(frozen=True)
class Frame:
    """One SSE event before encoding: ``event`` None means no ``event:`` line."""

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


_OPENAI_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}
_WRONG_TYPES = {
    "not_found_error": "model_not_found",
    "rate_limit_error": "rate_limit_exceeded",
    "overloaded_error": "model_not_available",
    "api_error": "internal_error",
    "authentication_error": "auth_error",
}


def _dump(value: Any) -> str:
    return _json.dumps_text(value)


class FaultSet:
    """The faults switched on for one stub, with the hooks the app consults."""

    def __init__(self, names: tuple[str, ...] | list[str] = ()) -> None:
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            raise UnknownFault(f"unknown fault {unknown[0]!r} (see --list-faults)")
        self.names: frozenset[str] = frozenset(names)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)

    # ------------------------------------------------------------ request-side switches

    def auth_styles(self) -> frozenset[str] | None:
        """Accepted credential carriers, or None when auth is skipped."""
        if "ignore-auth" in self.names:
            return None
        if "bearer-only" in self.names:
            return frozenset({"bearer"})
        if "x-api-key-only" in self.names:
            return frozenset({"x-api-key"})
        return frozenset({"bearer", "x-api-key"})

    @property
    def version_required(self) -> bool:
        return "ignore-anthropic-version" not in self.names

    @property
    def validation(self) -> str:
        """"strict" (400), "none" (accept) or "500"."""
        if "no-validation" in self.names:
            return "none"
        if "server-error-on-bad-input" in self.names:
            return "500"
        return "strict"

    def prepare_body(self, body: Any, version: str, schema: str = "messages-request") -> Any:
        """What the validator sees: some defects hide parts of the body from it."""
        if not isinstance(body, dict):
            return body
        if "default-max-tokens" in self.names and "max_tokens" not in body and schema == "messages-request":
            body["max_tokens"] = 8192
        if "sampling-params-accepted-2026" in self.names and version == "2026-10-21":
            return {k: v for k, v in body.items() if k not in ("temperature", "top_p", "top_k")}
        return body

    def gen_body(self, body: dict) -> dict:
        """What generation sees (ignore-system drops the system prompt, tool-choice-none-ignored
        the tool_choice none)."""
        if "ignore-system" in self.names and "system" in body:
            body = {k: v for k, v in body.items() if k != "system"}
        if "tool-choice-none-ignored" in self.names and (body.get("tool_choice") or {}).get("type") == "none":
            body = {k: v for k, v in body.items() if k != "tool_choice"}
        return body

    @property
    def lenient_body_parsing(self) -> bool:
        return "lenient-body-parsing" in self.names

    @staticmethod
    def lenient_json(data: bytes) -> Any:
        """lenient-body-parsing: Latin-1 when not UTF-8, truncated JSON closed (ValueError if hopeless)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return json.loads(_repair_json(text))

    def body_limit(self, limit: int) -> int | None:
        return None if "no-size-limit" in self.names else limit

    def refusal(self, body: dict, headers: Any) -> tuple[int, str, str] | None:
        """(status, error type, message) for a valid request some defect refuses, else None."""
        n = self.names
        if not n & _REFUSAL_FAULTS:
            return None
        system = body.get("system")
        contents = [(i, m.get("role"), m.get("content")) for i, m in enumerate(body.get("messages") or [])]
        if "5xx-on-unknown-beta" in n and headers.get("anthropic-beta"):
            return 500, "api_error", "internal server error"
        if "sampling-params-rejected-2023" in n:
            for name in ("temperature", "top_p", "top_k"):
                if name in body:
                    return 400, "invalid_request_error", f"{name}: Extra inputs are not permitted"
        if "content-blocks-only" in n:
            for i, _, content in contents:
                if isinstance(content, str):
                    return 400, "invalid_request_error", f"messages.{i}.content: Input should be a valid list"
        if "string-content-only" in n:
            if isinstance(system, list):
                return 400, "invalid_request_error", "system: Input should be a valid string"
            for i, _, content in contents:
                if isinstance(content, list):
                    return 400, "invalid_request_error", f"messages.{i}.content: Input should be a valid string"
        if "system-blocks-only" in n and isinstance(system, str):
            return 400, "invalid_request_error", "system: Input should be a valid list"
        if "system-array-500" in n and isinstance(system, list):
            return 500, "api_error", "internal server error"
        if "assistant-string-content-500" in n and any(role == "assistant" and isinstance(c, str) for _, role, c in contents):
            return 500, "api_error", "internal server error"
        return None

    @functools.cached_property
    def options(self) -> Options:
        """What the answer generator honours (fixed per stub: computed once)."""
        return Options(
            honour_max_tokens="ignore-max-tokens" not in self.names,
            honour_stop_sequences="ignore-stop-sequences" not in self.names,
            keep_stop_sequence="stop-sequence-in-text" in self.names,
        )

    @property
    def unknown_model_fallback(self) -> bool:
        return "unknown-model-fallback" in self.names

    @property
    def stream_from_accept(self) -> bool:
        return "accept-decides-stream" in self.names

    def count_tokens(self, body: dict, exact: Callable[[dict], int]) -> int:
        """count_tokens result; the mismatch defect counts message words only."""
        if "count-tokens-mismatch" in self.names:
            trimmed = {"messages": body.get("messages") or []}
            return max(1, exact(trimmed) - 1 - 3 * len(trimmed["messages"]))
        return exact(body)

    def missing_endpoint(self, endpoint: str) -> bool:
        return (endpoint == "count_tokens" and "no-count-tokens" in self.names) or (
            endpoint == "model" and "no-model-retrieve" in self.names
        )

    def message_id(self, clean: str, counter: int) -> str:
        if "duplicate-ids" in self.names:
            return "msg_" + "0" * 24
        if "non-msg-ids" in self.names:
            return "chatcmpl-" + clean[4:]
        return clean

    def tool_id(self, clean: str) -> str:
        return "call_" + clean[6:] if "non-msg-ids" in self.names else clean

    # ------------------------------------------------------------ response transformers

    def headers(self, request_id: str) -> dict[str, str]:
        """Headers on every response (request-id, §5.2)."""
        if "no-request-id" in self.names:
            out: dict[str, str] = {}
        elif "x-request-id-only" in self.names:
            out = {"x-request-id": request_id}
        else:
            out = {"request-id": request_id}
        if "ratelimit-headers" in self.names:
            out.update(
                {
                    "anthropic-organization-id": "00000000-0000-4000-8000-000000000000",
                    "anthropic-ratelimit-requests-limit": "1000",
                    "anthropic-ratelimit-requests-remaining": "999",
                    "anthropic-ratelimit-requests-reset": "2030-01-01T00:00:00Z",
                }
            )
        return out

    def body_request_id(self, request_id: str) -> str | None:
        return None if {"no-request-id", "x-request-id-only"} & self.names else request_id

    def error(
        self, status: int, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], str, dict[str, str]]:
        """(status, body, content type, headers) for a clean error envelope and its own headers."""
        body = copy.deepcopy(body)
        headers = dict(headers)
        if "429-without-retry-after" in self.names and status == 429:
            headers.pop("retry-after", None)
        if "405-without-allow" in self.names and status == 405:
            headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
        etype = body["error"]["type"]
        if "status-503-for-overload" in self.names and status == 529:
            status = 503
        if "validation-422" in self.names and status == 400:
            status = 422
        if "wrong-error-type" in self.names and etype in _WRONG_TYPES:
            body["error"]["type"] = _WRONG_TYPES[etype]
        if "openai-error-envelope" in self.names:
            body = {"error": body["error"]}
        if "no-request-id" in self.names or "x-request-id-only" in self.names:
            body.pop("request_id", None)
        if "extra-response-fields" in self.names:
            body["error"]["x_stub_detail"] = "extra"
            body["x_stub_extra"] = True
        if "retry-on-client-error" in self.names and 400 <= status < 500 and status not in (408, 409, 429):
            headers["x-should-retry"] = "true"
        ctype = "text/plain; charset=utf-8" if "json-errors-as-text" in self.names else "application/json"
        return status, body, ctype, headers

    def message(self, msg: dict[str, Any], created: int) -> dict[str, Any]:
        """Rewrite a finished Message (§2)."""
        if "chat-completion-body" in self.names:
            return _chat_completion(msg, created)
        if not self.names & _MESSAGE_FAULTS:
            return msg
        msg = copy.deepcopy(msg)
        if "openai-stop-reasons" in self.names:
            msg["stop_reason"] = _OPENAI_STOP.get(msg["stop_reason"], msg["stop_reason"])
        if "stop-sequence-not-echoed" in self.names:
            msg["stop_sequence"] = None
        if "empty-stop-sequence" in self.names and msg["stop_sequence"] is None:
            msg["stop_sequence"] = ""
        if "tool-use-end-turn" in self.names and msg["stop_reason"] == "tool_use":
            msg["stop_reason"] = "end_turn"
        if "missing-output-tokens" in self.names:
            msg["usage"].pop("output_tokens", None)
        if "tool-input-as-string" in self.names:
            for block in msg["content"]:
                if block["type"] == "tool_use":
                    block["input"] = _dump(block["input"])
        if "extra-response-fields" in self.names:
            _add_extras(msg)
        return msg

    # ------------------------------------------------------------ stream transformers

    @property
    def message_content_type(self) -> str:
        return "text/plain; charset=utf-8" if "message-text-content-type" in self.names else "application/json"

    @property
    def stream_content_type(self) -> str:
        if "stream-json-content-type" in self.names:
            return "application/json"
        return "text/event-stream; charset=utf-8"

    def events(self, events: list[dict[str, Any]], created: int) -> list[dict[str, Any]]:
        """Rewrite the payload list of a stream (§3.2-3.3)."""
        if not self.names & _EVENT_FAULTS:
            return events
        events = copy.deepcopy(events)
        n = self.names
        if "openai-stream" in n:
            return _openai_chunks(events, created)
        if "message-start-content-not-empty" in n:
            _fill_start_content(events)
        if "message-start-final-stop-reason" in n:
            final = next((e["delta"] for e in events if e["type"] == "message_delta"), None)
            for e in events:
                if e["type"] == "message_start" and final is not None:
                    e["message"].update(stop_reason=final["stop_reason"], stop_sequence=final["stop_sequence"])
        if "input-tokens-missing-in-message-start" in n:
            for e in events:
                if e["type"] == "message_start":
                    e["message"]["usage"].pop("input_tokens", None)
        if "snapshot-deltas" in n:
            sofar: dict[int, str] = {}
            for e in events:
                if e["type"] == "content_block_delta" and e["delta"]["type"] == "text_delta":
                    sofar[e["index"]] = sofar.get(e["index"], "") + e["delta"]["text"]
                    e["delta"]["text"] = sofar[e["index"]]
        if "tool-input-as-string" in n:
            _tool_input_string(events)
        if "thinking-without-signature" in n:
            events = [e for e in events if not (e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta")]
        if "signature-first" in n:
            events = _signature_first(events)
        if "thinking-as-text-delta" in n:
            for e in events:
                if e["type"] == "content_block_delta" and e["delta"]["type"] == "thinking_delta":
                    e["delta"] = {"type": "text_delta", "text": e["delta"]["thinking"]}
        for e in events:
            if e["type"] == "message_start" and "empty-stop-sequence" in n:
                e["message"]["stop_sequence"] = ""
            if e["type"] == "message_delta":
                if "empty-stop-sequence" in n and e["delta"]["stop_sequence"] is None:
                    e["delta"]["stop_sequence"] = ""
                if "null-stop-reason-in-stream" in n:
                    e["delta"]["stop_reason"] = None
                if "openai-stop-reasons" in n:
                    e["delta"]["stop_reason"] = _OPENAI_STOP.get(e["delta"]["stop_reason"], e["delta"]["stop_reason"])
                if "stop-sequence-not-echoed" in n:
                    e["delta"]["stop_sequence"] = None
                if "tool-use-end-turn" in n and e["delta"]["stop_reason"] == "tool_use":
                    e["delta"]["stop_reason"] = "end_turn"
                if "missing-output-tokens" in n:
                    e["usage"].pop("output_tokens", None)
        if "non-contiguous-block-index" in n:
            for e in events:
                if "index" in e:
                    e["index"] *= 2
        if "delta-index-skew" in n:
            for e in events:
                if e["type"] == "content_block_delta":
                    e["index"] += 1
        if "delta-without-index" in n:
            for e in events:
                if e["type"] == "content_block_delta":
                    del e["index"]
        if "one-based-block-stop" in n:
            for e in events:
                if e["type"] == "content_block_stop":
                    e["index"] += 1
        if "repeated-block-start" in n:
            events = _repeat(events, "content_block_start")
        if "repeated-block-stop" in n:
            events = _repeat(events, "content_block_stop")
        if "repeated-message-stop" in n:
            events = _repeat(events, "message_stop")
        if "block-stop-after-message-delta" in n:
            events = _stop_after_message_delta(events)
        if "usage-increments" in n:
            events = _usage_increments(events)
        if "no-message-delta" in n:
            events = [e for e in events if e["type"] != "message_delta"]
        if "stream-continues-after-error" in n and events and events[-1]["type"] == "error":
            events += [
                {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 1}},
                {"type": "message_stop"},
            ]
        if "missing-message-start" in n:
            events = [e for e in events if e["type"] != "message_start"]
        if "missing-message-stop" in n:
            events = [e for e in events if e["type"] != "message_stop"]
        if "missing-content-block-stop" in n:
            events = [e for e in events if e["type"] != "content_block_stop"]
        if "unknown-event-type" in n:
            at = next((i for i, e in enumerate(events) if e["type"] == "content_block_stop"), len(events) - 1)
            events.insert(at, {"type": "content_block_annotation", "index": events[at].get("index", 0), "note": "ignore me"})
        if "extra-response-fields" in n:
            for e in events:
                e["x_stub_extra"] = 1
                for key in ("message", "delta", "content_block", "usage"):
                    if isinstance(e.get(key), dict):
                        e[key]["x_stub_extra"] = 1
                if isinstance(e.get("message"), dict):
                    e["message"]["usage"]["x_stub_extra"] = 1
        if "ping-between-every-event" in n:
            spaced: list[dict[str, Any]] = []
            for e in events:
                if spaced:
                    spaced.append({"type": "ping"})
                spaced.append(e)
            events = spaced
        return events

    def frames(self, events: list[dict[str, Any]]) -> list[Frame]:
        """Frame payloads as SSE events (§3.1)."""
        n = self.names
        frames: list[Frame] = []
        for i, e in enumerate(events):
            name: str | None = e.get("type") if "object" not in e else None
            payload = e
            if name == "error" and "mid-stream-error-unnamed" in n:
                name, payload = None, {"error": e["error"]}
            elif name == "error" and "openai-error-event" in n:
                payload = {"error": {"message": e["error"]["message"], "type": e["error"]["type"], "code": None}}
            if name == "ping" and "empty-ping-data" in n:
                frames.append(Frame(name, ""))
                continue
            if "unnamed-sse-events" in n:
                name = None
            elif "event-name-mismatch" in n and name is not None:
                name = "message"
            frame = Frame(name, _dump(payload))
            if "retry-and-id-fields" in n:
                frame = Frame(frame.event, frame.data, id=str(i + 1), retry=3000)
            frames.append(frame)
        if ("done-sentinel" in n or "openai-stream" in n) and not any(e.get("type") == "error" for e in events):
            frames.append(Frame(None, "[DONE]"))
        return frames

    def encode(self, frames: list[Frame]) -> tuple[list[bytes], float]:
        """Bytes to write, one flush per item, and a delay before the first write."""
        n = self.names
        eol = "\r\n" if "crlf-line-endings" in n else "\r" if "cr-line-endings" in n else "\n"
        sep = ":" if "no-space-after-colon" in n else ": "
        chunks: list[bytes] = []
        if "sse-comments" in n:
            chunks.append(f": keep-alive{eol}{eol}".encode())
        for frame in frames:
            lines = []
            if "sse-comments" in n:
                lines.append(": keep-alive")
            if frame.id is not None:
                lines.append(f"id{sep}{frame.id}")
            if frame.retry is not None:
                lines.append(f"retry{sep}{frame.retry}")
            if frame.event is not None:
                lines.append(f"event{sep}{frame.event}")
            if "multi-line-data" in n and frame.data.startswith("{"):
                data_lines = json.dumps(json.loads(frame.data), indent=1, ensure_ascii=False).split("\n")
            else:
                data_lines = [frame.data]
            lines.extend(f"data{sep}{d}" for d in data_lines)
            chunks.append((eol.join(lines) + eol + eol).encode())
        if "split-writes" in n:
            pieces: list[bytes] = []
            for chunk in chunks:
                i, step = 0, 1
                while i < len(chunk):
                    pieces.append(chunk[i : i + step])
                    i += step
                    step = step % 7 + 1
            chunks = pieces
        if "buffered-stream" in n:
            return [b"".join(chunks)], 0.3
        return chunks, 0.0

    # ------------------------------------------------------------ models

    def models_page(self, page: dict[str, Any], all_models: tuple[dict[str, Any], ...]) -> dict[str, Any]:
        if "models-openai-shape" in self.names:
            return {
                "object": "list",
                "data": [{"id": m["id"], "object": "model", "created": 0, "owned_by": "stub"} for m in all_models],
            }
        if "models-no-pagination" in self.names:
            data = list(all_models)
            return {"data": data, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        if "extra-response-fields" in self.names:
            page = {**page, "x_stub_extra": 1, "data": [{**m, "x_stub_extra": 1} for m in page["data"]]}
        return page


_MESSAGE_FAULTS = frozenset(
    {
        "openai-stop-reasons",
        "stop-sequence-not-echoed",
        "empty-stop-sequence",
        "tool-use-end-turn",
        "missing-output-tokens",
        "tool-input-as-string",
        "extra-response-fields",
    }
)
_REFUSAL_FAULTS = frozenset(
    {
        "5xx-on-unknown-beta",
        "sampling-params-rejected-2023",
        "content-blocks-only",
        "string-content-only",
        "system-blocks-only",
        "system-array-500",
        "assistant-string-content-500",
    }
)
_EVENT_FAULTS = frozenset(
    {
        "openai-stream",
        "message-start-content-not-empty",
        "input-tokens-missing-in-message-start",
        "snapshot-deltas",
        "tool-input-as-string",
        "thinking-without-signature",
        "openai-stop-reasons",
        "stop-sequence-not-echoed",
        "tool-use-end-turn",
        "missing-output-tokens",
        "non-contiguous-block-index",
        "delta-index-skew",
        "missing-message-start",
        "missing-message-stop",
        "missing-content-block-stop",
        "unknown-event-type",
        "extra-response-fields",
        "ping-between-every-event",
        "message-start-final-stop-reason",
        "signature-first",
        "thinking-as-text-delta",
        "empty-stop-sequence",
        "null-stop-reason-in-stream",
        "delta-without-index",
        "one-based-block-stop",
        "repeated-block-start",
        "repeated-block-stop",
        "repeated-message-stop",
        "block-stop-after-message-delta",
        "usage-increments",
        "no-message-delta",
        "stream-continues-after-error",
    }
)


def _add_extras(msg: dict[str, Any]) -> None:
    msg["x_stub_extra"] = {"note": "clients must ignore unknown fields"}
    msg["usage"]["x_stub_extra"] = 0
    for block in msg["content"]:
        block["x_stub_extra"] = True


def _chat_completion(msg: dict[str, Any], created: int) -> dict[str, Any]:
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
                "finish_reason": _OPENAI_STOP.get(msg["stop_reason"], "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": usage.get("input_tokens", 0),
            "completion_tokens": usage.get("output_tokens", 0),
            "total_tokens": usage.get("input_tokens", 0) + usage.get("output_tokens", 0),
        },
    }


def _openai_chunks(events: list[dict[str, Any]], created: int) -> list[dict[str, Any]]:
    """Darkbloom's stream (§8.6): chat.completion.chunk objects (framed data-only, then [DONE])."""
    start = next((e for e in events if e["type"] == "message_start"), None)
    ident = "chatcmpl-" + (start["message"]["id"][4:] if start else "0")
    model = start["message"]["model"] if start else ""

    def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
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
            out.append(chunk({}, _OPENAI_STOP.get(e["delta"]["stop_reason"], "stop")))
        elif e["type"] == "error":
            out.append({"error": {"message": e["error"]["message"], "type": "provider_error"}})
    out.append({"object": "chat.completion.chunk", "choices": [], "se_signature": "stub", "response_hash": "stub"})
    return out


def _fill_start_content(events: list[dict[str, Any]]) -> None:
    blocks: dict[int, dict[str, Any]] = {}
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


def _repeat(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Each event of type ``kind`` sent twice; a repeated content_block_start goes just before
    the block's first delta (where an adapter that opens a block per upstream chunk sends it)."""
    out: list[dict[str, Any]] = []
    pending: dict[str, Any] | None = None
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


def _signature_first(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Move each signature_delta to just after its thinking block's content_block_start."""
    signatures = {
        e["index"]: e for e in events if e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta"
    }
    out: list[dict[str, Any]] = []
    for e in events:
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta":
            continue
        out.append(e)
        if e["type"] == "content_block_start" and e["index"] in signatures:
            out.append(signatures[e["index"]])
    return out


def _stop_after_message_delta(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The last content_block_stop moved to just after message_delta."""
    stops = [i for i, e in enumerate(events) if e["type"] == "content_block_stop"]
    delta = next((i for i, e in enumerate(events) if e["type"] == "message_delta"), None)
    if not stops or delta is None:
        return events
    stop = events[stops[-1]]
    out = [e for i, e in enumerate(events) if i != stops[-1]]
    out.insert(out.index(events[delta]) + 1, stop)
    return out


def _usage_increments(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """message_delta split in two: the tokens before the last one, then the last one alone."""
    out: list[dict[str, Any]] = []
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


def _repair_json(text: str) -> str:
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


def _tool_input_string(events: list[dict[str, Any]]) -> None:
    """Stream the tool input as a JSON-encoded string: the fragments concatenate to '"{...}"'."""
    fragments: dict[int, list[dict[str, Any]]] = {}
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


def catalog_lines() -> list[str]:
    """``--list-faults`` output: ``name  kind  description``."""
    width = max(len(f.name) for f in FAULTS)
    return [f"{f.name:<{width}}  {f.kind:<7}  {f.description}" for f in FAULTS]
