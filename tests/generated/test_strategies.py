"""The strategies: valid stays valid, invalid is invalid, what the module promises is generated.

Every valid body is checked against the request schema of its profile and version and the
cross-field rules; every MUST mutation breaks one or the other. A fixed-seed sample shows that
each promised shape occurs (roles alternating and merged, string and block content, every kind
of unicode, empty-but-legal strings, long histories, both system forms, stop_sequences,
metadata, tools with varied schemas, each tool_choice, each thinking type, stream on and off,
every mutation kind), and searches show that a failing example still shrinks to the simplest
request that shows it. These run under Hypothesis's default health checks.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from typing import Any

import pytest
from hypothesis import Phase, find, given, seed, settings
from hypothesis import strategies as st

from conformance._schema import load_schemas
from conformance._strategies import (
    TEXTS,
    TOOL_SCHEMAS,
    Scope,
    _mutation,
    cross_field_problem,
    invalid_batches,
    invalid_examples,
    invalid_requests,
    mutation_kinds,
    valid_bodies,
    valid_examples,
    valid_requests,
)

LIMIT = 65536
SCOPES = [Scope(max_body_bytes=LIMIT), Scope(version="2026-10-21", max_body_bytes=LIMIT), Scope(profile="darkbloom")]
IDS = [f"{s.profile}-{s.version}" for s in SCOPES]
# health checks on: the strategies must be healthy without suppressing any
QUICK = settings(max_examples=150, deadline=None, database=None)
SAMPLE = settings(max_examples=600, deadline=None, database=None, phases=[Phase.generate])


def sample(strategy: Any, n_seed: int = 0, n: int = 600) -> list:
    out: list = []

    @seed(n_seed)
    @settings(SAMPLE, max_examples=n)
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    collect()
    return out


# -- valid and invalid ---------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES, ids=IDS)
def test_valid_requests_are_valid(scope: Scope) -> None:
    validator = load_schemas().validator("messages-request", profile=scope.profile, version=scope.version)

    @QUICK
    @given(valid_requests(scope))
    def holds(req) -> None:
        assert validator.errors(req.body) == [] and cross_field_problem(req.body) is None, req

    holds()
    for req in valid_examples(scope):
        assert validator.errors(req.body) == [] and cross_field_problem(req.body) is None, req


@pytest.mark.parametrize("scope", SCOPES, ids=IDS)
def test_invalid_requests_break_the_contract(scope: Scope) -> None:
    validator = load_schemas().validator("messages-request", profile=scope.profile, version=scope.version)

    def broken(req) -> bool:
        if req.raw is not None or req.kind == "unknown-model":
            return True  # not JSON / oversize, or valid apart from the model id (404)
        return not validator.is_valid(req.body) or cross_field_problem(req.body) is not None

    @QUICK
    @given(invalid_requests(scope))
    def holds(req) -> None:
        assert not req.valid
        assert broken(req) or not req.must, req

    holds()
    kinds = [r.kind for r in invalid_examples(scope)]
    assert kinds.count("missing-required") == 3 and "unknown-model" in kinds
    assert ("oversize" in kinds) == (scope.max_body_bytes is not None)
    assert all(broken(r) or not r.must for r in invalid_examples(scope))


@pytest.mark.parametrize("scope", SCOPES, ids=IDS)
def test_a_batch_is_distinct_invalid_requests_from_one_valid_body(scope: Scope) -> None:
    """The fuzz properties draw invalid requests in batches, mutations of one valid body: each
    breaks the contract (its one mutation, no other), and no mutation changes the body the
    others are made from."""
    validator = load_schemas().validator("messages-request", profile=scope.profile, version=scope.version)

    def broken(req) -> bool:
        if req.raw is not None or req.kind == "unknown-model":
            return True
        return not validator.is_valid(req.body) or cross_field_problem(req.body) is not None

    @QUICK
    @given(invalid_batches(scope, 8))
    def batches_hold(batch) -> None:
        assert 1 <= len(batch) <= 8 and len({r.key() for r in batch}) == len(batch)
        assert all(not r.valid and (broken(r) or not r.must) for r in batch), batch

    @st.composite
    def mutation_of(draw, body):
        return _mutation(draw, scope, body, None)

    @QUICK
    @given(valid_bodies(scope), st.data())
    def body_untouched(body, data) -> None:
        before = json.dumps(body)
        for _ in range(4):
            req = data.draw(mutation_of(body))
            assert json.dumps(body) == before, req.kind

    batches_hold()
    body_untouched()


# -- what is covered -----------------------------------------------------------------------------


def _texts_of(body: dict) -> list[str]:
    out = []
    system = body.get("system")
    if isinstance(system, str):
        out.append(system)
    elif isinstance(system, list):
        out += [b["text"] for b in system]
    for turn in body["messages"]:
        content = turn["content"]
        if isinstance(content, str):
            out.append(content)
        else:
            out += [b["text"] for b in content if b.get("type") == "text"]
    return out


def _features(body: dict) -> set[str]:
    f: set[str] = set()
    turns = body["messages"]
    roles = [t["role"] for t in turns]
    f.add("merged roles" if any(a == b for a, b in zip(roles, roles[1:], strict=False)) else "alternating roles")
    if len(turns) >= 16:
        f.add("long history")
    if roles[-1] == "assistant":
        f.add("prefill")
    for t in turns:
        content = t["content"]
        if isinstance(content, str):
            f.add("string content")
        elif any(b.get("type") == "text" for b in content):
            f.add("block content")
            if len(content) > 1:
                f.add("several blocks")
        if isinstance(content, list) and any(b.get("type") == "tool_result" for b in content):
            f.add("tool round trip")
    text = "".join(_texts_of(body))
    for ch in text:
        cat = unicodedata.category(ch)
        if ord(ch) > 0xFFFF:
            f.add("astral")
        if cat == "Mn" or cat == "Me":
            f.add("combining")
        if unicodedata.bidirectional(ch) in ("R", "AL"):
            f.add("right-to-left")
        if ch in "\u200b\u200c\u200d\u2060\ufeff":
            f.add("zero-width")
    if any(t not in TEXTS and t != "" and not t.startswith(("repeat: ", "Count from")) for t in _texts_of(body)):
        f.add("free text")
    if any(len(t) >= 1000 for t in _texts_of(body)):
        f.add("long text")
    system = body.get("system")
    if system == "":
        f.add("empty system")
    if isinstance(system, str):
        f.add("system string")
    if isinstance(system, list):
        f.add("system blocks")
    if body.get("stop_sequences"):
        f.add("stop_sequences")
    if "metadata" in body:
        f.add("metadata")
    if "temperature" in body:
        f.add("temperature")
    if "stream" in body:
        f.add(f"stream {str(body['stream']).lower()}")
    for tool in body.get("tools", []):
        f.add(f"tool schema {TOOL_SCHEMAS.index(tool['input_schema'])}")
    if len(body.get("tools", [])) > 1:
        f.add("several tools")
    if "tool_choice" in body:
        f.add(f"tool_choice {body['tool_choice']['type']}")
    if "thinking" in body:
        f.add(f"thinking {body['thinking']['type']}")
    if any(t.startswith("repeat: ") for t in _texts_of(body)):
        f.add("repeat prompt")
    if any(t.startswith("Count from") for t in _texts_of(body)):
        f.add("count prompt")
    return f


PROMISED = {
    "alternating roles",
    "merged roles",
    "long history",
    "prefill",
    "string content",
    "block content",
    "several blocks",
    "tool round trip",
    "astral",
    "combining",
    "right-to-left",
    "zero-width",
    "free text",
    "long text",
    "empty system",
    "system string",
    "system blocks",
    "stop_sequences",
    "metadata",
    "temperature",
    "stream true",
    "stream false",
    "several tools",
    "tool_choice auto",
    "tool_choice any",
    "tool_choice tool",
    "tool_choice none",
    "thinking enabled",
    "thinking adaptive",
    "thinking disabled",
    "repeat prompt",
    "count prompt",
} | {f"tool schema {i}" for i in range(len(TOOL_SCHEMAS))}


def test_valid_requests_cover_what_the_module_promises() -> None:
    seen: Counter = Counter()
    for body in sample(valid_bodies(Scope()), n=1500):
        seen.update(_features(body))
    assert PROMISED - set(seen) == set(), f"never generated: {sorted(PROMISED - set(seen))}"


def test_darkbloom_requests_stay_in_the_documented_subset() -> None:
    seen: Counter = Counter()
    for body in sample(valid_bodies(Scope(profile="darkbloom"))):
        assert set(body) <= {"model", "messages", "max_tokens", "system"}
        assert all(isinstance(t["content"], str) for t in body["messages"])
        seen.update(_features(body))
    wanted = {
        "alternating roles",
        "merged roles",
        "long history",
        "astral",
        "combining",
        "right-to-left",
        "zero-width",
        "free text",
        "empty system",
        "system string",
    }
    assert wanted - set(seen) == set()


@pytest.mark.parametrize("scope", SCOPES, ids=IDS)
def test_every_mutation_kind_is_generated(scope: Scope) -> None:
    kinds = Counter(r.kind for r in sample(invalid_requests(scope)))
    assert set(kinds) == set(mutation_kinds(scope))


# -- shrinking -----------------------------------------------------------------------------------

SHRINK = settings(database=None, deadline=None, max_examples=2000)


def test_the_simplest_request_is_minimal() -> None:
    simplest = find(valid_bodies(Scope()), lambda _: True, settings=SHRINK)
    assert simplest == {"model": Scope().model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}


def minimal(strategy: Any, condition: Any, n_seed: int) -> Any:
    """The example a property failing on ``condition`` shrinks to (seeded: deterministic)."""
    failing: list = []

    @seed(n_seed)
    @settings(SHRINK, report_multiple_bugs=False)
    @given(strategy)
    def prop(value: Any) -> None:
        if condition(value):
            failing.append(value)
            raise AssertionError

    with pytest.raises(AssertionError):
        prop()
    return failing[-1]  # Hypothesis ends by re-running the minimal example


@pytest.mark.parametrize("n_seed", [0, 1, 2])
@pytest.mark.parametrize(
    "wanted, check",
    [
        ("streaming", lambda b: b.get("stream") is True),
        (
            "astral text in the last turn",
            lambda b: any(ord(c) > 0xFFFF for c in json.dumps(b["messages"][-1], ensure_ascii=False)),
        ),
        ("a forced tool", lambda b: b.get("tool_choice", {}).get("type") == "tool"),
        (
            "two user turns in a row",
            lambda b: any(
                x["role"] == y["role"] == "user" and isinstance(x["content"], str)
                for x, y in zip(b["messages"], b["messages"][1:], strict=False)
            ),
        ),
    ],
    ids=["stream", "astral", "forced-tool", "merged"],
)
def test_a_failing_example_shrinks_to_what_shows_it(wanted: str, check: Any, n_seed: int) -> None:
    """A property failing on ``wanted`` shrinks to a request with nothing else in it."""
    body = minimal(valid_bodies(Scope()), check, n_seed)
    assert check(body)
    extra = set(body) - {"model", "messages", "max_tokens", "stream", "tools", "tool_choice"}
    assert extra == set(), (wanted, body)
    assert len(body["messages"]) <= 2 and body["max_tokens"] == 1, (wanted, body)
    if wanted != "a forced tool":
        assert "tools" not in body, (wanted, body)
    else:
        assert len(body["tools"]) == 1 and body["tools"][0]["input_schema"] == TOOL_SCHEMAS[0], body


@pytest.mark.parametrize("n_seed", [0, 1])
def test_a_failing_mutation_shrinks_to_a_minimal_body(n_seed: int) -> None:
    req = minimal(invalid_requests(Scope(max_body_bytes=LIMIT)), lambda r: r.kind == "truncated-json", n_seed)
    assert req.raw is not None and len(req.raw) == 1  # the simplest body, cut after one byte
