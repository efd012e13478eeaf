"""Exchange recording against real servers on loopback: uvicorn apps and raw sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from conformance._exchange import TRUNCATED_HEAD_BYTES
from conformance._target import Target, Timeouts

# a key full of shell metacharacters, with a distinctive marker to search for
CANARY = "CANARY7f3a9c"
KEY = f"sk-ant-{CANARY}-'\"$(echo pwned)`id`;|&<>*\\!"


# ---------------------------------------------------------------------------- servers


def _sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def echo(request: Request) -> Response:
    raw = await request.body()
    payload = {
        "method": request.method,
        "path": request.url.path,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
        "body_b64": base64.b64encode(raw).decode(),
    }
    echoed = {
        "x-echo-api-key": request.headers.get("x-api-key", ""),
        "x-echo-authorization": request.headers.get("authorization", ""),
    }
    try:
        wants_stream = json.loads(raw).get("stream") is True
    except ValueError:
        wants_stream = False
    if wants_stream:

        async def events():
            for i in range(10):
                kind = "ping" if i == 3 else "content_block_delta"
                yield _sse(kind, {"type": kind, "i": i, "echo": request.headers.get("x-api-key", "")})
                await asyncio.sleep(0.02)

        return StreamingResponse(events(), media_type="text/event-stream", headers=echoed)
    return JSONResponse(payload, headers=echoed)


landing_hits = []


async def landing(request: Request) -> Response:
    landing_hits.append(1)
    return JSONResponse({"landed": True})


async def redirect(request: Request) -> Response:
    return RedirectResponse("/landing", status_code=307)


async def drip(request: Request) -> Response:
    async def body():
        while True:
            yield b"x"
            await asyncio.sleep(0.1)

    return StreamingResponse(body(), media_type="application/json")


async def pings(request: Request) -> Response:
    async def body():
        while True:
            yield _sse("ping", {"type": "ping"})
            await asyncio.sleep(0.02)

    return StreamingResponse(body(), media_type="text/event-stream")


async def one_event_then_silence(request: Request) -> Response:
    async def body():
        yield _sse("message_start", {"type": "message_start"})
        await asyncio.sleep(30)

    return StreamingResponse(body(), media_type="text/event-stream")


async def error_json(request: Request) -> Response:
    return JSONResponse({"type": "error", "error": {"type": "invalid_request_error", "message": "no"}}, status_code=400)


app = Starlette(
    routes=[
        Route("/v1/messages", echo, methods=["POST", "GET", "PUT"]),
        Route("/landing", landing, methods=["GET", "POST"]),
        Route("/redirect", redirect, methods=["GET", "POST"]),
        Route("/drip", drip, methods=["POST"]),
        Route("/pings", pings, methods=["POST"]),
        Route("/silence-after-one", one_event_then_silence, methods=["POST"]),
        Route("/error", error_json, methods=["POST"]),
    ]
)


class UvicornThread:
    def __init__(self, **ssl: str) -> None:
        # IPPROTO_TCP so that asyncio sets TCP_NODELAY on accepted connections (no Nagle delays)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="critical", timeout_graceful_shutdown=1, **ssl)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


class RawServer:
    """Accepts connections and hands each to ``handler(conn)`` in its own thread."""

    def __init__(self, handler) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.stopped = False
        self.sent = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                read_request(conn)
                self.handler(self, conn)
            except OSError:
                pass

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped = True
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        rest += conn.recv(65536)
    return data


@pytest.fixture(scope="module")
def server():
    s = UvicornThread()
    yield f"http://127.0.0.1:{s.port}"
    s.stop()


def target(url: str, **kw) -> Target:
    kw.setdefault("timeouts", Timeouts(connect=2, read=2, event_idle=2, total=5))
    return Target(url, api_key=kw.pop("api_key", KEY), **kw)


def assert_no_key(text: str) -> None:
    assert CANARY not in text
    assert KEY not in text


# ---------------------------------------------------------------------------- normal exchanges


def test_json_exchange_is_recorded(server):
    with target(server) as t:
        ex = t.messages({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "é ✓"}]})
    assert ex.transport_error is None and ex.complete
    assert ex.status == 200 and ex.reason == "OK"
    assert ex.content_type == "application/json"
    assert ex.header("Content-Type") == "application/json"
    assert all(name == name.lower() for name, _ in ex.headers)
    got = ex.json()
    assert ex.json_error is None and ex.json() is got
    assert got["method"] == "POST" and got["path"] == "/v1/messages"
    # what the server received is what was recorded, byte for byte and header for header
    assert base64.b64decode(got["body_b64"]) == ex.request.body
    assert [tuple(h) for h in got["headers"]] == [(n.lower(), v) for n, v in ex.request.headers]
    assert ex.request.body == '{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"é ✓"}]}'.encode()
    assert 0 < ex.first_byte_after <= ex.elapsed < 2
    assert abs(ex.started_at - time.time()) < 5
    assert not ex.events and not ex.is_stream


def test_stream_exchange_records_events_with_arrival_times(server):
    with target(server) as t:
        ex = t.messages({"model": "m", "max_tokens": 1, "messages": [], "stream": True})
    assert ex.transport_error is None and ex.complete
    assert ex.request.stream and ex.is_stream
    assert [e.event for e in ex.events].count("ping") == 1 and len(ex.events) == 10
    arrivals = [e.arrived for e in ex.events]
    assert arrivals == sorted(arrivals)
    assert arrivals[-1] - arrivals[0] >= 0.1  # nine 20 ms pauses on the server
    assert ex.first_byte_after <= arrivals[0] <= ex.elapsed
    assert [e.position for e in ex.events] == list(range(10))
    assert b"".join(e.raw for e in ex.events) == ex.body
    assert ex.sse_anomalies == []
    assert ex.json() is None and ex.json_error  # a stream is not a JSON body
    assert ex.request.header("accept") == "application/json"  # as the SDK sends it


def test_stream_flag_with_json_error_answer_is_not_parsed_as_sse(server):
    with target(server) as t:
        ex = t.send("POST", "/error", json={"stream": True})
    assert ex.status == 400 and not ex.is_stream and ex.events == []
    assert ex.json()["error"]["type"] == "invalid_request_error"


def test_event_stream_answer_is_parsed_even_without_stream_flag(server):
    with target(server, timeouts=Timeouts(read=2, event_idle=2, total=0.3)) as t:
        ex = t.send("POST", "/pings", json={})
    assert ex.is_stream and ex.events and ex.events[0].event == "ping"


# ---------------------------------------------------------------------------- credentials never shown


def test_curl_line_round_trips_and_hides_the_key(server):
    body = {"text": 'it\'s "quoted" $HOME `id` é 🎉 \\ !x', "stream": False}
    with target(server, auth="both", headers={"x-extra": "a'b\"c$d"}) as t:
        ex = t.messages(body)
    line = ex.request.curl()
    assert_no_key(line)
    words = shlex.split(line)
    assert words[:3] == ["curl", "-sS", "-i"] and "-X" not in words  # POST is implied by the data
    assert words[3] == ex.request.url
    sent = [words[i + 1] for i, w in enumerate(words) if w == "-H"]
    expected = [f"{n}: {v}" for n, v in ex.request.headers if n.lower() not in ("host", "content-length")]
    expected = [h.replace(KEY, "$CONFORMANCE_API_KEY") for h in expected]
    assert sent == expected
    assert "x-api-key: $CONFORMANCE_API_KEY" in sent and "authorization: Bearer $CONFORMANCE_API_KEY" in sent
    assert words[words.index("--data-raw") + 1].encode() == ex.request.body


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None, reason="needs curl and bash")
def test_curl_line_runs_and_sends_the_same_request(server):
    with target(server, auth="both") as t:
        ex = t.messages({"text": 'it\'s "quoted" $HOME `id` é', "n": [1, 2]})
        binary = t.send("PUT", "/v1/messages", content=b"\x00\xff'%\\ok\n" + KEY.encode())
    for original in (ex, binary):
        line = original.request.curl()
        assert_no_key(line)
        run = subprocess.run(
            ["bash", "-c", line], capture_output=True, timeout=10, env={**os.environ, "CONFORMANCE_API_KEY": KEY}
        )
        assert run.returncode == 0, run.stderr
        got = json.loads(run.stdout.partition(b"\r\n\r\n")[2])
        assert got["method"] == original.request.method
        headers = dict(got["headers"])
        assert headers["x-api-key"] == KEY and headers["authorization"] == f"Bearer {KEY}"
        for name, value in original.request.headers:
            assert headers[name.lower()] == value
        assert base64.b64decode(got["body_b64"]) == original.request.body


def test_curl_truncates_large_bodies_with_a_note(server):
    with target(server) as t:
        ex = t.messages({"text": "x" * 10_000})
    line = ex.request.curl()
    first, _, rest = line.partition("\n")
    assert first.startswith("#") and f"{len(ex.request.body)} bytes" in first
    words = shlex.split(rest)
    assert len(words[words.index("--data-raw") + 1]) == 4096


def test_to_dict_never_contains_the_key_even_when_the_server_echoes_it(server):
    with target(server, auth="both") as t:
        plain = t.messages({"text": f"my key is {KEY}"})
        streamed = t.messages({"stream": True, "text": KEY})
    assert CANARY in plain.body.decode() and plain.header("x-echo-api-key") == KEY  # the server did echo it
    assert CANARY in streamed.events[0].data
    for ex in (plain, streamed):
        d = ex.to_dict()
        text = json.dumps(d, ensure_ascii=False)
        assert_no_key(text)
        assert_no_key(json.dumps(d))
        assert_no_key(repr(ex) + str(ex) + repr(ex.request))
        assert ["x-echo-api-key", "[redacted]"] in d["headers"]
        assert ["authorization", "Bearer [redacted]"] in d["request"]["headers"]
    d = streamed.to_dict()
    assert len(d["events"]) == 10 and d["events"][0]["event"] == "content_block_delta"
    assert {"position", "arrived", "event", "data", "raw"} <= set(d["events"][0])
    assert d["timings"]["elapsed"] > 0 and d["status"] == 200


def test_excerpt_cut_never_leaves_part_of_the_key(server):
    with target(server) as t:
        ex = t.messages({"pad": "y" * 100, "k": KEY})
    body = ex.body.decode()
    escaped = json.dumps(KEY)[1:-1]  # as the server echoes it inside a JSON string
    start = body.index(escaped)
    for limit in range(start - 2, start + len(escaped) + 2):
        d = ex.to_dict(body_limit=limit)
        assert CANARY not in d["body"] and "sk-ant-CANA" not in d["body"]


def test_a_test_key_too_short_to_be_real_is_redacted_as_a_whole_token_only():
    from conformance._redact import Redactor

    red = Redactor(["k", "sk-ant-real-looking-key"])
    text = "x-api-key: k, check auth.accept.x-api-key with k; sk-ant-real-looking-keyX"
    assert red.text(text) == ("x-api-key: [redacted], check auth.accept.x-api-key with [redacted]; [redacted]X")


# ---------------------------------------------------------------------------- bounded waits


def test_silent_server_hits_read_timeout():
    with RawServer(lambda srv, conn: time.sleep(3)) as srv:
        with target(f"http://127.0.0.1:{srv.port}", timeouts=Timeouts(connect=1, read=0.5, total=5)) as t:
            ex = t.messages({})
    assert ex.status is None and not ex.complete
    assert ex.transport_error == "read timeout: no response within 0.5 s"
    assert 0.45 <= ex.elapsed < 1.2


def test_drip_feed_is_stopped_by_total_budget(server):
    with target(server, timeouts=Timeouts(connect=1, read=5, event_idle=5, total=1)) as t:
        ex = t.send("POST", "/drip", json={})
    assert ex.status == 200 and not ex.complete
    assert ex.transport_error == "total time budget of 1 s exceeded"
    assert 0.95 <= ex.elapsed < 1.5
    assert 5 <= len(ex.body) <= 12


def test_endless_pings_are_stopped_by_total_budget(server):
    with target(server, timeouts=Timeouts(connect=1, read=5, event_idle=30, total=1)) as t:
        ex = t.send("POST", "/pings", json={"stream": True})
    assert ex.transport_error == "total time budget of 1 s exceeded"
    assert 0.95 <= ex.elapsed < 1.5
    assert len(ex.events) > 10 and all(e.event == "ping" for e in ex.events)


def test_no_event_within_event_idle_stops_the_stream(server):
    with target(server, timeouts=Timeouts(connect=1, read=5, event_idle=0.3, total=5)) as t:
        ex = t.send("POST", "/silence-after-one", json={"stream": True})
    assert ex.transport_error == "no SSE event for 0.3 s (event_idle)"
    assert [e.event for e in ex.events] == ["message_start"]
    assert 0.3 <= ex.elapsed < 0.8


def test_huge_body_is_cut_at_the_cap_with_bounded_memory():
    chunk = b"a" * 65536

    def endless(srv, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 104857600\r\n\r\n")
        for _ in range(1600):  # 100 MiB, produced lazily
            conn.sendall(chunk)
            srv.sent += len(chunk)

    with RawServer(endless) as srv:
        with target(f"http://127.0.0.1:{srv.port}", max_body_bytes=2**20) as t:
            tracemalloc.start()
            ex = t.messages({})
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        time.sleep(0.1)
    assert ex.transport_error == "response exceeded 1 MiB cap"
    assert ex.body_truncated and ex.body_bytes == 2**20 and not ex.complete
    # only the head of a cut body is kept (what evidence shows), so memory does not grow by the cap
    assert ex.body == chunk[:TRUNCATED_HEAD_BYTES] and ex.to_dict()["body_bytes"] == 2**20
    assert ex.json() is None and ex.json_error == "body truncated at 1048576 bytes"
    assert peak < 6 * 2**20
    assert srv.sent < 30 * 2**20  # the connection was closed, not drained


def test_ten_megabyte_sse_line_does_not_blow_memory():
    def long_line(srv, conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n")
        conn.sendall(b"event: ping\ndata: {}\n\nevent: content_block_delta\ndata: ")
        for _ in range(160):
            conn.sendall(b"z" * 65536)
        conn.sendall(b"\n\nevent: ping\ndata: {}\n\n")

    with RawServer(long_line) as srv:
        with target(f"http://127.0.0.1:{srv.port}", max_body_bytes=4 * 2**20) as t:
            tracemalloc.start()
            ex = t.messages({"stream": True})
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    assert ex.transport_error == "response exceeded 4 MiB cap"
    assert [e.event for e in ex.events] == ["ping"]
    assert any(a.kind == "line-too-long" for a in ex.sse_anomalies)
    assert peak < 16 * 2**20


def test_connection_refused_is_a_clear_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with target(f"http://127.0.0.1:{port}") as t:
        ex = t.messages({})
    assert ex.status is None and ex.transport_error == "connection refused"
    assert ex.request.body == b"{}" and ex.elapsed < 1


def test_reset_mid_body_is_a_clear_error():
    def reset(srv, conn):
        conn.sendall(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":')
        time.sleep(0.2)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    with RawServer(reset) as srv:
        with target(f"http://127.0.0.1:{srv.port}") as t:
            ex = t.messages({})
    assert ex.status == 200 and ex.body == b'{"a":' and not ex.complete
    assert ex.transport_error == "connection reset mid-body"


def test_close_mid_body_is_a_clear_error():
    def short(srv, conn):
        conn.sendall(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":')

    with RawServer(short) as srv:
        with target(f"http://127.0.0.1:{srv.port}") as t:
            ex = t.messages({})
    assert ex.transport_error.startswith("connection closed mid-body: peer closed connection")


def test_redirect_is_recorded_not_followed(server):
    landing_hits.clear()
    with target(server) as t:
        ex = t.send("POST", "/redirect", json={})
    assert ex.status == 307 and ex.header("location") == "/landing"
    assert ex.transport_error == "redirect to /landing not followed"
    assert ex.complete and landing_hits == []


# ---------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    s = UvicornThread(ssl_certfile=str(cert), ssl_keyfile=str(key))
    yield f"https://127.0.0.1:{s.port}"
    s.stop()


def test_unverified_certificate_is_refused(tls_server):
    with target(tls_server) as t:
        ex = t.messages({})
    assert ex.status is None
    assert ex.transport_error.startswith("TLS certificate did not verify (use --insecure to allow)")
    assert "self-signed" in ex.transport_error


def test_unverified_certificate_is_accepted_when_insecure(tls_server):
    with target(tls_server, insecure=True) as t:
        ex = t.messages({})
    assert ex.transport_error is None and ex.status == 200


def test_headers_dripped_forever_are_stopped_by_total_budget():
    # no response object ever exists, so only the per-read budget can stop this one
    def slow_headers(srv, conn):
        for b in b"HTTP/1.1 200 OK\r\nx-slow: " + b"z" * 100:
            conn.sendall(bytes([b]))
            time.sleep(0.1)

    with RawServer(slow_headers) as srv:
        with target(f"http://127.0.0.1:{srv.port}", timeouts=Timeouts(connect=1, read=5, total=1)) as t:
            ex = t.messages({})
    assert ex.status is None and ex.transport_error == "total time budget of 1 s exceeded"
    assert 0.95 <= ex.elapsed < 1.3
    assert ex.first_byte_after is not None and ex.first_byte_after < 0.5
