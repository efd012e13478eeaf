"""What a fault is: its catalog entry, the switches it flips and the hooks it runs.

A :class:`Fault` is one object: name, kind, description, ``trips`` (fnmatch globs of the check
IDs a correct harness must fail when it is on; controls have none), then only what it changes.
Two ways to change the clean stub:

* a *switch*, a declarative value read at one decision point (``auth_styles``, ``validation``,
  ``lenient_body``, a content type, ...): :class:`~conformance.stub.faults.FaultSet` combines
  the switches of the faults that are on, with an explicit precedence where they disagree;
* a *hook*, a function over one shape the app produces, called by the FaultSet in a fixed order
  (``FaultSet`` documents the order of each stage):

  ============== ================================================= ===========================
  hook           signature                                         shape
  ============== ================================================= ===========================
  refuse_url     ``(path, query) -> (status, type, msg) | None``   the request URL (routing)
  request_body   ``(body, version, schema) -> body``               what the validator sees
  refuse         ``(body, headers) -> (status, type, msg) | None`` a valid request refused
  generation     ``(body) -> body``                                what generation sees
  options        ``(Options) -> Options``                          what generation honours
  count_tokens   ``(body, exact) -> int``                          the count_tokens answer
  message_id     ``(id) -> id``                                    the Message id
  tool_id        ``(id) -> id``                                    a tool_use id
  headers        ``(headers, request_id) -> headers``              headers on every response
  error          ``(status, body, headers) -> (status, body, hdr)`` an error answer
  message        ``(msg, created) -> msg``                         the Message JSON
  models_page    ``(page, all_models) -> page | None``             GET /v1/models
  events         ``(events, created) -> events``                   a stream's payload list
  frame          ``(index, payload, Frame) -> Frame``              one SSE event
  write          ``(chunks) -> chunks``                            the bytes, one flush each
  ============== ================================================= ===========================

Hooks that rewrite nested shapes work on a private deep copy (the FaultSet makes it once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from .. import _json

Kind = Literal["defect", "control"]
Json = dict[str, Any]
Events = list[dict[str, Any]]


@dataclass(frozen=True)
class Frame:
    """One SSE event before encoding: ``event`` None means no ``event:`` line."""

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


@dataclass(frozen=True)
class Fault:
    """One catalog entry: what it is, which check IDs must fail because of it, what it changes."""

    name: str
    kind: Kind
    description: str
    trips: tuple[str, ...] = ()
    # how many requirements the defect breaks: "one" (it must show as at most a few red lines,
    # its consequences blocked or folded under them) or "many" (no validation at all, one wrong
    # status for every error: each broken requirement is a failure of its own)
    breaks: Literal["one", "many"] = "one"

    # ---- switches (declarative; see FaultSet for how several combine)
    auth_styles: frozenset[str] | None = None  # the credential carriers accepted (None: not this fault's say)
    # the carriers accepted on one route ("messages", "count_tokens", "models"), before auth_styles
    route_auth_styles: tuple[tuple[str, frozenset[str]], ...] = ()
    skips_auth: bool = False  # any or no credentials accepted
    checks_version: bool = True  # anthropic-version required and checked
    validation: Literal["none", "500"] | None = None  # invalid bodies accepted / answered 500
    lenient_body: bool = False  # any content-type, non-UTF-8 and truncated JSON parsed
    unlimited_body: bool = False  # no request-size limit
    unknown_model_fallback: bool = False  # unknown models served by a default one
    stream_from_accept: bool = False  # SSE only when Accept names text/event-stream
    missing_endpoints: frozenset[str] = frozenset()  # "count_tokens", "model": answered 404
    request_id_in_body: bool = True  # error bodies (and error events) carry request_id
    plain_text_404: bool = False  # unknown paths get the Go mux's text/plain 404
    error_content_type: str | None = None
    message_content_type: str | None = None
    stream_content_type: str | None = None
    replaces: frozenset[str] = frozenset()  # stages ("message", "events") whose shape this fault replaces
    done_sentinel: bool = False  # data: [DONE] after the last event (unless the stream erred)
    sse_eol: str | None = None  # line ending of SSE lines
    sse_separator: str | None = None  # between an SSE field name and its value
    sse_comments: bool = False  # ": keep-alive" comment lines
    multi_line_data: bool = False  # JSON spread over several data: lines
    buffered: float | None = None  # the whole stream written at once, after this many seconds

    # ---- hooks (None: the fault does not touch that shape)
    refuse_url: Callable[[str, str], tuple[int, str, str] | None] | None = field(default=None, repr=False)
    request_body: Callable[[Json, str, str], Any] | None = field(default=None, repr=False)
    refuse: Callable[[Json, Any], tuple[int, str, str] | None] | None = field(default=None, repr=False)
    generation: Callable[[Json], Json] | None = field(default=None, repr=False)
    options: Callable[[Any], Any] | None = field(default=None, repr=False)
    count_tokens: Callable[[Json, Callable[[Json], int]], int] | None = field(default=None, repr=False)
    message_id: Callable[[str], str] | None = field(default=None, repr=False)
    tool_id: Callable[[str], str] | None = field(default=None, repr=False)
    headers: Callable[[dict[str, str], str], dict[str, str]] | None = field(default=None, repr=False)
    error: Callable[[int, Json, dict[str, str]], tuple[int, Json, dict[str, str]]] | None = field(
        default=None, repr=False
    )
    message: Callable[[Json, int], Json] | None = field(default=None, repr=False)
    models_page: Callable[[Json, tuple[Json, ...]], Json | None] | None = field(default=None, repr=False)
    events: Callable[[Events, int], Events] | None = field(default=None, repr=False)
    frame: Callable[[int, Json, Frame], Frame] | None = field(default=None, repr=False)
    write: Callable[[list[bytes]], list[bytes]] | None = field(default=None, repr=False)


def defect(name: str, description: str, *trips: str, **changes: Any) -> Fault:
    """A defect: the checks matching ``trips`` must fail while it is on."""
    return Fault(name, "defect", description, trips, **changes)


def control(name: str, description: str, **changes: Any) -> Fault:
    """A control: a legal variation a correct client must accept (it trips nothing)."""
    return Fault(name, "control", description, (), **changes)


# the sdk checks that read a stream through the SDK's helpers (a trip several stream defects share)
SDK_STREAMS = ("sdk.messages.stream-final-message", "sdk.messages.stream-tool-use", "sdk.messages.stream-thinking")

OPENAI_STOP = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def dump(value: Any) -> str:
    return _json.dumps_text(value)


def on_type(kind: str, fn: Callable[[Json], None]) -> Callable[[Events, int], Events]:
    """An ``events`` hook applying ``fn`` (in place) to every event of type ``kind``."""

    def hook(events: Events, created: int) -> Events:
        for e in events:
            if e["type"] == kind:
                fn(e)
        return events

    return hook


def without(kind: str) -> Callable[[Events, int], Events]:
    """An ``events`` hook dropping every event of type ``kind``."""
    return lambda events, created: [e for e in events if e["type"] != kind]
