"""response.*: every check passes against the clean stub and the controls, and each one fails
under at least one stub defect (the faults below)."""

from __future__ import annotations

from functools import lru_cache

import pytest

from conformance._catalog import Verdict, load_catalog
from conformance._run import RunConfig, RunContext, run_check
from conformance.stub.catalog import SDK_MODEL_IDS
from conformance.stub.faults import FAULTS
from conformance.stub.server import serve_in_thread

KEY = "test-key"
FAMILY = "response.*"
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]


@lru_cache(maxsize=None)
def verdicts(faults: tuple[str, ...] = (), profile: str = "anthropic", version: str = "2023-06-01") -> dict[str, tuple[Verdict, str]]:
    checks = load_catalog().select(profile=profile, patterns=[FAMILY])
    with serve_in_thread(api_keys=[KEY], faults=list(faults)) as url:
        config = RunConfig(target=url, api_key=KEY, model=SDK_MODEL_IDS[0], profile=profile, anthropic_version=version,
                           timeout=10, total_timeout=20)
        with RunContext.open(config) as ctx:
            return {c.id: (r.verdict, r.outcome.message) for c in checks for r in [run_check(ctx, c)]}


def test_the_family_is_registered() -> None:
    ids = {c.id for c in load_catalog().select(patterns=[FAMILY])}
    assert ids == set(KILLS)


@pytest.mark.parametrize("profile,version", [("anthropic", "2023-06-01"), ("anthropic", "2026-10-21"), ("darkbloom", "2023-06-01")])
def test_clean_stub_passes(profile: str, version: str) -> None:
    results = verdicts((), profile, version)
    assert results
    assert {i: v for i, v in results.items() if v[0] is not Verdict.PASSED} == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    failed = {i: v for i, v in verdicts((control,)).items() if v[0] is not Verdict.PASSED}
    assert failed == {}


# check id -> a defect fault that must make it fail
KILLS = {
    "response.shape.message-schema": "tool-input-as-string",
    "response.shape.json-content-type": "message-text-content-type",
    "response.shape.no-openai-fields": "chat-completion-body",
    "response.ids.msg-prefix": "non-msg-ids",
    "response.ids.unique": "duplicate-ids",
    "response.stop-reason.enum": "openai-stop-reasons",
    "response.stop-sequence.null-unless-stopped": "stop-sequence-not-echoed",
    "response.usage.required-ints": "missing-output-tokens",
    "response.headers.request-id": "x-request-id-only",
}
KNOWN = {f.name for f in FAULTS}


@pytest.mark.parametrize("check_id,fault", sorted(KILLS.items()))
def test_defect_fails_check(check_id: str, fault: str) -> None:
    if fault not in KNOWN:
        pytest.xfail(f"the stub has no fault {fault!r} yet (requested)")
    verdict, message = verdicts((fault,))[check_id]
    assert verdict is Verdict.FAILED, f"{check_id} under {fault}: {verdict.value} ({message})"


def test_failure_messages_say_expected_and_got() -> None:
    verdict, message = verdicts(("chat-completion-body",))["response.stop-reason.enum"]
    assert verdict is Verdict.FAILED
    assert message.startswith("expected a documented stop_reason, got")
    verdict, message = verdicts(("duplicate-ids",))["response.ids.unique"]
    assert "the same id" in message
