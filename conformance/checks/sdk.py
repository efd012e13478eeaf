"""sdk: the official Python SDK, in strict mode, works end to end against the target.

This family is the outside opinion (contract §7, §9 item 35): the installed ``anthropic``
package (2.x: ``Authorization: Bearer`` and ``anthropic-version: 2026-10-21``, whatever
``--anthropic-version`` says, because that is what users of the newest SDK send) drives the
target with ``_strict_response_validation=True`` and no retries. Each check reports the SDK's
exception class and message as what it got.

The SDK talks through its own ``httpx2`` client, not through the harness's Target. Its
transport (:class:`_SdkTransport`) caps every response body at the Target's limit and records
each request and answer it carried as an :class:`~conformance._exchange.Exchange` (bytes as
received, SSE events parsed, arrival times), which becomes the check's evidence like any
other: a failing SDK check shows the curl line and the body or stream the SDK choked on. An
event hook also logs each request line and status, and that log (credentials redacted) is
part of every failure message.
"""

from __future__ import annotations

import functools
import json
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, cast

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Outcome, check
from conformance._exchange import Exchange, RecordedRequest
from conformance._grammar import KNOWN_EVENTS
from conformance._probes import Context, probe
from conformance._redact import WRONG_API_KEY, Redactor
from conformance.checks._causes import explain
from conformance.checks._common import HELLO, WEATHER_QUESTION, WEATHER_TOOL

# The SDK 2.x sends only `Authorization: Bearer` for api_key= (contract §5.1).
SDK_AUTH_STYLE = "bearer"
NO_KEY_PLACEHOLDER = "conformance-no-key-configured"
UNKNOWN_MODEL = "no-such-model-conformance"
MAX_LOG_LINES = 6


@dataclass
class SdkCall:
    """What one SDK call did: its value or its exception, and the HTTP traffic behind it."""

    value: Any = None
    error: BaseException | None = None
    log: list[str] = field(default_factory=list)
    note: str = ""  # how the call was judged, when not plainly
    redactor: Redactor = field(default_factory=Redactor)
    exchanges: list[Exchange] = field(default_factory=list)  # the HTTP traffic, recorded
    schemas: Any = None  # the run's SchemaSet, and its (profile, version): to name symptoms
    scope: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def got(self) -> str:
        """The exception as "Class: message", redacted, for the "got" half of a verdict."""
        if self.error is None:
            return f"no exception ({type(self.value).__name__})"
        text = " ".join(str(self.error).split())
        why = _validation_detail(self.error)
        if why:
            text = f"{text} ({why})"
        if len(text) > 400:
            text = text[:399] + "…"
        return self.redactor.text(f"{type(self.error).__name__}: {text}" if text else type(self.error).__name__)

    def traffic(self) -> str:
        if not self.log:
            return "no HTTP request was sent"
        lines = self.log[:MAX_LOG_LINES] + (
            [f"… {len(self.log) - MAX_LOG_LINES} more"] if len(self.log) > MAX_LOG_LINES else []
        )
        return "; ".join(lines)

    def mismatch(
        self, expected: str, got: str | None = None, *, valid: bool = True, status: int | None = None
    ) -> Outcome:
        """The SDK did not do what a client needs. When its last exchange was refused for a
        reason a narrow check reports (the credential style the SDK sends; for a valid request,
        a form of it), the check is blocked by that one; when the answer was a 200 whose defect
        narrow checks report, the failure lists it as its cause (the folded view)."""
        outcome = Outcome.mismatch(expected, f"{got or self.got()} [SDK traffic: {self.traffic()}]")
        last = self.exchanges[-1] if self.exchanges else None
        return explain(outcome, last, valid=valid, expected_status=status, schemas=self.schemas, scope=self.scope)


def _validation_detail(error: BaseException) -> str | None:
    """Which field strict validation rejected, and the value it got: the SDK's own message
    ("Data returned by API invalid for expected schema") names neither."""
    errors = getattr(error.__cause__, "errors", None)
    if not callable(errors):
        return None
    try:
        found = errors()
    except Exception:  # noqa: BLE001 - only pydantic's ValidationError is expected here
        return None
    if not found:
        return None
    first = found[0]
    where = ".".join(str(part) for part in first.get("loc", ())) or "body"
    got = repr(first.get("input"))
    got = got if len(got) <= 60 else got[:59] + "…"
    more = f"; {len(found) - 1} more" if len(found) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}, got {got}{more}"


def _sdk_version() -> str:
    try:
        import anthropic

        return anthropic.__version__
    except Exception:  # pragma: no cover - the dependency is declared
        return "unavailable"


def _call(ctx: Context, fn: Callable[[Any], Any], *, api_key: str | None = None, strict: bool = True) -> SdkCall:
    """Build a strict, retry-less SDK client for the target and run ``fn(client)``; never raise."""
    import anthropic
    import httpx2

    key = api_key if api_key is not None else (ctx.config.api_key or NO_KEY_PLACEHOLDER)
    red = Redactor(set(ctx.secrets) | ({key} if key != WRONG_API_KEY else set()))
    call = SdkCall(redactor=red, schemas=ctx.schemas, scope=(ctx.config.profile, ctx.config.anthropic_version))

    def on_request(request: Any) -> None:
        call.log.append(red.text(f"{request.method} {request.url}"))

    def on_response(response: Any) -> None:
        ct = response.headers.get("content-type", "no content-type")
        call.log.append(f"-> HTTP {response.status_code} {red.text(ct)}")

    timeout = httpx2.Timeout(ctx.config.timeout, connect=min(10.0, ctx.config.timeout))
    transport = _SdkTransport(
        ctx.target.max_body_bytes,
        _ssl_context(ctx.config.insecure),
        ctx.target.redactor.extended([key]),
        hung=lambda: ctx.target.hung_stream,
    )
    http = httpx2.Client(
        timeout=timeout,
        transport=cast("httpx2.BaseTransport", transport),  # duck-typed: handle_request and close
        # Never follow: a redirect to another host would carry the --header values along.
        follow_redirects=False,
        event_hooks={"request": [on_request], "response": [on_response]},
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecation warnings for known model ids
            client = anthropic.Anthropic(
                base_url=ctx.target.base_url,
                api_key=key,
                default_headers=dict(ctx.config.headers),
                http_client=http,
                max_retries=0,
                timeout=timeout,
                _strict_response_validation=strict,
            )
            call.value = fn(client)
    except Exception as exc:  # the SDK's verdict on the target; never a traceback
        call.error = exc
    finally:
        http.close()
        call.exchanges = transport.finish()
        for ex in call.exchanges:
            ctx.record(ex)
    return call


class _SdkTransport:
    """The SDK's transport: httpx2's own, with every response body capped at ``cap`` bytes
    (the SDK reads whole bodies; a 100 MB answer would cost several copies of it) and every
    exchange recorded for evidence. The cap is the Target's, so both paths hold one bound."""

    def __init__(
        self, cap: int, verify: Any, redactor: Redactor, hung: Callable[[], str | None] = lambda: None
    ) -> None:
        import httpx2

        self.cap = cap
        self.redactor = redactor
        self.hung = hung  # why streams are no longer sent (the Target's hung_stream), or None
        self.inner = httpx2.HTTPTransport(verify=verify)
        self.open: list[_Recording] = []

    def handle_request(self, request: Any) -> Any:
        import httpx2

        recorded = RecordedRequest(
            method=request.method,
            url=str(request.url),
            headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw),
            body=request.content,
            stream=False,
            redactor=self.redactor,
        )
        recording = _Recording(Exchange(request=recorded, started_at=time.time()), time.perf_counter(), self.cap)
        self.open.append(recording)
        hung = self.hung()
        if hung is not None and _asks_for_stream(request.content):
            recording.fail(f"not sent: {hung}")
            raise httpx2.ConnectError(f"not sent: {hung}", request=request)
        try:
            response = self.inner.handle_request(request)
        except httpx2.HTTPError as exc:
            recording.fail(" ".join(str(exc).split()) or type(exc).__name__)
            raise
        recording.start(response)
        response.stream = _capped_stream_class()(response.stream, recording)
        return response

    def close(self) -> None:
        self.inner.close()

    def finish(self) -> list[Exchange]:
        """Every exchange carried, each closed as far as it got."""
        done = [r.close() for r in self.open]
        self.open = []
        return done


def _asks_for_stream(content: bytes) -> bool:
    try:
        body = json.loads(content) if content else None
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("stream") is True


class _Recording:
    """One exchange being read by the SDK."""

    def __init__(self, ex: Exchange, t0: float, cap: int) -> None:
        self.ex, self.t0, self.cap = ex, t0, cap
        self.body = bytearray()
        self.parser: Any = None
        self.closed = False

    def start(self, response: Any) -> None:
        from conformance._sse import SSEParser

        ex = self.ex
        ex.status = response.status_code
        ex.headers = tuple((n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in response.headers.raw)
        ex.first_byte_after = time.perf_counter() - self.t0
        ex.is_stream = ex.content_type == "text/event-stream"
        if ex.is_stream:
            self.parser = SSEParser()

    def feed(self, chunk: bytes) -> bool:
        """Take a chunk the SDK reads; False once the cap is passed."""
        room = self.cap - len(self.body)
        if len(chunk) > room:
            self.body += chunk[:room]
            self.ex.body_truncated = True
            self.fail(f"response exceeded {self.cap} bytes (the SDK's read was cut there)")
            return False
        self.body += chunk
        if self.parser is not None:
            self.ex.events.extend(self.parser.feed(chunk, time.perf_counter() - self.t0))
        return True

    def fail(self, why: str) -> None:
        self.ex.transport_error = self.ex.transport_error or why

    def close(self, *, complete: bool = False) -> Exchange:
        if not self.closed:
            self.closed = True
            ex = self.ex
            ex.complete = complete and ex.transport_error is None
            if self.parser is not None:
                if ex.complete:
                    ex.events.extend(self.parser.close(time.perf_counter() - self.t0))
                ex.sse_anomalies = list(self.parser.anomalies)
            ex.keep_body(self.body)
            ex.elapsed = time.perf_counter() - self.t0
        return self.ex


@functools.cache
def _capped_stream_class() -> type:
    """httpx2 reads only a ``SyncByteStream``; made on first use, like every SDK import here."""
    import httpx2

    class CappedStream(httpx2.SyncByteStream):
        """A response body stream that records what passes and ends in an error past the cap."""

        def __init__(self, inner: Any, recording: _Recording) -> None:
            self.inner, self.recording = inner, recording

        def __iter__(self) -> Any:
            try:
                for chunk in self.inner:
                    if not self.recording.feed(chunk):
                        raise httpx2.ReadError(f"response exceeded the {self.recording.cap}-byte cap")
                    yield chunk
            except httpx2.HTTPError as exc:
                self.recording.fail(" ".join(str(exc).split()) or type(exc).__name__)
                raise
            self.recording.close(complete=True)

        def close(self) -> None:
            self.inner.close()
            self.recording.close()

    return CappedStream


_SSL_CONTEXTS: dict[bool, Any] = {}


def _ssl_context(insecure: bool) -> Any:
    """One TLS context per verification mode, shared by every SDK client (loading the CA store
    costs ~50 ms per client otherwise)."""
    import httpx2

    if insecure not in _SSL_CONTEXTS:
        _SSL_CONTEXTS[insecure] = httpx2.create_ssl_context(verify=not insecure)
    return _SSL_CONTEXTS[insecure]


def _unknown_event(error: BaseException | None) -> str | None:
    """The type of the stream event strict mode rejected, when it is not a documented one."""
    import anthropic

    if isinstance(error, anthropic.APIResponseValidationError) and isinstance(error.body, dict):
        kind = error.body.get("type")
        if isinstance(kind, str) and kind not in KNOWN_EVENTS:
            return kind
    return None


def _stream_call(ctx: Context, fn: Callable[[Any], Any]) -> SdkCall:
    """A streaming call in strict mode. Strict mode also rejects event types the SDK does not know,
    which the contract lets servers add (§3.3: clients ignore them); then the call is judged again
    without strict validation, and the note says so."""
    call = _call(ctx, fn)
    kind = _unknown_event(call.error)
    if kind is None:
        return call
    again = _call(ctx, fn, strict=False)
    again.log = call.log + again.log
    again.note = f"strict mode rejected the unknown event type {kind!r}, which clients must ignore; judged without strict validation"
    return again


def _deadline(ctx: Context) -> float:
    return time.monotonic() + ctx.config.total_timeout


class _Overrun(Exception):
    """The stream went on past the run's per-exchange time limit."""


def _params(ctx: Context, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "model": ctx.model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": HELLO}],
    }
    params.update(extra)
    return params


# -- probes: one SDK call each, shared by the checks that read them --------------------------


@probe("sdk-create")
def _create(ctx: Context) -> SdkCall:
    return _call(ctx, lambda c: c.messages.create(**_params(ctx)))


@probe("sdk-create-stream")
def _create_stream(ctx: Context) -> SdkCall:
    deadline = _deadline(ctx)

    def run(c: Any) -> list[str]:
        types: list[str] = []
        with c.messages.create(**_params(ctx), stream=True) as stream:
            for event in stream:
                types.append(getattr(event, "type", None) or type(event).__name__)
                if time.monotonic() > deadline:
                    raise _Overrun(f"stream still running after {ctx.config.total_timeout:g} s")
        return types

    return _stream_call(ctx, run)


@probe("sdk-stream-final")
def _stream_final(ctx: Context) -> SdkCall:
    return _final_message(ctx, _params(ctx))


def _final_message(ctx: Context, params: dict[str, Any]) -> SdkCall:
    deadline = _deadline(ctx)

    def run(c: Any) -> Any:
        with c.messages.stream(**params) as stream:
            for _ in stream:
                if time.monotonic() > deadline:
                    raise _Overrun(f"stream still running after {ctx.config.total_timeout:g} s")
            return stream.get_final_message()

    return _stream_call(ctx, run)


@probe("sdk-stream-tool-use")
def _stream_tool_use(ctx: Context) -> SdkCall:
    params = _params(
        ctx,
        max_tokens=256,
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
        tools=[WEATHER_TOOL],
        tool_choice={"type": "tool", "name": WEATHER_TOOL["name"]},
    )
    return _final_message(ctx, params)


@probe("sdk-stream-thinking")
def _stream_thinking(ctx: Context) -> SdkCall:
    return _final_message(ctx, _params(ctx, max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 1024}))


@probe("sdk-raw-response")
def _raw(ctx: Context) -> SdkCall:
    def run(c: Any) -> tuple[Any, Any]:
        raw = c.messages.with_raw_response.create(**_params(ctx))
        return raw, raw.parse()

    return _call(ctx, run)


@probe("sdk-models-list")
def _models_list(ctx: Context) -> SdkCall:
    # One page only: auto-pagination against a server that ignores after_id never ends (§6).
    return _call(ctx, lambda c: list(c.models.list(limit=5).data))


@probe("sdk-bad-request")
def _bad_request(ctx: Context) -> SdkCall:
    import anthropic

    # max_tokens is required by the contract (§1.1); `omit` makes the SDK leave it out.
    return _call(ctx, lambda c: c.messages.create(**_params(ctx, max_tokens=anthropic.omit)))


@probe("sdk-wrong-key")
def _wrong_key(ctx: Context) -> SdkCall:
    return _call(ctx, lambda c: c.messages.create(**_params(ctx)), api_key=WRONG_API_KEY)


@probe("sdk-unknown-model")
def _unknown_model(ctx: Context) -> SdkCall:
    return _call(ctx, lambda c: c.messages.create(**_params(ctx, model=UNKNOWN_MODEL)))


def _bearer_left_out(ctx: Context) -> Outcome | None:
    if ctx.config.auth not in ("both", SDK_AUTH_STYLE):
        return Outcome.skipped(f"--auth {ctx.config.auth} leaves out bearer, the only style SDK {_sdk_version()} sends")
    return None


def _is_message(value: Any) -> bool:
    from anthropic.types import Message

    return isinstance(value, Message)


# -- checks ---------------------------------------------------------------------------------


@check(
    "sdk.messages.create",
    MUST,
    "contract §7, §9.35; Darkbloom: Examples",
    "The official SDK's `messages.create` (strict validation) returns a Message whose content[0] is text.",
)
def messages_create(ctx: Context) -> Outcome:
    """MUST work with ``client.messages.create(...)`` of the official SDK in strict mode: a Message
    comes back and ``message.content[0].text`` is readable (the Darkbloom page's own example)."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-create")
    if not call.ok:
        return call.mismatch("a Message")
    msg = call.value
    if not _is_message(msg):
        return call.mismatch("a Message", f"a {type(msg).__name__}")
    if not msg.content or getattr(msg.content[0], "type", None) != "text":
        first = getattr(msg.content[0], "type", None) if msg.content else "no block"
        return call.mismatch("content[0] to be a text block", f"{first!r}")
    return Outcome.passed(f"Message {msg.id}, stop_reason {msg.stop_reason!r} (SDK {_sdk_version()})")


@check(
    "sdk.messages.create-stream",
    MUST,
    "contract §3.3, §7, §9.35",
    "The SDK's `create(stream=True)` yields events message_start … message_stop, all valid in strict mode.",
    profiles=ANTHROPIC_ONLY,
)
def messages_create_stream(ctx: Context) -> Outcome:
    """MUST work with ``client.messages.create(stream=True)``: iterating the stream to its end
    raises nothing, and the events run from ``message_start`` through ``message_stop``."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-create-stream")
    if not call.ok:
        return call.mismatch("a stream iterated to its end")
    types = [t for t in call.value if t != "ping"]
    expected = "events message_start, content blocks, message_delta, message_stop"
    if not types:
        return call.mismatch(expected, "no event at all (the SDK saw nothing it could dispatch)")
    if (
        types[0] != "message_start"
        or types[-1] != "message_stop"
        or "message_delta" not in types
        or "content_block_start" not in types
    ):
        shown = types if len(types) <= 8 else types[:4] + ["…"] + types[-3:]
        return call.mismatch(expected, f"events {shown}")
    return Outcome.passed(_noted(call, f"{len(types)} events from message_start to message_stop"))


@check(
    "sdk.messages.stream-final-message",
    MUST,
    "contract §3.4, §7, §9.35",
    "The SDK's `messages.stream(...).get_final_message()` returns a Message with stop_reason set.",
    profiles=ANTHROPIC_ONLY,
)
def stream_final_message(ctx: Context) -> Outcome:
    """MUST work with the SDK's stream helper: ``get_final_message()`` accumulates a Message
    whose ``stop_reason`` is set."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-stream-final")
    if not call.ok:
        return call.mismatch("a final Message")
    msg = call.value
    if not _is_message(msg):
        return call.mismatch("a Message", f"a {type(msg).__name__}")
    if msg.stop_reason is None:
        return call.mismatch("a final Message with stop_reason set", "stop_reason None")
    if not msg.content:
        return call.mismatch("a final Message with content", "content []")
    return Outcome.passed(
        _noted(call, f"final Message {msg.id}, stop_reason {msg.stop_reason!r}, {len(msg.content)} block(s)")
    )


def _declined(call: SdkCall) -> bool:
    """The SDK raised for a correct "not supported" answer: 400/404 in the Anthropic envelope."""
    import anthropic

    err = call.error
    return (
        isinstance(err, anthropic.APIStatusError)
        and err.status_code in (400, 404)
        and isinstance(err.body, dict)
        and err.body.get("type") == "error"
        and err.type in ("invalid_request_error", "not_found_error")
    )


def _noted(call: SdkCall, text: str) -> str:
    return f"{text} ({call.note})" if call.note else text


@check(
    "sdk.messages.stream-tool-use",
    MUST,
    "contract §3.3, §7, §9.21, §9.35",
    "The SDK's stream helper rebuilds a forced tool_use block whose input is a JSON object.",
    profiles=ANTHROPIC_ONLY,
    capability="tools",
)
def stream_tool_use(ctx: Context) -> Outcome:
    """MUST stream a tool call the SDK can use: ``get_final_message()`` holds a ``tool_use`` block
    (name as forced) whose ``input``, accumulated from ``input_json_delta``, is an object."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-stream-tool-use")
    if _declined(call):
        return Outcome.unsupported(f"tools declined: {call.got()}")
    if not call.ok:
        return call.mismatch("a final Message with a tool_use block")
    msg = call.value
    if not _is_message(msg):
        return call.mismatch("a Message", f"a {type(msg).__name__}")
    uses = [b for b in msg.content if getattr(b, "type", None) == "tool_use"]
    if not uses:
        return call.mismatch(
            "a tool_use block (tool_choice forced it)", f"blocks {[getattr(b, 'type', None) for b in msg.content]}"
        )
    block = uses[0]
    if block.name != WEATHER_TOOL["name"]:
        return call.mismatch(f"tool name {WEATHER_TOOL['name']!r}", f"{block.name!r}")
    if not isinstance(block.input, dict):
        return call.mismatch(
            "tool_use.input as an object", f"a {type(block.input).__name__}: {str(block.input)[:60]!r}"
        )
    if msg.stop_reason != "tool_use":
        return call.mismatch('stop_reason "tool_use"', f"{msg.stop_reason!r}")
    return Outcome.passed(_noted(call, f"tool_use {block.name} with input {block.input}"))


@check(
    "sdk.messages.stream-thinking",
    MUST,
    "contract §1.6, §3.3, §7, §9.35",
    "The SDK's stream helper rebuilds a thinking block (with signature) followed by the answer.",
    profiles=ANTHROPIC_ONLY,
    capability="thinking",
)
def stream_thinking(ctx: Context) -> Outcome:
    """MUST stream extended thinking the SDK can accumulate: ``get_final_message()`` holds a
    ``thinking`` block with a non-empty ``signature`` (needed to send it back) before the text."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-stream-thinking")
    if _declined(call):
        return Outcome.unsupported(f"thinking declined: {call.got()}")
    if not call.ok:
        return call.mismatch("a final Message with a thinking block")
    msg = call.value
    if not _is_message(msg):
        return call.mismatch("a Message", f"a {type(msg).__name__}")
    types = [getattr(b, "type", None) for b in msg.content]
    if not types or types[0] not in ("thinking", "redacted_thinking") or "text" not in types:
        return call.mismatch("a thinking block first, then text", f"blocks {types}")
    first = msg.content[0]
    if first.type == "thinking" and not first.signature:
        return call.mismatch("a thinking block with a signature", "an empty signature")
    return Outcome.passed(_noted(call, f"blocks {types}, stop_reason {msg.stop_reason!r}"))


@check(
    "sdk.messages.raw-response-headers",
    SHOULD,
    "contract §5.2, §9.28",
    "Through the SDK's `with_raw_response`, the `request-id` header is readable (`message._request_id`).",
)
def raw_response_headers(ctx: Context) -> Outcome:
    """SHOULD send ``request-id``, which the SDK exposes as ``message._request_id`` (it reads
    exactly that header, not ``x-request-id``)."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-raw-response")
    if not call.ok:
        return call.mismatch("a raw response that parses to a Message")
    raw, msg = call.value
    rid = raw.headers.get("request-id")
    if not rid:
        other = raw.headers.get("x-request-id")
        got = (
            f"no request-id header (x-request-id {other!r} is not read by the SDK)" if other else "no request-id header"
        )
        return call.mismatch("a request-id header", got).caused_by([(("response.headers.request-id",),)])
    if getattr(msg, "_request_id", None) != rid:
        return call.mismatch(f"message._request_id {rid!r}", f"{getattr(msg, '_request_id', None)!r}")
    return Outcome.passed(f"request-id {rid!r} readable as message._request_id")


@check(
    "sdk.models.list",
    SHOULD,
    "contract §6, §7, §9.31",
    "The SDK's `models.list()` (strict validation) returns a page of ModelInfo objects.",
    capability="models",
)
def models_list(ctx: Context) -> Outcome:
    """SHOULD serve ``GET /v1/models`` so that the SDK's ``models.list()`` parses, in strict mode,
    into ModelInfo objects (``id``, ``type: "model"``, ``display_name``, ``created_at``, and the
    fields of the SDK's API version)."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-models-list")
    if _declined(call):
        return Outcome.unsupported(f"models listing declined: {call.got()}")
    if not call.ok:
        return call.mismatch("a page of ModelInfo")
    models = call.value
    if not models:
        return call.mismatch("at least one model", "an empty page")
    return Outcome.passed(f"{len(models)} model(s), first {models[0].id!r}")


def _expect_status_error(call: SdkCall, cls_name: str, status: int, error_type: str) -> Outcome:
    import anthropic

    expected_cls = getattr(anthropic, cls_name)
    expected = f"anthropic.{cls_name} (HTTP {status}) with .type {error_type!r}"
    if call.ok:
        return call.mismatch(expected, valid=False, status=status)
    err = call.error
    if not isinstance(err, expected_cls):
        status_got = getattr(err, "status_code", None)
        got = call.got() + (f" (HTTP {status_got})" if status_got is not None else "")
        return call.mismatch(expected, got, valid=False, status=status)
    if getattr(err, "type", None) != error_type:
        return call.mismatch(
            expected, f"{type(err).__name__} with .type {getattr(err, 'type', None)!r}", valid=False, status=status
        )
    return Outcome.passed(f"{type(err).__name__}, .type {error_type!r}")


@check(
    "sdk.errors.bad-request",
    MUST,
    "contract §4.2, §7, §9.6",
    "A request the contract rejects (max_tokens missing) raises anthropic.BadRequestError, .type invalid_request_error.",
)
def errors_bad_request(ctx: Context) -> Outcome:
    """MUST answer an invalid request so that the SDK raises ``BadRequestError`` (400) whose
    ``.type`` is ``invalid_request_error``."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    return _expect_status_error(ctx.probe("sdk-bad-request"), "BadRequestError", 400, "invalid_request_error")


@check(
    "sdk.errors.authentication",
    MUST,
    "contract §4.2, §5.1, §9.3",
    "A wrong API key raises anthropic.AuthenticationError, .type authentication_error.",
)
def errors_authentication(ctx: Context) -> Outcome:
    """MUST refuse a wrong key so that the SDK raises ``AuthenticationError`` (401) whose
    ``.type`` is ``authentication_error``."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    call = ctx.probe("sdk-wrong-key")
    outcome = _expect_status_error(call, "AuthenticationError", 401, "authentication_error")
    if call.ok:  # the wrong key was accepted: what auth.reject.wrong-key reports
        return outcome.caused_by([(("auth.reject.wrong-key",),)])
    return outcome


@check(
    "sdk.errors.not-found",
    MUST,
    "contract §4.2, §9.10",
    "An unknown model id raises anthropic.NotFoundError, .type not_found_error.",
)
def errors_not_found(ctx: Context) -> Outcome:
    """MUST answer an unknown model so that the SDK raises ``NotFoundError`` (404) whose ``.type``
    is ``not_found_error``."""
    skip = _bearer_left_out(ctx)
    if skip:
        return skip
    return _expect_status_error(ctx.probe("sdk-unknown-model"), "NotFoundError", 404, "not_found_error")
