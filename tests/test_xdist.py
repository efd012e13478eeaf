"""pytest-xdist runs of the suites: one bundled stub per run, and checks that share state on one worker.

The controller starts the stub and hands its URL to every worker (``pytest_configure_node``),
and schedules by :func:`conformance.plugin.share_group`, so the SDK import, shared probes and
a fuzz property's answer cache are built once per run, not once per worker; the schemathesis
checks are two groups whose workers share the pass's parts through a directory of the run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from conformance.plugin import share_group

ROOT = Path(__file__).resolve().parents[1]


def test_share_groups() -> None:
    assert share_group("sdk.messages.create") == share_group("sdk.errors.not-found") == "sdk"
    assert share_group("fuzz.schemathesis.not-a-server-error") == "fuzz.schemathesis"
    assert share_group("fuzz.schemathesis.ignored-auth") == "fuzz.schemathesis.late"  # parts shared by directory
    assert share_group("fuzz.valid.accepted") != share_group("fuzz.invalid.never-5xx")
    assert share_group("models.list.shape") == share_group("count-tokens.response.shape")
    assert share_group("stream.grammar.event-named") == "stream"


def test_workers_share_one_stub_and_each_group_runs_on_one_worker(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "-v",
        f"--report-dir={report_dir}",
        "--checks=sdk.*",
        "--checks=auth.*",
        "--checks=errors.*",
        "--checks=response.*",
        "--checks=stream.*",
        "--checks=request.*",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "scheduling tests via ShareGroupScheduling" in out, out[-3000:]

    workers: dict[str, set[str]] = defaultdict(set)
    first: dict[str, str] = {}  # worker -> the group of the first check it reported
    for worker, check_id in re.findall(r"\[(gw\d+)\] \[[ \d]+%\] PASSED \S+::(\S+)", out):
        workers[share_group(check_id)].add(worker)
        first.setdefault(worker, share_group(check_id))
    assert set(workers) == {"sdk", "auth", "errors", "response", "stream", "request"}, out[-3000:]
    # the longest group goes first (GROUP_SECONDS), though xdist alone would start with the
    # groups of most checks (stream, request)
    assert first[next(iter(workers["sdk"]))] == "sdk", first
    assert all(len(w) == 1 for w in workers.values()), dict(workers)
    assert len(set().union(*workers.values())) == 2, "both workers got work"

    doc = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    hosts = {urlsplit(ev["request"]["url"]).netloc for r in doc["results"] for ev in r.get("evidence", [])}
    assert len(hosts) == 1, f"the workers talked to {len(hosts)} stubs: {hosts}"


def test_the_schemathesis_pass_split_across_workers_gives_the_serial_verdicts(tmp_path: Path) -> None:
    """Under -n 2 the two schemathesis groups share the pass's parts through a directory of the
    run (each part drawn once, whichever worker claims it): the verdicts and case counts are the
    serial run's, a fault is caught the same way, and the directory is gone after the run."""
    runs = {}
    for name, extra in (("serial", []), ("xdist", ["-n", "2"])):
        temp = tmp_path / name / "tmp"
        temp.mkdir(parents=True)
        report_dir = tmp_path / name / "reports"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            *extra,
            f"--report-dir={report_dir}",
            "--checks=fuzz.schemathesis.*",
            "--checks=auth.*",
            "--stub-fault=ignore-auth",
            "--examples=8",
            "--fuzz-seconds=120",
            "--hypothesis-seed=3",
        ]
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "TMPDIR": str(temp)}
        )
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1, out[-3000:]
        doc = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
        runs[name] = {
            r["id"]: (r["verdict"], re.match(r"\d+ schemathesis cases|", r["message"]).group()) for r in doc["results"]
        }
        assert not list(temp.glob("conformance-run-*")), "the run's share directory was left behind"
    assert runs["xdist"] == runs["serial"]
    # failed as concluded, shown under the auth check that reports the same defect
    assert runs["serial"]["fuzz.schemathesis.ignored-auth"][0] == "folded"
    assert runs["serial"]["fuzz.schemathesis.not-a-server-error"][0] == "passed"
