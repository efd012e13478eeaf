"""The whole conformance run against a hostile server, one misbehaviour per test.

Each test starts :class:`hostile_server.HostileServer` in one mode and runs ``conformance run``
(the installed-package path: pytest over the packaged suite, the plugin, report writers) in a
subprocess with small bounds. It asserts that the run

* ends with the right exit code: 1 (checks failed) when the target could be reached, 2 (the
  run could not happen) when it could not, or stopped answering;
* ends within its computed bound (``--run-budget`` plus the alarm grace plus process start-up
  and report writing), with the per-check and per-exchange bounds doing their part;
* prints no traceback, names the misbehaviour in its evidence, and keeps peak memory bounded;
* never shows the API key or a ``--secret-header`` value: not on stdout/stderr, not in any
  file under ``--report-dir`` (results.json, junit.xml, HTML, Markdown, curl reproductions).

Each run's figures are printed (``-s``) as ``hostile MODE: rc=…, …``, and appended to the file
named by ``$HOSTILE_TIMINGS`` when set (xdist does not show ``-s`` output).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_server import HostileServer

KEY = "canary-KEY-5b1f0c7e2d9a4"
GATEWAY_TOKEN = "canary-GW-83e1d6a0b4"
CANARIES = (KEY, GATEWAY_TOKEN)
TIMEOUT = 1.0
# The run is bounded by --run-budget (+ the SIGALRM grace), counted from the plugin's import;
# pytest's own session time ("in N s") must stay within it plus report writing (SESSION_SLACK).
# The process as a whole also pays interpreter start-up and plugin imports; SLACK is generous
# for a loaded CI machine and still far below what a missed bound costs (every remaining
# exchange waiting out its timeout: minutes).
SESSION_SLACK = 5.0
SLACK = 30.0  # measured: 3-5 s on a quiet machine, up to ~20 s at load average 10 on 2 cores
ALARM_GRACE = 0.5
# A run's own peak RSS. Measured: ~360 MB for a full run against a small wrong answer (most of
# it imports: the SDK, schemathesis, Hypothesis; and report writing), ~390 MB against a 100 MB
# body or a 10 MB SSE line: every exchange is cut at the 2 MiB cap (the Target's; the SDK's
# through a capped transport; schemathesis's own re-sends go through the Target) and a cut body
# keeps only its 64 KiB head, so a huge answer costs no more than a small one.
MAX_RSS_MB = 450
# Fewer generated examples: the fuzz family's bounds are its own (--fuzz-seconds); here it only
# has to meet the hostile answers, not explore.
FUZZ = ("--examples", "3", "--fuzz-seconds", "0.5")

RUNNER = r"""
import resource, sys
from conformance.cli import main
rc = main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    f.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.exit(rc)
"""


@dataclass
class Run:
    rc: int
    out: str
    elapsed: float
    rss_mb: float
    report_dir: Path

    def files(self) -> dict[str, bytes]:
        return {str(p.relative_to(self.report_dir)): p.read_bytes() for p in self.report_dir.rglob("*") if p.is_file()}

    def results_text(self) -> str:
        p = self.report_dir / "results.json"
        return p.read_text(encoding="utf-8") if p.exists() else ""


def run_harness(url: str, tmp_path: Path, *extra: str, budget: float, api_key: str | None = KEY) -> Run:
    report_dir = tmp_path / "reports"
    rss_file = tmp_path / "rss"
    args = [
        "run",
        "--target",
        url,
        "--model",
        "m",
        "--timeout",
        f"{TIMEOUT:g}",
        "--run-budget",
        f"{budget:g}",
        "--header",
        f"x-gateway-token: Bearer {GATEWAY_TOKEN}",
        "--secret-header",
        "x-gateway-token",
        "--report-dir",
        str(report_dir),
        "-q",
        *FUZZ,
        *extra,
    ]
    if api_key is not None:
        args += ["--api-key", api_key]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(rss_file), *args],
        capture_output=True,
        text=True,
        errors="replace",
        env=env,
        cwd=tmp_path,
        timeout=budget + SLACK + 60,  # only a hung harness reaches this; the assertion below is tighter
    )
    elapsed = time.perf_counter() - t0
    rss = int(rss_file.read_text()) / 1024 if rss_file.exists() else 0.0
    return Run(proc.returncode, proc.stdout + proc.stderr, elapsed, rss, report_dir)


def check_run(run: Run, mode: str, *, rc: int, budget: float, evidence: tuple[str, ...] = ()) -> None:
    bound = budget + ALARM_GRACE + SLACK
    sessions = re.findall(r" in ([0-9.]+)s", run.out)
    session = float(sessions[-1]) if sessions else 0.0
    line = (
        f"hostile {mode}: rc={run.rc}, {run.elapsed:.1f} s in all, pytest session {session:.1f} s "
        f"(budget {budget:g} s), peak RSS {run.rss_mb:.0f} MB"
    )
    print("\n" + line)
    if os.environ.get("HOSTILE_TIMINGS"):  # xdist swallows -s output: collect the figures in a file
        with open(os.environ["HOSTILE_TIMINGS"], "a", encoding="utf-8") as f:
            f.write(line + "\n")
    tail = run.out[-4000:]
    assert run.rc == rc, f"exit code {run.rc}, expected {rc}:\n{tail}"
    assert "Traceback" not in run.out, tail
    assert "INTERNALERROR" not in run.out, tail
    assert session < budget + ALARM_GRACE + SESSION_SLACK, f"pytest session took {session:.1f} s, budget {budget:g} s"
    assert run.elapsed < bound, f"run took {run.elapsed:.1f} s, bound {bound:g} s"
    assert run.rss_mb < MAX_RSS_MB, f"peak RSS {run.rss_mb:.0f} MB"
    for canary in CANARIES:
        assert canary not in run.out, f"{canary} printed"
        for name, data in run.files().items():
            assert canary.encode() not in data, f"{canary} written to {name}"
    seen = run.out + run.results_text()
    for text in evidence:
        assert text in seen, f"{text!r} not in the output or results.json:\n{tail}"


# mode -> (expected exit code, run budget, extra options, evidence that must be shown)
# Modes whose answers come at once get a budget the whole suite fits in on an idle machine
# (~10 s); on a loaded one the budget ends the run early, which is a pass too (exit 1, the
# rest "not run"). Modes that make every exchange wait get a short budget: it is the bound.
FAST, SLOW = 20.0, 8.0
REACHABLE = {
    "stall": (1, SLOW, (), ("read timeout: no bytes for 1 s", "run budget of 8 s")),
    "drip": (1, SLOW, ("--timeout", "2", "--check-timeout", "2"), ("per-check bound of 2 s reached",)),
    "html": (1, FAST, (), ("text/html",)),
    "bad-utf8": (1, FAST, (), ("UTF-8",)),
    "truncated-json": (1, FAST, (), ("JSON",)),
    "wrong-length": (1, FAST, (), ("connection closed mid-body",)),
    "huge-body": (1, FAST, (), ("response exceeded 2 MiB cap",)),
    "long-sse-line": (1, FAST, (), ("line-too-long",)),
    "ping-forever": (1, SLOW, ("--check-timeout", "2"), ("per-check bound of 2 s reached",)),
    "endless-after-delta": (1, SLOW, (), ("no SSE event for 1 s (event_idle)",)),
    "reset": (1, FAST, (), ("connection reset mid-body",)),
    "redirect": (1, FAST, (), ("not followed",)),
    "silent-messages": (2, FAST, (), ("target stopped answering",)),
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(REACHABLE))
def test_hostile_target(mode: str, tmp_path: Path) -> None:
    rc, budget, extra, evidence = REACHABLE[mode]
    with HostileServer(mode) as server:
        run = run_harness(server.url, tmp_path, *extra, budget=budget)
        landing = bytes(server.landing.received) if server.landing is not None else b""
    check_run(run, mode, rc=rc, budget=budget, evidence=evidence)
    # The redirect's other host: the Target never follows; nothing secret may arrive there.
    assert KEY.encode() not in landing, "the API key was sent to the redirect target"
    assert GATEWAY_TOKEN.encode() not in landing, "a --secret-header value was sent to the redirect target"


@pytest.mark.slow
def test_a_hung_stream_is_waited_for_once(tmp_path: Path) -> None:
    """Once a stream has gone silent for its idle bound, no later stream of the run (probes,
    generated requests, SDK calls) waits out its own: they end at once, saying why."""
    with HostileServer("endless-after-delta") as server:
        run = run_harness(server.url, tmp_path, budget=SLOW)
    doc = json.loads(run.results_text())
    waited, skipped = set(), set()
    for result in doc["results"]:
        for ev in result.get("evidence", []):
            key = (ev["request"]["curl"], ev.get("timings", {}).get("started_at"))
            error = ev.get("transport_error") or ""
            if error == "no SSE event for 1 s (event_idle)":
                waited.add(key)
            elif error.startswith("not sent: an earlier stream of this run hung"):
                skipped.add(key)
    assert len(waited) == 1, f"{len(waited)} exchanges waited out the idle bound"
    assert skipped, "no later stream was ended at once"


UNREACHABLE = {
    "never-accept": ("conformance: error: cannot reach", "connect timeout after 1 s"),
    "silent": ("conformance: error: cannot reach", "read timeout: no response within 1 s"),
    "auth-401": ("conformance: error: the target answered 401 to the API key",),
}


@pytest.mark.parametrize("mode", sorted(UNREACHABLE))
def test_unusable_target_is_exit_2_with_one_line(mode: str, tmp_path: Path) -> None:
    with HostileServer(mode) as server:
        run = run_harness(server.url, tmp_path, budget=FAST)
    check_run(run, mode, rc=2, budget=FAST, evidence=UNREACHABLE[mode])
    assert run.elapsed < 10 + SLACK


def test_missing_key_when_the_target_demands_one(tmp_path: Path) -> None:
    with HostileServer("auth-401") as server:
        run = run_harness(server.url, tmp_path, budget=FAST, api_key=None)
    check_run(
        run,
        "auth-401 (no key)",
        rc=2,
        budget=FAST,
        evidence=(
            "the target answered 401 to every credential style and no API key was given: "
            "pass --api-key or set CONFORMANCE_API_KEY",
        ),
    )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return str(cert), str(key)


@pytest.mark.parametrize("insecure", [False, True], ids=["verified", "insecure"])
def test_unverified_certificate(insecure: bool, certificate: tuple[str, str], tmp_path: Path) -> None:
    with HostileServer("html", tls=certificate) as server:
        assert server.url.startswith("https://")
        run = run_harness(server.url, tmp_path, *(["--insecure"] if insecure else []), budget=FAST)
    if insecure:  # accepted on request: the run goes on (and the HTML answers fail)
        check_run(run, "tls --insecure", rc=1, budget=FAST, evidence=("text/html",))
    else:
        check_run(run, "tls", rc=2, budget=FAST, evidence=("TLS certificate did not verify (use --insecure to allow)",))


# -- clear errors for users: one line each, exit 2, before any request -----------------------------

USER_ERRORS = {
    "no-scheme": (
        ["--target", "api.example.com"],
        "has no scheme: use http://api.example.com or https://api.example.com",
    ),
    "ends-in-v1": (["--target", "http://127.0.0.1:9/v1"], "should not end in /v1"),
    "refused": (["--target", "http://127.0.0.1:9"], "cannot reach http://127.0.0.1:9: connection refused"),
    "dns": (["--target", "http://no-such-host.invalid"], "host name did not resolve: no-such-host.invalid"),
    "profile": (["--target", "http://127.0.0.1:9", "--profile", "nope"], "unknown profile 'nope'"),
    "checks": (["--target", "http://127.0.0.1:9", "--checks", "nope.*"], "--checks nope.*: matches no check ID"),
    "run-budget": (["--target", "http://127.0.0.1:9", "--run-budget", "0"], "--run-budget must be a positive number"),
}


@pytest.mark.parametrize("case", sorted(USER_ERRORS))
def test_user_error_is_one_line_exit_2(case: str, tmp_path: Path) -> None:
    args, expected = USER_ERRORS[case]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "PYTEST_"))}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance",
            "run",
            *args,
            "--api-key",
            KEY,
            "--model",
            "m",
            "--timeout",
            "1",
            "--report-dir",
            str(tmp_path / "r"),
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("conformance: error: ") and expected in lines[0], lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr and KEY not in proc.stdout + proc.stderr
