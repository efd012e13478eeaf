"""The fault catalog and the layer that applies the faults switched on to the clean stub.

A fault is a realistic defect seen in Anthropic-compatible servers and adapters (most from the
Darkbloom coordinator, contract §8), or a *control*: a legal variation of the wire format that a
correct client must accept, which must trip no check. Each is one :class:`Fault` object (see
:mod:`._base`) carrying its kind, description, ``trips`` and what it changes, defined in the
module of its concern:

* :mod:`.errors`: the error path and the request id;
* :mod:`.request`: auth, parsing, validation, accepted shapes, request semantics;
* :mod:`.message`: the Message body;
* :mod:`.stream`: stream framing, grammar and errors;
* :mod:`.endpoints`: count_tokens and the models listing;
* :mod:`.client_requests`: what real clients send (``?beta=true``, beta fields, ``cache_control``);
* :mod:`.controls`: the legal variations;
* :mod:`.darkbloom`: Darkbloom's attestation evidence (the stub's ``--darkbloom`` mode).

:class:`FaultSet` is what the app (``app.py``) consults: it combines the switches and runs the
hooks of the faults that are on, and does nothing when none is.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any, Callable

from ..generate import Options
from . import client_requests, controls, darkbloom, endpoints, errors, message, request, stream
from ._base import Events, Fault, Frame, Json, Kind, dump

__all__ = [
    "BY_NAME",
    "FAULTS",
    "ORDERS",
    "VALIDATION_PRECEDENCE",
    "Fault",
    "FaultSet",
    "Frame",
    "Kind",
    "UnknownFault",
    "catalog_lines",
]

FAULTS: tuple[Fault, ...] = (
    errors.FAULTS
    + request.FAULTS
    + message.FAULTS
    + stream.FAULTS
    + endpoints.FAULTS
    + client_requests.FAULTS
    + controls.FAULTS
    + darkbloom.FAULTS
)

BY_NAME: dict[str, Fault] = {f.name: f for f in FAULTS}


class UnknownFault(ValueError):
    """A fault name that is not in the catalog."""


# ---- precedence
#
# Hooks run in catalog order (FAULTS), each on the previous one's output, unless a stage below
# names its own order (where the catalog order would change what combined faults produce).
# In the catalog order: the error hooks (openai-error-envelope before extra-response-fields
# drops nothing extra), headers (no-request-id wins over x-request-id-only), message_id
# (duplicate-ids wins over non-msg-ids), the request body, generation and options hooks.
ORDERS: dict[str, tuple[str, ...]] = {
    # the first refusal wins
    "refuse": (
        "5xx-on-unknown-beta",
        "sampling-params-rejected-2023",
        "content-blocks-only",
        "string-content-only",
        "system-blocks-only",
        "system-array-500",
        "assistant-string-content-500",
        "tool-result-refused",
        "context-management-500",
        "beta-fields-400-unnamed",
        "tool-schema-keywords-500",
        "long-metadata-user-id-500",
    ),
    # openai-stop-reasons maps tool_use before tool-use-end-turn looks for it
    "message": (
        "openai-stop-reasons",
        "stop-sequence-not-echoed",
        "empty-stop-sequence",
        "tool-use-end-turn",
        "missing-output-tokens",
        "output-tokens-zero",
        "tool-input-as-string",
        "extra-response-fields",
    ),
    "events": (
        "message-start-content-not-empty",
        "message-start-final-stop-reason",
        "input-tokens-missing-in-message-start",
        "snapshot-deltas",
        "tool-input-as-string",
        "thinking-without-signature",
        "signature-first",
        "thinking-as-text-delta",
        # message_start and message_delta fields (in the stream, "" comes before stop-sequence-not-echoed's null)
        "empty-stop-sequence",
        "null-stop-reason-in-stream",
        "openai-stop-reasons",
        "stop-sequence-not-echoed",
        "tool-use-end-turn",
        "missing-output-tokens",
        "output-tokens-zero",
        "stream-output-tokens-zero",
        # indices, then events repeated, moved, split or dropped
        "non-contiguous-block-index",
        "delta-index-skew",
        "delta-without-index",
        "one-based-block-stop",
        "repeated-block-start",
        "repeated-block-stop",
        "repeated-message-stop",
        "block-stop-after-message-delta",
        "usage-increments",
        "no-message-delta",
        "stream-continues-after-error",
        "missing-message-start",
        "missing-message-stop",
        "missing-content-block-stop",
        # controls last: they see the final payloads
        "unknown-event-type",
        "extra-response-fields",
        "ping-between-every-event",
    ),
    # the error payload first (mid-stream-error-unnamed wins), then names, then id/retry; an
    # empty ping is written bare whatever came before
    "frame": (
        "mid-stream-error-unnamed",
        "openai-error-event",
        "unnamed-sse-events",
        "event-name-mismatch",
        "retry-and-id-fields",
        "empty-ping-data",
    ),
    # the first page wins
    "models_page": ("models-openai-shape", "models-no-pagination", "extra-response-fields"),
}
# validation modes, strongest first: no-validation accepts what server-error-on-bad-input would 500
VALIDATION_PRECEDENCE = ("none", "500")


def _ordered(hook: str, on: tuple[Fault, ...]) -> list[Fault]:
    """The faults of ``on`` with ``hook``, in the stage's order (replacing faults excluded)."""
    if hook in ORDERS:
        names = {f.name for f in on}
        return [BY_NAME[n] for n in ORDERS[hook] if n in names]
    return [f for f in on if getattr(f, hook) is not None and hook not in f.replaces]


def _check_orders() -> None:
    """Every fault with an ordered hook is in that stage's order, exactly once (else it would be
    skipped): a catalog error, raised on import."""
    for hook, names in ORDERS.items():
        have = {f.name for f in FAULTS if getattr(f, hook) is not None and hook not in f.replaces}
        if len(set(names)) != len(names) or set(names) != have:
            raise RuntimeError(
                f"ORDERS[{hook!r}] must name each fault with a {hook} hook once: {sorted(set(names) ^ have)}"
            )


_check_orders()


class FaultSet:
    """The faults switched on for one stub, combined into what the app consults.

    Switches: auth (ignore-auth skips it; else a route's own ``route_auth_styles``, then the first
    fault in catalog order that sets ``auth_styles``), validation (:data:`VALIDATION_PRECEDENCE`), content types and SSE line
    endings (the first fault in catalog order that sets one: crlf before cr), the rest any-of.
    A fault that ``replaces`` a stage's shape (chat-completion-body, openai-stream) runs alone.
    """

    def __init__(self, names: tuple[str, ...] | list[str] = ()) -> None:
        unknown = [n for n in names if n not in BY_NAME]
        if unknown:
            raise UnknownFault(f"unknown fault {unknown[0]!r} (see --list-faults)")
        self.names: frozenset[str] = frozenset(names)
        on = tuple(f for f in FAULTS if f.name in self.names)
        self.on = on
        # switches
        self.version_required = all(f.checks_version for f in on)
        self.validation: str = next((m for m in VALIDATION_PRECEDENCE if any(f.validation == m for f in on)), "strict")
        self.lenient_body_parsing = any(f.lenient_body for f in on)
        self.unknown_model_fallback = any(f.unknown_model_fallback for f in on)
        self.stream_from_accept = any(f.stream_from_accept for f in on)
        self.plain_text_404 = any(f.plain_text_404 for f in on)
        self._skips_auth = any(f.skips_auth for f in on)
        self._auth_styles = next(
            (f.auth_styles for f in on if f.auth_styles is not None), frozenset({"bearer", "x-api-key"})
        )
        self._route_auth_styles: dict[str, frozenset[str]] = {}
        for f in on:
            for route, styles in f.route_auth_styles:
                self._route_auth_styles.setdefault(route, styles)
        self._unlimited = any(f.unlimited_body for f in on)
        self._missing = frozenset().union(*(f.missing_endpoints for f in on))
        self._request_id_in_body = all(f.request_id_in_body for f in on)
        self._error_type = next((f.error_content_type for f in on if f.error_content_type), "application/json")
        self.message_content_type = next(
            (f.message_content_type for f in on if f.message_content_type), "application/json"
        )
        self.stream_content_type = next(
            (f.stream_content_type for f in on if f.stream_content_type), "text/event-stream; charset=utf-8"
        )
        self._done = any(f.done_sentinel for f in on)
        self._eol = next((f.sse_eol for f in on if f.sse_eol), "\n")
        self._sep = next((f.sse_separator for f in on if f.sse_separator), ": ")
        self._comments = any(f.sse_comments for f in on)
        self._multi_line = any(f.multi_line_data for f in on)
        self._buffered = next((f.buffered for f in on if f.buffered is not None), None)
        # hooks, in their stage's order
        self._refuse_url = [f.refuse_url for f in _ordered("refuse_url", on) if f.refuse_url]
        self.refuses_urls = bool(self._refuse_url)
        self._request_body = [f.request_body for f in _ordered("request_body", on) if f.request_body]
        self._refuse = [f.refuse for f in _ordered("refuse", on) if f.refuse]
        self._generation = [f.generation for f in _ordered("generation", on) if f.generation]
        self._options = [f.options for f in _ordered("options", on) if f.options]
        self._count_tokens = [f.count_tokens for f in _ordered("count_tokens", on) if f.count_tokens]
        self._message_id = [f.message_id for f in _ordered("message_id", on) if f.message_id]
        self._tool_id = [f.tool_id for f in _ordered("tool_id", on) if f.tool_id]
        self._headers = [f.headers for f in _ordered("headers", on) if f.headers]
        self._error = [f.error for f in _ordered("error", on) if f.error]
        self._message = [f.message for f in _ordered("message", on) if f.message]
        self._models_page = [f.models_page for f in _ordered("models_page", on) if f.models_page]
        self._events = [f.events for f in _ordered("events", on) if f.events]
        self._frame = [f.frame for f in _ordered("frame", on) if f.frame]
        self._write = [f.write for f in _ordered("write", on) if f.write]
        self._message_replaced = next((f.message for f in on if "message" in f.replaces), None)
        self._events_replaced = next((f.events for f in on if "events" in f.replaces), None)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def __bool__(self) -> bool:
        return bool(self.names)

    # ------------------------------------------------------------ request side

    def auth_styles(self, route: str | None = None) -> frozenset[str] | None:
        """Accepted credential carriers on ``route`` ("messages", "count_tokens", "models"), or
        None when auth is skipped."""
        if self._skips_auth:
            return None
        return self._route_auth_styles.get(route or "", self._auth_styles)

    def url_refusal(self, path: str, query: str) -> tuple[int, str, str] | None:
        """(status, error type, message) for a request URL some defect refuses (beta-query-404
        routes on path and query), else None; asked before auth, as a router would."""
        for hook in self._refuse_url:
            refusal = hook(path, query)
            if refusal is not None:
                return refusal
        return None

    def prepare_body(self, body: Any, version: str, schema: str = "messages-request") -> Any:
        """What the validator sees: some defects hide parts of the body from it."""
        if not isinstance(body, dict):
            return body
        for hook in self._request_body:
            body = hook(body, version, schema)
        return body

    def gen_body(self, body: dict) -> dict:
        """What generation sees (ignore-system drops the system prompt, tool-choice-none-ignored
        the tool_choice none)."""
        for hook in self._generation:
            body = hook(body)
        return body

    lenient_json = staticmethod(request.lenient_json)

    def body_limit(self, limit: int) -> int | None:
        return None if self._unlimited else limit

    def refusal(self, body: dict, headers: Any) -> tuple[int, str, str] | None:
        """(status, error type, message) for a valid request some defect refuses, else None."""
        for hook in self._refuse:
            refusal = hook(body, headers)
            if refusal is not None:
                return refusal
        return None

    @functools.cached_property
    def options(self) -> Options:
        """What the answer generator honours (fixed per stub: computed once)."""
        opts = Options()
        for hook in self._options:
            opts = hook(opts)
        return opts

    def count_tokens(self, body: dict, exact: Callable[[dict], int]) -> int:
        """count_tokens result; the mismatch defect counts message words only."""
        for hook in self._count_tokens:
            return hook(body, exact)
        return exact(body)

    def missing_endpoint(self, endpoint: str) -> bool:
        return endpoint in self._missing

    def message_id(self, clean: str, counter: int) -> str:
        for hook in self._message_id:
            clean = hook(clean)
        return clean

    def tool_id(self, clean: str) -> str:
        for hook in self._tool_id:
            clean = hook(clean)
        return clean

    # ------------------------------------------------------------ responses

    def headers(self, request_id: str) -> dict[str, str]:
        """Headers on every response (request-id, §5.2)."""
        out = {"request-id": request_id}
        for hook in self._headers:
            out = hook(out, request_id)
        return out

    def body_request_id(self, request_id: str) -> str | None:
        return request_id if self._request_id_in_body else None

    def error(self, status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, str, dict[str, str]]:
        """(status, body, content type, headers) for a clean error envelope and its own headers."""
        body = copy.deepcopy(body)
        headers = dict(headers)
        for hook in self._error:
            status, body, headers = hook(status, body, headers)
        return status, body, self._error_type, headers

    def message(self, msg: Json, created: int) -> Json:
        """Rewrite a finished Message (§2)."""
        if self._message_replaced is not None:
            return self._message_replaced(msg, created)
        if not self._message:
            return msg
        msg = copy.deepcopy(msg)
        for hook in self._message:
            msg = hook(msg, created)
        return msg

    def models_page(self, page: Json, all_models: tuple[Json, ...]) -> Json:
        for hook in self._models_page:
            changed = hook(page, all_models)
            if changed is not None:
                return changed
        return page

    # ------------------------------------------------------------ streams

    def events(self, events: Events, created: int) -> Events:
        """Rewrite the payload list of a stream (§3.2-3.3)."""
        if self._events_replaced is not None:
            return self._events_replaced(copy.deepcopy(events), created)
        if not self._events:
            return events
        events = copy.deepcopy(events)
        for hook in self._events:
            events = hook(events, created)
        return events

    def frames(self, events: Events) -> list[Frame]:
        """Frame payloads as SSE events (§3.1): a payload without a ``type`` (or an OpenAI
        ``object``) gets no ``event:`` line."""
        frames: list[Frame] = []
        for i, e in enumerate(events):
            frame = Frame(e.get("type") if "object" not in e else None, dump(e))
            for hook in self._frame:
                frame = hook(i, e, frame)
            frames.append(frame)
        if self._done and not any(e.get("type") == "error" for e in events):
            frames.append(Frame(None, "[DONE]"))
        return frames

    def encode(self, frames: list[Frame]) -> tuple[list[bytes], float]:
        """Bytes to write, one flush per item, and a delay before the first write."""
        eol, sep = self._eol, self._sep
        chunks: list[bytes] = []
        if self._comments:
            chunks.append(f": keep-alive{eol}{eol}".encode())
        for frame in frames:
            lines = []
            if self._comments:
                lines.append(": keep-alive")
            if frame.id is not None:
                lines.append(f"id{sep}{frame.id}")
            if frame.retry is not None:
                lines.append(f"retry{sep}{frame.retry}")
            if frame.event is not None:
                lines.append(f"event{sep}{frame.event}")
            if self._multi_line and frame.data.startswith("{"):
                data_lines = _json_lines(frame.data)
            else:
                data_lines = [frame.data]
            lines.extend(f"data{sep}{d}" for d in data_lines)
            chunks.append((eol.join(lines) + eol + eol).encode())
        for hook in self._write:
            chunks = hook(chunks)
        if self._buffered is not None:
            return [b"".join(chunks)], self._buffered
        return chunks, 0.0


def _json_lines(data: str) -> list[str]:
    return json.dumps(json.loads(data), indent=1, ensure_ascii=False).split("\n")


def catalog_lines() -> list[str]:
    """``--list-faults`` output: ``name  kind  description``."""
    width = max(len(f.name) for f in FAULTS)
    return [f"{f.name:<{width}}  {f.kind:<7}  {f.description}" for f in FAULTS]
