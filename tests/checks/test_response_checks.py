"""response.*: every check passes against the clean stub and the controls, and each one fails
under at least one stub defect (the faults whose trips name it)."""

from __future__ import annotations

from functools import cache

import pytest
from family import concluded_failing, run_resolved
from family import verdicts as family_verdicts

from conformance._catalog import Verdict
from conformance.checks import load_catalog
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.catalog import SDK_MODEL_IDS
from conformance.stub.faults import BY_NAME, FAULTS

FAMILY = "response.*"
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]
IDS = [c.id for c in load_catalog().select(patterns=[FAMILY])]


@cache
def verdicts(faults: tuple[str, ...] = (), **config) -> dict[str, tuple[Verdict, str]]:
    return family_verdicts(FAMILY, faults, model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20, **config)


def test_every_check_is_named_by_some_defects_trips() -> None:
    assert IDS
    assert sorted(set(IDS) - {cid for f in FAULTS for cid in named_checks(f, IDS)}) == []


@pytest.mark.parametrize(
    "profile,version", [("anthropic", "2023-06-01"), ("anthropic", "2026-10-21"), ("darkbloom", "2023-06-01")]
)
def test_clean_stub_passes(profile: str, version: str) -> None:
    results = verdicts(profile=profile, version=version)
    assert results
    assert {i: v for i, v in results.items() if v[0] is not Verdict.PASSED} == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    failed = {i: v for i, v in verdicts((control,)).items() if v[0] is not Verdict.PASSED}
    assert failed == {}


# every defect whose trips name a check of the family fails each check they name
@pytest.mark.parametrize("fault", faults_naming(IDS))
def test_defect_fails_the_checks_its_trips_name(fault: str) -> None:
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(FAMILY, [fault], model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20)
    named = named_checks(BY_NAME[fault], IDS)
    assert named
    missing = set(named) - set(concluded_failing(view, named))
    assert {cid: (view[cid]["verdict"], view[cid]["message"]) for cid in missing} == {}


def test_failure_messages_say_expected_and_got() -> None:
    verdict, message = verdicts(("openai-stop-reasons",))["response.stop-reason.enum"]
    assert verdict is Verdict.FAILED
    assert message.startswith("expected a documented stop_reason, got")
    verdict, message = verdicts(("duplicate-ids",))["response.ids.unique"]
    assert "the same id" in message
