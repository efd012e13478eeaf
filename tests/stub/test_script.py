"""The stub's scripted mode (``conformance stub --script FILE``): rules, their answers, the file
format's schema, and the command's one-line errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml
from stub_helpers import MODEL, assemble, body, post, stream_payloads
from test_cli import run_cli

from conformance.stub.script import Script, ScriptError
from conformance.stub.server import StubProcess

SCRIPT = """
description: a Read, then the answer; a flaky first call
rules:
  - name: answer-the-file
    when: {tool_name: Read, tool_result: "the secret is"}
    reply:
      - text: "The file says the secret is 42."
  - name: read-it
    when: {text: "What does notes.txt say?"}
    reply:
      - thinking: "I should read the file."
      - tool_use: {name: Read, input: {file_path: /tmp/work/notes.txt}}
  - name: flaky
    when: {text_regex: "^flaky"}
    times: 1
    delay: 0.3
    error: {status: 529, type: overloaded_error, message: try again}
  - name: refuse
    when: {text: "forbidden"}
    reply: [{text: "I cannot help with that."}]
    stop_reason: refusal
"""


@pytest.fixture(scope="module")
def script_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("script") / "script.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


@pytest.fixture
def url(start_stub, script_file: Path) -> str:
    # a fresh stub per test: `times` counts the requests a rule answered
    from conformance.stub.server import ThreadedStub

    stub = ThreadedStub(script_file=script_file)
    yield stub.start()
    stub.request_stop()
    stub.join()


def _turns(first: dict, result: str) -> list[dict]:
    use = next(b for b in first["content"] if b["type"] == "tool_use")
    return [
        {"role": "user", "content": "What does notes.txt say?"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": result}]},
    ]


def test_a_scripted_tool_conversation(url: str) -> None:
    first = post(url, body("What does notes.txt say?")).json()
    assert [b["type"] for b in first["content"]] == ["thinking", "tool_use"] and first["stop_reason"] == "tool_use"
    assert first["content"][0]["signature"] and first["content"][1]["id"].startswith("toolu_")
    assert first["content"][1]["name"] == "Read" and first["content"][1]["input"] == {
        "file_path": "/tmp/work/notes.txt"
    }
    second = post(url, {**body(), "messages": _turns(first, "the secret is 42")}).json()
    assert second["content"] == [{"type": "text", "text": "The file says the secret is 42."}]
    assert second["stop_reason"] == "end_turn" and second["usage"]["output_tokens"] == 7
    # the tool_result rule needs its text: another result falls through to the stub's own answer
    other = post(url, {**body(), "messages": _turns(first, "nothing here")}).json()
    assert other["content"][0]["text"].startswith("The Read tool returned: nothing here")


def test_streamed_answers_are_the_same_blocks(url: str) -> None:
    plain = post(url, body("What does notes.txt say?")).json()
    _, events = stream_payloads(url, body("What does notes.txt say?"))
    final = assemble(events)
    assert [b["type"] for b in final["content"]] == ["thinking", "tool_use"]
    assert final["content"][1]["input"] == plain["content"][1]["input"] and final["stop_reason"] == "tool_use"


def test_error_delay_and_times(url: str) -> None:
    started = time.perf_counter()
    r = post(url, body("flaky request"))
    assert r.status_code == 529 and r.json()["error"] == {"type": "overloaded_error", "message": "try again"}
    assert time.perf_counter() - started >= 0.3
    again = post(url, body("flaky request"))  # times: 1, so the next one falls through
    assert again.status_code == 200 and again.json()["stop_reason"] == "end_turn"


def test_stop_reason_and_unmatched_requests(url: str) -> None:
    m = post(url, body("this is forbidden")).json()
    assert m["stop_reason"] == "refusal" and m["content"][0]["text"] == "I cannot help with that."
    # no rule: the stub's own answer (text and end_turn under tool_choice auto, even with tools)
    tools = [{"name": "Read", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}]
    m = post(url, body("repeat: plain", tools=tools)).json()
    assert m["content"] == [{"type": "text", "text": "plain"}] and m["stop_reason"] == "end_turn"


def test_json_scripts_and_an_empty_when() -> None:
    script = Script.parse(json.dumps({"rules": [{"reply": [{"text": "always"}]}]}))
    answer = script.answer({"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, ident="1")
    assert answer is not None and answer.reply is not None and answer.reply.blocks[0].text == "always"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "the top level: 'rules' is a required property"),
        ({"rules": [{"reply": [{"text": "a"}], "error": {"status": 500, "type": "api_error"}}]}, "rules.0"),
        ({"rules": [{"reply": [{"tool_use": {"input": {}}}]}]}, "rules.0.reply.0"),
        ({"rules": [{"when": {"txt": "a"}}]}, "rules.0.when: Additional properties"),
        ({"rules": [{"delay": 601}]}, "rules.0.delay: 601 is greater than the maximum of 600"),
        ({"rules": [{"when": {"text_regex": "("}, "reply": [{"text": "a"}]}]}, "not a regular expression"),
    ],
)
def test_invalid_scripts_are_one_line_errors(data: dict, message: str) -> None:
    with pytest.raises(ScriptError, match=None) as info:
        Script.from_data(data, "s.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)


def test_the_schema_example_in_the_module_doc_is_valid() -> None:
    import conformance.stub.script as module

    doc = module.__doc__ or ""
    example = doc.split("::\n", 1)[1].split("\n\n", 1)[0]
    Script.from_data(yaml.safe_load(example.replace("\n    ", "\n")))


def test_the_command_takes_a_script(script_file: Path, tmp_path: Path) -> None:
    with StubProcess(script_file=script_file) as stub:
        m = post(stub.base_url, body("What does notes.txt say?")).json()
        assert m["content"][1]["name"] == "Read"
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{reply: []}]\n", encoding="utf-8")
    done = run_cli("stub", "--port", "0", "--script", str(bad))
    assert done.returncode == 4 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"conformance stub: script {bad}: rules.0.reply: [] should be non-empty"
    ]
    missing = run_cli("stub", "--port", "0", "--script", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 4 and "cannot read script" in missing.stderr
