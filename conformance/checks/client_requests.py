"""client-requests: requests shaped like the ones Claude Code and the official SDKs send.

Claude Code's first request is ``POST /v1/messages?beta=true`` with ``anthropic-beta:
claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,...``, a
``context_management`` field, system and message blocks marked with ``cache_control``, dozens
of tools whose input schemas are JSON Schema 2020-12, ``metadata.user_id`` and extended
thinking; later turns send the signed thinking blocks back, and ``tool_result`` blocks of every
form (``is_error``, text blocks, mixed with text). The TypeScript SDK's beta client adds
``?beta=true`` to every request, count_tokens included. The probes here send those shapes with
the harness's own text (contract §1.1, §1.3, §1.5, §1.6, §5.1).

The rule (contract §9 items 5, 7, 8): a target MUST answer each with 200 and a valid Message
(or a stream that rebuilds into one), or refuse it with 400 ``invalid_request_error`` in the
error envelope; never a 5xx, another status, a hang (the run's bounds end it: failed) or a 200
that is not a Message. A refusal is reported ``unsupported``; that it names what it refuses (a
field, block type or beta of the request) is a SHOULD of its own
(``client-requests.decline.names-unsupported``): Claude Code drops ``context_management`` and
retries when the 400 names it. Stricter where the harness can tell:

* ``?beta=true`` is no feature: the beta clients add it to every request, so the request a
  target answers 200 without it must be answered 200 with it;
* tools and thinking: once the target has shown it supports them (``shown_supported``), a
  refusal of the thinking history, of a ``tool_result`` form or of its own content sent back
  is a failure, not a decline (a refusal of 30 tools may be a limit the provider chose);
* ``cache_control`` is a marker: the same request without the markers is sent too, and the
  marked text must reach the model (the answer repeats a word only a marked block holds;
  input tokens do not shrink);
* an invalid request with ``"stream": true`` must get the JSON 400, never a 200 event stream.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import jsonschema

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Blocked, Level, Outcome, Verdict, check
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance.checks._causes import (
    STREAM_FRAMING,
    grammar_of,
    message_symptoms,
    require_message,
    require_ok,
    require_stream,
    stream_symptoms,
)
from conformance.checks._common import (
    HELLO,
    WEATHER_QUESTION,
    WEATHER_TOOL,
    basic_body,
    declined,
    describe,
    error_type_of,
    reachable,
)
from conformance.checks._shared import BASIC, THINKING, TOOLS_FORCED, message_text, shown_supported
from conformance.checks.semantics import LONG_SYSTEM

MESSAGES_BETA = "/v1/messages?beta=true"
COUNT_TOKENS = "/v1/messages/count_tokens"
COUNT_TOKENS_BETA = COUNT_TOKENS + "?beta=true"
PLAIN_COUNT_PROBE = "count-tokens"  # the count-tokens family's plain probe (count_tokens.py)
COUNT_HELLO = [{"role": "user", "content": "Say hello."}]  # that probe's messages

# What Claude Code sends with an API key (2.1.x): its beta list, and two headers of its own.
CLAUDE_CODE_BETAS = (
    "claude-code-20250219",
    "interleaved-thinking-2025-05-14",
    "context-management-2025-06-27",
    "prompt-caching-scope-2026-01-05",
    "effort-2025-11-24",
)
CLIENT_HEADERS = {
    "anthropic-beta": ",".join(CLAUDE_CODE_BETAS),
    "anthropic-dangerous-direct-browser-access": "true",
    "x-app": "cli",
}

# metadata.user_id as Claude Code builds it with an API key: user_<hash>_account_<uuid>_session_<uuid>
USER_ID = (
    "user_"
    + hashlib.sha256(b"conformance-harness").hexdigest()
    + "_account__session_00000000-0000-4000-8000-00000000c0de"
)

AGENT_IDENTITY = "You are a command-line coding assistant, here answering a conformance harness."
REMINDER = "<system-reminder>The working directory is empty and no file is open.</system-reminder>"

# cache_control must not hide text: the word only the marked block holds must come back.
ECHO_INSTRUCTION = "Reply with only the word written after the colon on the next line, and nothing else."
ECHO_WORD = "Marigold-7319"
# input tokens (with cache creation and reads) may differ this much between the two requests
TOKEN_TOLERANCE = 10

_SCHEMA_2020_12 = "https://json-schema.org/draft/2020-12/schema"
TOOL_IDS = ("toolu_01ConformanceClient0001", "toolu_01ConformanceClient0002", "toolu_01ConformanceClient0003")

# ------------------------------------------------------------------------------ tool definitions


def _string(description: str, **extra: Any) -> dict:
    return {"type": "string", "description": description, **extra}


def _object(properties: dict, required: Iterable[str], **extra: Any) -> dict:
    """An input schema as a client's schema library emits it (JSON Schema 2020-12, closed)."""
    return {
        "$schema": _SCHEMA_2020_12,
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


_PATH = _string("The absolute path of the file")
_TEMPLATES: dict[str, dict] = {
    "read": _object(
        {
            "file_path": _PATH,
            "offset": {"type": "integer", "minimum": 0, "description": "The line to start reading from"},
            "limit": {"type": "integer", "exclusiveMinimum": 0, "description": "How many lines to read"},
        },
        ["file_path"],
    ),
    "write": _object({"file_path": _PATH, "content": _string("The text to write")}, ["file_path", "content"]),
    "edit": _object(
        {
            "file_path": _PATH,
            "old_string": _string("The text to replace"),
            "new_string": _string("The replacement text"),
            "replace_all": {"type": "boolean", "default": False, "description": "Replace every occurrence"},
        },
        ["file_path", "old_string", "new_string"],
    ),
    "search": _object(
        {
            "pattern": _string("A regular expression"),
            "path": _string("Where to search"),
            "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"]},
            "-i": {"type": "boolean", "description": "Case-insensitive"},
            "head_limit": {"type": "integer", "minimum": 1},
        },
        ["pattern"],
    ),
    "command": _object(
        {
            "command": _string("The command line"),
            "timeout": {"type": "number", "maximum": 600000, "description": "Milliseconds"},
            "description": _string("What the command does, in a few words"),
            "run_in_background": {"type": "boolean"},
        },
        ["command"],
    ),
    "fetch": _object(
        {"url": _string("The page to fetch", format="uri"), "prompt": _string("What to extract")},
        ["url", "prompt"],
    ),
    "todo": _object(
        {
            "todos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string", "minLength": 1},
                        "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                        "activeForm": {"type": "string", "minLength": 1},
                    },
                    "required": ["content", "status", "activeForm"],
                    "additionalProperties": False,
                },
            }
        },
        ["todos"],
    ),
    "question": _object(
        {
            "questions": {
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "items": {
                    "type": "object",
                    "properties": {
                        "question": {"type": "string"},
                        "options": {"type": "array", "minItems": 2, "maxItems": 4, "items": {"type": "string"}},
                        "multiSelect": {"type": "boolean"},
                    },
                    "required": ["question", "options"],
                    "additionalProperties": False,
                },
            }
        },
        ["questions"],
    ),
    "agent": _object(
        {
            "description": _string("A short description of the task"),
            "prompt": _string("The task for the agent"),
            "subagent_type": _string("Which kind of agent"),
        },
        ["description", "prompt"],
    ),
    "position": _object(
        {"file_path": _PATH, "position": {"$ref": "#/$defs/position"}},
        ["file_path", "position"],
        **{
            "$defs": {
                "position": {
                    "type": "object",
                    "properties": {
                        "line": {"type": "integer", "minimum": 1},
                        "character": {"type": "integer", "minimum": 0},
                    },
                    "required": ["line", "character"],
                    "additionalProperties": False,
                }
            }
        },
    ),
    "query": _object(
        {
            "query": _string("What to look for"),
            "max_results": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
        },
        ["query"],
    ),
    "empty": _object({}, []),
}

# 30 tools, named and described in the harness's own words (no name is a word of any prompt)
_TOOLS: tuple[tuple[str, str, str], ...] = (
    ("ReadFile", "Reads a file from the local filesystem.", "read"),
    ("WriteFile", "Writes a file to the local filesystem.", "write"),
    ("EditFile", "Replaces exact text in a file.", "edit"),
    ("ListDirectory", "Lists the entries of a directory.", "read"),
    ("FindFiles", "Finds files whose path matches a glob pattern.", "search"),
    ("SearchText", "Searches file contents with a regular expression.", "search"),
    ("RunCommand", "Runs a shell command and returns its output.", "command"),
    ("StopCommand", "Stops a command running in the background.", "query"),
    ("CommandOutput", "Returns new output of a background command.", "query"),
    ("FetchPage", "Fetches a web page and extracts what the prompt asks for.", "fetch"),
    ("SearchWeb", "Searches the web.", "query"),
    ("TaskList", "Creates and updates the session's task list.", "todo"),
    ("AskUser", "Asks the user multiple-choice questions.", "question"),
    ("EnterPlanning", "Switches to planning before editing anything.", "empty"),
    ("ExitPlanning", "Presents the plan and leaves planning.", "agent"),
    ("NotebookRead", "Reads the cells of a Jupyter notebook.", "read"),
    ("NotebookEdit", "Replaces the source of a notebook cell.", "edit"),
    ("LaunchAgent", "Starts a sub-agent on a self-contained task.", "agent"),
    ("UseSkill", "Loads a named skill into the conversation.", "query"),
    ("ListResources", "Lists the resources of the connected servers.", "query"),
    ("ReadResource", "Reads one resource of a connected server.", "fetch"),
    ("VersionStatus", "Shows the working tree's status.", "empty"),
    ("VersionDiff", "Shows the working tree's changes.", "search"),
    ("GoToDefinition", "Finds where a symbol is defined.", "position"),
    ("FindReferences", "Finds the references to a symbol.", "position"),
    ("RenameSymbol", "Renames a symbol everywhere.", "position"),
    ("FormatCode", "Formats a file with the project's formatter.", "read"),
    ("Diagnostics", "Returns the language server's diagnostics for a file.", "read"),
    ("OpenEditor", "Opens a file in the user's editor.", "read"),
    ("SlashCommand", "Runs one of the user's saved commands.", "command"),
)


def agent_tools() -> list[dict]:
    """The 30 tool definitions an agent-shaped request offers."""
    return [{"name": n, "description": d, "input_schema": _TEMPLATES[t]} for n, d, t in _TOOLS]


# ------------------------------------------------------------------------------ request bodies


def _mark(block: dict, marked: bool, **cache: str) -> dict:
    return {**block, "cache_control": {"type": "ephemeral", **cache}} if marked else block


def cache_control_body(ctx: Context, *, marked: bool = True) -> dict:
    """``cache_control`` on a system block, a tool definition and a message block (the plain
    SDK's shape), or (``marked=False``) the same request without any marker."""
    return basic_body(
        ctx,
        max_tokens=64,
        system=[{"type": "text", "text": AGENT_IDENTITY}, _mark({"type": "text", "text": LONG_SYSTEM}, marked)],
        tools=[_mark(WEATHER_TOOL, marked)],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": ECHO_INSTRUCTION},
                    _mark({"type": "text", "text": f"Repeat: {ECHO_WORD}"}, marked),
                ],
            }
        ],
    )


def claude_code_body(ctx: Context, **extra: Any) -> dict:
    """The whole shape of Claude Code's first request, with the harness's own text."""
    return {
        "model": ctx.model,
        "max_tokens": 2048,
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": REMINDER},
                    {"type": "text", "text": HELLO, "cache_control": {"type": "ephemeral"}},
                ],
            }
        ],
        "system": [
            {"type": "text", "text": AGENT_IDENTITY},
            {"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral", "scope": "global"}},
        ],
        "tools": agent_tools(),
        "metadata": {"user_id": USER_ID},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "stream": True,
        **extra,
    }


CONTEXT_MANAGEMENT = {
    "edits": [
        {
            "type": "clear_tool_uses_20250919",
            "trigger": {"type": "input_tokens", "value": 30000},
            "keep": {"type": "tool_uses", "value": 3},
        }
    ]
}


def _input_fields(ctx: Context) -> dict[str, set[str]]:
    """Block type -> the fields the request schema gives that block (what a client sends back)."""
    defs = ctx.schemas.document("defs")["$defs"]
    names = {
        "text": "TextBlockParam",
        "tool_use": "ToolUseBlockParam",
        "thinking": "ThinkingBlockParam",
        "redacted_thinking": "RedactedThinkingBlockParam",
    }
    return {kind: set(defs[name]["properties"]) for kind, name in names.items()}


def as_input(ctx: Context, blocks: list) -> list:
    """A Message's content blocks as the next request's assistant turn: each block with the
    fields the request schema defines for its type (a response may carry fields a client
    ignores, contract §2; what goes back is the block as a request parameter)."""
    fields = _input_fields(ctx)
    out = []
    for block in blocks:
        if isinstance(block, dict) and block.get("type") in fields:
            block = {k: v for k, v in block.items() if k in fields[block["type"]]}
        out.append(block)
    return out


def _message_of(ex: Any) -> dict | None:
    """A 200 answer's body when it is a Message with a content array, else None."""
    if not isinstance(ex, Exchange) or ex.status != 200:
        return None
    body = ex.json()
    if isinstance(body, dict) and body.get("type") == "message" and isinstance(body.get("content"), list):
        return body
    return None


def _blocks(msg: dict, kind: str) -> list[dict]:
    return [b for b in msg.get("content") or [] if isinstance(b, dict) and b.get("type") == kind]


# ------------------------------------------------------------------------------ probes

P_QUERY = "client-beta-query"
P_COUNT_QUERY = "client-count-tokens-beta-query"
P_HEADERS = "client-beta-headers"
P_CONTEXT = "client-context-management"
P_CACHE = "client-cache-control"
P_CACHE_UNMARKED = "client-cache-control-unmarked"
P_MANY_TOOLS = "client-many-tools"
P_METADATA = "client-metadata"
P_THINKING = "client-thinking-history"
P_TOOL_RESULTS = "client-tool-results"
P_ROUND_TRIP = "client-round-trip"
P_CLAUDE_CODE = "client-claude-code"
P_INVALID_STREAM = "client-invalid-stream"

# a probe that reads another probe's answer: that one is run first (a probe may not start one)
_DEPENDS = {P_THINKING: THINKING, P_ROUND_TRIP: TOOLS_FORCED}
# the probes whose refusals should name what they refuse, with what each sends
_REFUSABLE = (
    (P_QUERY, "the basic request with ?beta=true"),
    (P_COUNT_QUERY, "count_tokens with ?beta=true"),
    (P_HEADERS, "Claude Code's anthropic-beta list"),
    (P_CONTEXT, "context_management"),
    (P_CACHE, "cache_control on system, tool and message blocks"),
    (P_MANY_TOOLS, "30 tools with JSON Schema 2020-12 input schemas"),
    (P_METADATA, "metadata.user_id"),
    (P_THINKING, "the signed thinking block sent back"),
    (P_TOOL_RESULTS, "tool_result blocks of every form"),
    (P_ROUND_TRIP, "the target's own content sent back"),
    (P_CLAUDE_CODE, "Claude Code's whole request"),
    (P_INVALID_STREAM, 'an invalid request with "stream": true'),
)


def _probe(ctx: Context, name: str) -> Any:
    if name in _DEPENDS:
        ctx.probe(_DEPENDS[name])
    return ctx.probe(name)


@probe(P_QUERY)
def _beta_query(ctx: Context) -> Exchange:
    # the basic request as the basic probe sends it (in a form the target accepts), with the query
    return ctx.messages(basic_body(ctx), path=MESSAGES_BETA)


@probe(P_COUNT_QUERY)
def _count_tokens_query(ctx: Context) -> Exchange:
    return ctx.send("POST", COUNT_TOKENS_BETA, json={"model": ctx.model, "messages": COUNT_HELLO})


@probe(P_HEADERS)
def _beta_headers(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx), headers=CLIENT_HEADERS)


@probe(P_CONTEXT)
def _context_management(ctx: Context) -> Exchange:
    body = basic_body(ctx, context_management=CONTEXT_MANAGEMENT)
    return ctx.send("POST", MESSAGES_BETA, json=body, headers=CLIENT_HEADERS)


@probe(P_CACHE)
def _cache_control(ctx: Context) -> Exchange:
    return ctx.messages(cache_control_body(ctx))


@probe(P_CACHE_UNMARKED)
def _cache_control_unmarked(ctx: Context) -> Exchange:
    return ctx.messages(cache_control_body(ctx, marked=False))


@probe(P_MANY_TOOLS)
def _many_tools(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, max_tokens=256, tools=agent_tools()))


@probe(P_METADATA)
def _metadata(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, metadata={"user_id": USER_ID}))


@probe(P_THINKING)
def _thinking_history(ctx: Context) -> Exchange | None:
    """The thinking probe's question, its answer (signed thinking block included) sent back as
    the assistant turn, and a new question; None when that answer had no thinking block."""
    first = ctx.probe(THINKING)
    msg = _message_of(first)
    if msg is None or not (_blocks(msg, "thinking") or _blocks(msg, "redacted_thinking")):
        return None
    asked = json.loads(first.request.body)
    messages = asked["messages"] + [
        {"role": "assistant", "content": as_input(ctx, msg["content"])},
        {"role": "user", "content": HELLO},
    ]
    return ctx.messages({**asked, "messages": messages})


@probe(P_TOOL_RESULTS)
def _tool_results(ctx: Context) -> Exchange:
    cities = ("Paris", "Atlantis", "Oslo")
    uses = [
        {"type": "tool_use", "id": ident, "name": WEATHER_TOOL["name"], "input": {"city": city}}
        for ident, city in zip(TOOL_IDS, cities, strict=True)
    ]
    results = [
        {"type": "tool_result", "tool_use_id": TOOL_IDS[0], "content": "18 degrees Celsius and sunny"},
        {
            "type": "tool_result",
            "tool_use_id": TOOL_IDS[1],
            "content": "<tool_use_error>Error: no city called Atlantis</tool_use_error>",
            "is_error": True,
        },
        {
            "type": "tool_result",
            "tool_use_id": TOOL_IDS[2],
            "content": [{"type": "text", "text": "4 degrees Celsius"}, {"type": "text", "text": "light snow"}],
        },
        {"type": "text", "text": "Summarise the three results in one sentence."},
    ]
    return ctx.messages(
        basic_body(
            ctx,
            max_tokens=256,
            tools=[WEATHER_TOOL],
            messages=[
                {"role": "user", "content": "What is the weather in Paris, Atlantis and Oslo? Use the tool."},
                {"role": "assistant", "content": [{"type": "text", "text": "I will check the three cities."}, *uses]},
                {"role": "user", "content": results},
            ],
        )
    )


@probe(P_ROUND_TRIP)
def _round_trip(ctx: Context) -> Exchange | None:
    """The forced-tool answer's content, as returned, sent back as the assistant turn with a
    tool_result for each tool_use; None when that answer held no tool_use block."""
    msg = _message_of(ctx.probe(TOOLS_FORCED))
    uses = _blocks(msg, "tool_use") if msg is not None else []
    if msg is None or not uses:
        return None
    results = [
        {"type": "tool_result", "tool_use_id": u.get("id"), "content": "18 degrees Celsius and sunny"} for u in uses
    ]
    return ctx.messages(
        basic_body(
            ctx,
            max_tokens=256,
            tools=[WEATHER_TOOL],
            messages=[
                {"role": "user", "content": WEATHER_QUESTION},
                {"role": "assistant", "content": as_input(ctx, msg["content"])},
                {"role": "user", "content": results},
            ],
        )
    )


@probe(P_CLAUDE_CODE)
def _claude_code(ctx: Context) -> Exchange:
    return ctx.send("POST", MESSAGES_BETA, json=claude_code_body(ctx), headers=CLIENT_HEADERS)


@probe(P_INVALID_STREAM)
def _invalid_stream(ctx: Context) -> Exchange:
    # what create(stream=True) sends when the app passed a string where an integer belongs
    return ctx.messages(basic_body(ctx, max_tokens="sixty-four", stream=True))


# ------------------------------------------------------------------------------ judging


def _is_beta(ex: Exchange) -> bool:
    """The request named betas or came from a beta client (the beta schemas apply)."""
    beta = next((v for n, v in ex.request.headers if n.lower() == "anthropic-beta"), "")
    return bool(beta.strip()) or parse_qs(urlsplit(ex.request.url).query).get("beta") == ["true"]


def refusal_message(ex: Exchange) -> str | None:
    """The message of a 400 ``invalid_request_error`` in the envelope, else None."""
    body = ex.json()
    if (
        ex.status == 400
        and isinstance(body, dict)
        and body.get("type") == "error"
        and error_type_of(ex) == "invalid_request_error"
    ):
        message = body["error"].get("message")
        return message if isinstance(message, str) else ""
    return None


def _schema_errors(ctx: Context, msg: Any, beta: bool) -> list:
    return ctx.schemas.validate(
        "message", msg, profile=ctx.config.profile, version=ctx.config.anthropic_version, beta=beta
    )


def answer_200(ctx: Context, ex: Exchange, what: str) -> Outcome:
    """A 200 is a valid Message, or a stream that follows the grammar and rebuilds into one
    (valid against the beta schemas when the request was a beta one)."""
    beta = _is_beta(ex)
    if not ex.request.stream:
        body = ex.json()
        if not isinstance(body, dict):
            return Outcome.mismatch(f"a Message for {what}", describe(ex))
        errors = _schema_errors(ctx, body, beta)
        if errors:
            got = f"HTTP 200 whose {errors[0].message}"
            require_message(ex, f"expected a Message for {what}, got {got}")
            # a defect of a field the response checks judge is theirs (the folded view)
            found = message_symptoms(body, errors)
            return Outcome.mismatch(
                f"a Message for {what} valid against schemas/message.json", got, causes=[found] if found else []
            )
        return Outcome.passed(f"HTTP 200 with a valid Message for {what}")
    if not ex.is_stream:
        message = f"expected an event stream for {what}, got {describe(ex)}"
        if ex.content_type != "text/event-stream":
            raise Blocked(STREAM_FRAMING, message)
        return Outcome.failed(message)
    grammar = grammar_of(ex)
    require_stream(ex, f"expected a stream for {what} in the §3.3 grammar, got unnamed or misnamed events", grammar)
    if grammar.error is not None:
        inner = grammar.error.get("error")
        err: dict = inner if isinstance(inner, dict) else {}
        kind = err.get("type")
        said = f"an error event ({kind!r}: {str(err.get('message'))[:100]!r})"
        if kind in ("overloaded_error", "rate_limit_error"):
            return Outcome.inconclusive(f"the stream for {what} ended with {said}")
        return Outcome.mismatch(f"a stream for {what} that rebuilds into a Message", f"HTTP 200 and {said}")
    if grammar.violations:
        v = grammar.violations[0]
        return Outcome.mismatch(
            f"a stream for {what} in the §3.3 grammar",
            f"{v.rule}: {v.message} (see stream.grammar.{v.rule})",
            causes=[stream_symptoms(ex, grammar)],
        )
    errors = _schema_errors(ctx, grammar.message, beta)
    if errors:
        found = message_symptoms(grammar.message, errors, streamed=True)
        return Outcome.mismatch(
            f"a stream for {what} that rebuilds into a valid Message",
            f"a Message whose {errors[0].message}",
            causes=[found] if found else [],
        )
    return Outcome.passed(f"HTTP 200 with a stream of {len(ex.events)} events that rebuilds into a valid Message")


def _got(ex: Exchange) -> str:
    """What came back, saying so when a 400 is not in the Anthropic error envelope."""
    if ex.is_stream:
        return f"HTTP {ex.status} {ex.content_type} stream of {len(ex.events)} events"
    got = describe(ex)
    body = ex.json()
    if ex.status == 400 and isinstance(body, dict) and body.get("type") != "error":
        got += ' without type "error" (not the error envelope: see errors.envelope.shape)'
    return got


EXPECTED = "HTTP 200 with a valid Message (or stream), or HTTP 400 invalid_request_error in the error envelope"


def answer(ctx: Context, ex: Exchange, what: str, capability: str | None = None) -> Outcome:
    """MUST: 200 with a valid Message or stream, or 400 ``invalid_request_error`` (reported
    unsupported); with ``capability`` ("tools", "thinking") shown supported, a 400 fails."""
    bad = reachable(ex)
    if bad:
        return bad
    if ex.status == 200:
        return answer_200(ctx, ex, what)
    refused = refusal_message(ex)
    if refused is not None:
        if capability is not None and shown_supported(ctx, capability):
            bad = Outcome.mismatch(
                f"a Message for {what}: the target has shown it supports {capability}",
                f"HTTP 400 invalid_request_error {refused[:160]!r}",
            )
            require_ok(ex, bad.message)  # refused for a form another check sends on its own
            return bad
        return Outcome.unsupported(f"{what} refused: HTTP 400 invalid_request_error {refused[:160]!r}")
    bad = Outcome.mismatch(f"{EXPECTED} for {what}", _got(ex))
    require_ok(ex, bad.message)  # refused for a form another check sends on its own (the credential style, ...)
    return bad


def offered_tool_uses(ctx: Context, msg: dict) -> Outcome | None:
    """A failure when the 30-tool answer calls a tool not offered, or with input invalid
    against that tool's JSON Schema 2020-12 ``input_schema``; else None."""
    offered = {t["name"]: t["input_schema"] for t in agent_tools()}
    for use in _blocks(msg, "tool_use"):
        name = use.get("name")
        if name not in offered:
            return Outcome.mismatch("a tool_use naming one of the 30 offered tools", f"tool_use name {name!r}")
        validator = jsonschema.Draft202012Validator(offered[name])
        error = jsonschema.exceptions.best_match(validator.iter_errors(use.get("input")))
        if error is not None:
            return Outcome.mismatch(
                f"tool_use input valid against {name}'s input_schema", f"input {use.get('input')!r} ({error.message})"
            )
    return None


# ------------------------------------------------------------------------------ checks

REF_BETA = "contract §5.1, §9.5, §9.8"


def _client_check(
    check_id: str,
    level: Level,
    ref: str,
    requirement: str,
    probe_name: str,
    what: str,
    capability: str | None = None,
    then: Callable[[Context, dict], Outcome | None] | None = None,
    remember: bool = True,
) -> None:
    """Register a check judging one probe by :func:`answer` (and a passed Message by ``then``);
    ``remember``: a refusal fails once the target has shown ``capability``."""

    def judge(ctx: Context) -> Outcome:
        ex = _probe(ctx, probe_name)
        if ex is None:
            source = _DEPENDS[probe_name]
            first = ctx.probe(source)
            if declined(first):
                return Outcome.unsupported(f"{capability} declined: {describe(first)}")
            # what the source probe lacks (a tool_use block, a signed thinking block) is its check's
            root = {TOOLS_FORCED: "semantics.tools.forced-tool", THINKING: "semantics.thinking.block-first"}[source]
            raise Blocked((root,), f"the {source} probe's answer held nothing to send back: {describe(first)}")
        verdict = answer(ctx, ex, what, capability if remember else None)
        msg = _message_of(ex)
        if then is not None and verdict.verdict is Verdict.PASSED and msg is not None:
            return then(ctx, msg) or verdict
        return verdict

    judge.__name__ = check_id.rsplit(".", 1)[-1].replace("-", "_")
    judge.__doc__ = f"{level.value}: {requirement}"
    check(check_id, level, ref, requirement, profiles=ANTHROPIC_ONLY, capability=capability)(judge)


@check(
    "client-requests.beta.query",
    MUST,
    "contract §5.1; TypeScript SDK beta client",
    "`POST /v1/messages?beta=true` (the beta clients', Claude Code's URL) is answered like the same request "
    "without the query: 200 with a valid Message.",
    profiles=ANTHROPIC_ONLY,
)
def beta_query(ctx: Context) -> Outcome:
    """MUST answer ``POST /v1/messages?beta=true`` as it answers the same request without the
    query: the beta clients add it to every request, so a 404 (a router matching the raw
    URL) or 400 there leaves Claude Code and every ``client.beta`` app without any answer."""
    ex = ctx.probe(P_QUERY)
    bad = reachable(ex)
    if bad:
        return bad
    if ex.status == 200:
        return answer_200(ctx, ex, "the request with ?beta=true")
    plain = ctx.probe(BASIC)
    if plain.status != 200:
        return Outcome.inconclusive(
            f"the same request without ?beta=true was not answered 200 either ({describe(plain)})"
        )
    return Outcome.mismatch(
        "HTTP 200 with a Message, as for the same request without ?beta=true", f"{_got(ex)} with ?beta=true"
    )


@check(
    "client-requests.beta.count-tokens-query",
    SHOULD,
    "contract §6, §9.30; TypeScript SDK beta client",
    '`POST /v1/messages/count_tokens?beta=true` is answered like the same request without the query: 200 {"input_tokens": int}.',
    profiles=ANTHROPIC_ONLY,
    capability="count_tokens",
)
def count_tokens_query(ctx: Context) -> Outcome:
    """SHOULD answer count_tokens with ``?beta=true`` as without it (the beta clients' count
    request); a target without count_tokens is ``unsupported`` here as in the count-tokens family."""
    plain = ctx.probe(PLAIN_COUNT_PROBE)
    if declined(plain):
        return Outcome.unsupported(f"count_tokens declined: {describe(plain)}")
    ex = ctx.probe(P_COUNT_QUERY)
    bad = reachable(ex)
    if bad:
        return bad
    if ex.status == 200:
        body = ex.json()
        errors = ctx.schemas.validate("count-tokens-response", body, profile=ctx.config.profile)
        if errors:
            return Outcome.mismatch('{"input_tokens": int}', f"HTTP 200 whose {errors[0].message}")
        return Outcome.passed(f"HTTP 200 with input_tokens {body.get('input_tokens')}")
    if plain.status != 200:
        return Outcome.inconclusive(
            f"the same request without ?beta=true was not answered 200 either ({describe(plain)})"
        )
    return Outcome.mismatch(
        "HTTP 200, as for the same count_tokens request without ?beta=true", f"{_got(ex)} with ?beta=true"
    )


_client_check(
    "client-requests.beta.header-list",
    MUST,
    REF_BETA,
    f"A request carrying Claude Code's `anthropic-beta` list ({', '.join(CLAUDE_CODE_BETAS[:3])}, ...) gets 200 with a "
    "valid Message or 400 `invalid_request_error`; never a 5xx.",
    P_HEADERS,
    "a request with Claude Code's beta list",
)
_client_check(
    "client-requests.beta.context-management",
    MUST,
    REF_BETA + "; schemas/beta.json",
    "`context_management` (beta context-management-2025-06-27, with `?beta=true`) gets 200 with a valid Message or "
    "400 `invalid_request_error`; never a 5xx.",
    P_CONTEXT,
    "context_management",
)
_client_check(
    "client-requests.cache-control.accepted",
    MUST,
    "contract §1.1, §1.3, §1.5, §9.7",
    "`cache_control` on a system block, a tool definition and a message block gets 200 with a valid Message or 400 "
    "`invalid_request_error`; never a 5xx.",
    P_CACHE,
    "cache_control markers",
)
_client_check(
    "client-requests.tools.many-tools",
    MUST,
    "contract §1.5, §9.8",
    "30 tools with JSON Schema 2020-12 input schemas (`$schema`, `$defs`/`$ref`, `anyOf`, enums, closed objects) get "
    "200 with a valid Message (any tool_use naming an offered tool, its input valid) or 400 `invalid_request_error`.",
    P_MANY_TOOLS,
    "30 tools",
    capability="tools",
    then=offered_tool_uses,
    remember=False,  # a limit on the tools' number or keywords is a decline a provider may choose
)
_client_check(
    "client-requests.metadata.user-id",
    MUST,
    "contract §1.1, §9.7",
    "`metadata.user_id` in Claude Code's form gets 200 with a valid Message or 400 `invalid_request_error`.",
    P_METADATA,
    "metadata.user_id",
)
_client_check(
    "client-requests.thinking.signed-history",
    MUST,
    "contract §1.3, §1.6",
    "The previous answer's signed thinking block, sent back unmodified in the assistant turn, gets 200 with a valid "
    "Message (400 only from a target that never showed thinking).",
    P_THINKING,
    "the thinking block sent back",
    capability="thinking",
)
_client_check(
    "client-requests.tools.tool-result-forms",
    MUST,
    "contract §1.3, §1.5",
    "tool_result blocks with `is_error`, with text-block content and followed by text in the same turn get 200 with "
    "a valid Message (400 only from a target that never showed tools).",
    P_TOOL_RESULTS,
    "tool_result blocks of every form",
    capability="tools",
)
_client_check(
    "client-requests.tools.content-round-trip",
    MUST,
    "contract §1.3, §2.4",
    "The target's own forced-tool answer, sent back as the assistant turn with its tool_result, gets 200 with a "
    "valid Message.",
    P_ROUND_TRIP,
    "the target's own content sent back",
    capability="tools",
)
_client_check(
    "client-requests.claude-code.full-request",
    MUST,
    "contract §1, §3, §5.1, §9.5, §9.8",
    "Claude Code's whole first request (`?beta=true`, its beta list, cache_control with scope, 30 tools, metadata, "
    "thinking, context_management, streamed) gets 200 with a valid stream or 400 `invalid_request_error`.",
    P_CLAUDE_CODE,
    "Claude Code's whole request",
)


def _total_input(msg: dict) -> int | None:
    usage = msg.get("usage")
    if not isinstance(usage, dict):
        return None
    values = [usage.get(k) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
    if not isinstance(values[0], int) or isinstance(values[0], bool):
        return None
    return sum(v for v in values if isinstance(v, int) and not isinstance(v, bool))


@check(
    "client-requests.cache-control.text-read",
    MUST,
    "contract §1.1, §1.3, §2.3",
    "The text of blocks marked with `cache_control` reaches the model: a word only the marked message block holds "
    "comes back as it does without the markers, and input tokens (with cache creation and reads) do not shrink.",
    profiles=ANTHROPIC_ONLY,
)
def cache_control_text_read(ctx: Context) -> Outcome:
    """MUST read the text of a block carrying ``cache_control`` like any other: it is a caching
    marker, not a reason to skip the block. The marked request and the same request without
    markers are compared: the last user turn asks to repeat a word that only the marked block
    holds, and the system prompt's long marked block counts toward input tokens (input plus
    cache creation plus cache reads). A loss on either side fails; a target that repeated the
    word in neither answer and reports no usage is inconclusive."""
    marked = ctx.probe(P_CACHE)
    if marked.status != 200:
        if refusal_message(marked) is not None:
            return Outcome.unsupported("cache_control refused (client-requests.cache-control.accepted reports it)")
        return Outcome.inconclusive(
            f"no Message to compare: {describe(marked)} (client-requests.cache-control.accepted judges it)"
        )
    unmarked = ctx.probe(P_CACHE_UNMARKED)
    a, b = _message_of(marked), _message_of(unmarked)
    if a is None:
        return Outcome.inconclusive(f"the marked request's answer is not a Message: {describe(marked)}")
    if b is None:
        return Outcome.inconclusive(f"the same request without cache_control got no Message: {describe(unmarked)}")
    lost: list[str] = []
    shown: list[str] = []
    ta, tb = _total_input(a), _total_input(b)
    if ta is not None and tb is not None:
        said = f"input tokens {ta} with the markers, {tb} without"
        (lost if ta + TOKEN_TOLERANCE < tb else shown).append(said)
    text_a, text_b = message_text(a), message_text(b)
    if ECHO_WORD in text_b and ECHO_WORD not in text_a:
        lost.append(
            f"answer {text_a[:60]!r} without the marked block's word {ECHO_WORD!r} (without the markers: {text_b[:60]!r})"
        )
    elif ECHO_WORD in text_a:
        shown.append(f"the answer repeats the marked block's word {ECHO_WORD!r}")
    if lost:
        return Outcome.failed(
            "the text of blocks marked with cache_control did not reach the model: " + "; ".join(lost)
        )
    if shown:
        return Outcome.passed("; ".join(shown))
    return Outcome.inconclusive(
        f"no usage to compare and the word {ECHO_WORD!r} in neither answer ({text_a[:40]!r}, {text_b[:40]!r})"
    )


@check(
    "client-requests.errors.invalid-stream",
    MUST,
    "contract §3.1, §4.1, §9.6, §9.25",
    'An invalid request with `"stream": true` gets the JSON 400 `invalid_request_error` envelope '
    "(`application/json`), never a 200 event stream.",
    profiles=ANTHROPIC_ONLY,
)
def invalid_stream(ctx: Context) -> Outcome:
    """MUST refuse an invalid request before any stream starts, even when it asks for one: 400
    ``invalid_request_error`` as ``application/json`` (the SDK raises BadRequestError from it).
    A 200 event stream, even one carrying an ``error`` event, tells a streaming client the
    request was accepted; it then reports a failure the SDK maps to no 4xx at all."""
    ex = ctx.probe(P_INVALID_STREAM)
    bad = reachable(ex)
    if bad:
        return bad
    if refusal_message(ex) is None:
        return Outcome.mismatch(
            'HTTP 400 invalid_request_error for max_tokens "sixty-four" with "stream": true', _got(ex)
        )
    if ex.content_type != "application/json":
        return Outcome.mismatch("the 400 as application/json", f"content-type {ex.content_type!r}")
    return Outcome.passed("HTTP 400 invalid_request_error as application/json")


# ------------------------------------------------------------------------------ naming the refusal

# words of a request too common to say what a refusal is about
_GENERIC = frozenset({"type", "text", "role", "user", "assistant", "value", "name", "input", "model", "true"})
_IDENT = re.compile(r"[A-Za-z0-9_$-]+")


def _identifiers(value: Any, out: set[str]) -> None:
    """Keys and ``type`` values of a request body (tool schemas and tool inputs left out)."""
    if isinstance(value, dict):
        for key, sub in value.items():
            out.add(key)
            if key == "type" and isinstance(sub, str):
                out.add(sub)
            if key not in ("input_schema", "input"):
                _identifiers(sub, out)
    elif isinstance(value, list):
        for sub in value:
            _identifiers(sub, out)


def request_names(ex: Exchange) -> set[str]:
    """What a refusal of ``ex`` could name: the body's fields and block types, the betas and
    the ``beta`` query of the request."""
    names: set[str] = set()
    try:
        _identifiers(json.loads(ex.request.body or b"null"), names)
    except ValueError:
        pass
    for header, value in ex.request.headers:
        if header.lower() == "anthropic-beta":
            names.add("anthropic-beta")
            names.update(v.strip() for v in value.split(","))
    names.update(parse_qs(urlsplit(ex.request.url).query))
    return {n for n in names if len(n) >= 3 and n.lower() not in _GENERIC and _IDENT.fullmatch(n)}


def names_any(message: str, names: Iterable[str]) -> str | None:
    """The first of ``names`` that ``message`` mentions as a whole word, or None."""
    lowered = message.lower()
    for name in sorted(names, key=lambda n: (-len(n), n)):
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name.lower())}(?![A-Za-z0-9_])", lowered):
            return name
    return None


@check(
    "client-requests.decline.names-unsupported",
    SHOULD,
    "contract §4.1, §9.8",
    "A 400 refusing a client-shaped request names what it refuses (a field, block type or beta of the request), "
    "so that the client can drop it and retry.",
    profiles=ANTHROPIC_ONLY,
)
def names_unsupported(ctx: Context) -> Outcome:
    """SHOULD say what is refused: a 400 ``invalid_request_error`` to any client-shaped probe
    names a field, block type, beta or query parameter the request carried (Claude Code
    retries without ``context_management`` when the 400 names it; "invalid request" leaves
    a client nothing to drop). Only refusals are judged; none at all is a pass."""
    refusals, named = [], []
    for name, what in _REFUSABLE:
        ex = _probe(ctx, name)
        if not isinstance(ex, Exchange):
            continue
        message = refusal_message(ex)
        if message is None:
            continue
        hit = names_any(message, request_names(ex))
        if hit is None:
            refusals.append(f"{what}: {message[:100]!r}")
        else:
            named.append(f"{what} ({hit})")
    if refusals:
        return Outcome.mismatch("each 400 naming a field, block type or beta of its request", "; ".join(refusals[:4]))
    if named:
        return Outcome.passed(f"{len(named)} refusal(s), each naming what it refuses: " + "; ".join(named[:4]))
    return Outcome.passed("no client-shaped request was refused, so there was nothing to name")
