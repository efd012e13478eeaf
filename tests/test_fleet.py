"""``conformance fleet``: the file, the cells, the Dask cluster, the reports and the exit codes.

The fleet's own parts (file validation, the worker's task, the report) are tested in this
process; the fleet itself runs on a real Dask ``LocalCluster`` (in this process, or in a
``conformance fleet`` subprocess), and on a real ``dask scheduler`` with two ``dask worker``
processes on loopback, as another machine's would be. Targets are stub processes with faults;
every cell's verdicts are compared with a separate ``conformance run`` of the same options.
A canary API key is searched for in every file and every output.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from conformance._options import BY_NAME, OPTIONS
from conformance.cli import main
from conformance.fleet import report
from conformance.fleet._task import cell_spec, run_cell
from conformance.fleet.progress import FleetProgress
from conformance.fleet.spec import FORBIDDEN, FleetFileError, file_key, load_fleet
from conformance.stub.server import StubProcess

ROOT = Path(__file__).resolve().parents[1]
KEY = "fleet-canary-7f3a9c2e51d84b06"  # the targets' key: must appear in no file and no output
KEY_ENV = "CONFORMANCE_FLEET_TEST_KEY"
CHECKS = ["auth.*", "errors.status.*", "errors.envelope.*"]  # 9 checks, about 2 s a run
FAULTS = ["", "ignore-auth", "bearer-only", "wrong-error-type"]  # "" is the clean stub
BIN = Path(sys.executable).parent
dask = pytest.importorskip("distributed")


def write(tmp_path: Path, doc: Any, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def target(name: str, url: str = "http://127.0.0.1:9", **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": url, "api_key_env": KEY_ENV, **extra}


def key_env() -> dict[str, str]:
    return {**os.environ, "CONFORMANCE_API_KEY": KEY}


def assert_no_key(*texts: str, directory: Path | None = None) -> None:
    for text in texts:
        assert KEY not in text
    if directory is not None:
        for path in directory.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path


def verdicts(report_dir: Path) -> dict[str, str]:
    doc = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    return {r["id"]: r["verdict"] for r in doc["results"]}


@pytest.fixture(scope="module")
def stubs() -> Iterator[dict[str, str]]:
    """One stub process per fault (the key is the canary), by fault name."""
    procs = {f: StubProcess(api_keys=[KEY], faults=[f] if f else []) for f in FAULTS}
    try:
        for p in procs.values():
            p.start()
        yield {f: p.base_url for f, p in procs.items()}
    finally:
        for p in procs.values():
            p.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the file ----------------------------------------------------------------------------------


def test_smallest_file_is_one_cell_per_target(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, {"targets": [target("a"), target("b", "https://b.example/")]}))
    assert [c.id for c in fleet.cells] == ["a", "b"]
    assert [c.label for c in fleet.cells] == ["a", "b"]
    b = fleet.cells[1]
    assert b.url == "https://b.example" and b.api_key_env == KEY_ENV
    assert (b.anthropic_version, b.profile, b.auth) == ("2023-06-01", "anthropic", "both")
    assert b.argv == ("--conformance-target=https://b.example",)
    assert KEY not in " ".join(b.argv)


def test_axes_cross_and_a_target_narrows_them(tmp_path: Path) -> None:
    doc = textwrap.dedent(
        """\
        defaults: {checks: ["auth.*"], timeout: 5, headers: {X-Org: acme, X-Team: a}}
        axes:
          profile: [anthropic, darkbloom]
          anthropic_version: [2023-06-01, 2026-10-21]
        targets:
          - {name: gw, url: "http://127.0.0.1:9", api_key_env: K, headers: {X-Team: b}}
          - {name: db, url: "http://127.0.0.1:9", api_key_env: K, profile: darkbloom}
          - {name: one, url: "http://127.0.0.1:9", api_key_env: K, axes: {anthropic_version: [2026-10-21]}}
        """
    )
    fleet = load_fleet(write(tmp_path, doc))
    assert fleet.axes == ("anthropic_version", "profile")  # version first, whatever the file's order
    assert [c.id for c in fleet.cells] == [
        "gw__2023-06-01__anthropic",
        "gw__2023-06-01__darkbloom",
        "gw__2026-10-21__anthropic",
        "gw__2026-10-21__darkbloom",
        "db__2023-06-01__darkbloom",
        "db__2026-10-21__darkbloom",
        "one__2026-10-21__anthropic",
        "one__2026-10-21__darkbloom",
    ]
    gw = fleet.cells[1]
    assert gw.label == "gw · 2023-06-01 · darkbloom"
    assert "--conformance-header=X-Org:acme" in gw.argv and "--conformance-header=X-Team:b" in gw.argv
    assert "--conformance-header=X-Team:a" not in gw.argv
    assert "--conformance-profile=darkbloom" in gw.argv and "--conformance-timeout=5" in gw.argv
    assert "--conformance-checks=auth.*" in gw.argv


def test_every_run_option_can_be_in_the_file(tmp_path: Path) -> None:
    """The file takes each option of the run's table (today's and any added later) by its name."""
    (tmp_path / "known.yaml").write_text("[]\n")
    own: dict[str, Any] = {}
    for o in OPTIONS:
        if o.name in FORBIDDEN:
            continue
        kw = o.kwargs
        if kw.get("action") == "store_true":
            value: Any = True
        elif kw.get("action") == "append":
            value = {"header": ["X-A:1"], "trigger": ["overload=m-over"], "checks": ["auth.*"]}.get(o.name, ["x"])
        elif kw.get("metavar") == "FILE":
            value = "known.yaml"
        elif kw.get("choices"):
            value = kw["choices"][-1]
        elif kw.get("type") in (int, float):
            value = 7
        else:
            value = {"profile": "darkbloom", "anthropic-version": "2026-10-21", "compare": "http://127.0.0.1:8"}.get(
                o.name, "v"
            )
        own[file_key(o)] = value
    fleet = load_fleet(write(tmp_path, {"targets": [target("all", **own)]}))
    (cell,) = fleet.cells
    flags = {word.split("=", 1)[0] for word in cell.argv}
    for o in OPTIONS:
        if o.name in FORBIDDEN or o.kwargs.get("metavar") == "FILE":
            continue
        assert o.long in flags, o.name
    assert cell.files["expect-failures"] == ("known.yaml", "[]\n")


def test_the_schema_names_only_run_options_and_fleet_keys() -> None:
    from conformance.fleet.spec import EXTRA_OPTION_KEYS, TARGET_KEYS, option_for, schema_path

    schema = json.loads(schema_path().read_text())
    listed = schema["$defs"]["options"]["properties"]
    for key, rule in listed.items():
        option = option_for(key)
        if rule is False:
            assert option is not None and option.name in FORBIDDEN, key
        else:
            assert key in EXTRA_OPTION_KEYS or (option is not None and option.name not in FORBIDDEN), key
    assert set(schema["$defs"]["target"]["allOf"][1]["properties"]) == set(TARGET_KEYS)
    assert set(FORBIDDEN) <= set(BY_NAME)


BAD_FILES = [
    ("targets: [", "not valid YAML at line"),
    ("", "expected a mapping with targets"),
    ("- a\n- b\n", "expected a mapping with targets"),
    ("defaults: {}\n", "top level: missing required key 'targets'"),
    ("targets: []\n", "targets: must not be empty"),
    ({"targets": [{"name": "a", "api_key_env": "K"}]}, "targets[0]: missing required key 'url'"),
    ({"targets": [{"name": "a", "url": "http://h"}]}, "targets[0]: missing required key 'api_key_env'"),
    ({"targets": [target("a", modle="m")]}, "targets[0]: unknown key 'modle' (did you mean 'model'?)"),
    ({"targets": [target("a", api_key="sk-1")]}, "targets[0].api_key: not allowed in a fleet file: keys never go"),
    ({"targets": [target("a", report_dir="x")]}, "targets[0].report_dir: not allowed"),
    ({"targets": [target("a", stub_faults=["x"])]}, "targets[0].stub_faults: not allowed"),
    ({"defaults": {"url": "http://h"}, "targets": [target("a")]}, "defaults.url: belongs to a target"),
    ({"target": [target("a")]}, "unknown top-level key 'target' (did you mean 'targets'?)"),
    ({"targets": [target("a/b")]}, "targets[0].name: name 'a/b': use letters"),
    ({"targets": [target("a", "ftp://h")]}, "targets[0].url: 'ftp://h' is not a base URL"),
    ({"targets": [target("a", "http://h/v1")]}, "targets[0].url: base URL should not end in /v1"),
    ({"targets": [{"name": "a", "url": "http://h", "api_key_env": "MY-KEY"}]}, "is not an environment variable name"),
    ({"targets": [target("a", profile="nope")]}, "targets[0].profile: unknown profile 'nope'"),
    ({"axes": {"anthropic_version": ["1999-01-01"]}, "targets": [target("a")]}, "unknown API version '1999-01-01'"),
    ({"targets": [target("a", timeout="soon")]}, "targets[0].timeout: 'soon' is not of type 'number'"),
    ({"targets": [target("a", auth="basic")]}, "targets[0].auth: 'basic' is not one of"),
    ({"targets": [target("a"), target("a")]}, "targets[1].name: 'a' names two targets"),
    ({"defaults": {"checks": ["nope.*"]}, "targets": [target("a")]}, "checks nope.*: matches no check ID"),
    ({"targets": [target("a", triggers={"meltdown": "m"})]}, "targets[0].triggers.meltdown: unknown state"),
    ({"targets": [target("a", expect_failures="missing.yaml")]}, "targets[0].expect_failures: cannot read"),
    ({"axes": {"checks": ["a.*"]}, "targets": [target("a")]}, "axes.checks: a repeatable option cannot be an axis"),
    ({"axes": {"modle": ["x"]}, "targets": [target("a")]}, "axes.modle: not a run option that can be an axis"),
    ({"axes": {"profile": []}, "targets": [target("a")]}, "axes.profile: must not be empty"),
    ({"axes": {"Profile": ["anthropic"]}, "targets": [target("a")]}, "axes: key 'Profile': use lower-case"),
    ({"targets": [target("a", headers=7)]}, "targets[0].headers: expected a mapping or a list of strings, got 7"),
    ({"targets": [target("a", headers=["X-A"])]}, "targets[0].headers: 'X-A': expected NAME:VALUE"),
    ({"targets": [target("a", checks=[1])]}, "targets[0].checks[0]: 1 is not of type 'string'"),
    ({"targets": [target("a", checks=7)]}, "targets[0].checks: expected a string or a list of strings, got 7"),
    ({"targets": [target("a", secret_headers_env={"X-T": "a b"})]}, "'a b' is not an environment variable name"),
    (
        {"targets": [target("a", receipt_bindin="none")]},
        "unknown key 'receipt_bindin' (did you mean 'receipt_binding'?)",
    ),
]


@pytest.mark.parametrize("content, message", BAD_FILES, ids=[m for _, m in BAD_FILES])
def test_a_bad_file_is_one_line(tmp_path: Path, content: Any, message: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(FleetFileError) as info:
        load_fleet(path)
    line = str(info.value)
    assert line.startswith(f"{path}: ") and message in line, line
    assert "\n" not in line and len(line) < 400


def test_a_bad_file_exits_2_with_one_line_on_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, {"targets": [target("a", api_key="sk-secret-1")]})
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "fleet", str(path), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("conformance fleet: error: ")
    assert "Traceback" not in proc.stderr and "sk-secret-1" not in proc.stderr and proc.stdout == ""


def test_list_cells(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, {"axes": {"auth": ["bearer", "x-api-key"]}, "targets": [target("a")]})
    assert main(["fleet", str(path), "--list-cells"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["a__bearer", "a__x-api-key"]
    assert "--conformance-auth=bearer" in lines[0]


# -- the worker's task -------------------------------------------------------------------------


def test_the_task_carries_no_secret_and_the_worker_reads_it(tmp_path: Path, stubs: dict[str, str], monkeypatch) -> None:
    doc = {
        "defaults": {"checks": ["auth.*"], "secret_headers_env": {"X-Gateway-Token": "FLEET_TEST_GW"}},
        "targets": [target("clean", stubs[""])],
    }
    (cell,) = load_fleet(write(tmp_path, doc)).cells
    spec = cell_spec(cell, attempt=1, bound=120)
    gateway_token = "gw-token-5b0e8d1f"
    assert KEY.encode() not in pickle.dumps(spec) and gateway_token.encode() not in pickle.dumps(spec)
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("FLEET_TEST_GW", gateway_token)
    outcome = run_cell(spec)
    assert outcome["status"] == "passed", outcome["error"] or outcome["output"][-2000:]
    assert outcome["exit_code"] == 0 and outcome["gate"].startswith("GATE PASSED")
    assert outcome["cpu_seconds"] > 0 and outcome["max_rss_mb"] > 0 and outcome["duration"] > 0
    files = {name: zlib.decompress(blob).decode() for name, blob in outcome["files"].items()}
    assert set(files) == {"index.html", "results.json", "junit.xml", "summary.md"}
    blob = pickle.dumps({**outcome, "files": files})
    assert KEY.encode() not in blob and gateway_token.encode() not in blob
    # the secret header reached the target (from the worker's environment) and was redacted
    sent = [
        {name.lower(): value for name, value in e["request"]["headers"]}
        for r in json.loads(files["results.json"])["results"]
        for e in r["evidence"]
    ]
    tokens = [h["x-gateway-token"] for h in sent if "x-gateway-token" in h]
    assert tokens and set(tokens) == {"[redacted]"}


def test_a_cell_without_its_key_on_the_worker_is_an_error(tmp_path: Path, monkeypatch) -> None:
    (cell,) = load_fleet(write(tmp_path, {"targets": [target("a")]})).cells
    monkeypatch.delenv(KEY_ENV, raising=False)
    outcome = run_cell(cell_spec(cell, attempt=1, bound=60))
    assert outcome["status"] == "error"
    assert f"environment variable {KEY_ENV} is not set on host" in outcome["error"]


def test_a_cell_that_outlives_its_bound_is_ended_with_its_children(tmp_path: Path, monkeypatch) -> None:
    (cell,) = load_fleet(write(tmp_path, {"targets": [target("slow")]})).cells
    monkeypatch.setenv(KEY_ENV, KEY)
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); time.sleep(60)"
    )
    start = time.monotonic()
    outcome = run_cell(cell_spec(cell, attempt=1, bound=1.5, command=[sys.executable, "-c", script]))
    elapsed = time.monotonic() - start
    assert outcome["status"] == "error" and outcome["error"].startswith("did not finish within 1.5 s"), outcome
    assert 1.5 <= elapsed < 10
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the cell's own subprocess outlived it"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for every purpose here
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def test_the_stub_latency_switch() -> None:
    import httpx

    headers = {"x-api-key": "test-key", "anthropic-version": "2023-06-01"}
    with StubProcess(latency=0.4) as slow, StubProcess() as fast:
        times = {}
        for name, stub in (("slow", slow), ("fast", fast)):
            start = time.perf_counter()
            assert httpx.get(stub.base_url + "/v1/models", headers=headers, timeout=10).status_code == 200
            times[name] = time.perf_counter() - start
    assert times["slow"] >= 0.4 > times["fast"]


# -- reports and progress ---------------------------------------------------------------------


def test_exit_codes_and_verdicts() -> None:
    def rec(status: str, label: str = "c") -> dict[str, Any]:
        return {"status": status, "label": label}

    assert report.exit_code([rec("passed"), rec("passed")]) == 0
    assert report.exit_code([rec("passed"), rec("error"), rec("failed")]) == 1
    assert report.exit_code([rec("passed"), rec("error")]) == 2
    assert report.exit_code([]) == 2
    assert report.verdict_line([rec("passed", "a"), rec("failed", "b"), rec("error", "c")]) == (
        "FLEET FAILED: 1 of 3 cell(s) failed their gate: b; 1 could not run"
    )
    assert report.verdict_line([rec("passed", "a"), rec("error", "c")]).startswith("FLEET NOT COMPLETE: 1 of 2")


def test_progress_lines_and_bar(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fleet = load_fleet(write(tmp_path, {"axes": {"profile": ["anthropic", "darkbloom"]}, "targets": [target("a")]}))
    records = [
        report.cell_record(fleet.cells[0], fleet, {"status": "passed", "duration": 3.25, "counts": {"passed": 4}}, 1),
        report.cell_record(
            fleet.cells[1], fleet, {"status": "error", "duration": 1.0, "error": "cannot reach http://x"}, 2
        ),
    ]
    out = Terminal()
    with FleetProgress(2, 0, out, bar=True, axes=fleet.axes) as progress:
        progress.started(fleet.cells[0].id)
        for r in records:
            progress.finished(r)
    text = out.getvalue()
    assert "[1/2] a 2023-06-01 anthropic  gate passed  0 failed  3.2 s" in text
    assert "[2/2] a 2023-06-01 darkbloom  gate NOT RUN  1.0 s  (try 2): cannot reach http://x" in text
    assert "2/2" in text and "running 0 · failed 0 · not run 1" in text


# -- the fleet on Dask -------------------------------------------------------------------------


@pytest.mark.slow
def test_local_cluster_fleet_matches_separate_runs(tmp_path: Path, stubs: dict[str, str], monkeypatch, capsys) -> None:
    names = {f: f or "clean" for f in FAULTS}
    doc = {
        "defaults": {"checks": CHECKS, "examples": 2},
        "targets": [target(names[f], url) for f, url in stubs.items()],
    }
    path = write(tmp_path, doc)
    out = tmp_path / "out"
    # the separate runs, four at once, as a person would start them
    separate = {}
    for f, url in stubs.items():
        args = [sys.executable, "-m", "conformance", "run", f"--target={url}", "--examples=2"]
        args += [f"--checks={c}" for c in CHECKS] + [f"--report-dir={tmp_path / 'sep' / names[f]}"]
        separate[f] = subprocess.Popen(args, env=key_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sep_out = {f: p.communicate(timeout=120)[0] for f, p in separate.items()}
    monkeypatch.setenv(KEY_ENV, KEY)
    code = main(["fleet", str(path), "-o", str(out), "--no-progress"])
    text = capsys.readouterr()
    assert code == 1, text.out  # three faulted stubs fail their gate
    fleet_doc = json.loads((out / "results.json").read_text())
    cells = {c["target"]: c for c in fleet_doc["cells"]}
    for f in FAULTS:
        name = names[f]
        assert separate[f].returncode == (0 if not f else 1), sep_out[f][-2000:]
        assert verdicts(out / "cells" / name) == verdicts(tmp_path / "sep" / name), name
        assert cells[name]["status"] == ("passed" if not f else "failed")
        assert cells[name]["exit_code"] == separate[f].returncode
    # the merged matrix has one column per cell, and the gate table leads the summary
    assert [c["label"] for c in fleet_doc["matrix"]["columns"]] == [names[f] for f in FAULTS]
    summary = (out / "summary.md").read_text()
    assert summary.startswith("### Fleet gate") and "[ignore-auth](cells/ignore-auth/index.html)" in summary
    html = (out / "index.html").read_text()
    assert 'id="fleet-gate"' in html and 'id="matrix"' in html
    lines = [line for line in text.out.splitlines() if line.startswith("[")]
    assert len(lines) == 4 and any("ignore-auth 2023-06-01 anthropic  gate FAILED  2 failed" in x for x in lines)
    assert "FLEET FAILED: 3 of 4 cell(s) failed their gate" in text.out
    assert_no_key(text.out, text.err, *sep_out.values(), directory=out)


@pytest.mark.slow
def test_resume_runs_only_what_is_missing(tmp_path: Path, stubs: dict[str, str], monkeypatch, capsys) -> None:
    port = free_port()
    doc = {
        "defaults": {"checks": ["auth.*"]},
        "targets": [target("up", stubs[""]), target("later", f"http://127.0.0.1:{port}")],
    }
    path = write(tmp_path, doc)
    out = tmp_path / "out"
    monkeypatch.setenv(KEY_ENV, KEY)
    args = ["fleet", str(path), "-o", str(out), "--no-progress", "--workers", "1"]
    assert main(args) == 2  # "later" is not listening yet: could not run
    first = capsys.readouterr().out
    later = json.loads((out / "cells" / "later" / "cell.json").read_text())
    assert later["status"] == "error" and "cannot reach" in later["error"] and later["exit_code"] == 2
    assert "FLEET NOT COMPLETE: 1 of 2 cell(s) could not run: later" in first and "--resume" in first
    kept_before = (out / "cells" / "up" / "cell.json").read_text()

    stub = subprocess.Popen(
        [sys.executable, "-m", "conformance", "stub", "--port", str(port), "--api-key", KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert stub.stdout is not None and stub.stdout.readline().startswith("http://")
        assert main([*args, "--resume"]) == 0
        second = capsys.readouterr().out
        assert "1 kept from an earlier run (--resume), 1 to run" in second
        assert [x for x in second.splitlines() if x.startswith("[")] == [
            next(x for x in second.splitlines() if x.startswith("[2/2] later"))
        ]
        assert (out / "cells" / "up" / "cell.json").read_text() == kept_before  # not run again
        cells = json.loads((out / "results.json").read_text())["cells"]
        assert [(c["id"], c["status"], c["resumed"]) for c in cells] == [
            ("up", "passed", True),
            ("later", "passed", False),
        ]
        # another fleet file (here: a comment more) keeps nothing
        path.write_text(path.read_text() + "# changed\n")
        assert main([*args, "--resume"]) == 0
        assert "0 kept from an earlier run (--resume), 2 to run" in capsys.readouterr().out
    finally:
        stub.terminate()
        stub.wait(10)


@pytest.mark.slow
def test_a_cell_whose_worker_dies_twice_is_reported(tmp_path: Path, monkeypatch, capsys) -> None:
    """The cell's process kills its own worker: retried once (a new worker), then an error."""
    from conformance.fleet.runner import FleetSettings, run_fleet

    fleet = load_fleet(write(tmp_path, {"targets": [target("doomed")]}))
    monkeypatch.setenv(KEY_ENV, KEY)
    killer = [sys.executable, "-c", "import os, signal, time; os.kill(os.getppid(), signal.SIGKILL); time.sleep(30)"]
    out = tmp_path / "out"
    settings = FleetSettings(output=out, workers=1, cells_per_worker=1, command=killer, progress=False)
    assert run_fleet(fleet, settings, out=(buf := io.StringIO())) == 2
    text = buf.getvalue()
    record = json.loads((out / "cells" / "doomed" / "cell.json").read_text())
    assert record["status"] == "error" and record["attempts"] == 2, record
    assert record["error"].startswith("its worker died 2 times"), record
    assert "died running doomed: retrying the cell elsewhere" in text


@pytest.mark.slow
def test_a_cell_whose_worker_died_is_retried_and_finishes(tmp_path: Path, stubs: dict[str, str], monkeypatch) -> None:
    """First attempt: the cell kills its worker; the retry (on the restarted worker) runs the real cell."""
    from conformance.fleet.runner import FleetSettings, run_fleet

    fleet = load_fleet(write(tmp_path, {"defaults": {"checks": ["auth.*"]}, "targets": [target("once", stubs[""])]}))
    monkeypatch.setenv(KEY_ENV, KEY)
    marker = tmp_path / "died-once"
    once = (
        "import os, signal, sys, time\n"
        f"if not os.path.exists({str(marker)!r}):\n"
        f"    open({str(marker)!r}, 'w').close(); os.kill(os.getppid(), signal.SIGKILL); time.sleep(30)\n"
        "os.execv(sys.executable, [sys.executable, '-m', 'conformance.fleet._cell', *sys.argv[1:]])\n"
    )
    out = tmp_path / "out"
    settings = FleetSettings(
        output=out, workers=1, cells_per_worker=1, command=[sys.executable, "-c", once], progress=False
    )
    assert run_fleet(fleet, settings, out=(buf := io.StringIO())) == 0, buf.getvalue()
    record = json.loads((out / "cells" / "once" / "cell.json").read_text())
    assert (record["status"], record["attempts"]) == ("passed", 2)
    assert verdicts(out / "cells" / "once")["auth.accept.bearer"] == "passed"
    assert "died running once: retrying the cell elsewhere" in buf.getvalue()


@pytest.mark.slow
def test_an_interrupted_fleet_keeps_what_finished(tmp_path: Path, stubs: dict[str, str]) -> None:
    import queue
    import threading

    with StubProcess(api_keys=[KEY], latency=1.0) as slow:
        doc = {
            "defaults": {"checks": ["auth.*"]},
            "targets": [target("fast", stubs[""]), target("slow", slow.base_url)],
        }
        out = tmp_path / "out"
        fleet = subprocess.Popen(
            [sys.executable, "-m", "conformance", "fleet", str(write(tmp_path, doc)), "-o", str(out)]
            + ["--workers", "1", "--cells-per-worker", "1", "--no-progress"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, KEY_ENV: KEY},
        )
        lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        assert fleet.stdout is not None
        threading.Thread(target=lambda: [lines.put(x) for x in fleet.stdout], daemon=True).start()
        seen = []
        try:
            deadline = time.monotonic() + 60
            while not any(x.startswith("[1/2] fast") for x in seen):
                assert time.monotonic() < deadline, seen
                seen.append(lines.get(timeout=max(deadline - time.monotonic(), 0.1)))
            fleet.send_signal(signal.SIGINT)  # the slow cell is running now
            fleet.wait(60)
        finally:
            if fleet.poll() is None:
                fleet.kill()
                fleet.wait(10)
    time.sleep(0.2)
    while True:
        try:
            seen.append(lines.get_nowait())
        except queue.Empty:
            break
    text = "".join(seen)
    assert fleet.returncode == 2, text
    assert "interrupted: cancelling the cells still running" in text
    cells = {c["id"]: c for c in json.loads((out / "results.json").read_text())["cells"]}
    assert cells["fast"]["status"] == "passed" and (out / "cells" / "fast" / "results.json").exists()
    assert cells["slow"]["status"] == "error" and cells["slow"]["error"] == "not run: the fleet was interrupted"
    assert "--resume runs only the cells without a verdict" in text


def test_without_dask_the_fleet_says_how_to_get_it(tmp_path: Path, monkeypatch) -> None:
    from conformance.fleet.runner import FleetError, FleetSettings, run_fleet

    fleet = load_fleet(write(tmp_path, {"targets": [target("a")]}))
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(FleetError, match=r"needs Dask .*pip install 'messages-conformance\[fleet\]'"):
        run_fleet(fleet, FleetSettings(output=tmp_path / "out"), out=io.StringIO())


def test_an_unreachable_scheduler_is_one_line_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, {"targets": [target("a")]})
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "fleet", str(path), "-o", str(tmp_path / "out")]
        + ["--scheduler", f"tcp://127.0.0.1:{free_port()}", "--connect-timeout", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("conformance fleet: error: cannot reach the Dask scheduler tcp://")


# -- a real scheduler and workers, as on other machines --------------------------------------


class DaskProcesses:
    """``dask scheduler`` and ``dask worker`` processes on loopback; stopped at the end."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path = tmp_path
        self.env = env
        self.procs: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def scheduler(self, *extra: str, protocol: str = "tcp") -> str:
        info = self.tmp_path / "scheduler.json"
        self._start(
            ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)]
            + (["--protocol", protocol] if protocol != "tcp" else [])
            + list(extra),
            "scheduler",
        )
        deadline = time.monotonic() + 60
        while not info.exists() or not info.read_text().strip():
            assert time.monotonic() < deadline, self.log("scheduler")
            assert self.procs[-1].poll() is None, self.log("scheduler")
            time.sleep(0.1)
        time.sleep(0.1)
        self.address = json.loads(info.read_text())["address"]
        return self.address

    def worker(self, name: str, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        args = ["worker", self.address, "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard"]
        args += ["--host", "127.0.0.1", *extra]
        return self._start(args, name, env)

    def _start(self, args: list[str], name: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"{name}.log", "wb")
        proc = subprocess.Popen([str(BIN / "dask"), *args], stdout=log, stderr=subprocess.STDOUT, env=env or self.env)
        self.procs.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]

    def wait_for_workers(self, n: int, security: Any = None) -> None:
        from distributed import Client

        with Client(self.address, timeout=30, security=security, set_as_default=False) as client:
            client.wait_for_workers(n, timeout=60)

    def stop(self) -> None:
        """The workers first (a worker whose scheduler went first waits to reconnect), then the scheduler."""
        for group in (self.procs[1:], self.procs[:1]):
            for p in group:
                if p.poll() is None:
                    p.terminate()
            for p in group:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)


@pytest.fixture
def dask_processes(tmp_path: Path) -> Iterator[DaskProcesses]:
    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    procs = DaskProcesses(tmp_path, env)
    try:
        yield procs
    finally:
        procs.stop()


def fleet_subprocess(args: list[str], env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "fleet", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.mark.slow
def test_fleet_on_a_dask_scheduler_with_two_workers(tmp_path: Path, stubs: dict[str, str], dask_processes) -> None:
    """The keys are only in the workers' environment: the fleet's own process never has them."""
    address = dask_processes.scheduler()
    for name in ("w1", "w2"):
        dask_processes.worker(name, env={**dask_processes.env, KEY_ENV: KEY})
    dask_processes.wait_for_workers(2)
    names = {f: f or "clean" for f in FAULTS}
    doc = {"defaults": {"checks": CHECKS, "examples": 2}, "targets": [target(names[f], u) for f, u in stubs.items()]}
    out = tmp_path / "out"
    proc = fleet_subprocess([str(write(tmp_path, doc)), "-o", str(out), "--scheduler", address], dask_processes.env)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"dask: scheduler {address}, 2 worker(s), 2 thread(s)" in proc.stdout
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert {c["target"]: c["status"] for c in cells} == {
        "clean": "passed",
        "ignore-auth": "failed",
        "bearer-only": "failed",
        "wrong-error-type": "failed",
    }
    assert len({c["worker"] for c in cells}) == 2, "both workers ran cells"
    assert verdicts(out / "cells" / "ignore-auth")["auth.reject.wrong-key"] == "failed"
    assert_no_key(proc.stdout, proc.stderr, directory=out)


@pytest.mark.slow
def test_a_worker_killed_mid_fleet_has_its_cell_finish_elsewhere(tmp_path: Path, dask_processes) -> None:
    psutil = pytest.importorskip("psutil")
    address = dask_processes.scheduler()
    workers = [dask_processes.worker(n, env={**dask_processes.env, KEY_ENV: KEY}) for n in ("w1", "w2")]
    dask_processes.wait_for_workers(2)
    with StubProcess(api_keys=[KEY], latency=0.3) as slow:  # a cell waits on its target for a few seconds
        doc = {
            "defaults": {"checks": ["auth.*"]},
            "targets": [target(f"t{i}", slow.base_url) for i in range(3)],
        }
        out = tmp_path / "out"
        fleet = subprocess.Popen(
            [sys.executable, "-m", "conformance", "fleet", str(write(tmp_path, doc)), "-o", str(out)]
            + ["--scheduler", address, "--no-progress"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dask_processes.env,
        )
        try:
            victim = psutil.Process(workers[0].pid)
            deadline = time.monotonic() + 60
            cell = None
            while cell is None:
                assert time.monotonic() < deadline and fleet.poll() is None, "no cell started on w1"
                cell = next(
                    (c for c in victim.children(recursive=True) if "conformance.fleet._cell" in " ".join(c.cmdline())),
                    None,
                )
                time.sleep(0.1)
            time.sleep(1.0)
            assert cell.is_running(), "the cell ended before its worker could be killed"
            victim.send_signal(signal.SIGKILL)  # mid-run
            stdout, stderr = fleet.communicate(timeout=240)
        finally:
            if fleet.poll() is None:
                fleet.kill()
                fleet.communicate()
        assert fleet.returncode == 0, stdout[-3000:] + stderr[-3000:]
        deadline = time.monotonic() + 5
        while cell.is_running() and cell.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not cell.is_running() or cell.status() == psutil.STATUS_ZOMBIE, "the dead worker's cell kept running"
    cells = json.loads((out / "results.json").read_text())["cells"]
    assert [c["status"] for c in cells] == ["passed"] * 3  # nothing lost
    retried = [c for c in cells if c["attempts"] == 2]
    assert len(retried) == 1 and "(try 2)" in stdout, stdout
    w2 = {c["worker"] for c in cells if c is not retried[0]} | {retried[0]["worker"]}
    assert len(w2) == 1, "every cell finished on the surviving worker"
    for c in cells:
        assert verdicts(out / "cells" / c["id"]) == verdicts(out / "cells" / cells[0]["id"])


@pytest.mark.slow
def test_tls_settings_pass_through(tmp_path: Path, stubs: dict[str, str], dask_processes) -> None:
    certs = _make_certs(tmp_path)
    tls = ["--tls-ca-file", str(certs["ca"]), "--tls-cert", str(certs["cert"]), "--tls-key", str(certs["key"])]
    address = dask_processes.scheduler(*tls, protocol="tls")
    assert address.startswith("tls://")
    dask_processes.worker("w1", *tls, env={**dask_processes.env, KEY_ENV: KEY})
    from distributed.security import Security

    dask_processes.wait_for_workers(
        1, Security(tls_ca_file=str(certs["ca"]), tls_client_cert=str(certs["cert"]), tls_client_key=str(certs["key"]))
    )
    path = write(tmp_path, {"defaults": {"checks": ["auth.*"]}, "targets": [target("clean", stubs[""])]})
    out = tmp_path / "out"
    plain = fleet_subprocess(
        [str(path), "-o", str(out), "--scheduler", address, "--connect-timeout", "5"], dask_processes.env
    )
    assert plain.returncode == 2 and plain.stderr.count("\n") == 1, plain.stderr
    assert "cannot reach the Dask scheduler tls://" in plain.stderr and "--tls-ca-file" in plain.stderr
    proc = fleet_subprocess([str(path), "-o", str(out), "--scheduler", address, *tls], dask_processes.env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[1/1] clean 2023-06-01 anthropic  gate passed  0 failed" in proc.stdout


def _make_certs(tmp_path: Path) -> dict[str, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it (openssl), for Dask's mutual TLS."""
    d = tmp_path / "certs"
    d.mkdir()

    def ssl(*args: str) -> None:
        proc = subprocess.run(["openssl", *args], cwd=d, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr

    ssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=fleet-test-ca",
    )
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "req.csr", "-subj", "/CN=127.0.0.1")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    ssl(
        "x509",
        "-req",
        "-in",
        "req.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "cert.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    )
    return {"ca": d / "ca.pem", "cert": d / "cert.pem", "key": d / "key.pem"}
