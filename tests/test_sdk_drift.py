"""The JSON Schemas in schemas/ against the installed official SDK's own types (no hand list).

Every request parameter (``TypedDict`` params of messages.create / count_tokens, plain and beta,
models.list) and every response field (pydantic ``Message``, every content block, every stream
event, ``Usage``, ``ModelInfo``, ``MessageTokensCount`` and their beta variants) is walked,
recursively, alongside the schema location that should describe it (``tests/sdk_walker.py``).
A field the schema lacks, a type it does not allow, a literal value missing from its enum, or a
``null`` it rejects where a request parameter is ``Optional`` is a finding; a finding fails the
test unless :data:`ALLOWED` names it with the reason the harness differs on purpose.

Beta types are walked against the schemas with ``schemas/beta.json`` applied (what the stub
validates a beta request with); plain types against the files as they are on disk.

``schemas/data/sdk-alignment.json`` names the SDK release the schemas were aligned with. It is
information: the walker decides. When the installed SDK is another release and the walk finds
drift, the failure says so.
"""

from __future__ import annotations

import copy
import json
import shutil
import typing
from importlib import metadata
from pathlib import Path
from typing import Any

import anthropic
import anthropic.resources.beta.messages.messages as beta_resource
import anthropic.resources.messages.messages as messages_resource
import anthropic.resources.models as models_resource
import anthropic.types as T
import anthropic.types.beta as B
import pytest
import yaml
from anthropic.types import message_count_tokens_params, message_create_params
from anthropic.types.beta import message_count_tokens_params as beta_count_tokens_params
from anthropic.types.beta import message_create_params as beta_create_params
from sdk_walker import Finding, Walker, header_params

from conformance._schema import SchemaSet, default_schema_dir

SCHEMAS = default_schema_dir()
ALIGNMENT = json.loads((SCHEMAS / "data" / "sdk-alignment.json").read_text(encoding="utf-8"))
INSTALLED = metadata.version("anthropic")
V2023, V2026 = "2023-06-01", "2026-10-21"

CREATE = message_create_params.MessageCreateParamsNonStreaming
CREATE_STREAMING = message_create_params.MessageCreateParamsStreaming
COUNT = message_count_tokens_params.MessageCountTokensParams
BETA_CREATE = beta_create_params.MessageCreateParamsNonStreaming
BETA_CREATE_STREAMING = beta_create_params.MessageCreateParamsStreaming
BETA_COUNT = beta_count_tokens_params.MessageCountTokensParams

# (id, SDK type, schema file stem, beta, request)
TARGETS: list[tuple[str, Any, str, bool, bool]] = []
for _v in (V2023, V2026):
    TARGETS += [
        (f"create-{_v}", CREATE, f"messages-request.{_v}", False, True),
        (f"create-stream-{_v}", CREATE_STREAMING, f"messages-request.{_v}", False, True),
        (f"count-tokens-{_v}", COUNT, f"count-tokens-request.{_v}", False, True),
        (f"beta-create-{_v}", BETA_CREATE, f"messages-request.{_v}", True, True),
        (f"beta-create-stream-{_v}", BETA_CREATE_STREAMING, f"messages-request.{_v}", True, True),
        (f"beta-count-tokens-{_v}", BETA_COUNT, f"count-tokens-request.{_v}", True, True),
    ]
TARGETS += [
    ("message", T.Message, "message", False, False),
    ("stream-event", T.RawMessageStreamEvent, "stream-event", False, False),
    ("count-tokens-response", T.MessageTokensCount, "count-tokens-response", False, False),
    (f"model-info-{V2023}", T.ModelInfo, "model-info", False, False),
    (f"model-info-{V2026}", T.ModelInfo, "model-info.2026-10-21", False, False),
    ("beta-message", B.BetaMessage, "message", True, False),
    ("beta-stream-event", B.BetaRawMessageStreamEvent, "stream-event", True, False),
    ("beta-count-tokens-response", B.BetaMessageTokensCount, "count-tokens-response", True, False),
]

_R23 = ("create-2023-06-01", "create-stream-2023-06-01", "beta-create-2023-06-01", "beta-create-stream-2023-06-01")
_C23 = ("count-tokens-2023-06-01", "beta-count-tokens-2023-06-01")
_STARTS = ("stream-event", "beta-stream-event")
_MESSAGE_START = "[type='message_start'].message[type='message']"

# Where the harness differs from the SDK on purpose: (target ids, path, kind) -> reason.
ALLOWED: dict[tuple[tuple[str, ...], str, str], str] = {
    (
        _R23,
        "container",
        "type",
    ): "2023-06-01: container is string|null; the object form is SDK-2 surface (contract §1.1, schema $comment (2))",
    (_R23[:2], "diagnostics", "missing"): "2023-06-01: diagnostics is SDK-2 surface (contract §1.1)",
    (_R23[2:], "diagnostics", "missing"): "2023-06-01: diagnostics is SDK-2 surface (contract §1.1), beta or not",
    (
        _R23[:2],
        "speed",
        "missing",
    ): "2023-06-01: speed is SDK-2 surface (contract §1.1); under 2023-06-01 only a beta request may send it (beta.json)",
    (
        _C23[:1],
        "speed",
        "missing",
    ): "2023-06-01: speed is SDK-2 surface (contract §1.1); under 2023-06-01 only a beta request may send it (beta.json)",
    (
        _R23 + _C23,
        "messages[][role='system']",
        "missing",
    ): "2023-06-01: messages[].role is user|assistant; role system is SDK-2 surface (contract §1.2)",
    (
        _R23 + _C23,
        "thinking[type='between_tools']",
        "missing",
    ): "2023-06-01: thinking between_tools is SDK-2 surface (contract §1.6)",
    (
        (f"model-info-{V2023}",),
        "[type='model'].lifecycle",
        "missing",
    ): "ModelInfo under 2023-06-01 is the SDK-0 shape; lifecycle is 2026-10-21 surface (model-info.2026-10-21.json)",
    ((f"model-info-{V2023}",), "[type='model'].deprecated_at", "missing"): "as lifecycle: 2026-10-21 surface",
    ((f"model-info-{V2023}",), "[type='model'].retires_at", "missing"): "as lifecycle: 2026-10-21 surface",
    ((f"model-info-{V2023}",), "[type='model'].line", "missing"): "as lifecycle: 2026-10-21 surface",
    (
        _STARTS,
        f"{_MESSAGE_START}.stop_reason",
        "literal",
    ): "message_start.message.stop_reason must be null (contract §3.2, §9.19); the SDK reuses Message there",
    (
        _STARTS,
        f"{_MESSAGE_START}.stop_sequence",
        "type",
    ): "message_start.message.stop_sequence must be null (contract §3.2); the SDK reuses Message there",
    (
        ("models-list",),
        "lifecycle",
        "missing",
    ): "NOT SUPPORTED: the lifecycle[] list filter of GET /v1/models (SDK 2.x, brackets array format) is not in openapi.yaml and the stub lists every model",
}


@pytest.fixture(scope="module")
def schemas() -> SchemaSet:
    return SchemaSet(SCHEMAS)  # a fresh set: beta documents built from the files as they are


def _headers() -> set[str]:
    names: set[str] = set()
    for tp in (CREATE, COUNT, BETA_CREATE, BETA_COUNT, T.ModelListParams):
        names |= set(typing.get_type_hints(tp))
    return header_params(names, messages_resource, beta_resource, models_resource)


HEADERS = _headers()


def walk(schemas: SchemaSet, tp: Any, stem: str, beta: bool, request: bool) -> tuple[list[Finding], int]:
    walker = Walker(request=request, skip_fields=HEADERS if request else ())
    found = walker.walk(tp, schemas.document(stem, beta=beta), schemas.resolver(stem, beta=beta))
    return found, walker.visited


def allowed(target: str, finding: Finding) -> str | None:
    for (targets, path, kind), reason in ALLOWED.items():
        if target in targets and finding.path == path and finding.kind == kind:
            return reason
    return None


def _explain(target: str, findings: list[Finding]) -> str:
    pin = ALIGNMENT["anthropic"]
    head = f"schemas/ drift from the installed anthropic {INSTALLED} ({target}): "
    if INSTALLED != pin:
        head += (
            f"the schemas were aligned with anthropic {pin} (schemas/data/sdk-alignment.json) and the installed "
            f"SDK is {INSTALLED}: bring the schemas up to it (beta-only surface in schemas/beta.json), then the pin. "
        )
    return head + f"{len(findings)} finding(s):\n  " + "\n  ".join(map(str, findings))


@pytest.mark.parametrize("target,tp,stem,beta,is_request", TARGETS, ids=[t[0] for t in TARGETS])
def test_schema_covers_sdk(schemas: SchemaSet, target: str, tp: Any, stem: str, beta: bool, is_request: bool) -> None:
    found, visited = walk(schemas, tp, stem, beta, is_request)
    assert visited > 0
    drift = [f for f in found if allowed(target, f) is None]
    assert not drift, _explain(target, drift)


def _models_list_schema() -> dict:
    """GET /v1/models's query parameters in openapi.yaml, as one object schema."""
    api = yaml.safe_load((SCHEMAS / "openapi.yaml").read_text(encoding="utf-8"))
    params = [p for p in api["paths"]["/v1/models"]["get"]["parameters"] if p.get("in") == "query"]
    return {"type": "object", "properties": {p["name"]: p["schema"] for p in params}, "additionalProperties": False}


def test_models_list_params(schemas: SchemaSet) -> None:
    walker = Walker(request=True, skip_fields=HEADERS)
    found = walker.walk(T.ModelListParams, _models_list_schema(), schemas.resolver("model-page"))
    assert walker.visited >= 3
    drift = [f for f in found if allowed("models-list", f) is None]
    assert not drift, _explain("models-list", drift)


def test_every_allowance_is_needed(schemas: SchemaSet) -> None:
    """An entry of ALLOWED that excuses nothing any more is stale: remove it."""
    used: set[tuple] = set()
    for target, tp, stem, beta, request in TARGETS:
        for f in walk(schemas, tp, stem, beta, request)[0]:
            for key in ALLOWED:
                if target in key[0] and f.path == key[1] and f.kind == key[2]:
                    used.add(key)
    walker = Walker(request=True, skip_fields=HEADERS)
    for f in walker.walk(T.ModelListParams, _models_list_schema(), schemas.resolver("model-page")):
        used |= {k for k in ALLOWED if "models-list" in k[0] and f.path == k[1] and f.kind == k[2]}
    assert set(ALLOWED) - used == set()


def test_alignment_pin() -> None:
    """The pin names a release; the installed one is reported (differing is not itself a failure)."""
    assert isinstance(ALIGNMENT["anthropic"], str) and ALIGNMENT["anthropic"].count(".") == 2
    assert anthropic.__version__ == INSTALLED
    print(f"schemas aligned with anthropic {ALIGNMENT['anthropic']}; installed anthropic {INSTALLED}")


def test_header_parameters_are_found_in_the_sdk_source() -> None:
    """Parameters the SDK sends as headers are read from its source, not listed by hand."""
    assert {"betas", "workspace_id", "user_profile_id"} <= HEADERS
    assert HEADERS.isdisjoint({"model", "messages", "max_tokens", "system", "tools", "metadata", "context_management"})


# ----------------------------------------------------------------------------- the walker can fail


@pytest.fixture()
def schema_copy(tmp_path: Path) -> Path:
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, target, ignore=shutil.ignore_patterns("examples"))
    return target


def _edit(path: Path, change: Any) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_walker_reports_a_removed_property(schema_copy: Path) -> None:
    _edit(schema_copy / "defs.json", lambda d: d["$defs"]["OutputConfig"]["properties"].pop("effort"))
    found, _ = walk(SchemaSet(schema_copy), CREATE, f"messages-request.{V2026}", False, True)
    assert Finding("output_config.effort", "missing", "OutputConfigParam.effort is not in the schema") in found


def test_walker_reports_a_removed_beta_parameter(schema_copy: Path) -> None:
    def drop(doc: dict) -> None:
        for entry in doc["x-extend"]:
            entry.get("properties", {}).pop("context_management", None)

    _edit(schema_copy / "beta.json", drop)
    found, _ = walk(SchemaSet(schema_copy), BETA_CREATE, f"messages-request.{V2023}", True, True)
    assert any(f.path == "context_management" and f.kind == "missing" for f in found)
    # and the plain walk of the same file never saw it: beta parameters live in beta.json only
    plain, _ = walk(SchemaSet(schema_copy), CREATE, f"messages-request.{V2023}", False, True)
    assert not any(f.path == "context_management" for f in plain)


def test_walker_reports_a_wrong_type_a_missing_literal_a_missing_branch_and_null(schema_copy: Path) -> None:
    def change(doc: dict) -> None:
        d = doc["$defs"]
        d["CacheControlEphemeral"]["properties"]["ttl"] = {"enum": ["5m"]}
        d["ToolParam"]["properties"]["description"] = {"type": "integer"}
        d["ToolChoice"]["anyOf"] = [b for b in d["ToolChoice"]["anyOf"] if not b["$ref"].endswith("ToolChoiceNone")]
        d["Metadata"]["properties"]["user_id"] = {"type": "string"}

    _edit(schema_copy / "defs.json", change)
    found = {
        (f.path, f.kind) for f in walk(SchemaSet(schema_copy), CREATE, f"messages-request.{V2026}", False, True)[0]
    }
    # a type met at several places is walked (and reported) once, at the first place
    assert any(path.endswith("cache_control[type='ephemeral'].ttl") and kind == "literal" for path, kind in found)
    assert ("tools[][type='custom'].description", "type") in found
    assert ("tool_choice[type='none']", "missing") in found
    assert ("metadata.user_id", "null") in found


def test_walker_reports_a_removed_response_field(schema_copy: Path) -> None:
    _edit(schema_copy / "defs.json", lambda d: d["$defs"]["Usage"]["properties"].pop("cache_read_input_tokens"))
    found, _ = walk(SchemaSet(schema_copy), T.Message, "message", False, False)
    assert any(f.path == "[type='message'].usage.cache_read_input_tokens" and f.kind == "missing" for f in found)


class OutputConfigParam(anthropic.types.OutputConfigParam, total=False):
    """What a newer SDK might bring: one more output_config field."""

    verbosity: typing.Literal["low", "high"]


class NewerCreateParams(CREATE, total=False):  # type: ignore[misc, valid-type]
    output_config: OutputConfigParam  # type: ignore[misc]


def test_walker_sees_a_new_sdk_field() -> None:
    """A TypedDict with one field more than the schema knows is reported (what a new SDK brings)."""
    schemas = SchemaSet(SCHEMAS)
    found, _ = walk(schemas, NewerCreateParams, f"messages-request.{V2026}", False, True)
    assert [str(f) for f in found] == [
        "output_config.verbosity: missing: OutputConfigParam.verbosity is not in the schema"
    ]


def test_overlays_are_only_added_to_copies() -> None:
    """The files on disk (what openapi.yaml and schemathesis read) stay without the overlays:
    sdk.json reaches every validation, beta.json only beta validation."""
    schemas = SchemaSet(SCHEMAS)
    plain = schemas.document(f"messages-request.{V2023}")
    beta = schemas.document(f"messages-request.{V2023}", beta=True)
    assert "context_management" not in plain["properties"] and "context_management" in beta["properties"]
    on_disk = json.loads((SCHEMAS / f"messages-request.{V2023}.json").read_text(encoding="utf-8"))
    assert on_disk == schemas.on_disk(f"messages-request.{V2023}") == plain  # sdk.json does not touch it
    defs_file = json.loads((SCHEMAS / "defs.json").read_text(encoding="utf-8"))
    assert defs_file == schemas.on_disk("defs")
    branches = [b["$ref"] for b in schemas.document("defs")["$defs"]["ToolUnionParam"]["anyOf"]]
    assert "sdk.json#/$defs/BrowserToolset20260801" in branches
    assert "sdk.json#/$defs/BrowserToolset20260801" not in [
        b["$ref"] for b in defs_file["$defs"]["ToolUnionParam"]["anyOf"]
    ]
    body = {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "browser_toolset_20260801"}],
    }
    assert schemas.validate("messages-request", body) == []
    assert copy.deepcopy(plain) == plain
