"""The folded view (conformance._fold) and the gate over it: one defect, one red line."""

from __future__ import annotations

from conformance._fold import effective_roots, fold
from conformance._gate import gate_verdict


def row(cid: str, verdict: str, level: str = "MUST", **extra: object) -> dict:
    return {"id": cid, "level": level, "verdict": verdict, "message": f"{cid}: {verdict}", **extra}


def view(*rows: dict) -> dict[str, dict]:
    return {r["id"]: r for r in fold(rows)}


def test_a_blocked_check_is_shown_under_the_first_of_its_roots_that_failed() -> None:
    v = view(
        row("a.b.root1", "passed"),
        row("a.b.root2", "failed"),
        row("a.b.child", "blocked", blocked_by=["a.b.root1", "a.b.root2"]),
    )
    assert v["a.b.child"]["verdict"] == "blocked"
    assert v["a.b.child"]["raw_verdict"] == "blocked"
    assert v["a.b.child"]["under"] == ["a.b.root2"]
    assert v["a.b.root2"]["verdict"] == "failed"


def test_a_blocked_check_whose_roots_did_not_fail_is_shown_failed() -> None:
    passed = view(row("a.b.root", "passed"), row("a.b.child", "blocked", blocked_by=["a.b.root"]))
    absent = view(row("a.b.child", "blocked", blocked_by=["a.b.not-run"]))
    assert passed["a.b.child"]["verdict"] == "failed" and "under" not in passed["a.b.child"]
    assert absent["a.b.child"]["verdict"] == "failed"


def test_an_aggregate_failure_is_folded_only_when_every_violation_is_reported() -> None:
    rows = [row("n.a.one", "failed"), row("n.a.two", "passed")]
    covered = view(*rows, row("agg.x.all", "failed", causes=[[["n.a.one"]], [["n.a.two", "n.a.one"]]]))
    partly = view(*rows, row("agg.x.all", "failed", causes=[[["n.a.one"]], [["n.a.two"]]]))
    unknown = view(*rows, row("agg.x.all", "failed", causes=[[["n.a.one"]], []]))
    assert covered["agg.x.all"]["verdict"] == "folded" and covered["agg.x.all"]["under"] == ["n.a.one"]
    assert partly["agg.x.all"]["verdict"] == "failed"
    assert unknown["agg.x.all"]["verdict"] == "failed"


def test_aggregates_fold_under_an_aggregate_nothing_narrow_explains_but_never_under_themselves() -> None:
    v = view(
        row("agg.x.schema", "failed", causes=[[["n.a.passing"]]]),
        row("agg.x.sdk", "failed", causes=[[["agg.x.schema"]]]),
        row("agg.x.self", "failed", causes=[[["agg.x.self"]]]),
        row("n.a.passing", "passed"),
    )
    assert v["agg.x.schema"]["verdict"] == "failed"
    assert v["agg.x.sdk"]["verdict"] == "folded" and v["agg.x.sdk"]["under"] == ["agg.x.schema"]
    assert v["agg.x.self"]["verdict"] == "failed"


def test_checks_blocking_one_another_leave_one_failed_and_the_rest_under_it() -> None:
    v = view(
        row("a.b.one", "blocked", blocked_by=["a.b.two"]),
        row("a.b.two", "blocked", blocked_by=["a.b.one"]),
        row("a.b.three", "blocked", blocked_by=["a.b.two"]),
    )
    assert v["a.b.one"]["verdict"] == "failed"
    assert v["a.b.two"]["verdict"] == "blocked" and v["a.b.two"]["under"] == ["a.b.one"]
    assert [r["id"] for r in effective_roots(v["a.b.three"], v)] == ["a.b.one"]


def test_the_view_is_idempotent_and_keeps_the_raw_verdict() -> None:
    rows = [row("n.a.one", "failed"), row("agg.x.all", "failed", causes=[[["n.a.one"]]])]
    once = fold(rows)
    assert fold(once) == once
    assert [r["raw_verdict"] for r in once] == ["failed", "failed"]


def test_the_gate_counts_a_blocked_check_only_through_its_root() -> None:
    must_root = [row("n.a.root", "failed"), row("n.a.child", "blocked", blocked_by=["n.a.root"])]
    code, line = gate_verdict(must_root, "must")
    assert code == 1 and line.startswith("GATE FAILED (MUST): 1 failed: n.a.root") and "child" not in line


def test_a_gated_check_under_an_ungated_root_fails_the_gate_itself() -> None:
    rows = [
        row("n.a.root", "failed", level="SHOULD"),
        row("n.a.child", "blocked", blocked_by=["n.a.root"]),
        row("agg.x.all", "failed", causes=[[["n.a.root"]]]),
    ]
    code, line = gate_verdict(rows, "must")
    assert code == 1
    assert "2 blocked by an ungated check" in line
    assert "n.a.child (blocked by n.a.root)" in line and "agg.x.all (blocked by n.a.root)" in line
    assert gate_verdict(rows, "should")[1] == "GATE FAILED (SHOULD): 1 failed: n.a.root"


def test_an_expected_failure_of_the_root_excuses_what_it_blocks() -> None:
    rows = [row("n.a.root", "expected failure"), row("n.a.child", "blocked", blocked_by=["n.a.root"])]
    assert gate_verdict(rows, "must")[0] == 0
    assert fold(rows)[1]["under"] == ["n.a.root"]
