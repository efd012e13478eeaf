"""The official SDK's calls with every parameter it offers, against the stub, strict mode on.

``messages.create`` (plain and streamed) and ``messages.count_tokens``, of ``client.messages``
and ``client.beta.messages``, sync and async, each with every keyword the installed SDK's
method accepts (the test asserts that the call below names them all, so a new SDK parameter
fails here until it is added). Then a request shaped like Claude Code's first request: the
beta query and header list, ``context_management``, ``cache_control`` on system, message and
tool blocks, a dozen tools with 2020-12 input schemas and ``metadata.user_id``.
"""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import anthropic
import pydantic
import pytest
from stub_helpers import HTTP, KEY

from conformance.checks.client_requests import CLIENT_HEADERS, claude_code_body

MODEL = "claude-opus-4-7"
CC = {"type": "ephemeral", "ttl": "5m"}
WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city.",
    "cache_control": CC,
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?", "cache_control": CC}]},
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_01", "content": "sunny", "cache_control": CC},
            {"type": "text", "text": "repeat: sunny"},
        ],
    },
]
SYSTEM = [{"type": "text", "text": "Be brief.", "cache_control": CC}]
OUTPUT_CONFIG = {"effort": "high", "format": {"type": "json_schema", "schema": {"type": "object"}}}

# every parameter of client.messages.create / count_tokens (SDK 2.x), header ones included
PLAIN_CREATE: dict[str, Any] = dict(
    model=MODEL,
    max_tokens=2048,
    messages=MESSAGES,
    system=SYSTEM,
    cache_control={"type": "ephemeral"},
    container={"id": "container_01", "skills": [{"skill_id": "pdf", "type": "anthropic", "version": "latest"}]},
    diagnostics={"previous_message_id": "msg_01"},
    inference_geo="us",
    metadata={"user_id": "user-1234"},
    output_config=OUTPUT_CONFIG,
    service_tier="auto",
    speed="standard",
    stop_sequences=["STOP"],
    thinking={"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
    tool_choice={"type": "auto", "disable_parallel_tool_use": True},
    tools=[WEATHER],
    user_profile_id="uprof_01",
    workspace_id="wrkspc_01",
)


class Answer(pydantic.BaseModel):
    """count_tokens's ``output_format``: a type the SDK turns into output_config.format."""

    text: str


PLAIN_COUNT: dict[str, Any] = {
    **{
        k: v
        for k, v in PLAIN_CREATE.items()
        if k
        in {
            "model",
            "messages",
            "system",
            "cache_control",
            "output_config",
            "speed",
            "thinking",
            "tool_choice",
            "tools",
            "user_profile_id",
            "workspace_id",
        }
    },
    "output_format": Answer,
}

BETA_ONLY: dict[str, Any] = dict(
    betas=["context-management-2025-06-27", "mcp-client-2025-11-20", "interleaved-thinking-2025-05-14"],
    billing_policy={"type": "billing_policy", "bill_to": "self"},
    compaction={"type": "summarize", "instructions": "Keep the decisions."},
    context_management={
        "edits": [
            {
                "type": "clear_tool_uses_20250919",
                "trigger": {"type": "input_tokens", "value": 30000},
                "keep": {"type": "tool_uses", "value": 3},
                "clear_at_least": {"type": "input_tokens", "value": 5000},
                "exclude_tools": ["get_weather"],
                "clear_tool_inputs": False,
            },
            {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 2}},
        ]
    },
    fallback_credit_token={"token": "fct_01", "mode": "best_effort"},
    fallbacks=[{"model": "claude-sonnet-4-5", "max_tokens": 1024}],
    mcp_servers=[
        {
            "type": "url",
            "name": "docs",
            "url": "https://mcp.example.com/sse",
            "authorization_token": "tok",
            "tool_configuration": {"enabled": True, "allowed_tools": ["search"]},
        }
    ],
    thread={"type": "create"},
)
BETA_CREATE: dict[str, Any] = {
    **PLAIN_CREATE,
    **BETA_ONLY,
    "output_config": {**OUTPUT_CONFIG, "task_budget": {"type": "tokens", "total": 20000, "remaining": 15000}},
    "thinking": {
        "type": "adaptive",
        "display": "summarized",
        "block_binding": {"prefix_mismatch_behavior": "drop_block"},
    },
    "tools": [WEATHER, {"type": "mcp_toolset", "mcp_server_name": "docs", "default_config": {"enabled": True}}],
}
BETA_COUNT: dict[str, Any] = {
    **{
        k: v
        for k, v in BETA_CREATE.items()
        if k
        in {
            "model",
            "messages",
            "system",
            "cache_control",
            "output_config",
            "speed",
            "thinking",
            "tool_choice",
            "tools",
            "user_profile_id",
            "workspace_id",
            "betas",
            "billing_policy",
            "compaction",
            "context_management",
            "mcp_servers",
        }
    }
}

_NOT_PARAMETERS = {"self", "extra_headers", "extra_query", "extra_body", "timeout", "stream"}


def _parameters(method: Any) -> set[str]:
    return {name for name in inspect.signature(method).parameters if name not in _NOT_PARAMETERS}


@pytest.mark.parametrize(
    "method,kwargs",
    [
        (anthropic.resources.Messages.create, PLAIN_CREATE),
        (anthropic.resources.Messages.count_tokens, PLAIN_COUNT),
        (anthropic.resources.beta.Messages.create, BETA_CREATE),
        (anthropic.resources.beta.Messages.count_tokens, BETA_COUNT),
        (anthropic.resources.AsyncMessages.create, PLAIN_CREATE),
        (anthropic.resources.beta.AsyncMessages.count_tokens, BETA_COUNT),
    ],
    ids=["create", "count_tokens", "beta-create", "beta-count_tokens", "async-create", "async-beta-count_tokens"],
)
def test_every_parameter_is_used(method: Any, kwargs: dict[str, Any]) -> None:
    """The calls below pass every parameter the installed SDK's method has."""
    assert _parameters(method) == set(kwargs)


@pytest.fixture
def client(stub_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stub_url, api_key=KEY, max_retries=0, _strict_response_validation=True)


@pytest.fixture
def async_client(stub_url: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=stub_url, api_key=KEY, max_retries=0, _strict_response_validation=True)


def _check_message(msg: Any) -> None:
    assert msg.type == "message" and msg.role == "assistant" and msg.content
    assert msg.stop_reason in ("end_turn", "max_tokens", "stop_sequence", "tool_use")
    assert msg.usage.input_tokens > 0


def test_plain_create_every_parameter(client: anthropic.Anthropic) -> None:
    _check_message(client.messages.create(**PLAIN_CREATE))
    events = list(client.messages.create(**PLAIN_CREATE, stream=True))
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    with client.messages.stream(
        **{k: v for k, v in PLAIN_CREATE.items() if k != "container"}, container="container_01"
    ) as stream:
        _check_message(stream.get_final_message())


def test_plain_count_tokens_every_parameter(client: anthropic.Anthropic) -> None:
    assert client.messages.count_tokens(**PLAIN_COUNT).input_tokens > 0


def test_beta_create_every_parameter(client: anthropic.Anthropic) -> None:
    _check_message(client.beta.messages.create(**BETA_CREATE))
    events = list(client.beta.messages.create(**BETA_CREATE, stream=True))
    assert events[0].type == "message_start" and events[-1].type == "message_stop"


def test_beta_create_without_betas_is_a_plain_request(client: anthropic.Anthropic) -> None:
    """The Python SDK's beta client without ``betas`` sends neither the header nor a query (the
    TypeScript SDK, and so Claude Code, adds ``?beta=true``): the request is a plain one, and
    its beta-only fields are refused as the API refuses a field whose beta is not named."""
    kwargs = {k: v for k, v in BETA_CREATE.items() if k not in ("betas", "tools", "output_config", "thinking")}
    with pytest.raises(anthropic.BadRequestError, match="Extra inputs are not permitted"):
        client.beta.messages.create(**kwargs)
    _check_message(client.beta.messages.create(**kwargs, extra_query={"beta": "true"}))


def test_beta_count_tokens_every_parameter(client: anthropic.Anthropic) -> None:
    assert client.beta.messages.count_tokens(**BETA_COUNT).input_tokens > 0


def test_async_every_parameter(async_client: anthropic.AsyncAnthropic) -> None:
    async def calls() -> None:
        _check_message(await async_client.messages.create(**PLAIN_CREATE))
        assert (await async_client.messages.count_tokens(**PLAIN_COUNT)).input_tokens > 0
        _check_message(await async_client.beta.messages.create(**BETA_CREATE))
        stream = await async_client.beta.messages.create(**BETA_CREATE, stream=True)
        types = [event.type async for event in stream]
        assert types[0] == "message_start" and types[-1] == "message_stop"
        assert (await async_client.beta.messages.count_tokens(**BETA_COUNT)).input_tokens > 0
        await async_client.close()

    asyncio.run(calls())


def test_beta_parameters_need_a_beta_request(stub_url: str) -> None:
    """Without the beta header or query, a beta-only field is what it is to the plain API: extra."""
    body = {
        "model": MODEL,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "hi"}],
        "context_management": BETA_ONLY["context_management"],
    }
    headers = {"x-api-key": KEY, "anthropic-version": "2023-06-01", "content-type": "application/json"}
    plain = HTTP.post(stub_url + "/v1/messages", json=body, headers=headers)
    assert plain.status_code == 400, plain.text
    assert plain.json()["error"]["message"] == "context_management: Extra inputs are not permitted"
    assert HTTP.post(stub_url + "/v1/messages?beta=true", json=body, headers=headers).status_code == 200
    beta = {**headers, "anthropic-beta": "context-management-2025-06-27"}
    assert HTTP.post(stub_url + "/v1/messages", json=body, headers=beta).status_code == 200
    # a beta request is still validated: a misspelt beta field is refused
    wrong = {**body, "context_management": {"edits": [{"type": "clear_everything"}]}}
    assert HTTP.post(stub_url + "/v1/messages?beta=true", json=wrong, headers=beta).status_code == 400


# --------------------------------------------------------------------------- Claude Code


@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_claude_code_first_request(stub_url: str, version: str) -> None:
    # the request the client-requests family sends: Claude Code's whole first request
    body = claude_code_body(SimpleNamespace(model=MODEL), max_tokens=32000)
    body["thinking"] = {"type": "enabled", "budget_tokens": 31999}
    if version == "2023-06-01":
        body["temperature"] = 1
    headers = {
        **CLIENT_HEADERS,
        "authorization": f"Bearer {KEY}",
        "anthropic-version": version,
        "content-type": "application/json",
        "user-agent": "claude-cli/2.0.0 (external, cli)",
        "x-stainless-lang": "js",
        "x-stainless-package-version": "0.60.0",
    }
    r = HTTP.post(stub_url + "/v1/messages?beta=true", json=body, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream") and "event: message_stop" in r.text
    counted = HTTP.post(
        stub_url + "/v1/messages/count_tokens?beta=true",
        headers=headers,
        json={k: v for k, v in body.items() if k not in ("max_tokens", "stream", "metadata", "temperature")},
    )
    assert counted.status_code == 200, counted.text
