"""Faults of the requests real clients send (contract §1.1, §1.3, §5.1, §9 items 5 and 8):
the beta clients' ``?beta=true`` query, the beta body fields their ``anthropic-beta`` header
enables, and ``cache_control`` markers. Claude Code sends all three on its first request (the
TypeScript SDK's beta client adds ``?beta=true`` to every call); each fault below is a way
Anthropic-compatible servers have broken it."""

from __future__ import annotations

from typing import Any

from ._base import Fault, Json, defect

# Top-level body fields of the beta surface (schemas/beta.json) a server may not implement.
BETA_FIELDS = ("context_management", "mcp_servers", "compaction", "thread", "fallbacks", "billing_policy")

Refusal = tuple[int, str, str] | None


def _route_with_query_404(path: str, query: str) -> Refusal:
    # a router that matches the raw request target (path and query) against its table
    return (404, "not_found_error", f"Route {path}?{query} not found") if query else None


def _crash_on_context_management(body: Json, headers: Any) -> Refusal:
    return (500, "api_error", "internal server error") if "context_management" in body else None


def _refuse_beta_fields_unnamed(body: Json, headers: Any) -> Refusal:
    if any(name in body for name in BETA_FIELDS):
        return 400, "invalid_request_error", "invalid request body"
    return None


def _crash_on_schema_keywords(body: Json, headers: Any) -> Refusal:
    for tool in body.get("tools") or ():
        schema = tool.get("input_schema") if isinstance(tool, dict) else None
        if isinstance(schema, dict) and ("$schema" in schema or "$defs" in schema):
            return 500, "api_error", "internal server error"
    return None


def _crash_on_long_user_id(body: Json, headers: Any) -> Refusal:
    user_id = (body.get("metadata") or {}).get("user_id")
    if isinstance(user_id, str) and len(user_id) > 64:
        return 500, "api_error", "internal server error"
    return None


def _cached_text(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "text" and bool(block.get("cache_control"))


def _drop_cached_text(body: Json) -> Json:
    """The body without its text blocks that carry ``cache_control`` (system and messages)."""
    out = dict(body)
    system = body.get("system")
    if isinstance(system, list):
        out["system"] = [b for b in system if not _cached_text(b)]
    messages = []
    for message in body.get("messages") or ():
        if isinstance(message, dict) and isinstance(message.get("content"), list):
            message = {**message, "content": [b for b in message["content"] if not _cached_text(b)]}
        messages.append(message)
    out["messages"] = messages
    return out


FAULTS: tuple[Fault, ...] = (
    defect(
        "beta-query-404",
        "a request whose URL carries a query (the beta clients' POST /v1/messages?beta=true, and count_tokens) "
        'gets 404 not_found_error "Route /v1/messages?beta=true not found": the router matches the raw request '
        "target, query included",
        "client-requests.beta.query",
        "client-requests.beta.count-tokens-query",
        refuse_url=_route_with_query_404,
    ),
    defect(
        "context-management-500",
        "a request carrying context_management (Claude Code sends it under context-management-2025-06-27) "
        "crashes the server (500 api_error) instead of being served or refused with 400",
        "client-requests.beta.context-management",
        "client-requests.claude-code.full-request",
        refuse=_crash_on_context_management,
    ),
    defect(
        "beta-fields-400-unnamed",
        'beta body fields (context_management, mcp_servers, ...) refused with 400 invalid_request_error "invalid '
        'request body", naming nothing: a client cannot tell which field to drop before it retries',
        "client-requests.decline.names-unsupported",
        refuse=_refuse_beta_fields_unnamed,
    ),
    defect(
        "tool-schema-keywords-500",
        "a tool input_schema carrying JSON Schema 2020-12 keywords its converter does not know ($schema, "
        "$defs) crashes the server (500 api_error): the schemas of Claude Code's tools, emitted by a schema "
        "library, all carry $schema",
        "client-requests.tools.many-tools",
        "client-requests.claude-code.full-request",
        refuse=_crash_on_schema_keywords,
    ),
    defect(
        "long-metadata-user-id-500",
        "a metadata.user_id longer than 64 characters crashes the server (500 api_error): it is mapped onto "
        "an upstream field limited to 64, and Claude Code's user_<hash>_account_<uuid>_session_<uuid> is longer",
        "client-requests.metadata.user-id",
        refuse=_crash_on_long_user_id,
    ),
    defect(
        "cache-control-text-dropped",
        "text blocks carrying cache_control (system and message blocks) are dropped before generation: a "
        "converter whose text part has no cache_control field fails to decode them and skips them, so the marked "
        "prompt never reaches the model, usage or count_tokens",
        "client-requests.cache-control.text-read",
        generation=_drop_cached_text,
    ),
)
