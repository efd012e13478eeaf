"""Each diagnosis pattern against the stub fault that produces it; none on the clean stub or controls."""

from __future__ import annotations

from functools import lru_cache

import pytest

from conformance._run import RunConfig, RunContext, preflight, results_document, run_check
from conformance.checks import load_catalog
from conformance.report.diagnosis import PATTERNS, diagnose
from conformance.stub.faults import BY_NAME
from conformance.stub.server import serve_in_thread

KEY = "diagnosis-test-key-0123456789"

# pattern id -> the stub fault that reproduces it
PRODUCED_BY = {
    "openai-error-envelope": "openai-error-envelope",
    "openai-stream": "openai-stream",
    "unnamed-sse-events": "unnamed-sse-events",
    "done-sentinel": "done-sentinel",
    "chat-completion-body": "chat-completion-body",
    "openai-stop-reasons": "openai-stop-reasons",
    "tool-input-as-string": "tool-input-as-string",
    "input-tokens-missing-in-message-start": "input-tokens-missing-in-message-start",
    "delta-wrong-index": "delta-index-skew",
    "buffered-stream": "buffered-stream",
    "openai-ids": "non-msg-ids",
    "openai-models-list": "models-openai-shape",
}
# everything a fault's stream/body shows, beyond its own pattern (an OpenAI stream ends with [DONE])
ALSO = {"openai-stream": {"done-sentinel"}}
CONTROLS = sorted(f.name for f in BY_NAME.values() if f.kind == "control")


@lru_cache(maxsize=None)
def _doc(fault: str | None) -> dict:
    catalog = load_catalog()
    with serve_in_thread(api_keys=[KEY], faults=[fault] if fault else [], max_body_bytes=65536) as url:
        config = RunConfig(target=url, api_key=KEY, timeout=10.0, total_timeout=20.0, max_body_bytes=65536)
        with RunContext.open(config) as ctx:
            preflight(ctx)
            results = [
                run_check(ctx, c) for c in catalog.select(profile="anthropic") if c.family not in ("sdk", "fuzz")
            ]
    return results_document(results, config, "m", "must")


def test_every_pattern_has_a_fault():
    assert set(PRODUCED_BY) == {p.id for p in PATTERNS}
    assert all(f in BY_NAME and BY_NAME[f].kind == "defect" for f in PRODUCED_BY.values())


@pytest.mark.parametrize("pattern", sorted(PRODUCED_BY))
def test_pattern_is_recognised_on_its_fault(pattern):
    fault = PRODUCED_BY[pattern]
    doc = _doc(fault)
    found = {d["id"]: d for d in diagnose(doc)}
    assert set(found) == {pattern} | ALSO.get(fault, set()), f"{fault}: {sorted(found)}"
    d = found[pattern]
    failing = {r["id"] for r in doc["results"] if r["verdict"] in ("failed", "error")}
    assert d["checks"] and set(d["checks"]) <= failing
    assert d["cause"] and d["fix"] and d["example"]


@pytest.mark.parametrize("fault", [None, *CONTROLS])
def test_nothing_is_diagnosed_on_the_clean_stub_or_a_control(fault):
    assert diagnose(_doc(fault)) == []


def test_expected_failures_are_still_diagnosed(doc_factory):
    doc = doc_factory({"stream.grammar.no-done-sentinel": "expected failure", "stream.events.schema": "passed"})
    ev = {
        "request": {"method": "POST", "url": "http://t/v1/messages"},
        "status": 200,
        "body": "",
        "events": [{"position": 0, "arrived": 0.1, "event": None, "data": "[DONE]"}],
    }
    for r in doc["results"]:
        r["evidence"] = [ev]
    assert [(d["id"], d["checks"]) for d in diagnose(doc)] == [("done-sentinel", ["stream.grammar.no-done-sentinel"])]
