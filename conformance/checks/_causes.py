"""Which narrow check reports what is wrong with an exchange: preconditions and symptoms.

One defect, one red line (:mod:`conformance._fold`). The rule the families follow:

- **Status-level problems are preconditions.** A valid request refused (the credential style,
  a form of content or ``system``, a parameter) leaves a check nothing to judge: the check
  raises :class:`~conformance._catalog.Blocked` naming the checks that send exactly that form
  on its own (``require_ok``, ``require_message``). The check that sends it is among the roots,
  and so fails for it (``run_check`` makes a check listed among its own roots fail).
- **Unreadable streams are preconditions.** A stream that is not ``text/event-stream``, or whose
  events are unnamed or misnamed or not JSON, cannot be judged rule by rule (``require_stream``,
  :data:`GRAMMAR_TIERS`).
- **Content-level problems are symptoms.** An aggregate check (the SDK calls, generated
  requests, whole-schema checks) still judges; it lists each violation's symptoms
  (:func:`symptoms`) and the folded view shows it under the narrow checks that report them.

Symptoms are tuples of alternative check IDs (any one failing explains the symptom); a
violation with no recognised symptom is the aggregate check's own finding and stays failed.
"""

from __future__ import annotations

import json
from typing import Any

from conformance._catalog import Blocked, Symptom, Violation
from conformance._exchange import Exchange
from conformance._grammar import STOP_REASONS, StreamGrammar

SSE = "text/event-stream"

# credential styles and forms of a valid request: the check that sends each on its own
AUTH = {"x-api-key": "auth.accept.x-api-key", "bearer": "auth.accept.bearer"}
CONTENT_STRING = "request.accept.content-string"
CONTENT_BLOCKS = "request.accept.content-blocks"
# the MUST that sends both content forms itself: its own failure when one is refused
CONTENT_FORMS = "semantics.content.string-and-blocks"
SYSTEM_STRING = "request.accept.system-string"
SYSTEM_BLOCKS = "request.accept.system-blocks"
MULTI_TURN = ("request.accept.multi-turn", "semantics.conversation.multi-turn")
PREFILL = "semantics.conversation.prefill"
TEMPERATURE_2023 = "request.version.temperature-accepted-2023"
TOOL_RESULT = "semantics.tools.tool-result-accepted"
TOOLS = "semantics.tools.forced-tool"
THINKING = "semantics.thinking.block-first"
METADATA = "client-requests.metadata.user-id"
BETA_HEADER = "request.headers.unknown-beta-tolerated"
BETA_QUERY = "client-requests.beta.query"

# the stream's framing
STREAM_FRAMING: Symptom = ("stream.framing.content-type", "stream.framing.sse-despite-accept-json")

# Grammar rules by how much of the stream they leave readable: a stream that breaks a rule of a
# lower tier cannot be judged by the rules of higher ones (an unnamed event is not dispatched,
# so "no message_start" only echoes it). A stream's symptoms are its lowest tier's broken rules.
GRAMMAR_TIERS: tuple[frozenset[str], ...] = (
    frozenset({"event-named", "type-matches-event", "data-is-json-object"}),
    frozenset({"payload-structure", "message-start-first", "message-start-once"}),
)

# a rule whose breaks follow from another's: stop_sequence is judged against stop_reason
_DEPENDS = {"stop-sequence-iff": "stop-reason-in-enum"}

# a Message field whose defect a narrow check reports: JSON answer, streamed answer
MESSAGE_FIELDS: dict[str, tuple[Symptom, Symptom]] = {
    "stop_reason": (
        ("response.stop-reason.enum",),
        ("stream.grammar.stop-reason-in-enum", "stream.grammar.message-delta-stop-reason"),
    ),
    "stop_sequence": (
        ("response.stop-sequence.null-unless-stopped",),
        ("stream.grammar.stop-sequence-iff",),
    ),
    "usage": (
        ("response.usage.required-ints",),
        ("stream.grammar.message-delta-usage", "stream.grammar.message-start-usage"),
    ),
}
TOOL_INPUT: tuple[Symptom, Symptom] = (("semantics.tools.forced-tool",), ("stream.grammar.tool-input-json",))
MESSAGE_SCHEMA = "response.shape.message-schema"
JSON_CONTENT_TYPE = "response.shape.json-content-type"
NO_OPENAI = "response.shape.no-openai-fields"
EVENTS_SCHEMA = "stream.events.schema"


def request_json(ex: Exchange) -> Any:
    try:
        return json.loads(ex.request.body) if ex.request.body else None
    except ValueError:
        return None


def auth_style(ex: Exchange) -> str | None:
    if ex.request.header("authorization"):
        return "bearer"
    if ex.request.header("x-api-key"):
        return "x-api-key"
    return None


def forms(body: Any, version: str | None = None) -> Symptom:
    """The checks that send, on its own, each form this valid request uses: any one of them
    failing explains a refusal of the whole request."""
    if not isinstance(body, dict):
        return ()
    out: list[str] = []
    listed = body.get("messages")
    messages: list = listed if isinstance(listed, list) else []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if m.get("role") == "assistant":
            out += [PREFILL] if i == len(messages) - 1 else list(MULTI_TURN)
        elif isinstance(content, str):
            out += [CONTENT_STRING, CONTENT_FORMS]
        if isinstance(content, list):
            kinds = {b["type"] for b in content if isinstance(b, dict) and isinstance(b.get("type"), str)}
            out += [CONTENT_BLOCKS, CONTENT_FORMS]  # a server refusing content as blocks refuses every list
            out += [TOOL_RESULT] if "tool_result" in kinds else []
    system = body.get("system")
    out += [SYSTEM_STRING] if isinstance(system, str) else [SYSTEM_BLOCKS] if isinstance(system, list) else []
    if version == "2023-06-01" and any(k in body for k in ("temperature", "top_p", "top_k")):
        out.append(TEMPERATURE_2023)
    metadata = body.get("metadata")
    out += [METADATA] if isinstance(metadata, dict) and "user_id" in metadata else []
    out += [TOOLS] if "tools" in body or "tool_choice" in body else []
    out += [THINKING] if "thinking" in body else []
    return tuple(dict.fromkeys(out))


def refusal_roots(ex: Exchange) -> Symptom:
    """For a valid request answered with an error: the checks that report the refusal (the
    credential style for 401/403, else the forms the request uses: its parts, an
    ``anthropic-beta`` header, the beta clients' ``?beta=true``); empty when none does."""
    if ex.status in (401, 403):
        style = auth_style(ex)
        return (AUTH[style],) if style else ()
    extra = []
    if ex.request.header("anthropic-beta"):
        extra.append(BETA_HEADER)
    if "beta=true" in ex.request.url.partition("?")[2]:
        extra.append(BETA_QUERY)
    return tuple(dict.fromkeys([*forms(request_json(ex), ex.request.header("anthropic-version")), *extra]))


def grammar_of(ex: Exchange) -> StreamGrammar:
    """The grammar fed with a recorded answer's events: what every family judges a stream by."""
    g = StreamGrammar()
    for ev in ex.events:
        g.feed(ev)
    # a client that stopped reading (the SDK raises at the first event it cannot parse) saw no
    # end of stream: the end-of-stream rules are not judged on what it read
    if ex.complete or ex.transport_error:
        g.finish(complete=ex.complete and not ex.transport_error)
    return g


def lowest_tier(g: StreamGrammar) -> tuple[int, list[str]]:
    """(the lowest tier with a broken rule, those rules); (len(GRAMMAR_TIERS), all broken rules)
    when no tiered rule is broken."""
    broken = list(dict.fromkeys(v.rule for v in g.violations))
    for tier, rules in enumerate(GRAMMAR_TIERS):
        hit = [r for r in broken if r in rules]
        if hit:
            return tier, hit
    return len(GRAMMAR_TIERS), broken


def stream_symptoms(ex: Exchange, g: StreamGrammar | None = None) -> Violation:
    """What is wrong with a 200 answer to a streamed request, at its lowest level: not an event
    stream; else the broken rules of the lowest grammar tier; else every broken rule."""
    if ex.content_type != SSE:
        return (STREAM_FRAMING,)
    _, rules = lowest_tier(g or grammar_of(ex))
    rules = [r for r in rules if not (r in _DEPENDS and _DEPENDS[r] in rules)]
    return tuple((f"stream.grammar.{r}",) for r in rules)


def message_symptoms(msg: Any, errors: list, *, streamed: bool = False) -> Violation:
    """The narrow checks reporting each schema error of a Message (JSON or rebuilt from a
    stream); empty when one of the errors is none of theirs."""
    if not isinstance(msg, dict) or msg.get("type") != "message":
        return ()
    out: list[Symptom] = []
    for err in errors:
        parts = str(getattr(err, "pointer", "")).lstrip("/").split("/")
        if len(parts) >= 3 and parts[0] == "content" and parts[2] == "input":
            out.append(TOOL_INPUT[1 if streamed else 0])  # a tool_use input that is no object
            continue
        if parts[0] not in MESSAGE_FIELDS:
            return ()
        out.append(MESSAGE_FIELDS[parts[0]][1 if streamed else 0])
    return tuple(dict.fromkeys(out))


def _route(ex: Exchange) -> str:
    """``GET /v1/models``, ``GET /v1/models/{id}``, ``POST /v1/messages``, ... of an exchange."""
    path = "/" + ex.request.url.split("://", 1)[-1].partition("/")[2].partition("?")[0].rstrip("/")
    for known in ("/v1/messages/count_tokens", "/v1/messages", "/v1/models"):
        if path.endswith(known):
            return f"{ex.request.method} {known}"
    if "/v1/models/" in path:
        return f"{ex.request.method} /v1/models/{{id}}"
    return f"{ex.request.method} {path}"


def _is_messages(ex: Exchange) -> bool:
    return _route(ex) == "POST /v1/messages"


# the check judging the shape of a 200 answer on a route other than messages
_SHAPE_OF_ROUTE = {
    "GET /v1/models": "models.list.shape",
    "GET /v1/models/{id}": "models.retrieve.shape",
    "POST /v1/messages/count_tokens": "count-tokens.response.shape",
}


def symptoms(
    ex: Exchange, *, valid: bool = True, schemas: Any = None, scope: tuple[str, str] | None = None
) -> Violation:
    """What a narrow check would report about this answer to a request, as symptoms.

    A valid request refused: the refusal's roots. A 200 stream: :func:`stream_symptoms`. A 200
    JSON Message: the narrow checks of its schema errors (``schemas`` and ``scope`` =
    (profile, version) given), or the shape checks when it is no Message at all. Empty when
    nothing narrow reports it (the aggregate check's own finding)."""
    if ex.status is None:
        return ((HUNG,),) if not_sent_after_hang(ex) else ()
    if not valid and ex.status not in (401, 403):  # answered otherwise than the exact refusal
        roots = invalid_roots(ex)
        return (roots,) if roots else ()
    if ex.status in (401, 403) or ex.status >= 400:
        roots = refusal_roots(ex)
        return (roots,) if roots else ()
    if ex.status != 200:
        return ()
    if not _is_messages(ex):
        route = _SHAPE_OF_ROUTE.get(_route(ex))
        return ((route,),) if route else ()
    body = request_json(ex)
    if isinstance(body, dict) and body.get("stream") is True:
        return stream_symptoms(ex)
    if ex.content_type != "application/json":  # a client may not parse it as JSON at all
        return ((JSON_CONTENT_TYPE,),)
    msg = ex.json()
    if not isinstance(msg, dict) or msg.get("type") != "message":
        return ((NO_OPENAI, MESSAGE_SCHEMA),) if isinstance(msg, dict) else ()
    if schemas is None or scope is None:
        return ()
    errors = schemas.validate("message", msg, profile=scope[0], version=scope[1])
    return message_symptoms(msg, errors) if errors else ()


# -- preconditions ----------------------------------------------------------------------------

# A stream that stopped mid-answer until its idle bound: the grammar reports it as truncated.
# Later streamed requests of the run are not sent (conformance._target): blocked by it.
HUNG = "stream.grammar.stream-truncated"


def not_sent_after_hang(ex: Exchange) -> bool:
    return ex.status is None and (ex.transport_error or "").startswith("not sent: an earlier stream")


def require_sent(ex: Exchange, message: str) -> None:
    """Blocked when the request was not sent because an earlier stream of the run hung."""
    if not_sent_after_hang(ex):
        raise Blocked((HUNG,), message)


# checks that send the same form on their own: neither is the other's cause
PEERS = (MULTI_TURN, (CONTENT_STRING, CONTENT_FORMS), (CONTENT_BLOCKS, CONTENT_FORMS))


def require_ok(ex: Exchange, message: str) -> None:
    """Blocked when a valid request was refused for a reason a narrow check reports (its roots
    in order, general forms before the specific ones a check of them sends)."""
    if ex.status is not None and ex.status >= 400:
        roots = refusal_roots(ex)
        if roots:
            raise Blocked(roots, message, peers=PEERS)


def require_message(ex: Exchange, message: str) -> None:
    """Blocked when a 200 answer is no Message by ``type`` (the shape checks report it)."""
    body = ex.json()
    if ex.status == 200 and isinstance(body, dict) and body.get("type") != "message":
        raise Blocked((NO_OPENAI, MESSAGE_SCHEMA), message)


def unreadable(ex: Exchange, g: StreamGrammar | None = None) -> Symptom:
    """The checks reporting why a 200 answer to a streamed request cannot be judged rule by rule
    (not an event stream; events unnamed, misnamed, not JSON); empty when it can."""
    if ex.status != 200:
        return ()
    if ex.content_type != SSE:
        return STREAM_FRAMING
    tier, rules = lowest_tier(g or grammar_of(ex))
    return tuple(f"stream.grammar.{r}" for r in rules) if tier == 0 else ()


def require_stream(ex: Exchange, message: str, g: StreamGrammar | None = None) -> None:
    """Blocked when a streamed answer cannot be judged rule by rule (see :func:`unreadable`)."""
    roots = unreadable(ex, g)
    if roots:
        raise Blocked(roots, message)


def require_documented_stop_reason(msg: Any, message: str) -> None:
    """Blocked when a Message's ``stop_reason`` is no documented value (``response.stop-reason
    .enum`` reports it): a check of what the value means cannot judge ``"length"``."""
    reason = msg.get("stop_reason") if isinstance(msg, dict) else None
    if isinstance(reason, str) and reason not in STOP_REASONS:
        raise Blocked(("response.stop-reason.enum",), message)


# -- invalid requests -------------------------------------------------------------------------

VALIDATION = "request.validation."
_KNOWN_TOP_LEVEL = frozenset(
    "model messages max_tokens system metadata stop_sequences stream temperature top_p top_k tools "
    "tool_choice thinking service_tier container mcp_servers context_management output_config "
    "inference_geo betas".split()
)
_TYPES = {"model": str, "messages": list, "max_tokens": int}
_NAMES = {"model": "model", "messages": "messages", "max_tokens": "max-tokens"}


def invalid_roots(ex: Exchange) -> Symptom:
    """For an invalid request not refused exactly (accepted, or with another status or type):
    the ``request.*`` checks that send each of its defects on its own (any one of them failing
    explains it); empty when none does."""
    out: list[str] = []
    if "json" not in (ex.request.header("content-type") or "").lower():
        out.append(VALIDATION + "wrong-content-type")
    try:
        body = json.loads(ex.request.body.decode("utf-8"))
    except UnicodeDecodeError:
        return tuple(out + [VALIDATION + "non-utf8-body"])
    except ValueError:
        return tuple(out + [VALIDATION + "malformed-json"])
    if not isinstance(body, dict):
        return tuple(out)
    for name, kind in _TYPES.items():
        value = body.get(name)
        if name not in body:
            out.append(f"{VALIDATION}missing-{_NAMES[name]}")
        elif not isinstance(value, kind) or isinstance(value, bool):
            out.append(f"{VALIDATION}mistyped-{_NAMES[name]}")
            if name == "max_tokens" and isinstance(value, str):
                out.append(VALIDATION + "numeric-string-max-tokens")
        elif name == "max_tokens" and isinstance(value, int) and value < 1:
            out.append(VALIDATION + "negative-max-tokens")
    messages = body.get("messages")
    if messages == []:
        out.append(VALIDATION + "empty-messages")
    for m in messages if isinstance(messages, list) else ():
        if not isinstance(m, dict):
            continue
        if not (isinstance(m.get("role"), str) and m["role"] in ("user", "assistant")):
            out.append(VALIDATION + "bad-role")
        content = m.get("content")
        for b in content if isinstance(content, list) else ():
            if isinstance(b, dict) and not (isinstance(b.get("type"), str) and b["type"] in _BLOCK_TYPES):
                out.append(VALIDATION + "unknown-block-type")
    if any(k not in _KNOWN_TOP_LEVEL for k in body):
        out.append(VALIDATION + "unknown-top-level-field")
    version = ex.request.header("anthropic-version")
    if version is None:
        out.append("request.version.missing-version-header")
    elif version not in ("2023-06-01", "2023-01-01", "2026-10-21"):
        out.append("request.version.unknown-version-header")
    elif version != "2023-06-01" and any(k in body for k in ("temperature", "top_p", "top_k")):
        out.append("request.version.sampling-params-2026")
    if len(ex.request.body) > 32 * 1024:  # far beyond any probe's own size: the size limit's
        out.append("request.size.oversize")
    if not out and isinstance(body.get("model"), str):  # nothing else wrong with it: the model is
        out.append("request.model.unknown-model")
    return tuple(dict.fromkeys(out))


_BLOCK_TYPES = frozenset(
    "text image document tool_use tool_result thinking redacted_thinking server_tool_use "
    "web_search_tool_result search_result container_upload mcp_tool_use mcp_tool_result".split()
)


# -- a client's failure -----------------------------------------------------------------------


def explain(
    outcome: Any,
    last: Exchange | None,
    *,
    valid: bool = True,
    expected_status: int | None = None,
    schemas: Any = None,
    scope: Any = None,
) -> Any:
    """A client's failed call (an SDK, Claude Code) judged by its last exchange: not sent after
    a hang, refused for the credential style or (a valid request) a form of it: blocked by the
    check that reports it; a 200 whose defect narrow checks report: the failure with its causes
    (the folded view). ``outcome`` is returned otherwise, and when the call got the status it
    expected (``expected_status``: an error class with the wrong type is the check's own)."""
    if outcome.verdict.value != "failed" or last is None:
        return outcome
    if expected_status is not None and last.status == expected_status:
        return outcome
    if last.status is None:
        require_sent(last, outcome.message)
        return outcome
    if last.status in (401, 403) or (valid and last.status >= 400):
        require_ok(last, outcome.message)
    found = symptoms(last, valid=valid, schemas=schemas, scope=scope)
    return outcome.caused_by([found]) if found else outcome
