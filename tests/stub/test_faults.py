"""Every fault visibly changes the wire; every control still parses with the SDK (strict mode)."""

from __future__ import annotations

import itertools
import json
import time
from typing import Callable

import anthropic
import pytest
from stub_helpers import HTTP, KEY, MODEL, V1, V2, assemble, body, headers, parse_sse, post, stream_payloads
from test_darkbloom import PROOFS as DARKBLOOM_PROOFS

from conformance.stub.faults import BY_NAME, FAULTS, ORDERS, FaultSet, UnknownFault, catalog_lines

TOOLS = [
    {
        "name": "get_weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]
FORCED = {"tools": TOOLS, "tool_choice": {"type": "tool", "name": "get_weather"}}
THINK = {"max_tokens": 2000, "thinking": {"type": "enabled", "budget_tokens": 1024}}


def names(events: list) -> list:
    return [n for n, _ in events]


def raw_stream(url: str, payload: dict, **hdrs: str) -> str:
    return post(url, {**payload, "stream": True}, **hdrs).text


# Each proof takes the URL of a stub with only that fault on and asserts the visible change.
PROOFS: dict[str, Callable[[str], None]] = {}


def proof(name: str) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
    def register(fn: Callable[[str], None]) -> Callable[[str], None]:
        assert name in BY_NAME, name
        PROOFS[name] = fn
        return fn

    return register


@proof("openai-error-envelope")
def _(url: str) -> None:
    data = post(url, body(model="gpt-4o")).json()
    assert "type" not in data and "request_id" not in data and data["error"]["type"] == "not_found_error"


@proof("wrong-error-type")
def _(url: str) -> None:
    r = post(url, body(model="gpt-4o"))
    assert r.status_code == 404 and r.json()["error"]["type"] == "model_not_found"


@proof("status-503-for-overload")
def _(url: str) -> None:
    assert post(url, body(model="stub-overloaded")).status_code == 503


@proof("server-error-on-bad-input")
def _(url: str) -> None:
    r = post(url, {"model": MODEL, "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"


@proof("retry-on-client-error")
def _(url: str) -> None:
    assert post(url, {"model": MODEL}).headers["x-should-retry"] == "true"


@proof("plain-text-404")
def _(url: str) -> None:
    r = HTTP.get(url + "/v1/nothing", headers=headers())
    assert (
        r.status_code == 404 and r.headers["content-type"].startswith("text/plain") and r.text == "404 page not found\n"
    )


@proof("json-errors-as-text")
def _(url: str) -> None:
    r = post(url, body(model="gpt-4o"))
    assert r.headers["content-type"].startswith("text/plain") and r.json()["type"] == "error"


@proof("no-request-id")
def _(url: str) -> None:
    ok, err = post(url, body()), post(url, body(model="gpt-4o"))
    assert "request-id" not in ok.headers and "request-id" not in err.headers and "request_id" not in err.json()


@proof("x-request-id-only")
def _(url: str) -> None:
    r = post(url, body())
    assert "request-id" not in r.headers and r.headers["x-request-id"].startswith("req_")


@proof("ignore-auth")
def _(url: str) -> None:
    assert HTTP.post(url + "/v1/messages", json=body(), headers={"anthropic-version": V1}).status_code == 200


@proof("bearer-only")
def _(url: str) -> None:
    assert post(url, body()).status_code == 401
    assert (
        HTTP.post(
            url + "/v1/messages", json=body(), headers={"authorization": f"Bearer {KEY}", "anthropic-version": V1}
        ).status_code
        == 200
    )


@proof("x-api-key-messages-bearer-models")
def _(url: str) -> None:
    bearer = {"authorization": f"Bearer {KEY}", "anthropic-version": V1}
    assert HTTP.get(url + "/v1/models", headers=bearer).status_code == 200
    assert HTTP.get(url + "/v1/models", headers=headers()).status_code == 401  # x-api-key
    assert post(url, body()).status_code == 200  # x-api-key
    assert HTTP.post(url + "/v1/messages", json=body(), headers=bearer).status_code == 401


@proof("tool-result-refused")
def _(url: str) -> None:
    assert post(url, body(**FORCED)).status_code == 200  # tools work
    turns = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
    ]
    r = post(url, {**body(**FORCED), "messages": turns, "tool_choice": {"type": "auto"}})
    assert r.status_code == 400 and "tool_result" in r.json()["error"]["message"]


@proof("x-api-key-only")
def _(url: str) -> None:
    assert post(url, body()).status_code == 200
    assert (
        HTTP.post(
            url + "/v1/messages", json=body(), headers={"authorization": f"Bearer {KEY}", "anthropic-version": V1}
        ).status_code
        == 401
    )


@proof("ignore-anthropic-version")
def _(url: str) -> None:
    assert HTTP.post(url + "/v1/messages", json=body(), headers={"x-api-key": KEY}).status_code == 200
    assert post(url, body(), version="1999-01-01").status_code == 200


@proof("no-validation")
def _(url: str) -> None:
    assert (
        post(
            url, {"model": MODEL, "max_tokens": "x", "messages": [{"role": "bob", "content": 1}], "zzz": 1}
        ).status_code
        == 200
    )


@proof("default-max-tokens")
def _(url: str) -> None:
    assert post(url, {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}).status_code == 200
    assert (
        post(url, {"model": MODEL, "max_tokens": 5, "messages": [{"role": "bob", "content": "hi"}]}).status_code == 400
    )
    # count_tokens has no max_tokens: the defect must not add one there (the body stays valid)
    assert (
        post(
            url, {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}, path="/v1/messages/count_tokens"
        ).status_code
        == 200
    )


@proof("sampling-params-accepted-2026")
def _(url: str) -> None:
    assert post(url, body(temperature=0.3, top_k=4), version=V2).status_code == 200


@proof("unknown-model-fallback")
def _(url: str) -> None:
    assert post(url, body(model="gpt-4o")).status_code == 200


@proof("ignore-max-tokens")
def _(url: str) -> None:
    m = post(url, body("Count from 1 to 50", max_tokens=5)).json()
    assert m["usage"]["output_tokens"] == 50 and m["stop_reason"] == "end_turn"


@proof("ignore-stop-sequences")
def _(url: str) -> None:
    m = post(url, body("Count from 1 to 20", stop_sequences=["7"])).json()
    assert "7" in m["content"][0]["text"] and m["stop_reason"] == "end_turn"


@proof("canned-reply")
def _(url: str) -> None:
    from conformance.stub.faults.request import CANNED_REPLY

    for prompt in ("Count from 1 to 20", "repeat: something else"):
        m = post(url, body(prompt, stop_sequences=["canned"])).json()
        assert m["content"][0]["text"] == CANNED_REPLY and m["stop_reason"] == "end_turn"
    cut = post(url, body("Count from 1 to 20", max_tokens=2)).json()
    assert cut["content"][0]["text"] == "Hello! I" and cut["stop_reason"] == "max_tokens"  # max_tokens still holds


@proof("stop-sequence-in-text")
def _(url: str) -> None:
    m = post(url, body("Count from 1 to 20", stop_sequences=["7"])).json()
    assert m["content"][0]["text"] == "1 2 3 4 5 6 7" and m["stop_sequence"] == "7"


@proof("stop-sequence-not-echoed")
def _(url: str) -> None:
    m = post(url, body("Count from 1 to 20", stop_sequences=["7"])).json()
    assert m["stop_reason"] == "stop_sequence" and m["stop_sequence"] is None
    _, events = stream_payloads(url, body("Count from 1 to 20", stop_sequences=["7"]))
    delta = next(d for n, d in events if n == "message_delta")["delta"]
    assert delta == {"stop_reason": "stop_sequence", "stop_sequence": None}


@proof("ignore-system")
def _(url: str) -> None:
    assert post(url, body(system="one two three four")).json()["usage"] == post(url, body()).json()["usage"]


@proof("tool-use-end-turn")
def _(url: str) -> None:
    m = post(url, body(**FORCED)).json()
    assert m["content"][0]["type"] == "tool_use" and m["stop_reason"] == "end_turn"


@proof("chat-completion-body")
def _(url: str) -> None:
    m = post(url, body()).json()
    assert m["object"] == "chat.completion" and m["choices"][0]["message"]["content"] and "content" not in m


@proof("openai-stop-reasons")
def _(url: str) -> None:
    assert post(url, body("Count from 1 to 9", max_tokens=3)).json()["stop_reason"] == "length"
    _, events = stream_payloads(url, body())
    assert next(d for n, d in events if n == "message_delta")["delta"]["stop_reason"] == "stop"


@proof("missing-output-tokens")
def _(url: str) -> None:
    assert "output_tokens" not in post(url, body()).json()["usage"]
    _, events = stream_payloads(url, body())
    assert "output_tokens" not in next(d for n, d in events if n == "message_delta")["usage"]


@proof("output-tokens-zero")
def _(url: str) -> None:
    m = post(url, body()).json()
    assert m["usage"]["output_tokens"] == 0 and m["content"][0]["text"]
    _, events = stream_payloads(url, body())
    assert next(d for n, d in events if n == "message_delta")["usage"]["output_tokens"] == 0


@proof("stream-output-tokens-zero")
def _(url: str) -> None:
    m = post(url, body()).json()
    assert m["usage"]["output_tokens"] > 0
    _, events = stream_payloads(url, body())
    assert next(d for n, d in events if n == "message_delta")["usage"]["output_tokens"] == 0


@proof("non-msg-ids")
def _(url: str) -> None:
    m = post(url, body(**FORCED)).json()
    assert m["id"].startswith("chatcmpl-") and m["content"][0]["id"].startswith("call_")


@proof("duplicate-ids")
def _(url: str) -> None:
    assert post(url, body()).json()["id"] == post(url, body("other")).json()["id"]


@proof("tool-input-as-string")
def _(url: str) -> None:
    block = post(url, body(**FORCED)).json()["content"][0]
    assert isinstance(block["input"], str) and json.loads(block["input"]) == {"city": "city"}
    _, events = stream_payloads(url, body(**FORCED))
    joined = "".join(d["delta"]["partial_json"] for n, d in events if n == "content_block_delta")
    assert isinstance(json.loads(joined), str)


@proof("openai-stream")
def _(url: str) -> None:
    raw = raw_stream(url, body())
    assert "event:" not in raw and "chat.completion.chunk" in raw and raw.endswith("data: [DONE]\n\n")


@proof("unnamed-sse-events")
def _(url: str) -> None:
    raw = raw_stream(url, body())
    assert "event:" not in raw and '"type":"message_start"' in raw


@proof("done-sentinel")
def _(url: str) -> None:
    events = parse_sse(raw_stream(url, body()))
    assert events[-1] == (None, "[DONE]") and events[-2][0] == "message_stop"


@proof("event-name-mismatch")
def _(url: str) -> None:
    events = parse_sse(raw_stream(url, body()))
    assert {n for n, _ in events} == {"message"}


@proof("mid-stream-error-unnamed")
def _(url: str) -> None:
    events = parse_sse(raw_stream(url, body(model="stub-error-mid-stream")))
    assert events[-1][0] is None and json.loads(events[-1][1])["error"]["type"] == "overloaded_error"


@proof("stream-json-content-type")
def _(url: str) -> None:
    r = post(url, body(stream=True))
    assert r.headers["content-type"] == "application/json" and r.text.startswith("event: message_start")


@proof("accept-decides-stream")
def _(url: str) -> None:
    assert post(url, body(stream=True), accept="application/json").json()["type"] == "message"
    assert post(url, body(stream=True), accept="text/event-stream").text.startswith("event: message_start")


@proof("buffered-stream")
def _(url: str) -> None:
    started = time.perf_counter()
    with HTTP.stream(
        "POST", url + "/v1/messages", json=body("Count from 1 to 40", stream=True), headers=headers()
    ) as r:
        reads = r.iter_raw()
        first = next(reads)
        waited = time.perf_counter() - started
        rest = b"".join(reads)
    assert waited >= 0.25 and first.count(b"event: ") > 10 and b"message_stop" in first + rest


@proof("missing-message-start")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert "message_start" not in names(events) and names(events)[-1] == "message_stop"


@proof("missing-message-stop")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert "message_stop" not in names(events) and names(events)[-1] == "message_delta"


@proof("missing-content-block-stop")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert "content_block_start" in names(events) and "content_block_stop" not in names(events)


@proof("delta-index-skew")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert {d["index"] for n, d in events if n == "content_block_delta"} == {1}


@proof("non-contiguous-block-index")
def _(url: str) -> None:
    _, events = stream_payloads(url, body(**THINK))
    assert [d["index"] for n, d in events if n == "content_block_start"] == [0, 2]


@proof("message-start-content-not-empty")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert events[0][1]["message"]["content"][0]["text"]


@proof("input-tokens-missing-in-message-start")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert "input_tokens" not in events[0][1]["message"]["usage"]


@proof("snapshot-deltas")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    texts = [d["delta"]["text"] for n, d in events if n == "content_block_delta"]
    assert len(texts) > 2 and all(b.startswith(a) for a, b in itertools.pairwise(texts))


@proof("thinking-without-signature")
def _(url: str) -> None:
    _, events = stream_payloads(url, body(**THINK))
    assert "signature_delta" not in {d["delta"]["type"] for n, d in events if n == "content_block_delta"}


@proof("count-tokens-mismatch")
def _(url: str) -> None:
    req = body(system="be nice")
    usage = post(url, req).json()["usage"]["input_tokens"]
    req.pop("max_tokens")
    assert post(url, req, path="/v1/messages/count_tokens").json()["input_tokens"] != usage


@proof("no-count-tokens")
def _(url: str) -> None:
    assert (
        post(
            url, {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}, path="/v1/messages/count_tokens"
        ).status_code
        == 404
    )


@proof("models-no-pagination")
def _(url: str) -> None:
    page = HTTP.get(url + "/v1/models", params={"limit": 2, "after_id": "claude-opus-5"}, headers=headers()).json()
    assert "has_more" not in page and len(page["data"]) > 2 and page["data"][0]["id"] == "claude-fable-5-2"


@proof("models-openai-shape")
def _(url: str) -> None:
    page = HTTP.get(url + "/v1/models", headers=headers()).json()
    assert page["object"] == "list" and page["data"][0]["object"] == "model" and "display_name" not in page["data"][0]


@proof("no-model-retrieve")
def _(url: str) -> None:
    assert HTTP.get(url + "/v1/models/claude-sonnet-4-5", headers=headers()).status_code == 404


# ---- faults added for the kill matrix


@proof("validation-422")
def _(url: str) -> None:
    r = post(url, {"model": MODEL})
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request_error"


@proof("429-without-retry-after")
def _(url: str) -> None:
    r = post(url, body(model="stub-rate-limited"))
    assert r.status_code == 429 and "retry-after" not in r.headers


@proof("405-without-allow")
def _(url: str) -> None:
    r = HTTP.get(url + "/v1/messages", headers=headers())
    assert r.status_code == 405 and "allow" not in r.headers


@proof("lenient-body-parsing")
def _(url: str) -> None:
    raw = json.dumps(body()).encode()
    as_text = HTTP.post(url + "/v1/messages", content=raw, headers=headers(**{"content-type": "text/plain"}))
    truncated = HTTP.post(url + "/v1/messages", content=raw[:-7], headers=headers())
    latin1 = HTTP.post(url + "/v1/messages", content=raw.replace(b"Hello", b"caf\xe9"), headers=headers())
    assert as_text.status_code == truncated.status_code == latin1.status_code == 200


@proof("no-size-limit")
def _(url: str) -> None:
    # the stubs of this proof declare a 1 KiB limit (OPTIONS): 2 KiB is answered anyway
    raw = json.dumps(body()).encode() + b" " * 2048
    assert HTTP.post(url + "/v1/messages", content=raw, headers=headers()).status_code == 200


@proof("sampling-params-rejected-2023")
def _(url: str) -> None:
    r = post(url, body(temperature=0.5))
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


@proof("5xx-on-unknown-beta")
def _(url: str) -> None:
    assert post(url, body(), **{"anthropic-beta": "no-such-beta-2099-01-01"}).status_code == 500


@proof("content-blocks-only")
def _(url: str) -> None:
    assert post(url, body()).status_code == 400
    assert post(url, body([{"type": "text", "text": "hi"}])).status_code == 200


@proof("string-content-only")
def _(url: str) -> None:
    assert post(url, body([{"type": "text", "text": "hi"}])).status_code == 400
    assert post(url, body(system=[{"type": "text", "text": "be nice"}])).status_code == 400
    assert post(url, body(system="be nice")).status_code == 200


@proof("system-blocks-only")
def _(url: str) -> None:
    assert post(url, body(system="be nice")).status_code == 400
    assert post(url, body(system=[{"type": "text", "text": "be nice"}])).status_code == 200


@proof("system-array-500")
def _(url: str) -> None:
    assert post(url, body(system=[{"type": "text", "text": "be nice"}])).status_code == 500


@proof("assistant-string-content-500")
def _(url: str) -> None:
    msgs = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    assert post(url, {"model": MODEL, "max_tokens": 50, "messages": msgs}).status_code == 500


@proof("empty-stop-sequence")
def _(url: str) -> None:
    assert post(url, body()).json()["stop_sequence"] == ""
    _, events = stream_payloads(url, body())
    assert next(d for n, d in events if n == "message_delta")["delta"]["stop_sequence"] == ""


@proof("tool-choice-none-ignored")
def _(url: str) -> None:
    m = post(url, body("use get_weather", tools=TOOLS, tool_choice={"type": "none"})).json()
    assert m["stop_reason"] == "tool_use"


@proof("message-text-content-type")
def _(url: str) -> None:
    r = post(url, body())
    assert r.headers["content-type"].startswith("text/plain") and r.json()["type"] == "message"


@proof("empty-ping-data")
def _(url: str) -> None:
    events = parse_sse(raw_stream(url, body()))
    assert ("ping", "") in events


@proof("message-start-final-stop-reason")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert events[0][1]["message"]["stop_reason"] == "end_turn"


@proof("delta-without-index")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    deltas = [d for n, d in events if n == "content_block_delta"]
    assert deltas and all("index" not in d for d in deltas)


def _count(events: list, kind: str) -> int:
    return names(events).count(kind)


@proof("repeated-block-start")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert _count(events, "content_block_start") == 2 and _count(events, "content_block_stop") == 1


@proof("repeated-block-stop")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert _count(events, "content_block_start") == 1 and _count(events, "content_block_stop") == 2


@proof("one-based-block-stop")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert [d["index"] for n, d in events if n == "content_block_stop"] == [1]


@proof("block-stop-after-message-delta")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert names(events)[-3:] == ["message_delta", "content_block_stop", "message_stop"]


@proof("thinking-as-text-delta")
def _(url: str) -> None:
    _, events = stream_payloads(url, body(**THINK))
    first = next(d for n, d in events if n == "content_block_delta" and d["index"] == 0)
    assert events[2][1]["content_block"]["type"] == "thinking" and first["delta"]["type"] == "text_delta"


@proof("signature-first")
def _(url: str) -> None:
    _, events = stream_payloads(url, body(**THINK))
    kinds = [d["delta"]["type"] for n, d in events if n == "content_block_delta" and d["index"] == 0]
    assert kinds[0] == "signature_delta" and kinds[1] == "thinking_delta"


@proof("no-message-delta")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert "message_delta" not in names(events) and names(events)[-1] == "message_stop"


@proof("null-stop-reason-in-stream")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert next(d for n, d in events if n == "message_delta")["delta"]["stop_reason"] is None


@proof("usage-increments")
def _(url: str) -> None:
    _, events = stream_payloads(url, body("Count from 1 to 10"))
    assert [d["usage"]["output_tokens"] for n, d in events if n == "message_delta"] == [9, 1]


@proof("repeated-message-stop")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert names(events)[-2:] == ["message_stop", "message_stop"]


@proof("openai-error-event")
def _(url: str) -> None:
    _, events = stream_payloads(url, body(model="stub-error-mid-stream"))
    name, data = events[-1]
    assert name == "error" and "type" not in data and data["error"]["type"] == "overloaded_error"


@proof("stream-continues-after-error")
def _(url: str) -> None:
    _, events = stream_payloads(url, body(model="stub-error-mid-stream"))
    assert names(events)[-3:] == ["error", "message_delta", "message_stop"]


# ---- controls: the change is visible on the wire ...


def _raw_bytes(url: str, payload: dict) -> tuple[bytes, int]:
    with HTTP.stream("POST", url + "/v1/messages", json={**payload, "stream": True}, headers=headers()) as r:
        reads = list(r.iter_raw())
    return b"".join(reads), len(reads)


@proof("crlf-line-endings")
def _(url: str) -> None:
    raw, _ = _raw_bytes(url, body())
    assert raw.count(b"\r\n") > 10 and b"\n" not in raw.replace(b"\r\n", b"")


@proof("cr-line-endings")
def _(url: str) -> None:
    raw, _ = _raw_bytes(url, body())
    assert b"\n" not in raw and raw.count(b"\r") > 10


@proof("ping-between-every-event")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert names(events)[1::2] == ["ping"] * (len(events) // 2)


@proof("extra-response-fields")
def _(url: str) -> None:
    m = post(url, body()).json()
    assert "x_stub_extra" in m and "x_stub_extra" in m["usage"] and "x_stub_extra" in m["content"][0]
    assert all("x_stub_extra" in d for _, d in stream_payloads(url, body())[1])
    assert "x_stub_extra" in post(url, body(model="gpt-4o")).json()


@proof("sse-comments")
def _(url: str) -> None:
    raw, _ = _raw_bytes(url, body())
    assert raw.startswith(b": keep-alive\n\n") and raw.count(b": keep-alive") > 5


@proof("split-writes")
def _(url: str) -> None:
    raw, reads = _raw_bytes(url, body())
    assert reads > 50 and b"event: message_stop" in raw


@proof("unknown-event-type")
def _(url: str) -> None:
    _, events = stream_payloads(url, body())
    assert "content_block_annotation" in names(events)


@proof("retry-and-id-fields")
def _(url: str) -> None:
    raw, _ = _raw_bytes(url, body())
    assert raw.startswith(b"id: 1\nretry: 3000\nevent: message_start\n")


@proof("multi-line-data")
def _(url: str) -> None:
    raw, _ = _raw_bytes(url, body())
    assert raw.startswith(b"event: message_start\ndata: {\ndata:  ")
    assert assemble([(n, json.loads(d)) for n, d in parse_sse(raw.decode())])["content"]


@proof("no-space-after-colon")
def _(url: str) -> None:
    raw, _ = _raw_bytes(url, body())
    assert raw.startswith(b"event:message_start\ndata:{")


@proof("ratelimit-headers")
def _(url: str) -> None:
    assert post(url, body()).headers["anthropic-ratelimit-requests-limit"] == "1000"


# ---- what real clients send (faults/client_requests.py)

CONTEXT_MANAGEMENT = {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}
BETA = {"anthropic-beta": "context-management-2025-06-27"}


@proof("beta-query-404")
def _(url: str) -> None:
    r = post(url, body(), path="/v1/messages?beta=true")
    count = post(
        url,
        {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        path="/v1/messages/count_tokens?beta=true",
    )
    assert r.status_code == count.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    assert post(url, body()).status_code == 200


@proof("context-management-500")
def _(url: str) -> None:
    r = post(url, body(context_management=CONTEXT_MANAGEMENT, **THINK), **BETA)
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert post(url, body(**THINK), **BETA).status_code == 200


@proof("beta-fields-400-unnamed")
def _(url: str) -> None:
    r = post(url, body(context_management=CONTEXT_MANAGEMENT, **THINK), **BETA)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert "context_management" not in r.json()["error"]["message"]


@proof("tool-schema-keywords-500")
def _(url: str) -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **TOOLS[0]["input_schema"]}
    r = post(url, body(tools=[{**TOOLS[0], "input_schema": schema}]))
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert post(url, body(tools=TOOLS)).status_code == 200


@proof("long-metadata-user-id-500")
def _(url: str) -> None:
    r = post(url, body(metadata={"user_id": "user_" + "0" * 64 + "_account__session_1"}))
    assert r.status_code == 500 and r.json()["error"]["type"] == "api_error"
    assert post(url, body(metadata={"user_id": "user-1"})).status_code == 200


@proof("cache-control-text-dropped")
def _(url: str) -> None:
    def ask(marked: bool) -> dict:
        mark = {"cache_control": {"type": "ephemeral"}} if marked else {}
        system = [{"type": "text", "text": "You answer in few words, as briefly as you can.", **mark}]
        content = [{"type": "text", "text": "Repeat: Marigold-7319", **mark}]
        return post(url, body(system=system, messages=[{"role": "user", "content": content}])).json()

    marked, plain = ask(True), ask(False)
    assert plain["content"][0]["text"] == "Marigold-7319" and "Marigold" not in marked["content"][0]["text"]
    assert marked["usage"]["input_tokens"] < plain["usage"]["input_tokens"]


# the Darkbloom faults' proofs live with the --darkbloom mode's tests
PROOFS.update(DARKBLOOM_PROOFS)


def test_catalog_is_complete_and_consistent() -> None:
    defects = [f for f in FAULTS if f.kind == "defect"]
    controls = [f for f in FAULTS if f.kind == "control"]
    assert len(defects) >= 30 and len(controls) >= 8
    assert len(BY_NAME) == len(FAULTS)
    families = {
        "auth",
        "request",
        "response",
        "semantics",
        "stream",
        "errors",
        "sdk",
        "models",
        "count-tokens",
        "fuzz",
        "client-requests",
        "darkbloom",
        "clients",
    }
    for f in FAULTS:
        assert f.name == f.name.lower() and " " not in f.name and f.description
        assert bool(f.trips) == (f.kind == "defect"), f.name
        assert all(t.split(".")[0] in families for t in f.trips), f.name
    assert set(PROOFS) == set(BY_NAME), set(BY_NAME) ^ set(PROOFS)
    assert len(catalog_lines()) == len(FAULTS)
    with pytest.raises(UnknownFault):
        FaultSet(["no-such-fault"])


def test_every_ordered_hook_runs_and_replacing_faults_run_alone() -> None:
    """A fault with a hook of an ordered stage is in that stage's order (else it would never run),
    and a fault that replaces a stage's shape is not."""
    for stage, names in ORDERS.items():
        assert len(names) == len(set(names)), stage
        have = {f.name for f in FAULTS if getattr(f, stage) is not None and stage not in f.replaces}
        assert set(names) == have, (stage, set(names) ^ have)
    for f in FAULTS:
        for stage in f.replaces:
            assert getattr(f, stage) is not None and f.name not in ORDERS.get(stage, ()), f.name


# stub options a proof needs besides its fault (the same for the clean stub it must fail on)
OPTIONS: dict[str, dict] = {"no-size-limit": {"max_body_bytes": 1024}}


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_fault_changes_the_wire(name: str, start_stub, stub_url: str) -> None:
    PROOFS[name](start_stub(faults=[name], **OPTIONS.get(name, {})))


@pytest.mark.parametrize("name", [f.name for f in FAULTS if f.kind == "defect"])
def test_proof_fails_on_clean_stub(name: str, start_stub, stub_url: str) -> None:
    """The proofs discriminate: each one fails against the clean stub."""
    url = start_stub(**OPTIONS[name]) if name in OPTIONS else stub_url
    with pytest.raises((AssertionError, KeyError, IndexError, StopIteration, TypeError, ValueError)):
        PROOFS[name](url)


def _same_blocks(a: list, b: list) -> bool:
    """Equal content apart from per-request ids and signatures (and unknown extra fields)."""
    known = {"type", "text", "thinking", "name", "input"}

    def norm(blocks: list) -> list:
        return [{k: v for k, v in blk.model_dump().items() if k in known} for blk in blocks]

    return norm(a) == norm(b)


def _sdk(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0, _strict_response_validation=True)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", [f.name for f in FAULTS if f.kind == "control" and f.name != "unknown-event-type"])
def test_control_parses_with_sdk(name: str, start_stub, stub_url: str) -> None:
    url = start_stub(faults=[name])
    client, clean = _sdk(url), _sdk(stub_url)
    base = dict(model=MODEL, max_tokens=2000, messages=[{"role": "user", "content": "use get_weather"}], tools=TOOLS)
    # thinking then text (tool_choice auto: the stub answers with text), and a forced tool call
    asks = [
        (dict(base, thinking={"type": "adaptive"}), ["thinking", "text"], "end_turn"),
        (dict(base, tool_choice={"type": "tool", "name": "get_weather"}), ["tool_use"], "tool_use"),
    ]
    for kwargs, types, stop_reason in asks:
        expected = clean.messages.create(**kwargs)
        got = client.messages.create(**kwargs)
        assert _same_blocks(got.content, expected.content) and got.stop_reason == expected.stop_reason
        with client.messages.stream(**kwargs) as stream:
            final = stream.get_final_message()
        assert [b.type for b in final.content] == types and _same_blocks(final.content, expected.content)
        assert final.stop_reason == stop_reason and final.usage.output_tokens == expected.usage.output_tokens
        events = [e.type for e in client.messages.create(stream=True, **kwargs)]
        assert events[0] == "message_start" and events[-1] == "message_stop"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_unknown_event_type_and_the_sdk(start_stub) -> None:
    """Finding: SDK 2.14 ignores an unknown event type in default mode (as §3.3 asks) but raises
    APIResponseValidationError in strict mode. This test fails when the SDK changes."""
    url = start_stub(faults=["unknown-event-type"])
    kwargs = dict(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": "hi"}])
    lenient = anthropic.Anthropic(base_url=url, api_key=KEY, max_retries=0)
    with lenient.messages.stream(**kwargs) as stream:
        assert stream.get_final_message().stop_reason == "end_turn"
    assert "content_block_annotation" in [e.type for e in lenient.messages.create(stream=True, **kwargs)]
    with pytest.raises(anthropic.APIResponseValidationError):
        with _sdk(url).messages.stream(**kwargs) as stream:
            stream.get_final_message()
