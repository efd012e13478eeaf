"""The ``conformance stub`` command and StubProcess: a real subprocess, real signals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from stub_helpers import body, headers

from conformance.stub.faults import FAULTS
from conformance.stub.server import StubProcess, StubStartError

ROOT_ENV = {"PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[2])}


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, **ROOT_ENV}
    return subprocess.run(
        [sys.executable, "-m", "conformance", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_stub_process_serves_and_stops() -> None:
    with StubProcess(api_keys=["k9"], faults=["ratelimit-headers"], seed=3) as stub:
        assert stub.base_url.startswith("http://127.0.0.1:")
        r = httpx.post(stub.base_url + "/v1/messages", json=body(), headers={**headers(), "x-api-key": "k9"})
        assert r.status_code == 200 and r.headers["anthropic-ratelimit-requests-limit"] == "1000"
        proc = stub.process
    assert proc is not None and proc.returncode == 0  # SIGTERM is a clean stop


def test_stub_process_reports_failure() -> None:
    with pytest.raises(StubStartError, match="unknown fault"):
        StubProcess(faults=["not-a-fault"]).start()


def test_sigint_stops_cleanly() -> None:
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "stub", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **ROOT_ENV},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert httpx.get(url + "/v1/models", headers=headers()).status_code == 200
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "Traceback" not in err


def test_list_faults() -> None:
    done = run_cli("stub", "--list-faults")
    lines = done.stdout.strip().split("\n")
    assert done.returncode == 0 and len(lines) == len(FAULTS)
    for line, fault in zip(lines, FAULTS, strict=True):
        assert line.split()[:2] == [fault.name, fault.kind]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["stub", "--port", "0", "--fault", "nope"], "unknown fault 'nope'"),
        (["stub", "--port", "http"], "invalid port"),
        (["stub", "--port", "70000"], "out of range"),
        (["stub"], "--port is required"),
        (["stub", "--port", "0", "--models", "/nonexistent.json"], "cannot read models file"),
        (["stub", "--port", "0", "--max-body-bytes", "-5"], "positive integer"),
        (["bogus"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_4(args: list[str], needle: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 4, done
    assert needle in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        started = time.monotonic()
        done = run_cli("stub", "--port", str(port))
    assert done.returncode == 4 and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert done.stderr.count("\n") == 1 and time.monotonic() - started < 15
