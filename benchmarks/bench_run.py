"""The full default run against the bundled stub: wall time, requests sent, xdist speed-up.

Three measurements in one run, each repeated and reported as a median:
  * the engine alone (every anthropic-profile check, in-process, stub in a thread), counting
    the requests the harness sends through its Target (the SDK checks' own traffic excluded);
  * `pytest` over the suites, serial, as a user runs it (stub started by the plugin);
  * the same with pytest-xdist `-n 2`;
  * both again with a larger fuzz budget (`--examples 100`), where the checks, not start-up,
    dominate. Under xdist the controller starts one stub for the run, the checks that share
    state (probes, the SDK import) run on one worker, and the two workers share the parts of the
    schemathesis pass (each drawn once); on 2 cores the stub, two workers and the controller
    still share the CPU, and at the default budget the pass's parts are bounded by
    --fuzz-seconds (about 3 s each, whatever the CPU), which caps the speed-up.

    python benchmarks/bench_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from conformance._run import RunConfig, RunContext, preflight, run_check
from conformance.checks import load_catalog, schemathesis
from conformance.stub.server import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-key"


def engine_run() -> tuple[float, int, int]:
    """Seconds, checks run and requests sent for one in-process run of the catalog.

    Imports are warm, but the schemathesis cases are drawn anew: a run in its own process
    (every real run) has no earlier run's cases to replay (schemathesis._DRAWN)."""
    schemathesis._DRAWN.clear()
    checks = load_catalog().select(profile="anthropic")
    with serve_in_thread(api_keys=[KEY], max_body_bytes=1 << 20) as url:
        with RunContext.open(RunConfig(target=url, api_key=KEY, max_body_bytes=1 << 20)) as ctx:
            sent = 0
            original = ctx.target.send

            def counting_send(*args, **kw):
                nonlocal sent
                sent += 1
                return original(*args, **kw)

            ctx.target.send = counting_send  # type: ignore[method-assign]
            start = time.perf_counter()
            preflight(ctx)
            for c in checks:
                run_check(ctx, c)
            return time.perf_counter() - start, len(checks), sent


def pytest_run(*extra: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"pytest {' '.join(extra)} exited {proc.returncode}:\n{proc.stdout[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine_run()  # warm imports (anthropic, schemas) so the engine figure is steady-state
    engine = [engine_run() for _ in range(args.repeat)]
    serial = [pytest_run() for _ in range(args.repeat)]
    parallel = [pytest_run("-n", "2") for _ in range(args.repeat)]
    big = ("--examples", "100", "--fuzz-seconds", "30")
    big_serial = [pytest_run(*big) for _ in range(args.repeat)]
    big_parallel = [pytest_run(*big, "-n", "2") for _ in range(args.repeat)]
    secs = statistics.median(e[0] for e in engine)
    _, checks, sent = engine[0]
    print(
        f"engine, in-process : {secs:6.2f} s median for {checks} checks, {sent} requests "
        f"({sent / secs:,.0f} requests/s, {secs / sent * 1e3:.2f} ms per request incl. judging)"
    )
    s, p = statistics.median(serial), statistics.median(parallel)
    print(f"pytest, serial     : {s:6.2f} s median wall (process start, stub start, all checks)")
    print(f"pytest, -n 2       : {p:6.2f} s median wall; speed-up {s / p:.2f}x")
    bs, bp = statistics.median(big_serial), statistics.median(big_parallel)
    print(f"--examples 100     : {bs:6.2f} s serial, {bp:6.2f} s with -n 2; speed-up {bs / bp:.2f}x")
    print("goal: full default run under 60 s on 2 cores")


if __name__ == "__main__":
    main()
