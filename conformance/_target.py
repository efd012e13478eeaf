"""The one way the harness talks to a server under test.

A :class:`Target` holds the endpoint (base URL), credentials and auth style, API version, extra
headers, bounded timeouts and the body cap; :meth:`Target.send` performs one HTTP exchange and
returns an :class:`~conformance._exchange.Exchange` with everything observed. It never raises for
network or HTTP problems: those are recorded in ``Exchange.transport_error``.

Bounds, all enforced while bytes arrive:

* ``connect``: TCP connect (and TLS handshake);
* ``read``: the longest silence between two reads (no bytes at all for this long);
* ``event_idle``: for event streams, the longest time between two SSE events (pings count,
  comments and partial events do not); measured from the response headers;
* ``total``: the whole exchange, from the call until the body or stream ended. A server that
  drips one byte per second never trips ``read``; ``total`` stops it.
* ``max_body_bytes``: the response body (or raw stream) is kept up to this many bytes; the
  connection is closed as soon as more arrives. The default, 2 MiB, is far above any answer a
  probe asks for (the largest, a thinking stream, is tens of KiB), and it bounds what a run
  holds: every recorded exchange stays in memory as evidence until the reports are written.
* :attr:`Target.deadline`: an optional outer deadline (``time.perf_counter`` clock) with the
  message to record when it ends an exchange; a run sets it to the end of the current check's
  bound or of the run budget, whichever comes first, so no exchange outlives either.

``total`` and ``event_idle`` are enforced inside every socket operation: the HTTP client runs
on an httpcore network backend whose streams shorten each read, write and connect timeout to
the time left in the current exchange's budget (kept in a context variable). Between chunks
the same deadlines are checked again, so a custom ``transport=`` (which bypasses the backend)
is still bounded as soon as it yields data.

Each exchange goes straight to the httpx transport (``handle_request``, the whole transport
contract), with no ``httpx.Client`` around it: exchanges are independent (no cookie jar: a
``Set-Cookie`` is recorded, never sent back), and each costs a third less CPU.
Redirects are never followed (credentials must not travel to another origin): a 3xx answer is
recorded as is, with ``transport_error`` naming the ``Location``. ``https`` certificates are
verified unless ``insecure=True``. No environment proxy or ``.netrc`` is consulted.
"""

from __future__ import annotations

import contextvars
import json as _json
import re
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from conformance._exchange import Exchange, RecordedRequest
from conformance._redact import WRONG_API_KEY, Redactor, env_name_for_header

__all__ = ["AUTH_STYLES", "MISSING", "Target", "TargetError", "Timeouts"]

AUTH_STYLES = ("x-api-key", "bearer", "both", "none")
_SEND_AUTH = AUTH_STYLES + ("wrong",)
DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
API_KEY_ENV = "CONFORMANCE_API_KEY"


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


DEFAULT_MAX_BODY_BYTES = 2 * 2**20


class TargetError(Exception):
    """A configuration error (bad base URL, auth style, timeout...): one clear line."""


@dataclass(frozen=True)
class Timeouts:
    """Bounds on every network wait, in seconds (see the module docstring)."""

    connect: float = 5.0
    read: float = 30.0
    event_idle: float = 30.0
    total: float = 120.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "event_idle", "total"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
                raise TargetError(f"timeout {name!r} must be a positive number of seconds, got {value!r}")


# ---------------------------------------------------------------------------- budget


class _Budget:
    """Deadlines of the exchange in progress (time.perf_counter clock)."""

    __slots__ = ("deadline", "first_byte", "fired", "idle_deadline", "message")

    def __init__(self, deadline: float, message: str) -> None:
        self.deadline = deadline
        self.message = message  # what to record when ``deadline`` ends the exchange
        self.idle_deadline: float | None = None
        self.first_byte: float | None = None
        self.fired: str | None = None  # "total" or "idle" once a budget bound a wait that timed out

    def bound(self, timeout: float | None) -> tuple[float | None, str | None]:
        """``timeout`` shortened to the budget left, and which budget (if any) is binding."""
        now = time.perf_counter()
        left, why = self.deadline - now, "total"
        if self.idle_deadline is not None and self.idle_deadline - now < left:
            left, why = self.idle_deadline - now, "idle"
        if timeout is not None and timeout <= left:
            return timeout, None
        return left, why


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("conformance_budget", default=None)


def _bounded(timeout: float | None, exc_type: type[Exception]) -> tuple[float | None, _Budget | None, str | None]:
    budget = _BUDGET.get()
    if budget is None:
        return timeout, None, None
    timeout, why = budget.bound(timeout)
    if why is not None and timeout is not None and timeout <= 0:
        budget.fired = why
        raise exc_type(f"{why} time budget exhausted")
    return timeout, budget, why


class _BudgetStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout, budget, why = _bounded(timeout, httpcore.ReadTimeout)
        try:
            data = self._stream.read(max_bytes, timeout)
        except httpcore.ReadTimeout:
            if why is not None:
                budget.fired = why  # type: ignore[union-attr]
            raise
        if data and budget is not None and budget.first_byte is None:
            budget.first_byte = time.perf_counter()
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        timeout, budget, why = _bounded(timeout, httpcore.WriteTimeout)
        try:
            self._stream.write(buffer, timeout)
        except httpcore.WriteTimeout:
            if why is not None:
                budget.fired = why  # type: ignore[union-attr]
            raise

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None):
        timeout, budget, why = _bounded(timeout, httpcore.ConnectTimeout)
        try:
            return _BudgetStream(self._stream.start_tls(ssl_context, server_hostname, timeout))
        except httpcore.ConnectTimeout:
            if why is not None:
                budget.fired = why  # type: ignore[union-attr]
            raise

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _BudgetBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout, budget, why = _bounded(timeout, httpcore.ConnectTimeout)
        try:
            return _BudgetStream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))
        except httpcore.ConnectTimeout:
            if why is not None:
                budget.fired = why
            raise

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _BudgetStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Transport(httpx.HTTPTransport):
    """httpx's HTTP/1.1 transport on the budget-enforcing network backend."""

    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx has no public hook for the network backend; its handle_request() only uses
        # self._pool, so a pool built with the same settings plus our backend takes its place.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=_BudgetBackend(),
        )


# ---------------------------------------------------------------------------- configuration


def _normalise_base_url(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise TargetError("base URL is empty: give one like https://api.example.com")
    s = raw.strip()
    shown = s if "@" not in s else "(URL with credentials)"
    if "://" not in s:
        raise TargetError(f"base URL {shown} has no scheme: use http://{shown} or https://{shown}")
    parts = urlsplit(s)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetError(f"unsupported scheme {parts.scheme!r} in base URL: use http:// or https://")
    if "@" in parts.netloc:
        raise TargetError("base URL must not contain user:password@; pass the API key separately")
    if not parts.hostname:
        raise TargetError(f"base URL {shown} has no host")
    try:
        _ = parts.port
    except ValueError:
        raise TargetError(f"base URL {shown} has an invalid port") from None
    if parts.query or parts.fragment or s.endswith(("?", "#")):
        raise TargetError(f"base URL {shown} must not have a query or fragment")
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v1"):
        raise TargetError(
            "base URL should not end in /v1: the API paths already start with /v1; "
            f"use {scheme}://{parts.netloc}{path[:-3]} instead"
        )
    url = f"{scheme}://{parts.netloc}{path}"
    try:
        httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise TargetError(f"invalid base URL {shown}: {exc}") from None
    return url


def _check_header_value(name: str, value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TargetError(f"{what} {name!r} must be a string, got {type(value).__name__}")
    if not (value.isascii() and value.isprintable()):
        raise TargetError(f"{what} {name!r} contains characters that cannot be sent in an HTTP header")
    return value


def _user_agent() -> str:
    import conformance

    return f"conformance/{getattr(conformance, '__version__', '0')}"


# ---------------------------------------------------------------------------- target


class Target:
    """One endpoint under test; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        auth: str = "x-api-key",
        anthropic_version: str = DEFAULT_ANTHROPIC_VERSION,
        headers: Mapping[str, str] = {},  # noqa: B006 (never mutated)
        secret_headers: Iterable[str] = (),
        timeouts: Timeouts = Timeouts(),  # noqa: B008 (frozen)
        insecure: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = _normalise_base_url(base_url)
        if auth not in AUTH_STYLES:
            raise TargetError(f"unknown auth style {auth!r}: choose one of {', '.join(AUTH_STYLES)}")
        if api_key is not None:
            if not isinstance(api_key, str) or not api_key:
                raise TargetError("the API key must be a non-empty string (or None for no credentials)")
            if not (api_key.isascii() and api_key.isprintable()) or api_key != api_key.strip():
                raise TargetError("the API key contains characters that cannot be sent in an HTTP header")
        if not isinstance(timeouts, Timeouts):
            raise TargetError("timeouts must be a conformance Timeouts object")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int) or max_body_bytes < 1:
            raise TargetError(f"max_body_bytes must be a positive integer, got {max_body_bytes!r}")
        self.api_key = api_key
        self.auth = auth
        self.anthropic_version = _check_header_value("anthropic-version", anthropic_version, "header")
        self.timeouts = timeouts
        self.insecure = bool(insecure)
        self.max_body_bytes = max_body_bytes
        # (perf_counter deadline, message): an outer bound on every exchange (see module doc)
        self.deadline: tuple[float, str] | None = None
        # Why streams are no longer sent: a stream that went silent for ``event_idle`` shows the
        # target hangs streams, and waiting out the bound again for every later stream would
        # only repeat that finding (minutes per run); later stream requests end at once instead.
        self.hung_stream: str | None = None
        # The credential style each route accepts, where the run found it differs from ``auth``
        # (route_of: "messages", "count_tokens", "models"); exchanges on that route use it.
        self.route_auth: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        for name, value in headers.items():
            if not isinstance(name, str) or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise TargetError(f"invalid header name {name!r}")
            self.headers[name.lower()] = _check_header_value(name, value, "header")

        names = {n.lower() for n in secret_headers}
        placeholders: dict[str, str] = {}
        if api_key:
            placeholders[api_key] = API_KEY_ENV
        probe = Redactor(names=names)
        for name, value in self.headers.items():
            if probe.is_secret_header(name):
                credentials: list[str] = []

                def collect(credential: str) -> str:
                    credentials.append(credential)  # noqa: B023 (called at once, below)
                    return credential

                probe.map_credential(value, collect)
                for secret in credentials:  # "Bearer xyz" -> xyz: the scheme is no secret
                    placeholders.setdefault(secret, env_name_for_header(name))
        self.redactor = Redactor(placeholders, names=names)

        if transport is None:
            ssl_context = httpx.create_ssl_context(verify=not self.insecure, trust_env=False)
            limits = httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=5.0)
            transport = _Transport(ssl_context=ssl_context, limits=limits)
        # Exchanges go straight to the transport (its handle_request is the whole contract): an
        # httpx.Client around it would add cookies, redirects and auth flows the harness does not
        # use, a third of the client's CPU per exchange.
        self._transport = transport
        self._urls: dict[str, httpx.URL] = {}
        self._timeout = {
            "connect": timeouts.connect,
            "read": timeouts.read,
            "write": timeouts.read,
            "pool": timeouts.connect,
        }
        self._default_headers = (
            ("Connection", "keep-alive"),
            ("accept", "application/json"),
            ("accept-encoding", "identity"),
            ("user-agent", _user_agent()),
        )

    # ------------------------------------------------------------------ plumbing

    @property
    def secrets(self) -> frozenset[str]:
        """The strings never to show: the API key and the values of secret headers."""
        return self.redactor.secrets

    def __repr__(self) -> str:
        key = "set" if self.api_key else "none"
        return (
            f"Target({self.base_url!r}, auth={self.auth!r}, api_key={key}, "
            f"anthropic_version={self.anthropic_version!r}, insecure={self.insecure})"
        )

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _auth_headers(self, style: str) -> dict[str, str]:
        key = self.api_key
        if style == "wrong":
            key, style = WRONG_API_KEY, (self.auth if self.auth != "none" else "x-api-key")
        if key is None or style == "none":
            return {}
        out = {}
        if style in ("x-api-key", "both"):
            out["x-api-key"] = key
        if style in ("bearer", "both"):
            out["authorization"] = f"Bearer {key}"
        return out

    # ------------------------------------------------------------------ sending

    def messages(self, body: Any, **kw: Any) -> Exchange:
        """POST /v1/messages with ``body`` as JSON (``stream`` inferred from the body)."""
        return self.send("POST", "/v1/messages", json=body, **kw)

    def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = MISSING,
        content: bytes | None = None,
        headers: Mapping[str, str | None] | None = None,
        auth: str | None = None,
        stream: bool | None = None,
    ) -> Exchange:
        """Perform one exchange; never raises for network or HTTP problems.

        ``json`` is serialised compactly (UTF-8, no ASCII escaping); ``content`` is sent as is.
        ``headers`` override the defaults; a None value removes a default header.
        ``auth`` overrides the auth style for this exchange (``"wrong"``: a wrong key in the
        default style). ``stream`` None means: true when the JSON body has ``"stream": true``.
        """
        if json is not MISSING and content is not None:
            raise TypeError("send() takes json= or content=, not both")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"path must start with '/', got {path!r}")
        style = self.style_for(path) if auth is None else auth
        if style not in _SEND_AUTH:
            raise ValueError(f"unknown auth style {style!r}: choose one of {', '.join(_SEND_AUTH)}")

        wanted: dict[str, str | None] = {"anthropic-version": self.anthropic_version}
        if json is not MISSING:
            body = _json.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
            wanted["content-type"] = "application/json"
            if stream is None:
                stream = isinstance(json, Mapping) and json.get("stream") is True
        else:
            body = content or b""
        stream = bool(stream)
        wanted.update(self._auth_headers(style))
        wanted.update(self.headers)
        for name, value in (headers or {}).items():
            wanted[name.lower()] = value
        sent: dict[str, str] = {}
        for name, value in self._default_headers:  # a default keeps its place when overridden
            value = wanted.pop(name.lower(), value)
            if value is not None:
                sent[name] = value
        sent.update((name, value) for name, value in wanted.items() if value is not None)
        url = self._urls.get(path)
        if url is None:  # parsed once per path (two thirds of building a request, measured)
            if len(self._urls) >= 64:
                self._urls.clear()
            url = self._urls[path] = httpx.URL(self.base_url + path)
        request = httpx.Request(method, url, content=body or None, headers=sent, extensions={"timeout": self._timeout})
        recorded = RecordedRequest(
            method=request.method,
            url=str(request.url),
            headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in request.headers.raw),
            body=body,
            stream=stream,
            redactor=self.redactor,
        )
        return self._perform(request, recorded)

    def style_for(self, path: str) -> str:
        """The credential style sent on ``path``: its route's own (``route_auth``), else ``auth``."""
        return self.route_auth.get(route_of(path)) or self.auth

    def _perform(self, request: httpx.Request, recorded: RecordedRequest) -> Exchange:
        t = self.timeouts
        ex = Exchange(request=recorded, started_at=time.time())
        if recorded.stream and self.hung_stream is not None:
            ex.transport_error = f"not sent: {self.hung_stream}"
            return ex
        t0 = time.perf_counter()
        deadline, message = t0 + t.total, _total_message(t.total)
        if self.deadline is not None and self.deadline[0] < deadline:
            deadline, message = self.deadline
        budget = _Budget(deadline, self.redactor.text(message))
        token = _BUDGET.set(budget)
        try:
            try:
                response = self._transport.handle_request(request)
            except httpx.HTTPError as exc:
                ex.transport_error = self._describe(exc, budget, before_response=True)
            else:
                self._read(response, ex, budget, t0)
        finally:
            _BUDGET.reset(token)
            ex.elapsed = time.perf_counter() - t0
            if budget.first_byte is not None:
                ex.first_byte_after = budget.first_byte - t0
        if ex.is_stream and ex.transport_error == _idle_message(t.event_idle):
            self.hung_stream = f"an earlier stream of this run hung ({ex.transport_error})"
        return ex

    def _read(self, response: httpx.Response, ex: Exchange, budget: _Budget, t0: float) -> None:
        t = self.timeouts
        cap = self.max_body_bytes
        ex.status = response.status_code
        reason = response.extensions.get("reason_phrase")
        ex.reason = reason.decode("latin-1") if isinstance(reason, bytes) else None
        ex.headers = tuple((n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in response.headers.raw)
        if budget.first_byte is None:  # a custom transport bypasses the budget backend
            budget.first_byte = time.perf_counter()
        parser = None
        ex.is_stream = ex.content_type == "text/event-stream" or (
            ex.request.stream and 200 <= response.status_code < 300
        )
        if ex.is_stream:
            from conformance._sse import SSEParser

            parser = SSEParser()
            budget.idle_deadline = time.perf_counter() + t.event_idle
        body = bytearray()
        error: str | None = None
        ended_by_server = False
        # a custom transport may hand back a response whose body is already in memory
        chunks = [response.content] if response.is_stream_consumed else response.iter_raw()
        try:
            for chunk in chunks:
                now = time.perf_counter()
                room = cap - len(body)
                if len(chunk) > room:
                    chunk = chunk[:room]
                    ex.body_truncated = True
                body += chunk
                if parser is not None and chunk:
                    events = parser.feed(chunk, now - t0)
                    if events:
                        ex.events.extend(events)
                        budget.idle_deadline = now + t.event_idle
                if ex.body_truncated:
                    error = f"response exceeded {_size(cap)} cap"
                    break
                if now >= budget.deadline:
                    error = budget.message
                    break
                if budget.idle_deadline is not None and now >= budget.idle_deadline:
                    error = _idle_message(t.event_idle)
                    break
            else:
                ex.complete = ended_by_server = True
        except httpx.HTTPError as exc:
            error = self._describe(exc, budget, before_response=False)
            ended_by_server = budget.fired is None and not isinstance(exc, httpx.TimeoutException)
        finally:
            response.close()
        if parser is not None:
            if ended_by_server:
                ex.events.extend(parser.close(time.perf_counter() - t0))
            ex.sse_anomalies = list(parser.anomalies)
        ex.keep_body(body)
        if error is None and 300 <= response.status_code < 400 and ex.header("location") is not None:
            error = f"redirect to {ex.header('location')} not followed"
        if error is not None:
            ex.transport_error = self.redactor.text(error)

    def _describe(self, exc: httpx.HTTPError, budget: _Budget, *, before_response: bool) -> str:
        t = self.timeouts
        msg = " ".join(str(exc).split()) or type(exc).__name__
        if budget.fired == "total":
            text = budget.message
        elif budget.fired == "idle":
            text = _idle_message(t.event_idle)
        elif isinstance(exc, httpx.ConnectTimeout):
            text = f"connect timeout after {t.connect:g} s"
        elif isinstance(exc, httpx.ReadTimeout):
            text = (
                f"read timeout: no response within {t.read:g} s"
                if before_response
                else f"read timeout: no bytes for {t.read:g} s"
            )
        elif isinstance(exc, httpx.WriteTimeout):
            text = f"write timeout: request not sent within {t.read:g} s"
        elif isinstance(exc, httpx.PoolTimeout):
            text = f"no free connection within {t.connect:g} s"
        elif isinstance(exc, httpx.ConnectError):
            text = _connect_message(msg, self.base_url)
        elif isinstance(exc, (httpx.ReadError, httpx.WriteError)) and "reset" in msg.lower():
            text = "connection reset before the response" if before_response else "connection reset mid-body"
        elif isinstance(exc, httpx.RemoteProtocolError):
            if not before_response:
                text = f"connection closed mid-body: {msg}"
            elif "without sending a response" in msg:
                text = "server closed the connection without a response"
            else:
                text = f"invalid HTTP response: {msg}"
        elif isinstance(exc, httpx.LocalProtocolError):
            text = f"request could not be sent: {msg}"
        else:
            where = "before the response" if before_response else "mid-body"
            text = f"{type(exc).__name__} {where}: {msg}"
        return self.redactor.text(text)


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def _total_message(total: float) -> str:
    return f"total time budget of {total:g} s exceeded"


def route_of(path: str) -> str:
    """The API route a request path belongs to: "messages", "count_tokens", "models" or ""."""
    path = path.partition("?")[0]
    if path == "/v1/messages":
        return "messages"
    if path == "/v1/messages/count_tokens":
        return "count_tokens"
    if path == "/v1/models" or path.startswith("/v1/models/"):
        return "models"
    return ""


def _idle_message(idle: float) -> str:
    return f"no SSE event for {idle:g} s (event_idle)"


def _connect_message(msg: str, base_url: str) -> str:
    low = msg.lower()
    if "certificate_verify_failed" in low or "certificate verify failed" in low:
        m = re.search(r"certificate verify failed: ([^(]*)", msg)
        why = f": {m.group(1).strip()}" if m and m.group(1).strip() else ""
        return f"TLS certificate did not verify (use --insecure to allow){why}"
    if "[ssl" in low or "tls" in low:
        return f"TLS handshake failed: {msg}"
    if "refused" in low:
        return "connection refused"
    if "name or service not known" in low or "name resolution" in low or "nodename nor servname" in low:
        return f"host name did not resolve: {urlsplit(base_url).hostname}"
    return f"connect error: {msg}"
