"""models.* and count-tokens.*: every check passes against the clean stub and the controls,
each one fails under at least one stub defect, and a declined endpoint fails only its shape
check (the checks built on it are unsupported)."""

from __future__ import annotations

from functools import lru_cache

import pytest

from conformance._catalog import Verdict, load_catalog
from conformance._run import RunConfig, RunContext, run_check
from conformance.stub.catalog import SDK_MODEL_IDS
from conformance.stub.faults import FAULTS
from conformance.stub.server import serve_in_thread

KEY = "test-key"
FAMILIES = ["models.*", "count-tokens.*"]
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]


@lru_cache(maxsize=None)
def verdicts(faults: tuple[str, ...] = (), profile: str = "anthropic", version: str = "2023-06-01") -> dict[str, tuple[Verdict, str]]:
    checks = load_catalog().select(profile=profile, patterns=FAMILIES)
    with serve_in_thread(api_keys=[KEY], faults=list(faults)) as url:
        config = RunConfig(target=url, api_key=KEY, model=SDK_MODEL_IDS[0], profile=profile, anthropic_version=version,
                           timeout=10, total_timeout=20)
        with RunContext.open(config) as ctx:
            return {c.id: (r.verdict, r.outcome.message) for c in checks for r in [run_check(ctx, c)]}


def test_the_families_are_registered_for_the_anthropic_profile_only() -> None:
    catalog = load_catalog()
    assert {c.id for c in catalog.select(patterns=FAMILIES)} == set(KILLS)
    assert catalog.select(profile="darkbloom", patterns=FAMILIES) == []


@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_clean_stub_passes(version: str) -> None:
    results = verdicts((), "anthropic", version)
    assert set(results) == set(KILLS)
    assert {i: v for i, v in results.items() if v[0] is not Verdict.PASSED} == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    assert {i: v for i, v in verdicts((control,)).items() if v[0] is not Verdict.PASSED} == {}


# check id -> a defect fault that must make it fail
KILLS = {
    "models.list.shape": "models-openai-shape",
    "models.pagination.after-id": "models-no-pagination",
    "models.retrieve.shape": "no-model-retrieve",
    "models.retrieve.unknown": "wrong-error-type",
    "count-tokens.response.shape": "no-count-tokens",
    "count-tokens.validation.missing-messages": "server-error-on-bad-input",
    "count-tokens.system.counted": "ignore-system",
    "count-tokens.usage.matches-messages": "count-tokens-mismatch",
}
ALSO = [
    ("count-tokens.validation.missing-messages", "no-validation"),
]


@pytest.mark.parametrize("check_id,fault", sorted(KILLS.items()) + ALSO)
def test_defect_fails_check(check_id: str, fault: str) -> None:
    verdict, message = verdicts((fault,))[check_id]
    assert verdict is Verdict.FAILED, f"{check_id} under {fault}: {verdict.value} ({message})"


def test_a_declined_endpoint_fails_once() -> None:
    results = verdicts(("no-count-tokens",))
    assert results["count-tokens.response.shape"][0] is Verdict.FAILED
    assert "declined" in results["count-tokens.response.shape"][1]
    for check_id in ("count-tokens.validation.missing-messages", "count-tokens.system.counted",
                     "count-tokens.usage.matches-messages"):
        assert results[check_id][0] is Verdict.UNSUPPORTED, check_id
    results = verdicts(("no-model-retrieve",))
    assert results["models.retrieve.unknown"][0] is Verdict.UNSUPPORTED
    assert results["models.list.shape"][0] is Verdict.PASSED


def test_pagination_failure_names_the_repeat() -> None:
    verdict, message = verdicts(("models-no-pagination",))["models.pagination.after-id"]
    assert verdict is Verdict.FAILED
    assert message.startswith("expected at most limit=1 models on page 1, got ")
