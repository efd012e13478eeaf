"""The JSON Schemas in schemas/ against their labelled examples, the SSE transcripts and openapi.yaml.

Uses jsonschema + referencing directly (not the conformance loader), so it checks the files
themselves: each schemas/*.json is registered under its file:// URI and nothing is fetched.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest
import referencing
import referencing.exceptions
import yaml
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
EXAMPLES = SCHEMAS / "examples"
STREAM = EXAMPLES / "stream"
OPENAPI = SCHEMAS / "openapi.yaml"

SCHEMA_FILES = sorted(SCHEMAS.glob("*.json"))
DATA_SCHEMA_FILES = sorted((SCHEMAS / "data").glob("*.schema.json"))
EXAMPLE_DIRS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir() and p.name != "stream")
EXAMPLE_FILES = [f for d in EXAMPLE_DIRS for f in sorted(d.glob("*.json"))]
# stream-event has one extra valid example per event type; those are named valid-event-<type>.json.
EVENT_TYPES = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def registry() -> referencing.Registry:
    resources = [(p.as_uri(), DRAFT202012.create_resource(_load(p))) for p in SCHEMA_FILES]
    # openapi.yaml too, so its internal "#/components/..." references and JSON pointers into it resolve.
    resources.append((OPENAPI.as_uri(), DRAFT202012.create_resource(yaml.safe_load(OPENAPI.read_text()))))
    return referencing.Registry().with_resources(resources)


_validators: dict[str, jsonschema.Draft202012Validator] = {}


def validator_for(uri: str, registry: referencing.Registry) -> jsonschema.Draft202012Validator:
    if uri not in _validators:
        _validators[uri] = jsonschema.Draft202012Validator({"$ref": uri}, registry=registry)
    return _validators[uri]


def schema_validator(stem: str, registry: referencing.Registry) -> jsonschema.Draft202012Validator:
    path = SCHEMAS / f"{stem}.json"
    assert path.is_file(), f"no schema file for example folder {stem!r}"
    return validator_for(path.as_uri(), registry)


# ---------------------------------------------------------------- the schema files themselves


def test_expected_schema_files_exist() -> None:
    names = {p.name for p in SCHEMA_FILES}
    expected = {
        "defs.json",
        "messages-request.2023-06-01.json",
        "messages-request.2026-10-21.json",
        "messages-request.darkbloom.json",
        "message.json",
        "message.darkbloom.json",
        "error.json",
        "stream-event.json",
        "count-tokens-request.2023-06-01.json",
        "count-tokens-request.2026-10-21.json",
        "count-tokens-response.json",
        "model-info.json",
        "model-info.2026-10-21.json",
        "model-page.json",
        "model-page.2026-10-21.json",
    }
    assert expected <= names, sorted(expected - names)
    pattern = re.compile(r"^[a-z][a-z-]*(\.(2023-06-01|2026-10-21|darkbloom))?\.json$")
    assert [n for n in names if not pattern.match(n)] == []


@pytest.mark.parametrize("path", SCHEMA_FILES + DATA_SCHEMA_FILES, ids=lambda p: p.name)
def test_schema_is_valid_2020_12(path: Path) -> None:
    schema = _load(path)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in json.dumps(schema), "no $id anywhere: files are registered at their file:// URI"
    assert schema.get("title") and "§" in schema.get("description", ""), "title and a description citing the contract"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolves(ref: str, base: Path, registry: referencing.Registry) -> bool:
    resolver = registry.resolver(base_uri=base.as_uri())
    try:
        resolver.lookup(ref)
    except referencing.exceptions.Unresolvable:
        return False
    return True


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.name)
def test_every_ref_in_schema_file_resolves(path: Path, registry: referencing.Registry) -> None:
    refs = set(_refs(_load(path)))
    assert [r for r in refs if not _resolves(r, path, registry)] == []


# ---------------------------------------------------------------- labelled examples


def test_every_schema_has_an_example_folder_and_vice_versa() -> None:
    # defs.json holds definitions only; sdk.json and beta.json extend the others when loaded
    # (conformance/_schema.py), their instances are checked by tests/test_sdk_drift.py and the stub tests
    stems = {p.stem for p in SCHEMA_FILES if p.name not in ("defs.json", "sdk.json", "beta.json")}
    folders = {d.name for d in EXAMPLE_DIRS}
    assert stems == folders


@pytest.mark.parametrize("folder", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_example_folder_has_two_valid_and_two_invalid(folder: Path) -> None:
    files = sorted(folder.glob("*.json"))
    assert [f.name for f in files if not re.match(r"^(valid|invalid)-[a-z0-9-]+\.json$", f.name)] == []
    # the per-event-type extras of stream-event do not count towards the 2 + 2
    valid = [f for f in files if f.name.startswith("valid-") and not f.name.startswith("valid-event-")]
    invalid = [f for f in files if f.name.startswith("invalid-")]
    assert len(valid) >= 2 and len(invalid) >= 2, (len(valid), len(invalid))


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_example_matches_its_label(path: Path, registry: referencing.Registry) -> None:
    example = _load(path)
    assert set(example) == {"why", "valid", "instance"}
    assert isinstance(example["why"], str) and example["why"].strip()
    assert example["valid"] is path.name.startswith("valid-"), "file name prefix and label disagree"
    errors = list(schema_validator(path.parent.name, registry).iter_errors(example["instance"]))
    if example["valid"]:
        assert errors == [], [e.message for e in errors]
    else:
        assert errors, "labelled invalid but the schema accepts it"


def test_one_valid_example_per_stream_event_type(registry: referencing.Registry) -> None:
    uri = (SCHEMAS / "stream-event.json").as_uri()
    for event_type in EVENT_TYPES:
        path = EXAMPLES / "stream-event" / f"valid-event-{event_type.replace('_', '-')}.json"
        instance = _load(path)["instance"]
        assert instance["type"] == event_type
        defn = "".join(part.capitalize() for part in event_type.split("_")) + "Event"
        assert validator_for(f"{uri}#/$defs/{defn}", registry).is_valid(instance), defn


def _example(stem: str, slug: str) -> Any:
    return _load(EXAMPLES / stem / f"{slug}.json")["instance"]


@pytest.mark.parametrize("stem", ["messages-request.2023-06-01", "messages-request.2026-10-21"])
def test_everything_at_once_request_covers_every_parameter_and_block(stem: str) -> None:
    """The everything-at-once example really uses every top-level field and every input block type."""
    schema = _load(SCHEMAS / f"{stem}.json")
    instance = _example(stem, "valid-everything-at-once")
    assert set(schema["properties"]) == set(instance)
    defs = _load(SCHEMAS / "defs.json")["$defs"]
    block_types = {
        defs[r["$ref"].split("/")[-1]]["properties"]["type"]["const"] for r in defs["ContentBlockParam"]["anyOf"]
    }
    used = {b["type"] for m in instance["messages"] if isinstance(m["content"], list) for b in m["content"]}
    assert block_types <= used, sorted(block_types - used)
    nested = json.dumps(instance)
    assert '"type": "tool_reference"' in nested
    tool_types = {t.get("type") for t in instance["tools"]}
    for ref in defs["ToolUnionParam"]["anyOf"][1:]:  # every server tool definition (anyOf[0] is the custom tool)
        type_schema = defs[ref["$ref"].split("/")[-1]]["properties"]["type"]
        assert set(type_schema.get("enum", [type_schema.get("const")])) & tool_types, ref


def test_darkbloom_example_request_is_valid_everywhere(registry: referencing.Registry) -> None:
    request = _example("messages-request.darkbloom", "valid-darkbloom-doc-example")
    for stem in ["messages-request.darkbloom", "messages-request.2023-06-01", "messages-request.2026-10-21"]:
        assert schema_validator(stem, registry).is_valid(request), stem


# ---------------------------------------------------------------- SSE transcripts


def _parse_sse(text: str) -> list[tuple[str | None, str]]:
    """Split a transcript into (event name, data) pairs, strictly: only `event:` and `data:` lines."""
    assert text.endswith("\n\n"), "every event ends with a blank line"
    events = []
    for chunk in text[:-2].split("\n\n"):
        name, data = None, []
        for line in chunk.split("\n"):
            field, sep, value = line.partition(":")
            assert sep, f"not a field line: {line!r}"
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                assert name is None, "two event: lines"
                name = value
            elif field == "data":
                data.append(value)
            else:
                raise AssertionError(f"unexpected field {field!r}")
        events.append((name, "\n".join(data)))
    return events


def _check_grammar(types: list[str], payloads: list[dict]) -> None:
    """Contract §3.3: message_start {ping} {block} message_delta {message_delta} message_stop."""
    assert types[0] == "message_start" and types[-1] == "message_stop" and types.count("message_stop") == 1
    i, expected_index = 1, 0
    while types[i] in ("ping", "content_block_start"):
        if types[i] == "ping":
            i += 1
            continue
        assert payloads[i]["index"] == expected_index
        i += 1
        while types[i] in ("content_block_delta", "ping"):
            assert types[i] == "ping" or payloads[i]["index"] == expected_index
            i += 1
        assert types[i] == "content_block_stop" and payloads[i]["index"] == expected_index
        i += 1
        expected_index += 1
    assert types[i:-1] and set(types[i:-1]) == {"message_delta"}


@pytest.mark.parametrize("name", ["text.sse", "tool_use.sse"])
def test_sse_transcript(name: str, registry: referencing.Registry) -> None:
    events = _parse_sse((STREAM / name).read_text(encoding="utf-8"))
    validator = schema_validator("stream-event", registry)
    payloads = []
    for event_name, data in events:
        assert event_name, "every event is named"
        payload = json.loads(data)
        assert payload["type"] == event_name
        errors = [e.message for e in validator.iter_errors(payload)]
        assert errors == [], (event_name, errors)
        payloads.append(payload)
    types = [p["type"] for p in payloads]
    _check_grammar(types, payloads)
    assert "[DONE]" not in (STREAM / name).read_text()
    if name == "text.sse":
        assert "ping" in types
        assert payloads[-2]["delta"]["stop_reason"] == "end_turn"
    else:
        starts = [p["content_block"]["type"] for p in payloads if p["type"] == "content_block_start"]
        assert starts == ["text", "tool_use"]
        fragments = [
            p["delta"]["partial_json"]
            for p in payloads
            if p["type"] == "content_block_delta" and p["delta"]["type"] == "input_json_delta"
        ]
        assert fragments[0] == "" and len(fragments) >= 3
        assert isinstance(json.loads("".join(fragments)), dict)
        assert payloads[-2]["delta"]["stop_reason"] == "tool_use"


# ---------------------------------------------------------------- openapi.yaml


@pytest.fixture(scope="module")
def openapi() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def test_every_ref_in_openapi_resolves_offline(openapi: dict, registry: referencing.Registry) -> None:
    refs = set(_refs(openapi))
    assert any(r.startswith("./") for r in refs) and any(r.startswith("#/") for r in refs)
    assert [r for r in refs if not _resolves(r, OPENAPI, registry)] == []


def test_openapi_loads_with_schemathesis() -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_path(str(OPENAPI))
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == {
        "POST /v1/messages",
        "POST /v1/messages/count_tokens",
        "GET /v1/models",
        "GET /v1/models/{model_id}",
    }


def node_ref_parts(ref: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/")]


def _response_schema_validator(openapi: dict, path: str, method: str, status: str, registry: referencing.Registry):
    response = openapi["paths"][path][method]["responses"][status]
    pointer = ["paths", path, method, "responses", status]
    if "$ref" in response:  # an OpenAPI response reference, not a schema reference
        pointer = node_ref_parts(response["$ref"])
        response = openapi
        for part in pointer:
            response = response[part]
    assert "$ref" in response["content"]["application/json"]["schema"]
    escaped = "/".join(
        p.replace("~", "~0").replace("/", "~1") for p in pointer + ["content", "application/json", "schema"]
    )
    return validator_for(f"{OPENAPI.as_uri()}#/{escaped}", registry)


def test_messages_200_schema_through_openapi(openapi: dict, registry: referencing.Registry) -> None:
    validator = _response_schema_validator(openapi, "/v1/messages", "post", "200", registry)
    completed = _example("message", "valid-darkbloom-doc-example-completed")
    verbatim = _example("message.darkbloom", "valid-darkbloom-doc-example")
    chat_completion = _example("message", "invalid-openai-chat-completion")
    assert chat_completion["object"] == "chat.completion"
    assert validator.is_valid(completed)
    # The Darkbloom page's example response as printed lacks model and stop_sequence (contract §2.1, §9.11).
    missing = {e.message for e in validator.iter_errors(verbatim)}
    assert missing == {"'model' is a required property", "'stop_sequence' is a required property"}
    assert {k: v for k, v in completed.items() if k not in ("model", "stop_sequence")} == verbatim
    assert not validator.is_valid(chat_completion)


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "413", "429", "500", "529"])
def test_error_schema_through_openapi(status: str, openapi: dict, registry: referencing.Registry) -> None:
    for path, method in [
        ("/v1/messages", "post"),
        ("/v1/messages/count_tokens", "post"),
        ("/v1/models", "get"),
        ("/v1/models/{model_id}", "get"),
    ]:
        validator = _response_schema_validator(openapi, path, method, status, registry)
        assert validator.is_valid(_example("error", "valid-anthropic-envelope"))
        assert not validator.is_valid({"error": {"type": "invalid_request_error", "message": "x"}})


def test_openapi_security_and_version_header(openapi: dict) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert {"type": "apiKey", "in": "header", "name": "x-api-key"}.items() <= schemes["ApiKeyAuth"].items()
    assert schemes["BearerAuth"]["type"] == "http" and schemes["BearerAuth"]["scheme"] == "bearer"
    version = openapi["components"]["parameters"]["AnthropicVersion"]
    assert version["in"] == "header" and version["name"] == "anthropic-version"
    assert version["schema"]["enum"] == ["2023-06-01", "2026-10-21"]
    limit = next(p for p in openapi["paths"]["/v1/models"]["get"]["parameters"] if p.get("name") == "limit")
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 1000)


# ---------------------------------------------------------------- error type table


def test_error_types_table() -> None:
    table = _load(SCHEMAS / "data" / "error-types.json")
    jsonschema.Draft202012Validator(_load(SCHEMAS / "data" / "error-types.schema.json")).validate(table)
    assert {row["status"]: row["type"] for row in table} == {
        400: "invalid_request_error",
        401: "authentication_error",
        402: "billing_error",
        403: "permission_error",
        404: "not_found_error",
        409: "conflict_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        504: "timeout_error",
        529: "overloaded_error",
    }
    assert {row["status"] for row in table if row["sdk_retries"]} == {409, 429, 500, 504, 529}
