"""The package as a user installs it: the wheel in a fresh venv, used from directories that are
not the checkout.

An editable install reads the checkout (its ``schemas/``, its ``pyproject.toml``), which hides
package data missing from the wheel; these tests build the wheel, install it into a new venv
(its dependencies from the package index, nothing shared with the test's own environment) and
run it from empty directories: ``conformance run``, ``pytest --target URL``, the entry-point
plugin in a provider's own test suite, and :func:`conformance.run`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.stub.server import StubProcess

ROOT = Path(__file__).resolve().parents[1]
KEY = "installed-canary-key"
pytestmark = pytest.mark.slow


def _sh(
    args: list[str], cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # no PYTHONPATH and no checkout on the path: only what the venv holds
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "CONFORMANCE_TARGET", "CONFORMANCE_API_KEY")
    }
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**clean, **(env or {})})


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel built from this checkout installed (its bin directory)."""
    base = tmp_path_factory.mktemp("installed")
    wheels = base / "wheels"
    built = _sh([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)], base)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("messages_conformance-*.whl")
    made = _sh([sys.executable, "-m", "venv", str(base / "venv")], base)
    assert made.returncode == 0, made.stderr
    bin_dir = base / "venv" / "bin"
    installed = _sh([str(bin_dir / "pip"), "install", "--quiet", str(wheel)], base, timeout=900)
    assert installed.returncode == 0, installed.stderr[-2000:]
    return bin_dir


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir()
    return d


def _results(directory: Path) -> dict:
    return json.loads((directory / "results.json").read_text(encoding="utf-8"))


def _clean_pass(doc: dict) -> None:
    """The bundled stub passes: no failure, no error, nothing skipped but fuzz.compare.agree."""
    verdicts = {r["id"]: r["verdict"] for r in doc["results"]}
    assert doc["gate"]["exit_code"] == 0, doc["gate"]
    assert {i: v for i, v in verdicts.items() if v not in ("passed",)} == {"fuzz.compare.agree": "skipped"}


def test_conformance_run_from_the_wheel_passes_the_bundled_stub(venv: Path, empty: Path) -> None:
    proc = _sh([str(venv / "conformance"), "run"], empty)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    _clean_pass(_results(empty / "reports"))
    header = out.split("collected", 1)[0]
    assert "configfile: pytest-run.ini" in header and "dev/null" not in header
    assert "GATE PASSED (MUST)" in out and "warnings summary" not in out
    assert sorted(p.name for p in empty.iterdir()) == ["reports"]  # no .hypothesis/ left behind
    doc = _results(empty / "reports")
    assert doc["harness"]["clients"]["anthropic"] and doc["harness"]["schemas_aligned_with"]["anthropic"]


def test_pytest_target_from_the_wheel_in_any_directory(venv: Path, empty: Path) -> None:
    # the stub's declared request-size limit, as a provider declares theirs (the 413 check)
    with StubProcess(api_keys=[KEY], max_body_bytes=1 << 20, python=str(venv / "python")) as stub:
        proc = _sh(
            [
                str(venv / "pytest"),
                "--target",
                stub.base_url,
                "--api-key",
                KEY,
                "--max-body-bytes",
                str(1 << 20),
                "--report-dir=out",
            ],
            empty,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    _clean_pass(_results(empty / "out"))
    assert KEY not in out and KEY not in (empty / "out" / "results.json").read_text()


def test_the_installed_plugin_is_dormant_in_other_suites(venv: Path, empty: Path) -> None:
    (empty / "test_own.py").write_text(
        "import sys\n"
        "def test_own():\n"
        "    assert 'conformance.plugin' not in sys.modules  # the engine is not even imported\n"
    )
    proc = _sh([str(venv / "pytest"), "-q"], empty)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout and "GATE" not in proc.stdout
    assert not (empty / "reports").exists()


def test_a_providers_own_target_option_is_left_alone(venv: Path, empty: Path) -> None:
    # many projects' conftests define --target: ours must not break them, and the namespaced
    # option runs the checks beside their tests; their failure still fails the session
    (empty / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--target', default='mine')\n"
    )
    (empty / "test_own.py").write_text(
        "def test_sees_its_own_option(request):\n    assert request.config.getoption('--target') == 'theirs'\n"
    )
    with StubProcess(api_keys=[KEY], python=str(venv / "python")) as stub:
        run = [
            str(venv / "pytest"),
            "-q",
            "--target",
            "theirs",
            "--conformance-target",
            stub.base_url,
            "--conformance-api-key",
            KEY,
            "--checks",
            "auth.*",
            "--report-dir=",
        ]
        proc = _sh(run, empty)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "5 passed" in proc.stdout and "GATE PASSED (MUST)" in proc.stdout

        (empty / "test_broken.py").write_text("def test_broken():\n    assert False\n")
        proc = _sh(run, empty)
    assert "GATE PASSED (MUST)" in proc.stdout
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the gate passed, their test did not


def test_the_python_api_from_the_wheel(venv: Path, empty: Path) -> None:
    script = (
        "import json, conformance\n"
        "r = conformance.run(checks=['auth.*', 'stream.grammar.*'])\n"
        "bad = conformance.run(checks=['nope.*'])\n"
        "faulty = conformance.run(stub_faults=['bearer-only'], checks=['auth.accept.*'], report_dir='rep')\n"
        "print(json.dumps({'code': r.exit_code, 'n': len(r.results), 'failed': r.failed, 'line': r.gate_line,\n"
        "                  'files': r.report_files, 'bad': [bad.exit_code, bad.error, bad.document],\n"
        "                  'faulty': [faulty.exit_code, faulty.failed, sorted(p.name for p in faulty.report_files)]}))\n"
    )
    proc = _sh([str(venv / "python"), "-c", script], empty)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["code"] == 0 and got["n"] > 10 and got["failed"] == [] and got["files"] == []
    assert got["line"].startswith("GATE PASSED")
    assert got["bad"] == [2, "--checks nope.*: matches no check ID (see --list-checks)", None]
    assert got["faulty"] == [1, ["auth.accept.x-api-key"], ["index.html", "junit.xml", "results.json", "summary.md"]]
    assert sorted(p.name for p in empty.iterdir()) == ["rep"]  # nothing else written where it ran
