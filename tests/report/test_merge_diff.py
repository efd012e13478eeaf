"""conformance report merge / diff / render: matrix, regressions, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from conformance.cli import main
from conformance.report.diff import diff
from conformance.report.junit import render_junit
from conformance.report.markdown import render_markdown
from conformance.report.matrix import build_matrix


def test_diff_regressions_fixes_and_changes(doc_factory):
    base = doc_factory({"a.x.one": "passed", "a.x.two": "failed", "a.x.three": "passed", "a.x.gone": "failed"})
    new = doc_factory({"a.x.one": "failed", "a.x.two": "passed", "a.x.three": "inconclusive", "a.x.new": "error"})
    d = diff(base, new)
    assert [(i["id"], i["before"], i["after"]) for i in d["regressions"]] == [
        ("a.x.one", "passed", "failed"),
        ("a.x.new", None, "error"),
    ]
    assert [i["id"] for i in d["fixes"]] == ["a.x.two"]
    assert [(i["id"], i["after"]) for i in d["changes"]] == [("a.x.three", "inconclusive")]
    assert [i["id"] for i in d["removed"]] == ["a.x.gone"]


def test_diff_gate_limits_levels(doc_factory):
    base = doc_factory({"a.x.one": "passed"}, level="SHOULD")
    new = doc_factory({"a.x.one": "failed"}, level="SHOULD")
    assert diff(base, new, "must")["regressions"] == []
    assert len(diff(base, new, "should")["regressions"]) == 1


def test_diff_cli_exit_codes(doc_factory, tmp_doc, capsys):
    base = tmp_doc("base.json", doc_factory({"a.x.one": "passed", "a.x.two": "failed"}))
    same = tmp_doc("same.json", doc_factory({"a.x.one": "passed", "a.x.two": "failed"}))
    worse = tmp_doc("worse.json", doc_factory({"a.x.one": "failed", "a.x.two": "failed"}))
    assert main(["report", "diff", str(base), str(same)]) == 0
    assert main(["report", "diff", str(base), str(worse)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSION a.x.one [MUST] passed -> failed: expected x, got y (a.x.one)" in out
    assert main(["report", "diff", str(worse), str(base), "--format", "json"]) == 0
    assert [i["id"] for i in json.loads(capsys.readouterr().out)["fixes"]] == ["a.x.one"]


def test_unusable_inputs_are_one_line_exit_2(tmp_path, doc_factory, tmp_doc):
    good = tmp_doc("good.json", doc_factory({"a.x.one": "passed"}))
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"hello": 1}')
    for args in (
        ["report", "diff", str(tmp_path / "missing.json"), str(good)],
        ["report", "diff", str(good), str(tmp_path / "bad.json")],
        ["report", "merge", str(good), str(tmp_path / "other.json"), "-o", str(tmp_path / "m")],
    ):
        proc = subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("conformance report ")


def test_merge_writes_a_matrix_of_checks_by_targets(tmp_path, doc_factory, tmp_doc, capsys):
    a = tmp_doc("vllm/results.json", doc_factory({"a.x.one": "passed", "a.x.two": "failed"}, target="http://vllm"))
    b = tmp_doc(
        "litellm/results.json", doc_factory({"a.x.one": "failed", "b.y.three": "unsupported"}, target="http://litellm")
    )
    out = tmp_path / "matrix"
    assert main(["report", "merge", str(a), str(b), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "summary.md"]
    md = (out / "summary.md").read_text()
    assert "| check | level | vllm | litellm |" in md
    assert "| `a.x.one` | MUST | ✅ | ❌ |" in md
    assert "| `b.y.three` | MUST |   | ➖ |" in md
    html = (out / "index.html").read_text()
    assert 'data-id="a.x.two"' in html and "http://litellm" in html
    assert main(["report", "merge", str(a), str(b), "-o", str(out), "--label", "only-one"]) == 2


def test_build_matrix_marks_differences(doc_factory):
    m = build_matrix(
        [
            doc_factory({"a.x.one": "passed", "a.x.two": "failed"}),
            doc_factory({"a.x.one": "passed", "a.x.two": "passed"}),
        ],
        ["A", "B"],
    )
    rows = {r["id"]: r for r in m["rows"]}
    assert not rows["a.x.one"]["differs"] and rows["a.x.two"]["differs"] and rows["a.x.two"]["problem"]


def test_render_rewrites_every_report(stub_run, tmp_path, capsys):
    assert main(["report", "render", str(stub_run.report_dir), "-o", str(tmp_path / "again")]) == 0
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again == stub_run.doc


def test_junit_survives_control_characters_and_maps_verdicts(doc_factory):
    doc = doc_factory(
        {
            "a.x.one": "failed",
            "a.x.two": "error",
            "a.x.three": "expected failure",
            "a.x.four": "unsupported",
            "a.x.five": "unexpected pass",
            "a.x.six": "passed",
        }
    )
    doc["results"][0]["message"] = "got \x00\x1b[31m bytes & <tags>"
    root = ET.fromstring(render_junit(doc).encode())
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["a.x.one"].find("failure").get("message").startswith("got \ufffd\ufffd[31m bytes & <tags>")
    assert cases["a.x.two"].find("error") is not None
    assert cases["a.x.three"].find("skipped").get("message").startswith("expected failure: ")
    assert cases["a.x.four"].find("skipped") is not None
    assert cases["a.x.five"].find("failure") is None and cases["a.x.five"].find("skipped") is None
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == (
        "6",
        "1",
        "1",
        "2",
    )


def test_markdown_escapes_and_caps(doc_factory):
    doc = doc_factory({f"a.x.c{i}": "failed" for i in range(40)})
    md = render_markdown(doc, [])
    assert md.count("\n- `a.x.c") == 25 and "… and 15 more" in md


def test_diff_a_check_moving_under_a_root_is_a_change_not_a_fix(doc_factory, tmp_doc):
    """failed alone -> folded under a new root: the root is the regression, the check a change;
    blocked -> failed alone: a change, not a regression (it was not passing before either)."""
    base = doc_factory({"a.x.root": "passed", "a.x.agg": "failed", "a.x.child": "blocked"})
    new = doc_factory({"a.x.root": "failed", "a.x.agg": "failed", "a.x.child": "failed"})
    base["results"][2]["blocked_by"] = ["a.x.root"]
    new["results"][1]["causes"] = [[["a.x.root"]]]
    from conformance.report.model import load_results

    before = load_results(tmp_doc("base.json", base))  # the folded view, as every reader sees it
    after = load_results(tmp_doc("new.json", new))
    assert [r["verdict"] for r in before["results"]] == ["passed", "failed", "failed"]  # root passed: child failed
    assert [r["verdict"] for r in after["results"]] == ["failed", "folded", "failed"]
    d = diff(before, after)
    assert [i["id"] for i in d["regressions"]] == ["a.x.root"]
    assert d["fixes"] == []
    assert [(i["id"], i["before"], i["after"]) for i in d["changes"]] == [("a.x.agg", "failed", "folded")]
    # and a matrix of the two shows the folded check with its own symbol
    matrix = build_matrix([before, after], ["base", "new"])
    row = next(r for r in matrix["rows"] if r["id"] == "a.x.agg")
    assert [c["verdict"] for c in row["cells"]] == ["failed", "folded"]
