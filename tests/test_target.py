"""Target configuration, request composition and redaction.

Request composition is read from the recorded request of exchanges sent to a closed port (no
server needed: the request is recorded before the connection fails); tests/test_exchange.py
shows against a real server that the recorded request is what goes on the wire.
"""

from __future__ import annotations

import json
import shlex
import socket

import pytest

from conformance._redact import WRONG_API_KEY
from conformance._target import AUTH_STYLES, Target, TargetError, Timeouts

KEY = "sk-ant-api03-CANARY5e1d-'\"$(x)`y`"


@pytest.fixture(scope="module")
def closed_url() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def make(url: str, **kw) -> Target:
    return Target(url, api_key=kw.pop("api_key", KEY), timeouts=Timeouts(connect=1, read=1, total=2), **kw)


# ---------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("example.com", "base URL example.com has no scheme: use http://example.com or https://example.com"),
        ("localhost:8080", "base URL localhost:8080 has no scheme"),
        ("ftp://x", "unsupported scheme 'ftp' in base URL: use http:// or https://"),
        (
            "http://host/v1",
            "base URL should not end in /v1: the API paths already start with /v1; use http://host instead",
        ),
        ("https://host:8443/proxy/v1/", "use https://host:8443/proxy instead"),
        ("http://", "base URL http:// has no host"),
        ("", "base URL is empty"),
        ("http://u:secretpw@host", "base URL must not contain user:password@"),
        ("http://host?key=1", "must not have a query or fragment"),
        ("http://host:99999", "has an invalid port"),
    ],
)
def test_bad_base_urls_raise_one_clear_line(url, message):
    with pytest.raises(TargetError) as info:
        Target(url, api_key=KEY)
    text = str(info.value)
    assert message in text
    assert "\n" not in text and "secretpw" not in text and "CANARY" not in text


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("HTTPS://api.example.com", "https://api.example.com"),
        ("  https://gw.example.com/anthropic/ ", "https://gw.example.com/anthropic"),
    ],
)
def test_base_url_is_normalised(url, normalised):
    with Target(url, api_key=None) as t:
        assert t.base_url == normalised


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"auth": "basic"}, "unknown auth style 'basic': choose one of x-api-key, bearer, both, none"),
        ({"api_key": "sk\nx"}, "the API key contains characters that cannot be sent in an HTTP header"),
        ({"api_key": ""}, "the API key must be a non-empty string"),
        ({"headers": {"x-a": "b\r\nc"}}, "header 'x-a' contains characters"),
        ({"headers": {"bad name": "v"}}, "invalid header name 'bad name'"),
        ({"max_body_bytes": 0}, "max_body_bytes must be a positive integer"),
    ],
)
def test_bad_settings_raise_target_error(kwargs, message):
    kwargs.setdefault("api_key", KEY)
    with pytest.raises(TargetError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        Target("http://h", **kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("field", ["connect", "read", "event_idle", "total"])
@pytest.mark.parametrize("value", [0, -1, float("inf"), "5", True])
def test_bad_timeouts_raise_target_error(field, value):
    with pytest.raises(TargetError, match=f"timeout '{field}' must be a positive number of seconds"):
        Timeouts(**{field: value})


# ---------------------------------------------------------------------------- request composition


def test_default_headers_and_compact_utf8_json(closed_url):
    with make(closed_url) as t:
        ex = t.messages({"model": "m", "messages": [{"role": "user", "content": "héllo ✓"}]})
    req = ex.request
    assert ex.transport_error == "connection refused"
    assert req.method == "POST" and req.url == closed_url + "/v1/messages"
    assert req.body == '{"model":"m","messages":[{"role":"user","content":"héllo ✓"}]}'.encode()
    assert req.header("anthropic-version") == "2023-06-01"
    assert req.header("content-type") == "application/json"
    assert req.header("accept") == "application/json"
    assert req.header("user-agent").startswith("conformance/")
    assert req.header("x-api-key") == KEY and req.header("authorization") is None
    assert req.header("content-length") == str(len(req.body))
    assert not req.stream


def test_no_content_type_without_json_body(closed_url):
    with make(closed_url) as t:
        ex = t.send("GET", "/v1/models")
    assert ex.request.header("content-type") is None and ex.request.body == b""


def test_none_removes_a_default_header_and_user_headers_apply(closed_url):
    with make(closed_url, headers={"anthropic-beta": "x-2025", "X-Team": "qa"}) as t:
        ex = t.messages(
            {}, headers={"anthropic-version": None, "content-type": None, "accept": None, "x-team": "override"}
        )
    req = ex.request
    assert req.header("anthropic-version") is None and req.header("content-type") is None
    assert req.header("accept") is None
    assert req.header("anthropic-beta") == "x-2025" and req.header("x-team") == "override"
    # curl must not add its own defaults back
    line = req.curl()
    words = shlex.split(line)
    assert sorted(w for i, w in enumerate(words) if words[i - 1] == "-H" and w.endswith(":")) == [
        "accept:",
        "content-type:",
    ]


def test_content_is_sent_as_is(closed_url):
    with make(closed_url) as t:
        ex = t.send("POST", "/v1/messages", content=b'{"a":1,}', headers={"content-type": "application/json"})
    assert ex.request.body == b'{"a":1,}'
    with make(closed_url) as t, pytest.raises(TypeError):
        t.send("POST", "/v1/messages", json={}, content=b"{}")


@pytest.mark.parametrize(
    ("body", "flag", "expected"),
    [
        ({"stream": True}, None, True),
        ({"stream": False}, None, False),
        ({}, None, False),
        ({"stream": "true"}, None, False),
        ({}, True, True),
        ({"stream": True}, False, False),
    ],
)
def test_stream_is_inferred_from_the_body(closed_url, body, flag, expected):
    with make(closed_url) as t:
        ex = t.messages(body, stream=flag)
    assert ex.request.stream is expected
    assert ("-N" in ex.request.curl().split()) is expected


@pytest.mark.parametrize(
    ("style", "x_api_key", "authorization"),
    [("x-api-key", KEY, None), ("bearer", None, f"Bearer {KEY}"), ("both", KEY, f"Bearer {KEY}"), ("none", None, None)],
)
def test_auth_styles(closed_url, style, x_api_key, authorization):
    assert style in AUTH_STYLES
    with make(closed_url, auth=style) as t:
        req = t.messages({}).request
    assert req.header("x-api-key") == x_api_key
    assert req.header("authorization") == authorization


def test_per_exchange_auth_override(closed_url):
    with make(closed_url, auth="bearer") as t:
        none = t.messages({}, auth="none").request
        wrong = t.messages({}, auth="wrong").request
        both = t.messages({}, auth="both").request
    assert none.header("x-api-key") is None and none.header("authorization") is None
    assert wrong.header("authorization") == f"Bearer {WRONG_API_KEY}" and wrong.header("x-api-key") is None
    assert both.header("x-api-key") == KEY
    # the public wrong key is shown as is, so the reproduction sends the wrong key too
    assert f"authorization: Bearer {WRONG_API_KEY}" in wrong.curl()
    with make(closed_url, auth="none") as t:
        assert t.messages({}, auth="wrong").request.header("x-api-key") == WRONG_API_KEY
    with make(closed_url) as t, pytest.raises(ValueError, match="unknown auth style"):
        t.messages({}, auth="basic")


def test_no_key_means_no_credentials(closed_url):
    with make(closed_url, api_key=None) as t:
        req = t.messages({}).request
    assert req.header("x-api-key") is None and req.header("authorization") is None


# ---------------------------------------------------------------------------- secrets


def test_key_never_in_repr_str_or_curl(closed_url):
    with make(closed_url, auth="both") as t:
        ex = t.messages({"k": "v"})
        for text in (
            repr(t),
            str(t),
            repr(ex),
            str(ex),
            repr(ex.request),
            str(ex.request),
            ex.request.curl(),
            json.dumps(ex.to_dict()),
            repr(t.redactor),
        ):
            assert "CANARY" not in text
        assert t.secrets == frozenset({KEY})
        assert "api_key=set" in repr(t)


def test_secret_headers_are_redacted_and_become_variables(closed_url):
    with make(
        closed_url,
        headers={"x-gateway-token": "gw-tok3n-123", "authorization": "Bearer sso-tok3n-9"},
        secret_headers=["X-Gateway-Token"],
    ) as t:
        assert {"gw-tok3n-123", "sso-tok3n-9", KEY} <= t.secrets
        ex = t.messages({"echo": "gw-tok3n-123"}, headers={"proxy-authorization": "Basic dXNlcjpwYXNz"})
    line = ex.request.curl()
    assert "tok3n" not in line and "dXNlcjpwYXNz" not in line
    assert '-H "x-gateway-token: $CONFORMANCE_X_GATEWAY_TOKEN"' in line
    assert '-H "authorization: Bearer $CONFORMANCE_AUTHORIZATION"' in line
    assert '-H "proxy-authorization: Basic $CONFORMANCE_PROXY_AUTHORIZATION"' in line
    assert """--data-raw '{"echo":"'"$CONFORMANCE_X_GATEWAY_TOKEN"'"}'""" in line
    d = json.dumps(ex.to_dict())
    assert "tok3n" not in d and "dXNlcjpwYXNz" not in d
    assert '["proxy-authorization", "Basic [redacted]"]' in d


def test_custom_transport_is_used_and_recorded():
    # the transport= hook itself is under test here, so httpx's MockTransport is the real thing
    import httpx

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("x-api-key"))
        return httpx.Response(200, content=b"event: ping\ndata: {}\n\n", headers={"content-type": "text/event-stream"})

    with Target("http://stub.invalid", api_key=KEY, transport=httpx.MockTransport(handler)) as t:
        ex = t.messages({"stream": True})
    assert seen == [KEY]
    assert ex.complete and [e.event for e in ex.events] == ["ping"] and ex.first_byte_after is not None


def test_exchanges_are_independent_no_cookie_is_sent_back():
    # a target's Set-Cookie must not make one exchange depend on an earlier one (the Target
    # talks to its transport directly, with no client-side cookie jar)
    import httpx

    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"set-cookie": "session=abc; Path=/"})

    with Target("http://stub.invalid", api_key=KEY, transport=httpx.MockTransport(handler)) as t:
        first, second = t.send("GET", "/v1/models"), t.send("GET", "/v1/models")
    assert first.header("set-cookie") == "session=abc; Path=/"
    assert seen == [None, None] and second.request.header("cookie") is None
