"""Fixtures for the report tests: one real conformance run against the stub with faults."""

from __future__ import annotations

import copy
import fcntl
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from report_helpers import CANARY, FAULTS, make_doc

ROOT = Path(__file__).resolve().parents[2]  # the checkout: the stub run's working directory


@dataclass
class StubRun:
    report_dir: Path
    returncode: int
    output: str  # stdout + stderr

    @property
    def doc(self) -> dict:
        return json.loads((self.report_dir / "results.json").read_text(encoding="utf-8"))


def _families() -> list[str]:
    from conformance.checks import load_catalog

    return sorted({c.family for c in load_catalog()} - SLOW_FAMILIES)


# Every family but the generated-request fuzzing (a minute of its own; it adds nothing here).
SLOW_FAMILIES = {"fuzz"}
CHECKS = [f"{fam}.*" for fam in _families()]


@pytest.fixture(scope="session")
def stub_run(tmp_path_factory: pytest.TempPathFactory) -> StubRun:
    """``pytest -n 2 --api-key CANARY --stub-fault ...`` as a user runs it, in a subprocess.

    Run once per test session: xdist workers share it through a lock file beside their temp dirs.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    shared = root / "report-stub-run"
    shared.mkdir(exist_ok=True)
    report_dir, done = shared / "reports", shared / "done.json"
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            # "--report-dir=DIR" in one word: pytest's early rootdir scan would take a separate
            # existing DIR for a test path (rootdir /tmp, the checkout's conftest unseen)
            cmd = [
                sys.executable,
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "-n",
                "2",
                f"--api-key={CANARY}",
                f"--report-dir={report_dir}",
                *[f"--stub-fault={f}" for f in FAULTS],
                *[f"--checks={g}" for g in CHECKS],
            ]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
            done.write_text(json.dumps({"returncode": proc.returncode, "output": proc.stdout + proc.stderr}))
    info = json.loads(done.read_text())
    return StubRun(report_dir, info["returncode"], info["output"])


@pytest.fixture
def doc_factory():
    return lambda *a, **kw: copy.deepcopy(make_doc(*a, **kw))


def write_doc(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def tmp_doc(tmp_path: Path) -> Iterator:
    yield lambda name, doc: write_doc(tmp_path / name, doc)
