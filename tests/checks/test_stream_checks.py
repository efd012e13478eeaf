"""The stream family against the stub: clean passes, each defect fails its checks, controls pass.

Grammar rules that no stub fault breaks are shown to fail on synthetic streams (recorded
exchanges fed through the same judge), so every ``stream.*`` check is seen failing.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from family import concluded_failing, run_resolved
from family import verdicts as family_verdicts

from conformance._catalog import Verdict
from conformance._exchange import Exchange, RecordedRequest
from conformance._grammar import RULES
from conformance._sse import SSEParser
from conformance.checks import load_catalog, stream
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.faults import BY_NAME, FAULTS

CATALOG = load_catalog()
STREAM_IDS = [c.id for c in CATALOG.select(profile="anthropic", patterns=["stream.*"])]


def verdicts(faults: list[str], patterns: tuple[str, ...] = ("stream.*",)) -> dict[str, tuple[Verdict, str]]:
    return family_verdicts(patterns, faults, timeout=10.0, total_timeout=20.0)


def failed(results: dict[str, tuple[Verdict, str]]) -> set[str]:
    return {cid for cid, (v, _) in results.items() if v is Verdict.FAILED}


CONTROLS = [f.name for f in FAULTS if f.kind == "control"]


@pytest.fixture(scope="module")
def clean() -> dict[str, tuple[Verdict, str]]:
    return verdicts([])


def test_clean_stub_passes_every_stream_check(clean) -> None:
    assert set(clean) == set(STREAM_IDS)
    bad = {cid: vm for cid, vm in clean.items() if vm[0] is not Verdict.PASSED}
    assert bad == {}


# a defect whose trips name stream checks fails each of them (each check of the family is
# named by some defect's trips or broken by a synthetic stream in SYNTHETIC below)
@pytest.mark.parametrize("fault", faults_naming(STREAM_IDS))
def test_defect_fails_the_stream_checks_its_trips_name(fault: str) -> None:
    named = named_checks(BY_NAME[fault], STREAM_IDS)
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    got = set(concluded_failing(run_resolved(tuple(named), [fault], timeout=10.0, total_timeout=20.0)))
    assert set(named) <= got, f"{fault}: expected {named} to fail, failed: {sorted(got)}"


@pytest.mark.parametrize("fault", CONTROLS)
def test_control_leaves_stream_checks_passing(fault: str) -> None:
    results = verdicts([fault])
    assert {cid: vm for cid, vm in results.items() if vm[0] is not Verdict.PASSED} == {}


# -- synthetic streams for grammar rules no stub fault breaks -------------------------------

START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 1},
    },
}


def _start_block(i: int, block: dict | None = None) -> tuple[str, dict]:
    return "content_block_start", {
        "type": "content_block_start",
        "index": i,
        "content_block": block or {"type": "text", "text": ""},
    }


def _delta(i: int, delta: dict | None = None) -> tuple[str, dict]:
    return "content_block_delta", {
        "type": "content_block_delta",
        "index": i,
        "delta": delta or {"type": "text_delta", "text": "Hi"},
    }


def _stop_block(i: int) -> tuple[str, dict]:
    return "content_block_stop", {"type": "content_block_stop", "index": i}


def _message_delta(
    stop_reason: str | None = "end_turn", stop_sequence: str | None = None, output_tokens: int = 2
) -> tuple[str, dict]:
    return "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
        "usage": {"output_tokens": output_tokens},
    }


STOP = ("message_stop", {"type": "message_stop"})
ERROR = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
THINK = {"type": "thinking", "thinking": ""}


def _text_stream(*middle: tuple[str, object]) -> list[tuple[str, object]]:
    return [("message_start", START), *middle]


def _exchange(events: list[tuple[str | None, object]]) -> Exchange:
    wire = b""
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        wire += (f"event: {name}\n" if name else "").encode() + f"data: {text}\n\n".encode()
    parser = SSEParser()
    parsed = parser.feed(wire, 0.001) + parser.close(0.002)
    return Exchange(
        request=RecordedRequest("POST", "http://stub.invalid/v1/messages", (), b"{}", stream=True),
        status=200,
        headers=(("content-type", "text/event-stream"),),
        body=wire,
        events=parsed,
        complete=True,
        is_stream=True,
    )


def _declined() -> Exchange:
    body = b'{"type":"error","error":{"type":"not_found_error","message":"no"}}'
    return Exchange(
        request=RecordedRequest("POST", "http://stub.invalid/v1/messages", (), b"{}", stream=True),
        status=404,
        headers=(("content-type", "application/json"),),
        body=body,
        complete=True,
    )


def _judge(check_id: str, events: list[tuple[str | None, object]]):
    runs = {"stream-basic": stream.judge_stream("basic text stream", _exchange(events))}
    for name in ("stream-tool", "stream-thinking", "stream-mid-error"):
        runs[name] = stream.judge_stream(name, _declined())
    ctx = SimpleNamespace(probe=runs.__getitem__, config=SimpleNamespace(profile="anthropic"))
    return CATALOG[check_id].judge(ctx)


GOOD = _text_stream(_start_block(0), _delta(0), _stop_block(0), _message_delta(), STOP)
SYNTHETIC: dict[str, list[tuple[str | None, object]]] = {
    "data-is-json-object": _text_stream(("content_block_start", "[1, 2]"), _stop_block(0), _message_delta(), STOP),
    "payload-structure": _text_stream(
        (
            "content_block_start",
            {"type": "content_block_start", "index": "0", "content_block": {"type": "text", "text": ""}},
        ),
        _stop_block(0),
        _message_delta(),
        STOP,
    ),
    "message-start-stop-reason-null": [
        ("message_start", {**START, "message": {**START["message"], "stop_reason": "end_turn"}}),
        *GOOD[1:],
    ],
    "block-start-once": _text_stream(
        _start_block(0), _stop_block(0), _start_block(0), _stop_block(0), _message_delta(), STOP
    ),
    "block-stop-once": _text_stream(_start_block(0), _stop_block(0), _stop_block(0), _message_delta(), STOP),
    "block-stop-open-index": _text_stream(_start_block(0), _stop_block(1), _stop_block(0), _message_delta(), STOP),
    "blocks-before-message-delta": _text_stream(
        _start_block(0), _stop_block(0), _message_delta(), _start_block(1), _stop_block(1), STOP
    ),
    "delta-type-matches-block": _text_stream(
        _start_block(0),
        _delta(0, {"type": "input_json_delta", "partial_json": "{}"}),
        _stop_block(0),
        _message_delta(),
        STOP,
    ),
    "signature-delta-last": _text_stream(
        _start_block(0, THINK),
        _delta(0, {"type": "signature_delta", "signature": "s"}),
        _delta(0, {"type": "thinking_delta", "thinking": "more"}),
        _stop_block(0),
        _message_delta(),
        STOP,
    ),
    "message-delta-present": _text_stream(_start_block(0), _delta(0), _stop_block(0), STOP),
    "message-delta-stop-reason": _text_stream(_start_block(0), _stop_block(0), _message_delta(None), STOP),
    "stop-sequence-iff": _text_stream(_start_block(0), _stop_block(0), _message_delta("stop_sequence", None), STOP),
    "output-tokens-cumulative": _text_stream(
        _start_block(0), _stop_block(0), _message_delta(output_tokens=5), _message_delta(output_tokens=3), STOP
    ),
    "message-stop-once": [*GOOD, STOP],
    "error-envelope": _text_stream(("error", {"type": "error", "error": "overloaded"})),
    "error-ends-stream": _text_stream(_start_block(0), ERROR, _stop_block(0)),
}


def test_every_stream_check_has_a_killer() -> None:
    killed = {cid for f in FAULTS for cid in named_checks(f, STREAM_IDS)} | {f"stream.grammar.{r}" for r in SYNTHETIC}
    assert sorted(set(STREAM_IDS) - killed) == []
    assert {f"stream.grammar.{r}" for r in RULES} <= set(STREAM_IDS)


def test_synthetic_good_stream_passes_every_grammar_rule() -> None:
    outcomes = {r: _judge(f"stream.grammar.{r}", GOOD) for r in RULES}
    needs_content = {
        "thinking-signature",
        "signature-delta-last",
        "tool-input-json",
        "error-envelope",
        "error-ends-stream",
    }
    for rule, outcome in outcomes.items():
        expected = Verdict.INCONCLUSIVE if rule in needs_content else Verdict.PASSED
        assert outcome.verdict is expected, (rule, outcome)


@pytest.mark.parametrize("rule", sorted(SYNTHETIC))
def test_synthetic_stream_fails_its_grammar_rule(rule: str) -> None:
    outcome = _judge(f"stream.grammar.{rule}", SYNTHETIC[rule])
    assert outcome.verdict is Verdict.FAILED, outcome
    assert "basic text stream" in outcome.message
