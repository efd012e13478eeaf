"""The recording proxy: a loopback HTTP forwarder between a real client and the target.

A client under test (the TypeScript SDK driver, Claude Code) is pointed at the proxy instead of
the target. The proxy forwards each request to the target as it came (method, path, query,
headers, body; hop-by-hop headers and ``host`` excepted) and the answer back as it comes, chunk
by chunk (an event stream reaches the client as the target sends it), and records both as an
:class:`~conformance._exchange.Exchange`: the evidence of a ``clients.*`` check, redacted like
every other exchange. It never answers for the target: when the target cannot be reached, or
breaks off, the client's connection is closed the same way. It passes no redirect on: a 3xx
reaches the client without its ``location`` (a client that followed it would carry the API key
to wherever the target points).

A base URL may carry a label, ``http://127.0.0.1:PORT/_/LABEL``: the proxy strips it before
forwarding and files the exchange under it, so one client process running several scenarios
gets each scenario's exchanges apart. The proxy also listens on a Unix socket when asked: the
way in from a network namespace where nothing else is reachable (:mod:`._sandbox`).

Bounds: connect ``min(10 s, timeout)``, read (per chunk) ``timeout``; bodies are recorded up to
``cap`` bytes (forwarding goes on past it); at most ``max_recorded`` exchanges are kept, the rest
only counted (a client in a loop cannot fill memory).
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx

from conformance._exchange import Exchange, RecordedRequest
from conformance._redact import Redactor
from conformance._sse import SSEParser

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
LABEL_PREFIX = "/_/"
MAX_REQUEST_BYTES = 64 * 1024 * 1024


def _redirects(response: Any, name: str) -> bool:
    """The ``location`` of a 3xx answer: never passed to the client, which would follow it with
    the API key to wherever the target points (a client's fetch keeps ``x-api-key`` across
    origins). The client sees the 3xx itself; the evidence keeps the header."""
    return name == "location" and 300 <= response.status_code < 400


def split_label(path: str) -> tuple[str, str]:
    """``/_/create/v1/messages?x`` -> (``create``, ``/v1/messages?x``); no label: ("", path)."""
    if path.startswith(LABEL_PREFIX):
        label, _, rest = path[len(LABEL_PREFIX) :].partition("/")
        return label, "/" + rest
    return "", path


def _asks_for_stream(body: bytes) -> bool:
    try:
        value = json.loads(body) if body else None
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("stream") is True


class _Decoder:
    """Content decoding for the recorded copy only (the client gets the bytes as sent)."""

    def __init__(self, encoding: str | None) -> None:
        encoding = (encoding or "").strip().lower()
        self.failed = False
        self._z: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj()
        elif encoding not in ("", "identity"):
            self.failed = True  # br, zstd: recorded as received

    def feed(self, data: bytes) -> bytes:
        if self._z is None or self.failed:
            return data
        try:
            return self._z.decompress(data)
        except zlib.error:
            self.failed = True
            return b""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any  # _TcpServer | _UnixServer, each with a .proxy

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the exchanges are the record

    def address_string(self) -> str:
        return "client"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.proxy.forward(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET


class _TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: "RecordingProxy") -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, proxy: "RecordingProxy", path: str) -> None:
        self.proxy = proxy
        super().__init__(path, _Handler)


class RecordingProxy:
    """Forwards to ``target`` and records each exchange; see the module docstring."""

    def __init__(
        self,
        target: str,
        *,
        redactor: Redactor,
        timeout: float = 30.0,
        cap: int = 2 * 1024 * 1024,
        insecure: bool = False,
        max_recorded: int = 200,
    ) -> None:
        self.target = target.rstrip("/")
        self.redactor = redactor
        self.cap = cap
        self.max_recorded = max_recorded
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            verify=not insecure,
            trust_env=False,
            follow_redirects=False,
        )
        self.count = 0  # requests forwarded (recorded or not)
        self._recorded: list[tuple[str, Exchange]] = []
        self._lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []
        self.base_url = ""
        self.unix_path: str | None = None

    # ------------------------------------------------------------------ life cycle

    def start(self, *, unix_path: str | None = None) -> str:
        """Listen on a free loopback port (and on ``unix_path`` if given); returns the base URL."""
        tcp = _TcpServer(self)
        tcp.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._serve(tcp)
        port = tcp.socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        if unix_path is not None:
            self._serve(_UnixServer(self, unix_path))
            self.unix_path = unix_path
        return self.base_url

    def _serve(self, server: socketserver.BaseServer) -> None:
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="conformance-proxy", daemon=True
        )
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.client.close()  # ends reads still waiting on the target
        if self.unix_path is not None:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass

    def __enter__(self) -> "RecordingProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ records

    def exchanges(self, label: str | None = None) -> list[Exchange]:
        """The recorded exchanges (of ``label`` only, if given), in the order they started."""
        with self._lock:
            return [ex for lab, ex in self._recorded if label is None or lab == label]

    def url_for(self, label: str) -> str:
        return f"{self.base_url}{LABEL_PREFIX}{label}"

    # ------------------------------------------------------------------ forwarding

    def forward(self, h: _Handler) -> None:
        h.close_connection = True
        label, path = split_label(h.path)
        try:
            body = self._read_body(h)
        except ValueError as exc:
            h.send_error(400, str(exc))
            return
        headers = [(n, v) for n, v in h.headers.items()]
        url = self.target + path
        recorded = RecordedRequest(
            method=h.command,
            url=url,
            headers=tuple((n, v) for n, v in headers if n.lower() != "host"),
            body=body,
            stream=_asks_for_stream(body),
            redactor=self.redactor,
        )
        ex = Exchange(request=recorded, started_at=time.time())
        with self._lock:
            self.count += 1
            if len(self._recorded) < self.max_recorded:
                self._recorded.append((label, ex))
        t0 = time.perf_counter()
        sent_head = False
        received = bytearray()
        parser: SSEParser | None = None
        try:
            upstream = [(n, v) for n, v in headers if n.lower() not in HOP_BY_HOP and n.lower() != "content-length"]
            request = self.client.build_request(h.command, url, headers=upstream, content=body)
            response = self.client.send(request, stream=True)
            try:
                ex.status, ex.reason = response.status_code, response.reason_phrase
                ex.headers = tuple((n.decode("latin-1").lower(), v.decode("latin-1")) for n, v in response.headers.raw)
                ex.first_byte_after = time.perf_counter() - t0
                ex.is_stream = ex.content_type == "text/event-stream"
                decoder = _Decoder(response.headers.get("content-encoding"))
                if ex.is_stream and not decoder.failed:
                    parser = SSEParser()
                h.send_response_only(response.status_code, response.reason_phrase)
                for name, value in ex.headers:
                    if name not in HOP_BY_HOP and name != "content-length" and not _redirects(response, name):
                        h.send_header(name, value)
                h.send_header("transfer-encoding", "chunked")
                h.send_header("connection", "close")
                h.end_headers()
                sent_head = True
                for chunk in response.iter_raw():
                    if not chunk:
                        continue
                    h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    h.wfile.flush()
                    plain = decoder.feed(chunk)
                    if len(received) < self.cap:
                        room = self.cap - len(received)
                        received += plain[:room]
                        if len(plain) > room:
                            ex.body_truncated = True
                        if parser is not None:
                            ex.events.extend(parser.feed(plain[:room], time.perf_counter() - t0))
                h.wfile.write(b"0\r\n\r\n")
                h.wfile.flush()
                ex.complete = not ex.body_truncated
            finally:
                response.close()
        except httpx.HTTPError as exc:
            ex.transport_error = self.redactor.text(" ".join(str(exc).split()) or type(exc).__name__)
        except OSError as exc:  # the client went away
            ex.transport_error = f"the client closed the connection ({type(exc).__name__})"
        finally:
            if parser is not None:
                if ex.complete:
                    ex.events.extend(parser.close(time.perf_counter() - t0))
                ex.sse_anomalies = list(parser.anomalies)
            ex.keep_body(received)
            ex.elapsed = time.perf_counter() - t0
            if not sent_head:
                h.close_connection = True  # no answer came: the client sees the connection close

    def _read_body(self, h: _Handler) -> bytes:
        length = h.headers.get("content-length")
        if length is not None:
            n = int(length)
            if n > MAX_REQUEST_BYTES:
                raise ValueError("request body too large for the recording proxy")
            return h.rfile.read(n)
        if "chunked" in (h.headers.get("transfer-encoding") or "").lower():
            parts: list[bytes] = []
            size = 0
            while True:
                line = h.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                size += n
                if size > MAX_REQUEST_BYTES:
                    raise ValueError("request body too large for the recording proxy")
                parts.append(h.rfile.read(n))
                h.rfile.readline(1024)
        return b""
