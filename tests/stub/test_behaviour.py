"""The clean stub against the contract, over real HTTP (httpx) on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema
import pytest
from stub_helpers import HTTP, KEY, MODEL, V1, V2, assemble, body, headers, parse_sse, post, stream_payloads

from conformance.stub.catalog import SDK_MODEL_IDS

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def error_of(r: httpx.Response, status: int, etype: str) -> dict:
    """Assert an exact status + Anthropic envelope, request-id header == body request_id."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert data["type"] == "error" and data["error"]["type"] == etype, data
    assert isinstance(data["error"]["message"], str) and data["error"]["message"]
    assert r.headers["request-id"].startswith("req_") and data["request_id"] == r.headers["request-id"]
    return data


# ---------------------------------------------------------------- happy path


def test_message_shape_and_ids(stub_url: str) -> None:
    r1, r2 = post(stub_url, body()), post(stub_url, body())
    for r in (r1, r2):
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        m = r.json()
        assert m["type"] == "message" and m["role"] == "assistant" and m["model"] == MODEL
        assert m["id"].startswith("msg_") and len(m["id"]) == 28
        assert m["stop_reason"] == "end_turn" and m["stop_sequence"] is None
        assert 20 <= m["usage"]["output_tokens"] <= 40
        assert m["usage"]["output_tokens"] == len(m["content"][0]["text"].split())
        assert r.headers["request-id"].startswith("req_")
    assert r1.json()["id"] != r2.json()["id"]
    assert r1.json()["content"] == r2.json()["content"]  # deterministic per request


def test_seed_changes_text(start_stub) -> None:
    a, b = start_stub(seed=1), start_stub(seed=2)
    assert post(a, body()).json()["content"] != post(b, body()).json()["content"]


def test_max_tokens_cut(stub_url: str) -> None:
    m = post(stub_url, body("Count from 1 to 50", max_tokens=5)).json()
    assert m["content"][0]["text"] == "1 2 3 4 5"
    assert m["stop_reason"] == "max_tokens" and m["usage"]["output_tokens"] == 5


def test_max_tokens_zero_under_2026(stub_url: str) -> None:
    m = post(stub_url, body(max_tokens=0), version=V2).json()
    assert m["content"] == [] and m["stop_reason"] == "max_tokens" and m["usage"]["output_tokens"] == 0
    error_of(post(stub_url, body(max_tokens=0), version=V1), 400, "invalid_request_error")


def test_stop_sequence(stub_url: str) -> None:
    m = post(stub_url, body("Count from 1 to 20, separated by spaces.", stop_sequences=["x", "7"])).json()
    assert m["content"][0]["text"] == "1 2 3 4 5 6 "
    assert m["stop_reason"] == "stop_sequence" and m["stop_sequence"] == "7"
    assert m["usage"]["output_tokens"] == 7


def test_stop_sequence_beyond_max_tokens_is_max_tokens(stub_url: str) -> None:
    m = post(stub_url, body("Count from 1 to 20", stop_sequences=["7"], max_tokens=3)).json()
    assert m["content"][0]["text"] == "1 2 3" and m["stop_reason"] == "max_tokens" and m["stop_sequence"] is None


def test_repeat_rule(stub_url: str) -> None:
    m = post(stub_url, body("please repeat: the quick brown fox")).json()
    assert m["content"][0]["text"] == "the quick brown fox"


def test_prefill_is_continued_not_repeated(stub_url: str) -> None:
    msgs = [
        {"role": "user", "content": "repeat: five six seven"},
        {"role": "assistant", "content": "one two three four"},
    ]
    m = post(stub_url, {"model": MODEL, "max_tokens": 50, "messages": msgs}).json()
    assert m["content"][0]["text"] == "five six seven"
    assert not m["content"][0]["text"].startswith("one two")
    # an answer that starts with the prefill continues it
    msgs = [
        {"role": "user", "content": "Count from 1 to 10, separated by spaces."},
        {"role": "assistant", "content": "1 2 3 4 5"},
    ]
    m = post(stub_url, {"model": MODEL, "max_tokens": 50, "messages": msgs}).json()
    assert m["content"][0]["text"] == " 6 7 8 9 10" and m["usage"]["output_tokens"] == 5
    msgs[-1]["content"] = "1"  # a prefill ends on a word boundary: "1" does not prefix "10"
    m = post(stub_url, {"model": MODEL, "max_tokens": 50, "messages": msgs}).json()
    assert m["content"][0]["text"] == " 2 3 4 5 6 7 8 9 10"


def test_system_counts_towards_input_tokens(stub_url: str) -> None:
    plain = post(stub_url, body("hi")).json()["usage"]["input_tokens"]
    as_str = post(stub_url, body("hi", system="You are a very terse assistant")).json()["usage"]["input_tokens"]
    as_blocks = post(stub_url, body("hi", system=[{"type": "text", "text": "You are a very terse assistant"}])).json()[
        "usage"
    ]["input_tokens"]
    assert as_str == as_blocks == plain + 6


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"system": "Be brief and kind"},
        {"tools": [{"name": "lookup", "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]},
    ],
)
def test_count_tokens_equals_usage(stub_url: str, extra: dict) -> None:
    req = body("What is a process and a thread?", **extra)
    usage = post(stub_url, req).json()["usage"]["input_tokens"]
    counted = {k: v for k, v in req.items() if k != "max_tokens"}
    r = post(stub_url, counted, path="/v1/messages/count_tokens")
    assert r.status_code == 200 and r.json() == {"input_tokens": usage}


TOOL_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 3},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "opts": {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "exact": {"type": "boolean"},
            },
            "required": ["tags", "exact"],
        },
        "when": {"type": "string", "format": "date-time"},
    },
    "required": ["city", "unit", "days", "opts", "when"],
    "additionalProperties": False,
}
TOOLS = [{"name": "other", "input_schema": {"type": "object"}}, {"name": "get_weather", "input_schema": TOOL_SCHEMA}]


@pytest.mark.parametrize(
    "choice",
    [
        {"type": "tool", "name": "get_weather"},
        {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    ],
)
def test_tool_use_input_valid(stub_url: str, choice: dict) -> None:
    m = post(stub_url, body("What is the weather? use get_weather", tools=TOOLS, tool_choice=choice)).json()
    assert m["stop_reason"] == "tool_use"
    [tool] = m["content"]
    assert tool["type"] == "tool_use" and tool["name"] == "get_weather" and tool["id"].startswith("toolu_")
    jsonschema.validate(tool["input"], TOOL_SCHEMA)


@pytest.mark.parametrize("choice", [{"type": "auto"}, None])
def test_tool_choice_auto_answers_with_text(stub_url: str, choice: dict | None) -> None:
    """An agent's loop ends: under auto (or no tool_choice) the stub never calls a tool, even
    one the user names; only a forced choice (or a script) does."""
    extra = {"tool_choice": choice} if choice else {}
    m = post(stub_url, body("What is the weather? use get_weather", tools=TOOLS, **extra)).json()
    assert [b["type"] for b in m["content"]] == ["text"] and m["stop_reason"] == "end_turn"
    _, events = stream_payloads(stub_url, body("use get_weather", tools=TOOLS, **extra))
    assert assemble(events)["stop_reason"] == "end_turn"


def test_tool_choice_any_none_and_result(stub_url: str) -> None:
    m = post(stub_url, body("hi", tools=TOOLS, tool_choice={"type": "any"})).json()
    assert m["content"][0]["name"] == "other" and m["stop_reason"] == "tool_use"
    m = post(stub_url, body("use get_weather", tools=TOOLS, tool_choice={"type": "none"})).json()
    assert [b["type"] for b in m["content"]] == ["text"] and m["stop_reason"] == "end_turn"
    msgs = [
        {"role": "user", "content": "use get_weather"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny and 21 degrees"}],
        },
    ]
    m = post(stub_url, {"model": MODEL, "max_tokens": 100, "messages": msgs, "tools": TOOLS}).json()
    assert m["content"][0]["text"] == "The get_weather tool returned: sunny and 21 degrees."


def test_tool_choice_unknown_tool_is_400(stub_url: str) -> None:
    error_of(
        post(stub_url, body(tools=TOOLS, tool_choice={"type": "tool", "name": "nope"})), 400, "invalid_request_error"
    )


def test_stream_grammar_text_and_headers(stub_url: str) -> None:
    r, events = stream_payloads(stub_url, body("Count from 1 to 30"), accept="application/json")
    assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache" and r.headers["request-id"].startswith("req_")
    assert ("ping", {"type": "ping"}) in events
    final = assemble(events)
    assert final["content"] == [{"type": "text", "text": " ".join(map(str, range(1, 31)))}]
    assert final["usage"]["output_tokens"] == 30 and final["stop_reason"] == "end_turn"
    # equal to the non-streaming answer
    assert post(stub_url, body("Count from 1 to 30")).json()["content"] == final["content"]


def test_stream_tool_input_fragments(stub_url: str) -> None:
    _, events = stream_payloads(stub_url, body(tools=TOOLS, tool_choice={"type": "tool", "name": "get_weather"}))
    fragments = [d["delta"]["partial_json"] for n, d in events if n == "content_block_delta"]
    assert fragments[0] == "" and len(fragments) > 3
    final = assemble(events)
    jsonschema.validate(final["content"][0]["input"], TOOL_SCHEMA)
    assert final["stop_reason"] == "tool_use"


@pytest.mark.parametrize("thinking", [{"type": "enabled", "budget_tokens": 1024}, {"type": "adaptive"}])
def test_stream_thinking_with_signature(stub_url: str, thinking: dict) -> None:
    _, events = stream_payloads(stub_url, body(max_tokens=2000, thinking=thinking), version=V2)
    final = assemble(events)
    assert [b["type"] for b in final["content"]] == ["thinking", "text"]
    assert final["content"][0]["thinking"] and final["content"][0]["signature"]
    deltas = [(d["index"], d["delta"]["type"]) for n, d in events if n == "content_block_delta" and d["index"] == 0]
    assert deltas[-1] == (0, "signature_delta") and all(t == "thinking_delta" for _, t in deltas[:-1])
    stop_at = next(i for i, (n, d) in enumerate(events) if n == "content_block_stop" and d["index"] == 0)
    assert events[stop_at - 1][1]["delta"]["type"] == "signature_delta"


def test_thinking_disabled_and_budget_rule(stub_url: str) -> None:
    m = post(stub_url, body(thinking={"type": "disabled"})).json()
    assert [b["type"] for b in m["content"]] == ["text"]
    error_of(
        post(stub_url, body(max_tokens=1024, thinking={"type": "enabled", "budget_tokens": 1024})),
        400,
        "invalid_request_error",
    )


def test_stream_max_tokens_and_stop_sequence(stub_url: str) -> None:
    _, events = stream_payloads(stub_url, body("Count from 1 to 20", stop_sequences=["7"]))
    final = assemble(events)
    assert final["content"][0]["text"] == "1 2 3 4 5 6 " and final["stop_sequence"] == "7"
    _, events = stream_payloads(stub_url, body("Count from 1 to 20", max_tokens=4))
    final = assemble(events)
    assert final["content"][0]["text"] == "1 2 3 4" and final["stop_reason"] == "max_tokens"


def test_stream_events_are_flushed_separately(stub_url: str) -> None:
    with HTTP.stream(
        "POST", stub_url + "/v1/messages", json=body("Count from 1 to 40", stream=True), headers=headers()
    ) as r:
        reads = [chunk for chunk in r.iter_raw()]
    assert len(reads) > 5


# ---------------------------------------------------------------- versions, validation, errors


def test_version_rules(stub_url: str) -> None:
    h = {"x-api-key": KEY}
    error_of(HTTP.post(stub_url + "/v1/messages", json=body(), headers=h), 400, "invalid_request_error")
    error_of(
        HTTP.post(stub_url + "/v1/messages", json=body(), headers={**h, "anthropic-version": "2024-01-01"}),
        400,
        "invalid_request_error",
    )
    assert post(stub_url, body(temperature=0.5), version=V1).status_code == 200
    for param, value in (("temperature", 0.5), ("top_p", 0.9), ("top_k", 5)):
        data = error_of(post(stub_url, body(**{param: value}), version=V2), 400, "invalid_request_error")
        assert param in data["error"]["message"]


def _examples(version: str) -> list[tuple[str, dict, bool]]:
    out = []
    for path in sorted((EXAMPLES / f"messages-request.{version}").glob("*.json")):
        example = json.loads(path.read_text())
        out.append((path.stem, example["instance"], example["valid"]))
    return out


@pytest.mark.parametrize("version", [V1, V2])
def test_schema_examples(stub_url: str, version: str) -> None:
    """Every valid example (including 'everything at once') is a 200, every invalid one a 400."""
    examples = _examples(version)
    assert any(name == "valid-everything-at-once" for name, _, _ in examples)
    for name, instance, valid in examples:
        r = post(stub_url, instance, version=version)
        if valid:
            assert r.status_code == 200, (name, r.text)
        else:
            error_of(r, 400, "invalid_request_error")


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": MODEL, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        ({"model": MODEL, "max_tokens": 10, "messages": [{"role": "bob", "content": "x"}]}, "messages.0.role"),
        ({"model": MODEL, "max_tokens": "ten", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        ({**body(), "bogus": 1}, "bogus"),
    ],
)
def test_invalid_request_names_field(stub_url: str, bad: dict, field: str) -> None:
    data = error_of(post(stub_url, bad), 400, "invalid_request_error")
    assert field in data["error"]["message"]


def test_unknown_model_404(stub_url: str) -> None:
    error_of(post(stub_url, body(model="gpt-4o")), 404, "not_found_error")


def test_auth_styles_and_order(stub_url: str) -> None:
    url = stub_url + "/v1/messages"
    v = {"anthropic-version": V1}
    assert HTTP.post(url, json=body(), headers={**v, "x-api-key": KEY}).status_code == 200
    assert HTTP.post(url, json=body(), headers={**v, "authorization": f"Bearer {KEY}"}).status_code == 200
    error_of(HTTP.post(url, json=body(), headers=v), 401, "authentication_error")
    error_of(HTTP.post(url, json=body(), headers={**v, "x-api-key": "wrong"}), 401, "authentication_error")
    error_of(HTTP.post(url, json=body(), headers={**v, "authorization": "Bearer wrong"}), 401, "authentication_error")
    # auth is checked before validation (a bad body without a key is a 401, not a 400)
    error_of(
        HTTP.post(url, content=b"{nope", headers={"content-type": "application/json"}), 401, "authentication_error"
    )
    error_of(HTTP.get(stub_url + "/v1/models", headers=v), 401, "authentication_error")


def test_several_keys(start_stub) -> None:
    url = start_stub(api_keys=["k1", "k2"])
    for key in ("k1", "k2"):
        assert (
            HTTP.post(
                url + "/v1/messages", json=body(), headers={"x-api-key": key, "anthropic-version": V1}
            ).status_code
            == 200
        )
    error_of(
        HTTP.post(url + "/v1/messages", json=body(), headers={"x-api-key": KEY, "anthropic-version": V1}),
        401,
        "authentication_error",
    )


def test_body_limits_and_encoding(start_stub) -> None:
    url = start_stub(max_body_bytes=2000)
    big = body("word " * 1000)
    error_of(post(url, big), 413, "request_too_large")

    def chunked():  # no Content-Length: the limit is enforced while reading
        yield json.dumps(big).encode()

    r = HTTP.post(url + "/v1/messages", content=chunked(), headers=headers())
    error_of(r, 413, "request_too_large")
    error_of(HTTP.post(url + "/v1/messages", content=b'{"model": ', headers=headers()), 400, "invalid_request_error")
    error_of(
        HTTP.post(url + "/v1/messages", content=b'{"model": "\xff\xfe"}', headers=headers()),
        400,
        "invalid_request_error",
    )
    wrong_ct = {**headers(), "content-type": "text/plain"}
    error_of(
        HTTP.post(url + "/v1/messages", content=json.dumps(body()).encode(), headers=wrong_ct),
        400,
        "invalid_request_error",
    )


def test_unknown_path_and_wrong_method(stub_url: str) -> None:
    error_of(HTTP.get(stub_url + "/v1/nothing-here", headers=headers()), 404, "not_found_error")
    error_of(HTTP.post(stub_url + "/v1/chat/completions", json={}, headers=headers()), 404, "not_found_error")
    r = HTTP.get(stub_url + "/v1/messages", headers=headers())
    error_of(r, 405, "invalid_request_error")
    assert r.headers["allow"] == "POST"
    error_of(HTTP.delete(stub_url + "/v1/models", headers=headers()), 405, "invalid_request_error")


def test_deliberate_failures(stub_url: str) -> None:
    r = post(stub_url, body(model="stub-rate-limited"))
    error_of(r, 429, "rate_limit_error")
    assert r.headers["retry-after"] == "1"
    r = post(stub_url, body(model="stub-overloaded"))
    error_of(r, 529, "overloaded_error")
    assert r.headers["retry-after"] == "1"
    error_of(post(stub_url, body(), **{"x-stub-fail": "500"}), 500, "api_error")
    error_of(post(stub_url, body(), **{"x-stub-fail": "429"}), 429, "rate_limit_error")
    error_of(post(stub_url, body(model="stub-error-mid-stream")), 529, "overloaded_error")
    for req, extra in ((body(model="stub-error-mid-stream"), {}), (body(), {"x-stub-fail": "mid-stream"})):
        r, events = stream_payloads(stub_url, req, **extra)
        assert r.status_code == 200
        names = [n for n, _ in events]
        assert names[0] == "message_start" and "content_block_delta" in names and names[-1] == "error"
        assert "message_stop" not in names
        assert events[-1][1]["type"] == "error" and events[-1][1]["error"]["type"] == "overloaded_error"


GARBAGE = [
    b"",
    b"null",
    b"[]",
    b"123",
    b'"str"',
    b"{",
    b"\x00\x01\x02",
    b'{"model": null, "max_tokens": null, "messages": null}',
    b'{"model": "claude-sonnet-4-5", "max_tokens": -1, "messages": []}',
    b'{"model": "claude-sonnet-4-5", "max_tokens": 1e400, "messages": [{"role":"user","content":"x"}]}',
    b'{"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role":"user","content":[{"type":"tool_use"}]}]}',
    b'{"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role":"user","content":"x"}], "tools": [{"name":"t","input_schema":{"type":"object","required":["a"],"properties":{"a":{"type":"string","pattern":"^[0-9]+$"}}}}], "tool_choice": {"type":"any"}}',
    b'{"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": [{"role":"user","content":"x"}], "tools": [{"name":"t","input_schema":{"type":"object","properties":{"a":{"$ref":"#/nowhere"}},"required":["a"]}}], "tool_choice": {"type":"any"}}',
    b"[" * 5000 + b"]" * 5000,
    b'{"model": "' + b"a" * 100000 + b'", "max_tokens": 1, "messages": [{"role":"user","content":"x"}]}',
    json.dumps({"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "x" * 50}] * 500}).encode(),
]


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_never_5xx_for_garbage(stub_url: str, path: str) -> None:
    for payload in GARBAGE:
        for version in (V1, V2):
            r = HTTP.post(stub_url + path, content=payload, headers=headers(version), timeout=10)
            assert r.status_code < 500, (payload[:80], r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/json")


# ---------------------------------------------------------------- models


def test_models_catalog_and_pagination_walk(stub_url: str) -> None:
    h = headers()
    first = HTTP.get(stub_url + "/v1/models", headers=h).json()
    assert len(first["data"]) == 20 and first["has_more"] is True
    assert first["first_id"] == first["data"][0]["id"] and first["last_id"] == first["data"][-1]["id"]
    seen, after = [], None
    while True:
        params = {"limit": "7", **({"after_id": after} if after else {})}
        page = HTTP.get(stub_url + "/v1/models", params=params, headers=h).json()
        seen += [m["id"] for m in page["data"]]
        if not page["has_more"]:
            break
        after = page["last_id"]
    assert set(SDK_MODEL_IDS) | {"qwen3.5-27b-claude-opus-8bit"} == set(seen) and len(seen) == len(set(seen))
    assert not {"stub-error-mid-stream", "stub-rate-limited", "stub-overloaded"} & set(seen)
    back = HTTP.get(stub_url + "/v1/models", params={"before_id": seen[10], "limit": 3}, headers=h).json()
    assert [m["id"] for m in back["data"]] == seen[7:10] and back["has_more"] is True
    for limit in ("0", "1001", "x"):
        error_of(HTTP.get(stub_url + "/v1/models", params={"limit": limit}, headers=h), 400, "invalid_request_error")
    one = HTTP.get(stub_url + "/v1/models/claude-sonnet-4-5", headers=h).json()
    assert one["id"] == "claude-sonnet-4-5" and one["type"] == "model" and one["lifecycle"] == "deprecated"
    assert {"display_name", "created_at"} <= set(one)
    error_of(HTTP.get(stub_url + "/v1/models/gpt-4o", headers=h), 404, "not_found_error")


def test_models_file(tmp_path: Path, start_stub) -> None:
    ids_file = tmp_path / "ids.json"
    ids_file.write_text(json.dumps(["m-one", {"id": "m-two", "display_name": "Two"}]))
    url = start_stub(models_file=ids_file)
    page = HTTP.get(url + "/v1/models", headers=headers()).json()
    assert [m["id"] for m in page["data"]] == ["m-one", "m-two"] and page["data"][1]["display_name"] == "Two"
    assert post(url, body(model="m-two")).status_code == 200
    error_of(post(url, body(model=MODEL)), 404, "not_found_error")


@pytest.mark.parametrize("stream", [False, True])
def test_what_strict_json_refuses_is_still_answered(stub_url: str, stream: bool) -> None:
    """A lone surrogate (legal as a JSON \\u escape, not as UTF-8) echoed into the answer and an
    integer beyond 64 bits in metadata: the stub's fast JSON refuses both, the answer must not."""
    raw = (
        '{"model": "%s", "max_tokens": 50, "stream": %s, "metadata": {"user_id": "u"},'
        ' "messages": [{"role": "user", "content": "repeat: a\\ud800b"}],'
        ' "tool_choice": {"type": "none"}, "tools": [{"name": "t", "input_schema": {"type": "object", "maxProperties": 123456789012345678901234567890}}]}'
        % (MODEL, "true" if stream else "false")
    )
    r = HTTP.post(stub_url + "/v1/messages", content=raw.encode(), headers=headers())
    assert r.status_code == 200, r.text
    if stream:
        payloads = [json.loads(data) for _, data in parse_sse(r.text)]
        text = "".join(p["delta"]["text"] for p in payloads if p["type"] == "content_block_delta")
    else:
        text = r.json()["content"][0]["text"]
    assert text == "a\ud800b"


def test_a_huge_integer_stays_an_integer() -> None:
    """JSON has no size limit on integers; orjson reads one beyond 64 bits as a float."""
    from conformance.stub import _json

    n = 123456789012345678901234567890
    assert _json.loads(b'{"max_tokens": %d, "x": [1.5, -7]}' % n) == {"max_tokens": n, "x": [1.5, -7]}
    assert type(_json.loads(b"%d" % n)) is int
