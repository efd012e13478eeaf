"""A default run against a target whose streams hang after the first delta: the wall time.

The hostile server's ``endless-after-delta`` mode answers JSON correctly and streams
``message_start``, one delta, then nothing, forever. Once one stream of the run has waited out
its idle bound (``--timeout``, 30 s by default), later streamed requests (probes, generated
requests, SDK and client calls) are not sent and are blocked by the check that reports the hang,
so the run costs about one bound, not one per stream (a default run took 467 s before that).
``tests/hostile/test_hostile.py::test_a_hung_stream_is_waited_for_once`` counts the waits; this
measures the time.

    python benchmarks/bench_hung.py [--timeout 30] [--repeat 1] [--checkout DIR]

``--checkout DIR`` runs another checkout's code (``PYTHONPATH``) for a side-by-side figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "hostile"))

from hostile_server import HostileServer  # noqa: E402


def one_run(timeout: float, checkout: Path | None) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFORMANCE_", "PYTEST_"))}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    with HostileServer("endless-after-delta") as server, tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "conformance", "run", "--target", server.url, "--model", "m"]
        cmd += ["--api-key", "bench-key", "--timeout", f"{timeout:g}", f"--report-dir={tmp}/reports", "-q"]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=3600)
        return time.perf_counter() - t0, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=30.0, help="the run's --timeout (idle bound), seconds")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--checkout", type=Path, default=None, help="run another checkout's code")
    args = parser.parse_args()
    runs = [one_run(args.timeout, args.checkout) for _ in range(args.repeat)]
    wall = statistics.median(t for t, _ in runs)
    codes = sorted({rc for _, rc in runs})
    print(f"hung streams, --timeout {args.timeout:g}: median wall {wall:.1f} s over {len(runs)} run(s), exit {codes}")
    print(f"  that is {wall / args.timeout:.1f} idle bounds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
