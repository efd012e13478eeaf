"""client-requests.*: requests shaped like Claude Code's and the SDKs' pass against the clean stub
(under both API versions) and every control, each check fails under the defects whose trips
name it, and a correct refusal (400 invalid_request_error naming what it refuses) is reported
unsupported, not failed."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import pytest
from family import concluded_failing, run_resolved
from family import verdicts as family_verdicts

from conformance._catalog import Verdict
from conformance._exchange import Exchange, RecordedRequest
from conformance._schema import load_schemas
from conformance.checks import client_requests as cr
from conformance.checks import load_catalog
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.catalog import SDK_MODEL_IDS
from conformance.stub.faults import BY_NAME, FAULTS

FAMILY = "client-requests.*"
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]
IDS = [c.id for c in load_catalog().select(patterns=[FAMILY])]


@cache
def verdicts(faults: tuple[str, ...] = (), **config: Any) -> dict[str, tuple[Verdict, str]]:
    return family_verdicts(FAMILY, faults, model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20, **config)


def _not_passed(results: dict[str, tuple[Verdict, str]]) -> dict[str, tuple[Verdict, str]]:
    return {i: v for i, v in results.items() if v[0] is not Verdict.PASSED}


def test_the_family_is_in_the_catalog_for_the_anthropic_profile_only() -> None:
    assert len(IDS) == 14 and all(i.startswith("client-requests.") for i in IDS)
    assert load_catalog().select(profile="darkbloom", patterns=[FAMILY]) == []


def test_every_check_is_named_by_some_defects_trips() -> None:
    assert sorted(set(IDS) - {cid for f in FAULTS for cid in named_checks(f, IDS)}) == []


@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_clean_stub_passes(version: str) -> None:
    results = verdicts(version=version)
    assert set(results) == set(IDS)
    assert _not_passed(results) == {}


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    assert _not_passed(verdicts((control,))) == {}


@pytest.mark.parametrize("fault", faults_naming(IDS))
def test_defect_fails_the_checks_its_trips_name(fault: str) -> None:
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(FAMILY, [fault], model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20)
    named = named_checks(BY_NAME[fault], IDS)
    assert named
    missing = set(named) - set(concluded_failing(view, named))
    assert {cid: (view[cid]["verdict"], view[cid]["message"]) for cid in missing} == {}


def test_a_named_refusal_is_unsupported_not_failed() -> None:
    """string-content-only refuses block content with a 400 that names the field: Claude Code's
    whole request is then a decline the client can act on (the tools and thinking checks fail
    there only because forced tool use and thinking worked with string content)."""
    results = verdicts(("string-content-only",))
    assert results["client-requests.claude-code.full-request"][0] is Verdict.UNSUPPORTED
    assert results["client-requests.cache-control.accepted"][0] is Verdict.UNSUPPORTED
    assert results["client-requests.decline.names-unsupported"][0] is Verdict.PASSED


def test_the_failures_say_what_came_back() -> None:
    query = verdicts(("beta-query-404",))["client-requests.beta.query"]
    assert "HTTP 404" in query[1] and "without ?beta=true" in query[1]
    crash = verdicts(("context-management-500",))["client-requests.beta.context-management"]
    assert "HTTP 500" in crash[1]
    dropped = verdicts(("cache-control-text-dropped",))["client-requests.cache-control.text-read"]
    assert cr.ECHO_WORD in dropped[1] and "input tokens" in dropped[1]
    unnamed = verdicts(("beta-fields-400-unnamed",))["client-requests.decline.names-unsupported"]
    assert "'invalid request body'" in unnamed[1]
    stream = verdicts(("no-validation",))["client-requests.errors.invalid-stream"]
    assert "HTTP 200 text/event-stream stream" in stream[1]


# -- the request shapes against the schemas ---------------------------------------------------


class _Ctx:
    """Just enough of a run context to build the bodies."""

    model = "claude-test"
    schemas = load_schemas()


def test_claude_code_shape_is_valid_under_the_betas_only() -> None:
    """The schemas accept Claude Code's request (cache_control scope, context_management)
    when it comes as a beta request, and only then."""
    schemas = _Ctx.schemas
    body = {k: v for k, v in cr.claude_code_body(_Ctx()).items()}  # type: ignore[arg-type]
    for version in ("2023-06-01", "2026-10-21"):
        assert schemas.validate("messages-request", body, version=version, beta=True) == []
        plain = {e.message for e in schemas.validate("messages-request", body, version=version)}
        assert any("context_management" in m or "scope" in m for m in plain), plain
    assert len(body["tools"]) == 30
    assert all(t["input_schema"]["$schema"].endswith("2020-12/schema") for t in body["tools"])


def test_the_tool_schemas_are_valid_2020_12_schemas() -> None:
    """The real API refuses a tool whose input_schema is not valid JSON Schema 2020-12 (400
    "tools.N.custom.input_schema: JSON schema is invalid"): the probe's own must be valid."""
    for tool in cr.agent_tools():
        jsonschema.Draft202012Validator.check_schema(tool["input_schema"])
    assert len({t["name"] for t in cr.agent_tools()}) == 30


def test_cache_control_bodies_differ_only_by_the_markers() -> None:
    marked = cr.cache_control_body(_Ctx())  # type: ignore[arg-type]
    unmarked = cr.cache_control_body(_Ctx(), marked=False)  # type: ignore[arg-type]
    assert json.dumps(marked).count("cache_control") == 3 and "cache_control" not in json.dumps(unmarked)

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "cache_control"}
        return [strip(v) for v in value] if isinstance(value, list) else value

    assert strip(marked) == unmarked
    for body in (marked, unmarked):
        assert _Ctx.schemas.validate("messages-request", body) == []


def test_content_sent_back_keeps_request_fields_only() -> None:
    blocks = [
        {"type": "thinking", "thinking": "t", "signature": "sig_1", "x_extra": 1},
        {"type": "text", "text": "hi", "citations": None, "x_extra": 1},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}, "x_extra": 1},
    ]
    assert cr.as_input(_Ctx(), blocks) == [  # type: ignore[arg-type]
        {"type": "thinking", "thinking": "t", "signature": "sig_1"},
        {"type": "text", "text": "hi", "citations": None},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    ]


# -- naming what is refused -------------------------------------------------------------------


def _sent(url: str, body: Any, **headers: str) -> Exchange:
    request = RecordedRequest(
        method="POST",
        url=url,
        headers=tuple(headers.items()),
        body=json.dumps(body).encode(),
        stream=False,
    )
    return Exchange(request=request)


def test_request_names_are_fields_block_types_betas_and_the_query() -> None:
    ex = _sent(
        "http://t/v1/messages?beta=true",
        {
            "model": "m",
            "context_management": {"edits": [{"type": "clear_thinking_20251015"}]},
            "tools": [{"name": "Read", "input_schema": {"properties": {"file_path": {}}}}],
            "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1"}]}],
        },
        **{"anthropic-beta": "context-management-2025-06-27"},
    )
    names = cr.request_names(ex)
    assert {"context_management", "clear_thinking_20251015", "tool_result", "tool_use_id", "beta"} <= names
    assert {"anthropic-beta", "context-management-2025-06-27", "tools", "input_schema"} <= names
    assert not names & {"model", "type", "role", "user", "file_path", "properties"}  # generic, or a tool's own


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("context_management: Extra inputs are not permitted", "context_management"),
        ("system.1.cache_control.scope: Extra inputs are not permitted", "cache_control"),
        ("Unexpected value(s) `context-management-2025-06-27` for the `anthropic-beta` header", "anthropic-beta"),
        ("invalid request body", None),
        ("invalid tool", None),  # "tool" is no field of the request; "tools" would be
    ],
)
def test_names_any_matches_whole_words(message: str, named: str | None) -> None:
    names = {"context_management", "cache_control", "scope", "anthropic-beta", "tools", "edits"}
    assert cr.names_any(message, names) == named
