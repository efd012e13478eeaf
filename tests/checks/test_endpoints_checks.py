"""models.* and count-tokens.*: every check passes against the clean stub and the controls,
each one fails under at least one stub defect, and a declined endpoint fails only its shape
check (the checks built on it are unsupported)."""

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

FAMILIES = ["models.*", "count-tokens.*"]
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]
IDS = [c.id for c in load_catalog().select(patterns=FAMILIES)]


@cache
def verdicts(faults: tuple[str, ...] = (), **config) -> dict[str, tuple[Verdict, str]]:
    return family_verdicts(FAMILIES, faults, model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20, **config)


def test_the_families_are_registered_for_the_anthropic_profile_only() -> None:
    catalog = load_catalog()
    assert {c.id for c in catalog.select(profile="anthropic", patterns=FAMILIES)} == set(IDS)
    assert catalog.select(profile="darkbloom", patterns=FAMILIES) == []


def test_every_check_is_named_by_some_defects_trips() -> None:
    assert sorted(set(IDS) - {cid for f in FAULTS for cid in named_checks(f, IDS)}) == []


@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_clean_stub_passes(version: str) -> None:
    results = verdicts(version=version)
    assert set(results) == set(IDS)
    assert {i: v for i, v in results.items() if v[0] is not Verdict.PASSED} == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    assert {i: v for i, v in verdicts((control,)).items() if v[0] is not Verdict.PASSED} == {}


# every defect whose trips name a check of these families fails each check they name
@pytest.mark.parametrize("fault", faults_naming(IDS))
def test_defect_fails_the_checks_its_trips_name(fault: str) -> None:
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(FAMILIES, [fault], model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20)
    named = named_checks(BY_NAME[fault], IDS)
    assert named
    missing = set(named) - set(concluded_failing(view, named))
    assert {cid: (view[cid]["verdict"], view[cid]["message"]) for cid in missing} == {}


def test_a_declined_endpoint_fails_once() -> None:
    results = verdicts(("no-count-tokens",))
    assert results["count-tokens.response.shape"][0] is Verdict.FAILED
    assert "declined" in results["count-tokens.response.shape"][1]
    for check_id in (
        "count-tokens.validation.missing-messages",
        "count-tokens.system.counted",
        "count-tokens.usage.matches-messages",
    ):
        assert results[check_id][0] is Verdict.UNSUPPORTED, check_id
    results = verdicts(("no-model-retrieve",))
    assert results["models.retrieve.unknown"][0] is Verdict.UNSUPPORTED
    assert results["models.list.shape"][0] is Verdict.PASSED


def test_pagination_failure_names_the_repeat() -> None:
    verdict, message = verdicts(("models-no-pagination",))["models.pagination.after-id"]
    assert verdict is Verdict.FAILED
    assert message.startswith("expected at most limit=1 models on page 1, got ")
