"""The official SDKs against the stub, strict response validation on (contract §7, §9 item 35).

SDK 2.x runs in this process (Authorization: Bearer + 2026-10-21). SDK 1.x (x-api-key +
2023-06-01) runs in its own virtualenv: ``CONFORMANCE_SDK1_PYTHON`` names its python, else one
is created once under ``.cache/sdk1-venv``. If that fails the test fails, it is not skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anthropic
import pytest
from stub_helpers import KEY

ROOT = Path(__file__).resolve().parents[2]
SDK1_VENV = ROOT / ".cache" / "sdk1-venv"
MODEL = "claude-opus-4-7"
TOOLS = [
    {
        "name": "get_weather",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


@pytest.fixture
def client(stub_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stub_url, api_key=KEY, max_retries=0, _strict_response_validation=True)


def test_sdk2_create(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model=MODEL, max_tokens=64, system="Be brief.", messages=[{"role": "user", "content": "repeat: hello sdk"}]
    )
    assert msg.content[0].type == "text" and msg.content[0].text == "hello sdk"
    assert msg.stop_reason == "end_turn" and msg.usage.output_tokens == 2
    assert msg._request_id and msg._request_id.startswith("req_")


def test_sdk2_create_stream_every_event(client: anthropic.Anthropic) -> None:
    # thinking then text (tools offered, tool_choice auto: the stub answers with text), and a
    # forced tool call: between them, every delta type
    asks = [
        {"thinking": {"type": "adaptive"}, "tools": TOOLS},
        {"tools": TOOLS, "tool_choice": {"type": "tool", "name": "get_weather"}},
    ]
    deltas = set()
    for extra in asks:
        events = list(
            client.messages.create(
                model=MODEL,
                max_tokens=2000,
                stream=True,
                messages=[{"role": "user", "content": "use get_weather"}],
                **extra,
            )
        )
        types = [e.type for e in events]
        assert types[0] == "message_start" and types[-1] == "message_stop" and "ping" not in types
        deltas |= {e.delta.type for e in events if e.type == "content_block_delta"}
    assert deltas == {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"}


def test_sdk2_stream_helper(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Count from 1 to 10"}], stop_sequences=["5"]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "1 2 3 4 " == final.content[0].text
    assert final.stop_reason == "stop_sequence" and final.stop_sequence == "5" and final.usage.output_tokens == 5


def test_sdk2_tool_use(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model=MODEL,
        max_tokens=64,
        tools=TOOLS,
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "weather?"}],
    )
    assert (
        msg.stop_reason == "tool_use" and msg.content[0].type == "tool_use" and msg.content[0].input == {"city": "city"}
    )


def test_sdk2_count_tokens_and_models(client: anthropic.Anthropic) -> None:
    kwargs = dict(model=MODEL, system="Be brief.", messages=[{"role": "user", "content": "one two three"}])
    counted = client.messages.count_tokens(**kwargs).input_tokens
    assert counted == client.messages.create(max_tokens=5, **kwargs).usage.input_tokens
    ids = [m.id for m in client.models.list(limit=4)]  # auto-pagination over every page
    assert len(ids) == len(set(ids)) == 23 and ids[-1] == "qwen3.5-27b-claude-opus-8bit"
    info = client.models.retrieve("claude-sonnet-4-5")
    assert info.lifecycle == "deprecated" and info.display_name


def test_sdk2_errors(client: anthropic.Anthropic, stub_url: str) -> None:
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.messages.create(model="gpt-4o", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert nf.value.type == "not_found_error" and nf.value.request_id
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=stub_url, api_key="nope", max_retries=0).models.list()
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="stub-rate-limited", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(model="stub-overloaded", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.APIStatusError) as mid:
        with client.messages.stream(
            model="stub-error-mid-stream", max_tokens=50, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            stream.get_final_message()
    assert mid.value.status_code == 200 and mid.value.type == "overloaded_error"


SDK1_SCRIPT = r"""
import sys, warnings
warnings.simplefilter("ignore")
import anthropic
assert anthropic.__version__.startswith("1."), anthropic.__version__
url = sys.argv[1]
seen = {}
def hook(request):
    seen["auth"] = "x-api-key" in request.headers and "authorization" not in request.headers
    seen["version"] = request.headers.get("anthropic-version")
c = anthropic.Anthropic(base_url=url, api_key="test-key", max_retries=0, _strict_response_validation=True,
                        http_client=anthropic.DefaultHttpxClient(event_hooks={"request": [hook]}))
kw = dict(model="claude-opus-4-7", max_tokens=50, messages=[{"role": "user", "content": "Count from 1 to 9"}])
m = c.messages.create(**kw)
assert m.content[0].text == "1 2 3 4 5 6 7 8 9" and m.stop_reason == "end_turn"
assert seen == {"auth": True, "version": "2023-06-01"}, seen
print("OK create")
types = [e.type for e in c.messages.create(stream=True, **kw)]
assert types[0] == "message_start" and types[-1] == "message_stop"
print("OK create-stream")
with c.messages.stream(**kw) as s:
    f = s.get_final_message()
assert f.content[0].text == m.content[0].text and f.usage.output_tokens == 9
print("OK stream")
n = c.messages.count_tokens(model=kw["model"], messages=kw["messages"]).input_tokens
assert n == m.usage.input_tokens
print("OK count_tokens")
assert len([x.id for x in c.models.list(limit=5)]) == 23
print("OK models")
"""


@pytest.fixture(scope="session")
def sdk1_python() -> str:
    """A python with anthropic 1.x: $CONFORMANCE_SDK1_PYTHON, else .cache/sdk1-venv (created once)."""
    configured = os.environ.get("CONFORMANCE_SDK1_PYTHON")
    if configured:
        return configured
    python = SDK1_VENV / "bin" / "python"
    if not python.exists():
        steps = [
            [sys.executable, "-m", "venv", str(SDK1_VENV)],
            [str(python), "-m", "pip", "install", "-q", "anthropic>=1,<2"],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                pytest.fail(
                    f"cannot build the SDK 1.x venv ({' '.join(step)}): {done.stderr.strip()[-500:]}; set CONFORMANCE_SDK1_PYTHON"
                )
    return str(python)


def test_sdk1_against_stub(sdk1_python: str, stub_url: str) -> None:
    done = subprocess.run([sdk1_python, "-c", SDK1_SCRIPT, stub_url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:5] == ["OK create", "OK create-stream", "OK stream", "OK count_tokens", "OK models"]
