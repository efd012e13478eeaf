"""The sdk family (official SDK 2.x, strict mode) against the stub: clean passes, defects fail.

Which faults break which SDK check is exact: the SDK is the outside opinion, so a fault the
SDK tolerates (e.g. an error envelope without the top-level "type") must leave it passing.
"""

from __future__ import annotations

import pytest
from family import concluded_failing, run_checks, run_resolved

from conformance._catalog import Verdict
from conformance._redact import WRONG_API_KEY
from conformance.checks import load_catalog
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.faults import BY_NAME, FAULTS

KEY = "sk-test-sdk-secret-key-123456"
MODEL = "claude-fable-5-2"  # listed first by the stub; explicit, so bearer-only runs need no discovery
CATALOG = load_catalog()
SDK_IDS = [c.id for c in CATALOG.select(profile="anthropic", patterns=["sdk.*"])]


def results(faults: list[str], patterns: tuple[str, ...] = ("sdk.*",), **config):
    return run_checks(patterns, faults, api_key=KEY, model=MODEL, timeout=10.0, total_timeout=20.0, **config)


# Defects the SDK tolerates (their trips name no sdk check): every sdk check still passes.
TOLERATED = ["openai-error-envelope", "json-errors-as-text", "bearer-only"]
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]


def failing(res) -> list[str]:
    return sorted(cid for cid, r in res.items() if r.verdict is Verdict.FAILED)


def not_passing(res) -> dict[str, str]:
    return {cid: f"{r.verdict.value}: {r.outcome.message}" for cid, r in res.items() if r.verdict is not Verdict.PASSED}


def test_clean_stub_passes_every_sdk_check() -> None:
    res = results([])
    assert sorted(res) == sorted(SDK_IDS)
    assert not_passing(res) == {}


def test_every_sdk_check_has_a_killer() -> None:
    assert sorted(set(SDK_IDS) - {i for f in FAULTS for i in named_checks(f, SDK_IDS)}) == []


# exact: a defect whose trips name sdk checks fails those and no other sdk check
@pytest.mark.parametrize("fault", faults_naming(SDK_IDS))
def test_defect_fails_exactly_the_sdk_checks_its_trips_name(fault: str) -> None:
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(("sdk.*",), [fault], api_key=KEY, model=MODEL, timeout=10.0, total_timeout=20.0)
    expected = sorted(named_checks(BY_NAME[fault], SDK_IDS))
    assert concluded_failing(view, SDK_IDS) == expected, {cid: view[cid]["message"] for cid in SDK_IDS}


@pytest.mark.parametrize("fault", TOLERATED + CONTROLS)
def test_tolerated_defects_and_controls_leave_sdk_checks_passing(fault: str) -> None:
    assert named_checks(BY_NAME[fault], SDK_IDS) == []
    assert not_passing(results([fault])) == {}


def test_failure_messages_name_the_exception_and_traffic_without_the_key() -> None:
    res = results(["chat-completion-body", "ignore-auth"], ["sdk.messages.create", "sdk.errors.authentication"])
    create = res["sdk.messages.create"].outcome.message
    assert "APIResponseValidationError" in create and "POST http://" in create and "HTTP 200" in create
    for r in res.values():
        assert KEY not in r.outcome.message


def test_failures_carry_the_sdk_exchange_as_evidence_and_name_the_rejected_field() -> None:
    import json

    res = results(["openai-stop-reasons", "unnamed-sse-events"], ["sdk.messages.create", "sdk.messages.create-stream"])
    create, stream = res["sdk.messages.create"], res["sdk.messages.create-stream"]
    # strict validation's cause: the field and the value, which the SDK's own message omits
    assert "stop_reason: Input should be" in create.outcome.message and "got 'stop'" in create.outcome.message
    [ev] = create.evidence
    assert ev["status"] == 200 and json.loads(ev["body"])["stop_reason"] == "stop" and ev["complete"]
    assert {n.lower(): v for n, v in ev["request"]["headers"]}["authorization"] == "Bearer [redacted]"
    assert "$CONFORMANCE_API_KEY" in ev["request"]["curl"] and KEY not in json.dumps(ev)
    [sev] = stream.evidence
    assert sev["content_type"] == "text/event-stream" and sev["events"], sev
    assert all(e["event"] is None for e in sev["events"]), "the unnamed events the SDK choked on are shown"


def test_wrong_key_is_public_and_never_the_real_one() -> None:
    assert WRONG_API_KEY != KEY


def test_auth_style_without_bearer_skips_the_family() -> None:
    res = results([], ["sdk.*"], auth="x-api-key")
    assert {r.verdict for r in res.values()} == {Verdict.SKIPPED}


def test_darkbloom_profile_keeps_only_non_streaming_sdk_checks() -> None:
    ids = {c.id for c in CATALOG.select(profile="darkbloom", patterns=["sdk.*"])}
    assert ids == {
        "sdk.messages.create",
        "sdk.messages.raw-response-headers",
        "sdk.errors.bad-request",
        "sdk.errors.authentication",
        "sdk.errors.not-found",
        "sdk.models.list",
    }
