"""A hostile HTTP server on loopback, for the harness's self-tests.

``HostileServer(mode)`` listens on 127.0.0.1 (port 0) in background threads and misbehaves in
one way, chosen by ``mode`` (see :data:`MODES`). Unless the mode says otherwise, the model
list (``GET /v1/models``, what the harness's preflight asks) is answered correctly, so the run
gets past its preflight and every other request meets the misbehaviour.

Raw sockets, no HTTP library: the point is to send what no well-behaved server would. Every
connection thread polls a stop event, so ``close()`` ends stalls, drips and endless streams
at once.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time

MODEL = "m"
MODEL_LIST = json.dumps(
    {
        "data": [{"type": "model", "id": MODEL, "display_name": "M", "created_at": "2025-01-01T00:00:00Z"}],
        "has_more": False,
        "first_id": MODEL,
        "last_id": MODEL,
    }
).encode()
MESSAGE = json.dumps(
    {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    }
).encode()

MODES = {
    # the run cannot happen (exit 2)
    "never-accept": "the listening socket's backlog is full and nothing is accepted: connects time out",
    "silent": "accepts, reads the request, never answers anything",
    "auth-401": "401 authentication_error to every request",
    # reachable, then broken on everything but the model list
    "silent-messages": "model list fine; every other request is read and never answered",
    "stall": "status line and headers (content-length 1000), then silence",
    "drip": "status line and headers, then one body byte per second, forever",
    "html": "200 with an HTML page that echoes the request headers (the API key included)",
    "bad-utf8": "200 application/json whose body is not valid UTF-8",
    "truncated-json": "200 application/json cut off mid-object (content-length matches the cut)",
    "wrong-length": "200 with content-length 5000 and a 100-byte body, then the connection closes",
    "huge-body": "200 application/json announcing and sending 100 MB",
    "long-sse-line": "200 text/event-stream with one 10 MB line",
    "ping-forever": "200 text/event-stream of ping events every 0.2 s, never ending",
    "endless-after-delta": "JSON fine; streams send message_start, one delta, then never end",
    "reset": "headers and 100 bytes of a 1000-byte body, then a TCP reset",
    "redirect": "307 to the same path on another host (127.0.0.2), which records what it gets",
}


class HostileServer:
    def __init__(self, mode: str, *, tls: tuple[str, str] | None = None, host: str = "127.0.0.1") -> None:
        if mode not in MODES and mode != "landing":
            raise ValueError(f"unknown mode {mode!r}")
        self.mode = mode
        self.stop = threading.Event()
        self.received = bytearray()  # every request byte, for leak assertions
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._ssl: ssl.SSLContext | None = None
        if tls is not None:
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl.load_cert_chain(*tls)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.host, self.port = self.sock.getsockname()[:2]
        self.landing: HostileServer | None = None
        if mode == "redirect":
            self.landing = HostileServer("landing", host="127.0.0.2")
        if mode == "never-accept":
            self._fill_backlog()
        else:
            self.sock.listen(64)
            threading.Thread(target=self._accept_loop, daemon=True, name=f"hostile-{mode}").start()

    @property
    def url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}"

    # ------------------------------------------------------------------ lifecycle

    def _fill_backlog(self) -> None:
        """Listen with the smallest backlog and fill it with connections nobody accepts: the
        kernel then drops further SYNs, so a client's connect() times out."""
        self.sock.listen(0)
        for _ in range(4):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex((self.host, self.port))
            self._conns.append(c)
        time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            try:
                c.close()
            except OSError:
                pass
        if self.landing is not None:
            self.landing.close()

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept_loop(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    # ------------------------------------------------------------------ one connection

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                conn.settimeout(5)
                conn = self._ssl.wrap_socket(conn, server_side=True)
            conn.settimeout(0.2)
            while not self.stop.is_set():
                request = self._read_request(conn)
                if request is None:
                    return
                if not self._answer(conn, *request):
                    return
        except (OSError, ssl.SSLError, ValueError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def _recv(self, conn: socket.socket) -> bytes | None:
        while not self.stop.is_set():
            try:
                return conn.recv(65536)
            except socket.timeout:
                continue
        return None

    def _read_request(self, conn: socket.socket) -> tuple[str, str, dict[str, str], bytes] | None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = self._recv(conn)
            if not data:
                return None
            buf += data
            self._record(data)
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        need = int(headers.get("content-length", "0")) - len(rest)
        start = rest[:4096]
        while need > 0:
            data = self._recv(conn)
            if not data:
                return None
            need -= len(data)
            self._record(data)
            if len(start) < 4096:
                start += data[: 4096 - len(start)]
        return method, path, headers, start

    def _record(self, data: bytes) -> None:
        with self._lock:
            if len(self.received) < 64 * 2**20:
                self.received += data

    def _idle(self, seconds: float) -> bool:
        """Sleep unless stopped; False once the server is stopping."""
        return not self.stop.wait(seconds)

    def _hold(self) -> bool:
        while self._idle(0.2):
            pass
        return False

    # ------------------------------------------------------------------ the misbehaviours

    def _answer(self, conn: socket.socket, method: str, path: str, headers: dict[str, str], body: bytes) -> bool:
        """Answer one request; False to end the connection."""
        mode = self.mode
        send = conn.sendall
        if mode == "silent":
            return self._hold()
        if mode == "auth-401":
            body = b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}'
            send(_head(401, "application/json", len(body)) + body)
            return True
        if mode == "landing":
            send(_head(200, "application/json", len(MESSAGE)) + MESSAGE)
            return True
        if method == "GET" and path.split("?")[0] == "/v1/models":
            send(_head(200, "application/json", len(MODEL_LIST)) + MODEL_LIST)
            return True
        stream = b'"stream":true' in body
        if mode == "silent-messages":
            return self._hold()
        if mode == "stall":
            send(_head(200, "application/json", 1000))
            return self._hold()
        if mode == "drip":
            send(_head(200, "application/json", None))
            for byte in MESSAGE * 1000:
                if not self._idle(1.0):
                    return False
                send(bytes([byte]))
            return False
        if mode == "html":
            echo = "".join(f"<li>{k}: {v}</li>" for k, v in headers.items())
            body = f"<!doctype html><html><body><h1>Welcome to nginx!</h1><ul>{echo}</ul></body></html>".encode()
            send(_head(200, "text/html; charset=utf-8", len(body)) + body)
            return True
        if mode == "bad-utf8":
            body = MESSAGE.replace(b'"hello"', b'"hel\xff\xfe\xc3lo"')
            send(_head(200, "application/json", len(body)) + body)
            return True
        if mode == "truncated-json":
            body = MESSAGE[: len(MESSAGE) // 2]
            send(_head(200, "application/json", len(body)) + body)
            return True
        if mode == "wrong-length":
            send(_head(200, "application/json", 5000) + MESSAGE[:100])
            return False
        if mode == "huge-body":
            total = 100 * 10**6
            send(_head(200, "application/json", total) + b'{"pad":"')
            chunk, sent = b"a" * 2**20, 8
            while sent < total and not self.stop.is_set():
                piece = chunk[: total - sent]
                send(piece)
                sent += len(piece)
            return False
        if mode == "long-sse-line":
            send(_head(200, "text/event-stream", None) + b"event: message_start\ndata: ")
            chunk = b"a" * 2**20
            for _ in range(10):
                if self.stop.is_set():
                    return False
                send(chunk)
            send(b"\n\n")
            return False
        if mode == "ping-forever":
            send(_head(200, "text/event-stream", None))
            while self._idle(0.2):
                send(b'event: ping\ndata: {"type": "ping"}\n\n')
            return False
        if mode == "endless-after-delta":
            if not stream:
                send(_head(200, "application/json", len(MESSAGE)) + MESSAGE)
                return True
            start = json.loads(MESSAGE)
            start.update(content=[], stop_reason=None)
            events = [
                ("message_start", {"type": "message_start", "message": start}),
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                ),
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hel"}},
                ),
            ]
            send(
                _head(200, "text/event-stream", None)
                + b"".join(f"event: {e}\ndata: {json.dumps(d)}\n\n".encode() for e, d in events)
            )
            return self._hold()
        if mode == "reset":
            send(_head(200, "application/json", 1000) + MESSAGE[:100])
            time.sleep(0.05)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if mode == "redirect":
            assert self.landing is not None
            location = f"http://127.0.0.2:{self.landing.port}{path}"
            send(f"HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode())
            return True
        raise AssertionError(f"unhandled mode {mode}")


def _head(status: int, content_type: str, length: int | None) -> bytes:
    reason = {200: "OK", 401: "Unauthorized"}.get(status, "X")
    lines = [f"HTTP/1.1 {status} {reason}", f"content-type: {content_type}"]
    lines.append(f"content-length: {length}" if length is not None else "connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
