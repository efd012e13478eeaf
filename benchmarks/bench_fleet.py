"""12 cells one after another against `conformance fleet` on a local Dask cluster, and what one
cell costs: the figures to size a cluster for 1,000 cells.

The targets are three stub processes that wait --latency seconds before each answer
(`conformance stub --latency`), so that a cell spends its time waiting on its target as it
does on a real one; the fleet file crosses them with two API versions and two profiles
(3 × 2 × 2 = 12 cells), each cell a selection of families (--checks) without the time-bounded
fuzzing. "serial" runs the 12 cells' `conformance run` one after another (a shell loop);
"fleet" is `conformance fleet` with a LocalCluster of one worker process per core and
--cells-per-worker N (each value of --sizes). Both start from cold processes, as a person's
would. Reported: the median wall time of each, the ratio, and per cell the median wall time,
CPU seconds and peak memory of its run (measured by the worker around the cell's process).

    python benchmarks/bench_fleet.py [--repeat N] [--latency S] [--sizes 1,2,4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from conformance.fleet.spec import load_fleet
from conformance.stub.server import StubProcess

KEY = "bench-fleet-key"
CHECKS = ["auth.*", "errors.*", "request.*", "models.*", "count-tokens.*"]


def fleet_file(directory: Path, urls: list[str]) -> Path:
    doc = {
        "defaults": {"checks": CHECKS, "timeout": 30, "run_budget": 900},
        "axes": {"anthropic_version": ["2023-06-01", "2026-10-21"], "profile": ["anthropic", "darkbloom"]},
        "targets": [{"name": f"t{i}", "url": url, "api_key_env": "BENCH_FLEET_KEY"} for i, url in enumerate(urls)],
    }
    path = directory / "fleet.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def serial(path: Path, out: Path) -> float:
    """The cells' runs one after another; wall seconds."""
    env = {**os.environ, "CONFORMANCE_API_KEY": KEY}
    start = time.perf_counter()
    for cell in load_fleet(path).cells:
        proc = subprocess.run(
            [sys.executable, "-m", "conformance", "run", *cell.argv, f"--report-dir={out / cell.id}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode not in (0, 1):
            raise SystemExit(f"serial run of {cell.id} exited {proc.returncode}:\n{proc.stdout[-2000:]}")
    return time.perf_counter() - start


def fleet(path: Path, out: Path, cells_per_worker: int) -> tuple[float, list[dict]]:
    env = {**os.environ, "BENCH_FLEET_KEY": KEY}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "fleet", str(path), "-o", str(out), "--no-progress"]
        + ["--cells-per-worker", str(cells_per_worker)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"fleet exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return elapsed, json.loads((out / "results.json").read_text())["cells"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds each stub waits before answering")
    parser.add_argument("--sizes", default="1,2,4,8", help="--cells-per-worker values to measure (default 1,2,4,8)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cores = os.cpu_count() or 1
    stubs = [StubProcess(api_keys=[KEY], latency=args.latency, seed=i) for i in range(3)]
    try:
        urls = [s.start() for s in stubs]
        with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
            base = Path(tmp)
            path = fleet_file(base, urls)
            n = len(load_fleet(path).cells)
            serial_times, fleet_times = [], {k: [] for k in sizes}
            cells: list[dict] = []
            for i in range(args.repeat):
                serial_times.append(serial(path, base / f"serial-{i}"))
                for k in sizes:
                    wall, got = fleet(path, base / f"fleet-{k}-{i}", k)
                    fleet_times[k].append(wall)
                    cells += got
    finally:
        for s in stubs:
            s.stop()
    ser = statistics.median(serial_times)
    print(
        f"{n} cells ({len(CHECKS)} families each, stub latency {args.latency:g} s), {cores} cores, median of {args.repeat}"
    )
    print(f"  serial (one conformance run after another)   {ser:7.1f} s   {ser / n:5.1f} s/cell")
    for k in sizes:
        fl = statistics.median(fleet_times[k])
        print(
            f"  fleet, LocalCluster {cores} workers x {k} cells    {fl:7.1f} s   {fl / n:5.1f} s/cell   "
            f"{ser / fl:4.2f}x faster"
        )
    wall = statistics.median(c["duration"] for c in cells)
    cpu = statistics.median(c["cpu_seconds"] for c in cells)
    rss = statistics.median(c["max_rss_mb"] for c in cells)
    print(f"per cell (median of {len(cells)}): wall {wall:.1f} s, CPU {cpu:.2f} s, peak memory {rss:.0f} MB")
    print(f"  waiting on the target: {max(wall - cpu, 0) / wall:.0%} of a cell's wall time")
    # a machine of C cores runs cells at min(C / cpu, slots / wall) cells per second
    print("sizing 1,000 cells like these (wall ≈ 1000 / (machines × min(cores / CPU, slots / wall))):")
    for machines, c, slots in ((1, cores, 2 * cores), (1, cores, 4 * cores), (4, 8, 32), (16, 8, 32)):
        rate = machines * min(c / cpu, slots / wall)
        print(
            f"  {machines:>2} machine(s) x {c} cores, {slots} cells in flight each: {1000 / rate / 60:6.1f} min, "
            f"{slots * rss / 1024:.1f} GB of cell memory per machine"
        )


if __name__ == "__main__":
    main()
