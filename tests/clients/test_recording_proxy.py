"""The recording proxy: forwards as it came, answers as the target answered, records both."""

from __future__ import annotations

import json

import httpx
import pytest

from conformance._redact import Redactor
from conformance.clients._proxy import RecordingProxy, split_label
from conformance.stub.server import serve_in_thread

KEY = "sk-proxy-test-secret-0123456789"
BODY = {"model": "claude-opus-4-7", "max_tokens": 20, "messages": [{"role": "user", "content": "repeat: through"}]}
HEADERS = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "x-extra": "kept"}


@pytest.fixture(scope="module")
def target() -> str:
    with serve_in_thread(api_keys=[KEY]) as url:
        yield url


def test_split_label() -> None:
    assert split_label("/_/create/v1/messages?beta=true") == ("create", "/v1/messages?beta=true")
    assert split_label("/v1/models") == ("", "/v1/models")


def test_forwards_records_and_files_by_label(target: str) -> None:
    with RecordingProxy(target, redactor=Redactor({KEY: "CONFORMANCE_API_KEY"}), timeout=10) as proxy:
        base = proxy.start()
        with httpx.Client(timeout=10) as client:
            direct = client.post(target + "/v1/messages", json=BODY, headers=HEADERS).json()
            via = client.post(proxy.url_for("one") + "/v1/messages?beta=true", json=BODY, headers=HEADERS)
            with client.stream("POST", base + "/v1/messages", json={**BODY, "stream": True}, headers=HEADERS) as r:
                streamed = r.read().decode()
            refused = client.post(
                proxy.url_for("two") + "/v1/messages", json=BODY, headers={**HEADERS, "x-api-key": "no"}
            )
    assert via.status_code == 200 and via.json()["content"] == direct["content"]
    assert via.headers["request-id"].startswith("req_") and "event: message_stop" in streamed
    assert refused.status_code == 401 and refused.json()["error"]["type"] == "authentication_error"
    assert proxy.count == 3
    [one] = proxy.exchanges("one")
    assert one.request.url == target + "/v1/messages?beta=true" and one.status == 200 and one.complete
    assert one.request.header("x-extra") == "kept" and one.request.header("host") is None
    assert json.loads(one.request.body) == BODY and one.json()["content"] == direct["content"]
    [plain] = proxy.exchanges("")
    assert plain.is_stream and plain.events[0].event == "message_start" and plain.events[-1].event == "message_stop"
    # evidence never shows the key, in headers, curl line or anywhere else
    for ex in proxy.exchanges():
        assert KEY not in json.dumps(ex.to_dict())


def test_an_unreachable_target_closes_the_connection() -> None:
    with RecordingProxy("http://127.0.0.1:9", redactor=Redactor(), timeout=2) as proxy:
        base = proxy.start()
        with pytest.raises(httpx.HTTPError):
            httpx.post(base + "/v1/messages", json=BODY, timeout=5)
    [ex] = proxy.exchanges()
    assert ex.status is None and ex.transport_error


def test_recording_is_bounded(target: str) -> None:
    with RecordingProxy(target, redactor=Redactor(), timeout=10, max_recorded=2, cap=10) as proxy:
        base = proxy.start()
        with httpx.Client(timeout=10) as client:
            answers = [client.post(base + "/v1/messages", json=BODY, headers=HEADERS) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200] and answers[0].json()["type"] == "message"
    assert proxy.count == 3 and len(proxy.exchanges()) == 2
    first = proxy.exchanges()[0]
    assert first.body_truncated and len(first.body) == 10  # the client still got the whole body


def test_a_redirect_reaches_the_client_without_its_location() -> None:
    """A target answering 307 to elsewhere: the client gets the 307 but nowhere to follow it
    to (a client that follows carries the API key across origins); the evidence keeps it."""
    import http.server
    import threading

    class Redirecting(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(307)
            self.send_header("location", "http://127.0.0.2:9/v1/messages")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = f"http://127.0.0.1:{server.server_address[1]}"
        with RecordingProxy(target, redactor=Redactor({KEY: "CONFORMANCE_API_KEY"}), timeout=5) as proxy:
            base = proxy.start()
            answer = httpx.post(base + "/v1/messages", json=BODY, headers=HEADERS, timeout=5, follow_redirects=True)
        assert answer.status_code == 307 and "location" not in answer.headers
        [ex] = proxy.exchanges()
        assert ex.header("location") == "http://127.0.0.2:9/v1/messages"
    finally:
        server.shutdown()
        server.server_close()
