"""The gate: exit codes, --gate should, and the expected-failures file, end to end and in parts.

End-to-end runs go through `conformance run` in a subprocess against the bundled stub with a
fault on, selecting a few checks so each run takes seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance._config import RunSetupError
from conformance._gate import ExpectedFailures, gate_verdict


def run(tmp_path: Path, *args: str) -> tuple[int, dict | None, str]:
    report = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "-q", f"--report-dir={report}", *args],
        capture_output=True,
        text=True,
        timeout=240,
    )
    results = report / "results.json"
    doc = json.loads(results.read_text()) if results.exists() else None
    return proc.returncode, doc, proc.stdout + proc.stderr


def verdicts(doc: dict) -> dict[str, str]:
    return {r["id"]: r["verdict"] for r in doc["results"]}


def write_expectations(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "expected.yaml"
    path.write_text(json.dumps(entries))  # JSON is YAML too
    return path


FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
PAST = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def test_a_must_failure_fails_the_gate_and_an_expectation_excuses_it(tmp_path: Path) -> None:
    code, doc, out = run(tmp_path, "--stub-fault", "bearer-only", "--checks", "auth.accept.*")
    assert code == 1, out
    assert verdicts(doc)["auth.accept.x-api-key"] == "failed"
    assert doc["gate"]["exit_code"] == 1

    listed = write_expectations(tmp_path, [{"id": "auth.accept.x-api-key", "reason": "OPS-1", "expires": FUTURE}])
    code, doc, out = run(
        tmp_path, "--stub-fault", "bearer-only", "--checks", "auth.accept.*", "--expect-failures", str(listed)
    )
    assert code == 0, out
    assert verdicts(doc)["auth.accept.x-api-key"] == "expected failure"
    assert verdicts(doc)["auth.accept.bearer"] == "passed"


def test_an_expired_expectation_no_longer_excuses(tmp_path: Path) -> None:
    expired = write_expectations(tmp_path, [{"id": "auth.accept.x-api-key", "reason": "OPS-1", "expires": PAST}])
    code, doc, out = run(
        tmp_path, "--stub-fault", "bearer-only", "--checks", "auth.accept.*", "--expect-failures", str(expired)
    )
    assert code == 1, out
    result = next(r for r in doc["results"] if r["id"] == "auth.accept.x-api-key")
    assert result["verdict"] == "failed" and "expired" in result["note"]


def test_a_listed_check_that_passes_is_an_unexpected_pass(tmp_path: Path) -> None:
    listed = write_expectations(
        tmp_path, [{"id": "auth.accept.bearer", "reason": "fixed upstream?", "expires": FUTURE}]
    )
    code, doc, out = run(tmp_path, "--checks", "auth.accept.*", "--expect-failures", str(listed))
    assert code == 0, out
    assert verdicts(doc)["auth.accept.bearer"] == "unexpected pass"


def test_should_failures_count_only_with_gate_should(tmp_path: Path) -> None:
    args = ("--stub-fault", "no-request-id", "--checks", "errors.request-id.*")
    code, doc, out = run(tmp_path, *args)
    assert code == 0, out
    assert set(verdicts(doc).values()) == {"failed"}  # both checks are SHOULD and both failed
    code, doc, out = run(tmp_path, *args, "--gate", "should")
    assert code == 1, out


def test_no_check_run_is_never_a_pass(tmp_path: Path) -> None:
    # --auth x-api-key leaves the bearer check out: the only selected check is skipped.
    code, doc, out = run(tmp_path, "--checks", "auth.accept.bearer", "--auth", "x-api-key")
    assert code == 5, out


def test_bad_options_are_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, needle in [
        (("--checks", "nosuch.*"), "matches no check ID"),
        (("--profile", "openai"), "unknown profile 'openai'"),
        (("--expect-failures", str(tmp_path / "absent.yaml")), "does not exist"),
    ]:
        code, _, out = run(tmp_path, *args)
        assert code == 2, out
        assert needle in out and "Traceback" not in out


def rows(*pairs: tuple[str, str]) -> list[dict]:
    return [{"id": f"x.y.{i}", "level": level, "verdict": verdict} for i, (level, verdict) in enumerate(pairs)]


def test_gate_verdict_rules() -> None:
    assert gate_verdict(rows(("MUST", "passed"), ("SHOULD", "failed")))[0] == 0
    assert gate_verdict(rows(("MUST", "passed"), ("SHOULD", "failed")), "should")[0] == 1
    assert gate_verdict(rows(("MUST", "error")))[0] == 1
    assert gate_verdict(rows(("MUST", "expected failure"), ("MUST", "unexpected pass")))[0] == 0
    assert gate_verdict(rows(("MUST", "inconclusive"), ("MUST", "unsupported")))[0] == 0
    assert gate_verdict(rows(("MUST", "skipped")))[0] == 5
    assert gate_verdict([])[0] == 5


def test_gate_line_counts_failures_and_errors_apart() -> None:
    # a harness error is not a failure of the target: the line says which is which
    assert gate_verdict(rows(("MUST", "error"), ("MUST", "error")))[1] == "GATE FAILED (MUST): 2 errors: x.y.0, x.y.1"
    assert (
        gate_verdict(rows(("MUST", "failed"), ("MUST", "error")))[1]
        == "GATE FAILED (MUST): 1 failed, 1 error: x.y.0, x.y.1"
    )
    assert gate_verdict(rows(("MUST", "failed"), ("SHOULD", "error")))[1] == "GATE FAILED (MUST): 1 failed: x.y.0"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{id: x}", "expected a list"),
        ("- {id: auth.accept.bearer}", "needs a string 'id' and 'reason'"),
        ("- {id: no.such.check, reason: r}", "unknown check 'no.such.check'"),
        ("- {id: auth.accept.bearer, reason: r, expires: 'soon'}", "bad date"),
        ("- [unclosed", "not readable YAML/JSON"),
    ],
)
def test_expectations_file_errors_are_one_line(tmp_path: Path, content: str, needle: str) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(content)
    with pytest.raises(RunSetupError) as info:
        ExpectedFailures.load(path, known_ids=["auth.accept.bearer"])
    assert needle in str(info.value) and "\n" not in str(info.value)
