"""schemathesis (property-based, from schemas/openapi.yaml) against the running stub finds
no failure at a modest budget. The body schemas in openapi.yaml are the 2023-06-01 ones, so the
version header is pinned to 2023-06-01 (see the document's description).

schemathesis is used as a library here (its strategies and checks, one test per operation),
not through its pytest plugin: the checkout's pytest runs with ``-p no:schemathesis``, which
spares every pytest process (each xdist worker, each ``conformance run``) the plugin's import.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance
from stub_helpers import KEY, V1

from conformance._schema import default_schema_dir, load_schemas

OPENAPI = default_schema_dir() / "openapi.yaml"
schema = schemathesis.openapi.from_path(OPENAPI)
_SCHEMAS = load_schemas()
VALIDATORS = {
    "/v1/messages": _SCHEMAS.validator("messages-request", version=V1),
    "/v1/messages/count_tokens": _SCHEMAS.validator("count-tokens-request", version=V1),
}


def cross_field_problems(body: Any) -> list[str]:
    """Contract rules a JSON Schema cannot state (§1.5, §1.6); the stub answers 400 for them."""
    found: list[str] = []
    if not isinstance(body, dict):
        return found
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled" and thinking.get("budget_tokens", 0) >= body.get("max_tokens", 0):
        found.append("thinking.budget_tokens")
    choice = body.get("tool_choice") or {}
    custom = [t for t in body.get("tools") or [] if "input_schema" in t]
    if choice.get("type") == "any" and not custom:
        found.append("tool_choice")
    if choice.get("type") == "tool" and choice.get("name") not in [t.get("name") for t in custom]:
        found.append("tool_choice")
    return found


OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_stub_conforms_to_openapi(operation: Any, stub_url: str) -> None:
    # both generation modes, as schemathesis's own pytest integration draws them
    cases = st.one_of([operation.as_strategy(generation_mode=mode) for mode in schema.config.generation.modes])

    @settings(
        max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.generate], database=None
    )
    @given(cases)
    def conforms(case: schemathesis.Case) -> None:
        _conforms(case, stub_url)

    conforms()


def _conforms(case: schemathesis.Case, stub_url: str) -> None:
    hdrs = {"x-api-key": KEY}
    if (case.headers or {}).get("anthropic-version") == "2026-10-21":
        hdrs["anthropic-version"] = V1  # the bodies are 2023-06-01 ones; invalid versions stay
    valid = (
        case.method == "POST"
        and isinstance(case.body, dict)
        and (case.headers or {}).get("anthropic-version") in ("2023-06-01", "2026-10-21")
        and VALIDATORS[case.path].is_valid(case.body)
    )
    problems = cross_field_problems(case.body) if valid else []
    if not problems:
        case.call_and_validate(base_url=stub_url, headers=hdrs, timeout=10)
        return
    # schema-valid but against a cross-field rule: every other check still runs, and the 400
    # must name the field
    response = case.call_and_validate(
        base_url=stub_url, headers=hdrs, timeout=10, excluded_checks=[positive_data_acceptance]
    )
    if response.status_code not in (401, 404):
        message = response.json()["error"]["message"]
        assert response.status_code == 400 and any(p in message for p in problems), response.text
