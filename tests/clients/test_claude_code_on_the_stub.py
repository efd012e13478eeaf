"""The stub as an offline backend for Claude Code.

Only against the stub, which is ours and trusted, may Claude Code have a tool: here it is
``Read``, and a script (``conformance stub --script``) drives a two-step conversation: the
stub asks to read a file this test made, Claude Code reads it and sends its content back, the
stub answers with the final text, and Claude Code finishes (exit 0). Without a script, with
every default tool on, the stub's answer to ``tool_choice: auto`` is text, so Claude Code's
loop ends after one request.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance._redact import Redactor
from conformance.clients._sandbox import run_claude_code
from conformance.stub.server import ThreadedStub

KEY = "sk-offline-backend-test-0123456789"
MODEL = "claude-opus-4-7"
SECRET = "the secret word is saffron-4711"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text(SECRET + "\n", encoding="utf-8")
    return work


def _stub(script: Path | None) -> ThreadedStub:
    stub = ThreadedStub(api_keys=[KEY], script_file=script)
    stub.start()
    return stub


def test_claude_code_reads_a_file_and_finishes(clients, workdir: Path, tmp_path: Path) -> None:
    notes = workdir / "notes.txt"
    script = tmp_path / "two-steps.yaml"
    script.write_text(
        f"""
rules:
  - name: final-answer
    when: {{tool_name: Read, tool_result: "saffron-4711"}}
    reply:
      - text: "The notes say: saffron-4711."
  - name: read-the-file
    when: {{text: "What do the notes say?"}}
    reply:
      - text: "Let me read them."
      - tool_use: {{name: Read, input: {{file_path: "{notes}"}}}}
""",
        encoding="utf-8",
    )
    stub = _stub(script)
    try:
        run = run_claude_code(
            clients,
            target=stub.base_url,
            redactor=Redactor({KEY: "CONFORMANCE_API_KEY"}),
            prompt="What do the notes say?",
            model=MODEL,
            api_key=KEY,
            timeout=10.0,
            bound=60.0,
            tools="Read",
            workdir=workdir,
        )
    finally:
        stub.request_stop()
        stub.join()
    assert run.process.exit_code == 0, (run.process.stdout[-500:], run.process.stderr[-500:])
    assert run.result is not None and run.result["result"] == "The notes say: saffron-4711."
    bodies = [json.loads(ex.request.body) for ex in run.exchanges]
    assert [t["name"] for t in bodies[0]["tools"]] == ["Read"]
    results = [
        b
        for m in bodies[-1]["messages"]
        if m["role"] == "user" and isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    assert len(results) == 1 and not results[0].get("is_error") and "saffron-4711" in json.dumps(results[0])
    assert run.requests == 2 and [ex.status for ex in run.exchanges] == [200, 200]


def test_with_every_default_tool_the_loop_ends_at_once(clients, tmp_path: Path) -> None:
    """The issue's "before": with its default tools, Claude Code sent 1179 requests in 30 s to a
    stub that answered tool_choice auto with placeholder tool calls (Bash {"command": "command"},
    sub-agents), and never ended. Now the stub answers with text."""
    stub = _stub(None)
    try:
        run = run_claude_code(
            clients,
            target=stub.base_url,
            redactor=Redactor({KEY: "CONFORMANCE_API_KEY"}),
            prompt="Say hello in one short sentence.",
            model=MODEL,
            api_key=KEY,
            timeout=10.0,
            bound=60.0,
            tools="default",
        )
    finally:
        stub.request_stop()
        stub.join()
    assert run.process.exit_code == 0 and run.result is not None and run.result["is_error"] is False
    offered = [t["name"] for t in json.loads(run.exchanges[0].request.body)["tools"]]
    assert "Bash" in offered and "Read" in offered  # the default tools (of --bare) were on
    assert run.requests == 1
