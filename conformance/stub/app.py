"""The stub server: a Starlette app speaking the Anthropic Messages API (contract §1-§6).

Routes stay thin: each one checks auth, version and body (in the real API's order: 401 before
400), asks :mod:`.generate` for a deterministic answer, renders it with :mod:`.render`, and
passes every shape through the fault layer (:mod:`.faults`), which does nothing when no fault
is switched on.

Endpoints: ``POST /v1/messages`` (JSON or SSE, decided by the body's ``stream``),
``POST /v1/messages/count_tokens``, ``GET /v1/models``, ``GET /v1/models/{model_id}``.
Anything else: 404 ``not_found_error``; a wrong method: 405 with ``Allow``.

Deliberate failures, for exercising clients' error paths (accepted, never listed by
``/v1/models``):

* model ``stub-error-mid-stream`` or header ``x-stub-fail: mid-stream`` -> streaming:
  ``message_start``, one text delta, then ``event: error`` (``overloaded_error``) and the
  stream ends; non-streaming: 529 ``overloaded_error``.
* model ``stub-rate-limited`` or ``x-stub-fail: 429`` -> 429 ``rate_limit_error``, ``retry-after: 1``.
* model ``stub-overloaded`` or ``x-stub-fail: 529`` -> 529 ``overloaded_error``, ``retry-after: 1``.
* ``x-stub-fail: 500`` -> 500 ``api_error``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .. import _schema
from . import _json, render
from .catalog import ModelCatalog
from .darkbloom import Darkbloom, wanted
from .faults import FaultSet
from .generate import UnsupportedSchema, base62_id, input_tokens, plan_reply

if TYPE_CHECKING:
    from .script import Script

API_VERSIONS = ("2023-06-01", "2026-10-21")
DEFAULT_API_KEY = "test-key"
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # §1.4
FAILURE_HEADER = "x-stub-fail"
_FAILURES = {
    "stub-error-mid-stream": "mid-stream",
    "stub-rate-limited": "429",
    "stub-overloaded": "529",
}
_SAMPLING = ("temperature", "top_p", "top_k")


@dataclass
class StubConfig:
    """Everything that shapes one stub instance."""

    api_keys: tuple[str, ...] = (DEFAULT_API_KEY,)
    faults: FaultSet = field(default_factory=FaultSet)
    seed: int = 0
    catalog: ModelCatalog = field(default_factory=ModelCatalog.default)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # answers by rules (``conformance stub --script FILE``, :mod:`.script`); None: generated
    script: Script | None = None
    # Seconds to wait before answering each request on an API route (a remote target's round
    # trip, for benchmarks such as benchmarks/bench_fleet.py); 0: answer at once.
    latency: float = 0.0
    # Darkbloom's attestation evidence (``conformance stub --darkbloom``, :mod:`.darkbloom`);
    # a Darkbloom fault switches it on too
    darkbloom: bool = False


class ApiError(Exception):
    """An error answer: status and Anthropic error type (§4.2)."""

    def __init__(self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message, self.headers = status, error_type, message, headers or {}


def header_map(request: Request) -> dict[str, str]:
    """The request's headers as a dict, for lookups that do not scan: names are lower case
    (ASGI), and of a repeated header the first counts, as with Starlette's ``Headers.get``."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(request.scope["headers"])}


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "request_too_large", f"request body exceeds {limit} bytes")


async def _whole_body(request: Request) -> bytes:
    """The body, read straight from the ASGI ``receive`` (``Request.body`` goes through an
    async generator, a cost on every request)."""
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class _Endpoint:
    """An ASGI endpoint around ``handler(request) -> Response``.

    Starlette would wrap a function endpoint in ``request_response``, which sets up exception
    handling again on every request; the app's ExceptionMiddleware and ServerErrorMiddleware
    already surround every route, so the handlers' exceptions still reach ``http_error`` and
    ``crash``. (A per-request cost, measured with benchmarks/bench_stub.py.)
    """

    def __init__(self, handler: Callable[[Request], Awaitable[Response]], latency: float = 0.0) -> None:
        self.handler = handler
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)
        response = await self.handler(Request(scope, receive, send))
        await response(scope, receive, send)


class _Answer(Response):
    """A complete answer whose raw headers are built in one pass, as Starlette would build them
    (``content-length``, ``content-type`` with ``charset=utf-8`` for text types, unless given)."""

    def __init__(self, body: bytes, status: int, headers: dict[str, str], media_type: str) -> None:
        self.status_code, self.body, self.background = status, body, None
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        given = {name for name, _ in raw}
        if b"content-length" not in given:
            raw.append((b"content-length", str(len(body)).encode()))
        if b"content-type" not in given:
            if media_type.startswith("text/") and "charset=" not in media_type.lower():
                media_type += "; charset=utf-8"
            raw.append((b"content-type", media_type.encode("latin-1")))
        self.raw_headers = raw


class _Stream(StreamingResponse):
    """An SSE answer, written chunk by chunk without Starlette's disconnect listener.

    Starlette listens for a disconnect in a task group of its own on every streamed response
    (a sixth of the stub's time on a stream, measured with py-spy) unless the server declares
    ASGI 2.4, where a send to a gone client raises. uvicorn declares 2.3 and drops what is sent
    after the client left; the chunks are a finite list, so nothing needs cancelling.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.stream_response(send)


def _field_path(pointer: str) -> str:
    """``/messages/0/role`` -> ``messages.0.role`` (the real API's dotted style)."""
    return ".".join(p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:])


def describe(error: _schema.SchemaError) -> str:
    """One line naming the field, for a 400 ``invalid_request_error``."""
    path = _field_path(error.pointer)
    if error.schema_path.endswith("/additionalProperties") and "'" in error.got:
        extra = error.got.split("'")[1]
        return f"{path + '.' if path else ''}{extra}: Extra inputs are not permitted"
    return f"{path or 'body'}: expected {error.expected}, got {error.got}"


@functools.cache
def _shared_schemas() -> _schema.SchemaSet:
    """Schemas are read and compiled once per process, shared by every app."""
    return _schema.load_schemas()


class Stub:
    """Per-app state: configuration, cached validators, id counters."""

    def __init__(self, config: StubConfig) -> None:
        self.config = config
        self.faults = config.faults
        self.schemas = _shared_schemas()
        # compile every validator once; the hot path only looks them up
        self.validators = {
            (name, version, beta): self.schemas.validator(name, profile="anthropic", version=version, beta=beta)
            for name in ("messages-request", "count-tokens-request")
            for version in API_VERSIONS
            for beta in (False, True)
        }
        self._counter = itertools.count(1)
        self._keys = tuple(k.encode() for k in config.api_keys)

    # ------------------------------------------------------------ ids

    def next_ids(self) -> tuple[int, str, str]:
        """(counter, request id, message id) for the next request: one hash gives both ids."""
        n = next(self._counter)
        both = base62_id(self.config.seed, n, length=48)
        return n, "req_" + both[:24], "msg_" + both[24:]

    # ------------------------------------------------------------ answers

    def respond(
        self,
        request_id: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Response:
        out = _json.dumps(body)
        return _Answer(out, status, {**self.faults.headers(request_id), **(headers or {})}, content_type)

    def error_response(self, request_id: str, err: ApiError) -> Response:
        body = render.error_body(err.error_type, err.message, self.faults.body_request_id(request_id))
        status, body, ctype, headers = self.faults.error(err.status, body, err.headers)
        out = _json.dumps(body)
        return _Answer(out, status, {**self.faults.headers(request_id), **headers}, ctype)

    # ------------------------------------------------------------ request checks

    def authenticate(self, headers: dict[str, str], route: str) -> None:
        """401 ``authentication_error`` unless x-api-key or Bearer carries a known key (§5.1)."""
        styles = self.faults.auth_styles(route)
        if styles is None:
            return
        key = headers.get("x-api-key") if "x-api-key" in styles else None
        if key is None and "bearer" in styles:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            key = token.strip() if scheme.lower() == "bearer" else None
        if key is None:
            raise ApiError(401, "authentication_error", "missing credentials: send x-api-key or Authorization: Bearer")
        if not any(hmac.compare_digest(key.encode(), k) for k in self._keys):
            raise ApiError(401, "authentication_error", "invalid x-api-key")

    def api_version(self, headers: dict[str, str]) -> str:
        """400 unless anthropic-version names a supported version (§9 item 4)."""
        version = headers.get("anthropic-version")
        if not self.faults.version_required:
            return version if version in API_VERSIONS else API_VERSIONS[0]
        if version is None:
            raise ApiError(400, "invalid_request_error", "anthropic-version: header is required")
        if version not in API_VERSIONS:
            raise ApiError(
                400,
                "invalid_request_error",
                f"anthropic-version: unsupported version {version!r}; use one of {', '.join(API_VERSIONS)}",
            )
        return version

    async def read_json(self, request: Request, headers: dict[str, str]) -> Any:
        """The body, bounded by max_body_bytes (413 ``request_too_large``), as JSON (400)."""
        lenient = self.faults.lenient_body_parsing
        ctype = headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json" and not lenient:
            raise ApiError(400, "invalid_request_error", "content-type: expected application/json")
        limit = self.faults.body_limit(self.config.max_body_bytes)
        declared = headers.get("content-length")
        if limit is not None and declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        if declared is not None and declared.isdigit():
            # the server frames the body by its declared length, which is within the limit
            data = await _whole_body(request)
        else:
            parts: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if limit is not None and size > limit:
                    raise _too_large(limit)  # stop reading: never buffer past the limit
                parts.append(chunk)
            data = b"".join(parts)
        if lenient:
            try:
                return self.faults.lenient_json(data)
            except ValueError:
                raise ApiError(400, "invalid_request_error", "body: not valid JSON") from None
        try:
            return _json.loads(data)
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_request_error", "body: not valid UTF-8") from None
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ApiError(
                400, "invalid_request_error", f"body: not valid JSON ({getattr(exc, 'msg', 'too deep')})"
            ) from None

    def validate(self, name: str, body: Any, version: str, beta: bool = False) -> dict:
        """400 for a body outside the contract (schema, then rules a schema cannot state); a
        beta request (:func:`is_beta`) may also use the beta surface (``schemas/beta.json``)."""
        body = self.faults.prepare_body(body, version, name)
        mode = self.faults.validation
        if mode == "none":
            return _lenient(body, self.config.catalog.models[0]["id"])
        validator = self.validators[(name, version, beta)]
        problem: str | None = None
        if not validator.is_valid(body):
            errors = validator.errors(body)
            problem = describe(errors[0]) if errors else "body: invalid request"
        else:
            problem = _semantic_problem(body)
        if problem is not None:
            if mode == "500":
                raise ApiError(500, "api_error", "internal server error")
            raise ApiError(400, "invalid_request_error", problem)
        return body

    def check_model(self, model: str) -> None:
        if not self.config.catalog.accepts(model) and not self.faults.unknown_model_fallback:
            raise ApiError(404, "not_found_error", f"model: {model}")


def is_beta(request: Request, headers: dict[str, str]) -> bool:
    """A beta request: it names betas (``anthropic-beta``) or comes from the SDK's beta client
    (``?beta=true``). The real API enables each beta field with its own beta name; the stub
    accepts every beta field in any beta request (a simplification, see schemas/beta.json)."""
    return bool(headers.get("anthropic-beta", "").strip()) or request.query_params.get("beta") == "true"


def _lenient(body: Any, default_model: str) -> dict:
    """What a server without validation makes of any JSON (no-validation fault)."""
    body = body if isinstance(body, dict) else {}
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    max_tokens = body.get("max_tokens") if isinstance(body.get("max_tokens"), int) and body["max_tokens"] >= 0 else 8192
    model = body.get("model") if isinstance(body.get("model"), str) else default_model
    out: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": [m for m in messages if isinstance(m, dict)],
        "stream": body.get("stream") is True,
    }
    # Everything else is used as given where its shape is usable: a server that only stops
    # validating still honours system, stop sequences, tools and thinking.
    for key, kinds in _LENIENT_FIELDS.items():
        if isinstance(body.get(key), kinds):
            out[key] = body[key]
    if isinstance(out.get("stop_sequences"), list):
        out["stop_sequences"] = [x for x in out["stop_sequences"] if isinstance(x, str) and x]
    if isinstance(out.get("tools"), list):
        out["tools"] = [t for t in out["tools"] if isinstance(t, dict) and isinstance(t.get("name"), str)]
    return out


_LENIENT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "system": (str, list),
    "stop_sequences": list,
    "tools": list,
    "tool_choice": dict,
    "thinking": dict,
    "metadata": dict,
    "temperature": (int, float),
    "top_p": (int, float),
    "top_k": int,
}


def _semantic_problem(body: dict) -> str | None:
    """Rules beyond the schema (§1.5-1.6)."""
    thinking = body.get("thinking") or {}
    if (
        thinking.get("type") == "enabled"
        and "max_tokens" in body
        and thinking.get("budget_tokens", 0) >= body["max_tokens"]
    ):
        return "thinking.budget_tokens: must be less than max_tokens"
    choice = body.get("tool_choice") or {}
    tools = body.get("tools") or []
    if choice.get("type") in ("any", "tool") and not tools:
        return "tool_choice: requires tools"
    if choice.get("type") == "tool":
        tool = next((t for t in tools if t.get("name") == choice.get("name")), None)
        if tool is None:
            return f"tool_choice.name: no tool named {choice.get('name')!r} in tools"
        if "input_schema" not in tool:
            return f"tool_choice.name: {choice.get('name')!r} is a server tool, which the stub does not execute"
    if choice.get("type") == "any" and not any(isinstance(t, dict) and "input_schema" in t for t in tools):
        return "tool_choice: the stub can only force custom tools (with input_schema)"
    return None


def create_app(config: StubConfig | None = None) -> Starlette:
    """The Starlette app for one stub configuration."""
    stub = Stub(config or StubConfig())
    faults = stub.faults
    darkbloom = (
        Darkbloom(faults, [m["id"] for m in stub.config.catalog.models], ApiError)
        if wanted(stub.config.darkbloom, faults)
        else None
    )

    async def messages(request: Request) -> Response:
        counter, rid, mid = stub.next_ids()
        headers = header_map(request)
        try:
            if faults.refuses_urls:
                _refuse_url(faults, request)
            stub.authenticate(headers, "messages")
            version = stub.api_version(headers)
            raw = await stub.read_json(request, headers)
            body = stub.validate("messages-request", raw, version, is_beta(request, headers))
            stub.check_model(body["model"])
            refusal = faults.refusal(body, headers)
            if refusal is not None:
                raise ApiError(*refusal)
            stream = body.get("stream") is True
            if faults.stream_from_accept:
                stream = stream and "text/event-stream" in headers.get("accept", "")
            failure = _FAILURES.get(body["model"]) or headers.get(FAILURE_HEADER)
            if failure in ("429", "529", "500") or (failure == "mid-stream" and not stream):
                raise _deliberate(failure)
            msg_id = faults.message_id(mid, counter)
            scripted = None
            if stub.config.script is not None:
                scripted = stub.config.script.answer(body, ident=f"{stub.config.seed}:{counter}")
                if scripted is not None and scripted.delay:
                    await asyncio.sleep(scripted.delay)
                if scripted is not None and scripted.error is not None:
                    raise ApiError(*scripted.error)
            if scripted is not None and scripted.reply is not None:
                reply = scripted.reply
            else:
                reply = plan_reply(
                    faults.gen_body(body),
                    seed=stub.config.seed,
                    ident=f"{stub.config.seed}:{counter}",
                    opts=faults.options,
                )
        except UnsupportedSchema as exc:
            return stub.error_response(rid, ApiError(400, "invalid_request_error", f"tools.input_schema: {exc}"))
        except ApiError as err:
            refused = stub.error_response(rid, err)
            return refused if darkbloom is None else darkbloom.refused(refused)
        for block in reply.blocks:
            if block.type == "tool_use":
                block.tool_id = faults.tool_id(block.tool_id)
        created = int(time.time())
        attest = darkbloom.commit(rid, stream) if darkbloom is not None else None
        if not stream:
            message = faults.message(render.message(reply, msg_id=msg_id, model=body["model"]), created)
            if attest is not None:
                message = attest.message(message)
            evidence = attest.headers if attest is not None else None
            return stub.respond(rid, 200, message, evidence, content_type=faults.message_content_type)
        events = render.stream_events(reply, msg_id=msg_id, model=body["model"])
        if failure == "mid-stream":
            events = _cut_for_error(events, faults.body_request_id(rid))
        frames = faults.frames(faults.events(events, created))
        if attest is not None:
            frames = attest.frames(frames)
        chunks, delay = faults.encode(frames)
        headers = {**faults.headers(rid), "cache-control": "no-cache", **(attest.headers if attest else {})}
        return _Stream(_write(chunks, delay), 200, headers, faults.stream_content_type)

    async def count_tokens(request: Request) -> Response:
        _, rid, _ = stub.next_ids()
        try:
            if faults.missing_endpoint("count_tokens"):
                raise ApiError(404, "not_found_error", f"{request.url.path}: not found")
            if faults.refuses_urls:
                _refuse_url(faults, request)
            headers = header_map(request)
            stub.authenticate(headers, "count_tokens")
            version = stub.api_version(headers)
            body = stub.validate(
                "count-tokens-request", await stub.read_json(request, headers), version, is_beta(request, headers)
            )
            stub.check_model(body["model"])
            problem = None if faults.validation == "none" else _semantic_problem(body)
            if problem:
                raise ApiError(400, "invalid_request_error", problem)
        except ApiError as err:
            return stub.error_response(rid, err)
        return stub.respond(rid, 200, {"input_tokens": faults.count_tokens(faults.gen_body(body), input_tokens)})

    async def list_models(request: Request) -> Response:
        _, rid, _ = stub.next_ids()
        try:
            headers = header_map(request)
            stub.authenticate(headers, "models")
            stub.api_version(headers)
            page = _page(stub.config.catalog, request)
        except ApiError as err:
            return stub.error_response(rid, err)
        return stub.respond(rid, 200, faults.models_page(page, stub.config.catalog.models))

    async def get_model(request: Request) -> Response:
        _, rid, _ = stub.next_ids()
        try:
            if faults.missing_endpoint("model"):
                raise ApiError(404, "not_found_error", f"{request.url.path}: not found")
            headers = header_map(request)
            stub.authenticate(headers, "models")
            stub.api_version(headers)
            model_id = request.path_params["model_id"]
            info = stub.config.catalog.get(model_id)
            if info is None:
                raise ApiError(404, "not_found_error", f"model: {model_id}")
        except ApiError as err:
            return stub.error_response(rid, err)
        return stub.respond(rid, 200, info)

    async def http_error(request: Request, exc: Exception) -> Response:
        """404 for unknown paths and 405 for wrong methods, in the JSON envelope (§9 item 33)."""
        assert isinstance(exc, HTTPException)
        _, rid, _ = stub.next_ids()
        if exc.status_code == 404 and faults.plain_text_404:
            return Response(b"404 page not found\n", 404, faults.headers(rid), "text/plain; charset=utf-8")
        if exc.status_code == 405:
            err = ApiError(
                405,
                "invalid_request_error",
                f"{request.method} {request.url.path}: method not allowed",
                dict(exc.headers or {}),
            )
        elif exc.status_code == 404:
            err = ApiError(404, "not_found_error", f"{request.url.path}: not found")
        else:
            err = ApiError(exc.status_code, "invalid_request_error", str(exc.detail))
        return stub.error_response(rid, err)

    async def crash(request: Request, exc: Exception) -> Response:
        """A bug in the stub still answers in the envelope (and tests assert it never happens)."""
        _, rid, _ = stub.next_ids()
        return stub.error_response(rid, ApiError(500, "api_error", f"stub internal error: {type(exc).__name__}"))

    messages_route: Any = _Endpoint(messages, stub.config.latency)
    if darkbloom is not None:
        messages_route = darkbloom.sealed(messages_route, stub)
    routes = [
        Route("/v1/messages", messages_route, methods=["POST"]),
        Route("/v1/messages/count_tokens", _Endpoint(count_tokens, stub.config.latency), methods=["POST"]),
        Route("/v1/models", _Endpoint(list_models, stub.config.latency), methods=["GET"]),
        Route("/v1/models/{model_id:path}", _Endpoint(get_model, stub.config.latency), methods=["GET"]),
    ]
    if darkbloom is not None:
        routes += darkbloom.routes(stub)
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: crash})
    app.state.stub = stub
    return app


def _refuse_url(faults: FaultSet, request: Request) -> None:
    """Raise the refusal a fault gives this request's URL (path and query), if any."""
    refusal = faults.url_refusal(request.url.path, request.url.query)
    if refusal is not None:
        raise ApiError(*refusal)


def _deliberate(failure: str) -> ApiError:
    if failure == "429":
        return ApiError(429, "rate_limit_error", "stub: deliberate rate limit", {"retry-after": "1"})
    if failure == "500":
        return ApiError(500, "api_error", "stub: deliberate internal error")
    return ApiError(529, "overloaded_error", "stub: deliberately overloaded", {"retry-after": "1"})


def _cut_for_error(events: list[dict[str, Any]], request_id: str | None) -> list[dict[str, Any]]:
    """message_start, the first text delta, then ``error`` (§4.3); nothing follows it."""
    first_delta = next(
        i for i, e in enumerate(events) if e["type"] == "content_block_delta" or e["type"] == "message_delta"
    )
    kept = events[: first_delta + 1] if events[first_delta]["type"] == "content_block_delta" else events[:first_delta]
    error = render.error_body("overloaded_error", "stub: deliberately overloaded mid-stream", request_id)
    return kept + [error]


def _page(catalog: ModelCatalog, request: Request) -> dict[str, Any]:
    """Parse after_id / before_id / limit (§6) and cut the page; 400 on a bad limit."""
    query = request.query_params
    raw_limit = query.get("limit", "20")
    try:
        limit = int(raw_limit)
    except ValueError:
        raise ApiError(400, "invalid_request_error", f"limit: expected an integer, got {raw_limit!r}") from None
    if not 1 <= limit <= 1000:
        raise ApiError(400, "invalid_request_error", "limit: must be between 1 and 1000")
    # an empty cursor counts as absent; after_id wins when both come (the OpenAPI allows both)
    after_id, before_id = query.get("after_id") or None, query.get("before_id") or None
    if after_id is not None:
        before_id = None
    for value in (after_id, before_id):
        if value is not None and catalog.get(value) is None:
            return {
                "data": [],
                "has_more": False,
                "first_id": None,
                "last_id": None,
            }  # unknown cursor: nothing beyond it
    return catalog.page(after_id=after_id, before_id=before_id, limit=limit)


async def _write(chunks: list[bytes], delay: float) -> AsyncIterator[bytes]:
    """Write each chunk separately, yielding to the loop so each is flushed on its own."""
    if delay:
        await asyncio.sleep(delay)
    for chunk in chunks:
        yield chunk
        await asyncio.sleep(0)
