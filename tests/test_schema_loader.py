"""The schema loader: variant selection, readable errors, offline refs, clear load errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance._schema import SchemaLoadError, default_schema_dir, load_json_file, load_schemas

SCHEMAS = load_schemas()
EXAMPLES = sorted(default_schema_dir().glob("examples/*/*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fast_and_readable_paths_agree_with_the_label(path: Path) -> None:
    example = json.loads(path.read_text())
    validator = SCHEMAS.validator(path.parent.name)
    errors = validator.errors(example["instance"])
    assert validator.is_valid(example["instance"]) is example["valid"], example["why"]
    assert (not errors) is example["valid"], [e.message for e in errors]


@pytest.mark.parametrize(
    ("profile", "version", "stem"),
    [
        ("anthropic", "2023-06-01", "messages-request.2023-06-01"),
        ("anthropic", "2026-10-21", "messages-request.2026-10-21"),
        ("darkbloom", "2023-06-01", "messages-request.darkbloom"),
        ("darkbloom", "2026-10-21", "messages-request.darkbloom"),
    ],
)
def test_profile_and_version_select_the_variant(profile: str, version: str, stem: str) -> None:
    assert SCHEMAS.resolve("messages-request", profile=profile, version=version) == stem
    # a name without variants falls back to the plain file
    assert SCHEMAS.resolve("error", profile=profile, version=version) == "error"


def test_errors_name_the_field_what_was_expected_and_what_came() -> None:
    body = {"model": "m", "max_tokens": "64", "messages": [{"role": "robot", "content": "hi"}]}
    errors = SCHEMAS.validate("messages-request", body)
    by_pointer = {e.pointer: e for e in errors}
    assert by_pointer["/max_tokens"].expected == "type integer"
    assert by_pointer["/max_tokens"].got == '"64"'
    assert "/messages/0/role" in by_pointer
    assert by_pointer["/messages/0/role"].message.startswith("/messages/0/role: expected one of")


def test_a_bad_block_inside_a_content_array_is_explained_at_the_block() -> None:
    body = {
        "model": "m",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "x", "bogus": 1}]}],
    }
    first = SCHEMAS.validate("messages-request", body)[0]
    assert first.pointer == "/messages/0/content/0"
    assert "'bogus'" in first.got


def test_sampling_parameters_depend_on_the_version() -> None:
    body = {"model": "m", "max_tokens": 8, "temperature": 0.5, "messages": [{"role": "user", "content": "x"}]}
    assert SCHEMAS.validate("messages-request", body, version="2023-06-01") == []
    errors = SCHEMAS.validate("messages-request", body, version="2026-10-21")
    assert errors and "'temperature'" in errors[0].got


def test_unknown_names_profiles_and_versions_are_one_line_errors() -> None:
    for call, needle in [
        (lambda: SCHEMAS.validator("mesage"), "unknown schema 'mesage': known schemas are"),
        (lambda: SCHEMAS.validator("message", profile="openai"), "unknown profile 'openai'"),
        (lambda: SCHEMAS.validator("message", version="2024-01-01"), "unknown API version '2024-01-01'"),
    ]:
        with pytest.raises(SchemaLoadError) as info:
            call()
        assert needle in str(info.value) and "\n" not in str(info.value)


def test_non_json_inputs_give_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(SchemaLoadError, match=r"bad.json: not JSON: .* line 1 column 2"):
        load_json_file(tmp_path / "bad.json")
    with pytest.raises(SchemaLoadError, match="not UTF-8"):
        load_json_file(tmp_path / "latin1.json")
    with pytest.raises(SchemaLoadError, match="no such file"):
        load_json_file(tmp_path / "absent.json")
    schema_dir = tmp_path / "schemas"
    schema_dir.mkdir()
    (schema_dir / "broken.json").write_text("[1,")
    with pytest.raises(SchemaLoadError, match="broken.json: not a readable JSON schema"):
        load_schemas(schema_dir)


def test_references_never_reach_the_network(tmp_path: Path) -> None:
    # A reference outside the registry must fail to resolve, not be fetched.
    (tmp_path / "remote.json").write_text(json.dumps({"$ref": "https://example.com/schema.json"}))
    validator = load_schemas(tmp_path).validator("remote")
    with pytest.raises(Exception) as info:
        validator.errors({"x": 1})
    assert "example.com" in str(info.value)


@pytest.mark.parametrize("name", ["messages-request", "count-tokens-request"])
@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_errors_are_jsonschemas_own_with_valid_parts_skipped(name: str, version: str) -> None:
    """Validator.errors skips the parts jsonschema-rs finds valid (_pruning_validator): over
    generated invalid requests, every error list equals plain jsonschema's, in its order."""
    import jsonschema
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from conformance._schema import _to_error
    from conformance._strategies import Scope, invalid_requests

    validator = load_schemas().validator(name, profile="anthropic", version=version)
    plain = jsonschema.Draft202012Validator({"$ref": validator.path.as_uri()}, registry=validator._registry)
    compared = []

    @seed(1)
    @settings(
        max_examples=60, database=None, phases=[Phase.generate], suppress_health_check=list(HealthCheck), deadline=None
    )
    @given(
        invalid_requests(Scope(profile="anthropic", version=version, model="claude-sonnet-4-5", max_body_bytes=1 << 20))
    )
    def same_errors(req) -> None:
        body = req.body
        if isinstance(body, dict) and not validator.is_valid(body):
            expected = [_to_error(e) for e in sorted(plain.iter_errors(body), key=jsonschema.exceptions.relevance)]
            assert validator.errors(body) == expected
            compared.append(body)

    same_errors()
    assert len(compared) >= 20  # the property saw enough schema-invalid bodies to mean something


def test_a_union_no_branch_of_is_meant_for_is_explained_as_jsonschema_does_cold_and_cached() -> None:
    """Branches whose discriminator differs are explained once per discriminator value
    (_TagFirst): the errors stay jsonschema's own the first time and every time after, for
    blocks and sources of unknown types, of known types with bad fields, and of odd tag values
    (True, 1 and 1.0 among them: equal keys in Python)."""
    import jsonschema

    from conformance._schema import _to_error

    validator = load_schemas().validator("messages-request", profile="anthropic", version="2023-06-01")
    plain = jsonschema.Draft202012Validator({"$ref": validator.path.as_uri()}, registry=validator._registry)
    blocks = [
        {"type": "hologram", "text": "x"},
        {"type": "", "text": "x"},
        {"type": "text", "text": 5},
        {"type": "image", "source": {"type": "ftp", "data": "AAAA"}},
        {"type": "image", "source": {"type": "base64"}},
        {"type": ["text"], "text": "x"},
        {"type": {"t": 1}},
        {"type": None, "text": "x"},
        {"text": "no type"},
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "hologram"}]},
        # equal in Python, not in JSON: each is explained as itself
        {"type": True, "text": "x"},
        {"type": 1, "text": "x"},
        {"type": 1.0, "text": "x"},
    ]
    for _ in range(2):
        for block in blocks:
            body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [block]}]}
            expected = [_to_error(e) for e in sorted(plain.iter_errors(body), key=jsonschema.exceptions.relevance)]
            assert expected and validator.errors(body) == expected, block
            # the branches' own errors (cached per discriminator) show this block's tag, not an equal one's
            tags = [
                e.instance
                for e in _tree(validator._slow.iter_errors(body))
                if list(e.absolute_path) == ["messages", 0, "content", 0, "type"]
            ]
            assert all(type(t) is type(block.get("type")) and t == block.get("type") for t in tags), (block, tags)


def _tree(errors):
    for e in errors:
        yield e
        yield from _tree(e.context)
