"""A real run (stub with faults, canary key, two xdist workers) and the four reports it writes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from report_helpers import CANARY, FAULTS

from conformance.report.markdown import MAX_FAILURES
from conformance.report.model import problems, schema_errors

pytestmark = pytest.mark.slow

FILES = ("index.html", "results.json", "junit.xml", "summary.md")


def test_the_gate_fails_and_every_report_is_written(stub_run):
    assert stub_run.returncode == 1, stub_run.output[-3000:]
    assert sorted(p.name for p in stub_run.report_dir.iterdir()) == sorted(FILES)


def test_no_file_and_no_terminal_line_carries_the_api_key(stub_run):
    forms = {CANARY, json.dumps(CANARY)[1:-1], CANARY[8:40]}
    for path in stub_run.report_dir.rglob("*"):
        data = path.read_bytes()
        for form in forms:
            assert form.encode() not in data, f"{path.name} leaks the API key"
    for form in forms:
        assert form not in stub_run.output
    # the evidence still says where the key went: reproduction commands read it from a variable
    assert "$CONFORMANCE_API_KEY" in (stub_run.report_dir / "results.json").read_text()


def test_results_json_validates_and_counts_agree(stub_run):
    doc = stub_run.doc
    assert schema_errors(doc) == []
    results = doc["results"]
    counted: dict[str, int] = {}
    for r in results:
        counted[r["verdict"]] = counted.get(r["verdict"], 0) + 1
    assert doc["counts"] == counted
    assert len({r["id"] for r in results}) == len(results)
    assert doc["format"] == {"name": "conformance-results", "version": 2}
    assert doc["gate"]["exit_code"] == 1


def test_results_follow_catalog_order_under_xdist(stub_run):
    from conformance.checks import load_catalog

    order = [c.id for c in load_catalog().select(profile="anthropic")]
    ids = [r["id"] for r in stub_run.doc["results"]]
    assert ids == [cid for cid in order if cid in ids]


def test_junit_has_one_case_per_check_with_level_and_ref(stub_run):
    tree = ET.parse(stub_run.report_dir / "junit.xml")
    cases = tree.getroot().findall(".//testcase")
    results = {r["id"]: r for r in stub_run.doc["results"]}
    assert sorted(c.get("name") for c in cases) == sorted(results)
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.findall("properties/property")}
        r = results[case.get("name")]
        assert props["level"] == r["level"] and props["ref"] == r["ref"] and props["verdict"] == r["verdict"]
        assert "conformance_result" not in props
        assert (case.find("failure") is not None) == (r["verdict"] == "failed")
    suite = tree.getroot().find("testsuite")
    assert int(suite.get("tests")) == len(results)
    assert int(suite.get("failures")) == stub_run.doc["counts"].get("failed", 0)


def test_diagnoses_name_the_injected_defects(stub_run):
    found = {d["id"]: d for d in stub_run.doc["diagnoses"]}
    assert {"chat-completion-body", "done-sentinel", "openai-error-envelope"} <= set(found)
    failing = {r["id"] for r in stub_run.doc["results"] if r["verdict"] == "failed"}
    for d in found.values():
        assert d["checks"] and set(d["checks"]) <= failing


def test_markdown_summary_names_gate_failures_and_diagnoses(stub_run):
    md = (stub_run.report_dir / "summary.md").read_text()
    doc = stub_run.doc
    assert doc["gate"]["verdict"] in md
    failing = problems(doc)
    for r in failing[:MAX_FAILURES]:
        assert f"- `{r['id']}` **{r['level']}** failed: " in md
    if len(failing) > MAX_FAILURES:
        assert f"… and {len(failing) - MAX_FAILURES} more" in md
    assert "chat.completion body on /v1/messages" in md
    assert md.count("\n") < 120  # short enough for a pull-request comment


def test_terminal_shows_families_failures_diagnoses_reports_and_gate(stub_run):
    out = stub_run.output
    section = out[out.index("= conformance =") :]
    for family in {r["family"] for r in stub_run.doc["results"]}:
        assert re.search(rf"^{re.escape(family)}\s+\d+ ", section, re.M), family
    for r in stub_run.doc["results"]:
        if r["verdict"] == "failed":
            assert f"FAILED {r['id']} [{r['level']}]: " in section
    assert "DIAGNOSIS chat.completion body on /v1/messages" in section
    assert f"reports written to {stub_run.report_dir}/: index.html, " in section
    assert stub_run.doc["gate"]["verdict"].split(":")[0] in section
    assert "Traceback" not in out
    assert FAULTS  # the faults the run used are the ones diagnosed above


def test_one_defect_one_red_line_across_the_reports(stub_run):
    """Blocked and folded checks are shown under a root that is itself shown failing, in
    results.json, JUnit (skipped, the root named), the terminal and pytest's own count line."""
    doc = stub_run.doc
    by_id = {r["id"]: r for r in doc["results"]}
    under = [r for r in doc["results"] if r["verdict"] in ("blocked", "folded")]
    assert under, "the faults of this run block or fold no check"
    for r in under:
        assert r["under"] and all(u in by_id for u in r["under"]), r["id"]
        assert r["raw_verdict"] in ("blocked", "failed"), r["id"]
    from conformance._fold import effective_roots

    for r in under:
        assert effective_roots(r, by_id), r["id"]
        assert all(x["verdict"] in ("failed", "error", "expected failure") for x in effective_roots(r, by_id))
    cases = {c.get("name"): c for c in ET.parse(stub_run.report_dir / "junit.xml").getroot().findall(".//testcase")}
    for r in under:
        skipped = cases[r["id"]].find("skipped")
        assert skipped is not None and r["under"][0] in skipped.get("message", ""), r["id"]
        assert cases[r["id"]].find("failure") is None
    n_folded = sum(r["verdict"] == "folded" for r in doc["results"])
    n_blocked = sum(r["verdict"] == "blocked" for r in doc["results"])
    counts = re.findall(r"=+ (.*) in [\d.]+s", stub_run.output)[-1]
    if n_folded:
        assert f"{n_folded} folded" in counts and "same cause:" in stub_run.output
    if n_blocked:
        assert f"{n_blocked} blocked" in counts and "blocked by it:" in stub_run.output
    # the gate line names no check shown under a gated root
    for r in under:
        assert r["id"] not in doc["gate"]["verdict"] or "(blocked by" in doc["gate"]["verdict"]
