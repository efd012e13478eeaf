"""Throughput and latency of the stub (one uvicorn worker) beside a bare Starlette endpoint.

Run: ``python benchmarks/bench_stub.py [--seconds 4] [--rounds 5]``. Starts both servers as
subprocesses, then a load generator in a third process (asyncio + raw sockets, HTTP/1.1
keep-alive, one connection per concurrent worker) measures non-streaming requests and full
streams, at concurrency 1 and 16. Each cell is split into ``--rounds`` short rounds that
alternate stub and bare, so that both see the same machine (its speed drifts by tens of per
cent over seconds on a shared host): the table gives medians over rounds of requests/s, p50
and p99 latency, and of the per-round ratio stub/bare. Goal: >= 1,500 non-streaming req/s on
one worker, within 2x of the bare one (ratio >= 0.5).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BARE_APP = textwrap.dedent(
    """
    import socket, sys, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    BODY = b'{"id":"msg_0","type":"message","role":"assistant","content":[{"type":"text","text":"hi"}]}'
    async def handler(request):
        await request.body()
        return Response(BODY, media_type="application/json")
    app = Starlette(routes=[Route("/v1/messages", handler, methods=["POST"])])
    sock = socket.socket(); sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0)); sock.listen(2048)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")).run(sockets=[sock])
    """
)

REQUEST = {
    "model": "claude-sonnet-4-5",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hello there, how are you?"}],
}


def start(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"server failed to start: {args}")
    return proc, url


# ------------------------------------------------------------------ load generator (own process)


async def _worker(host: str, port: int, raw: bytes, stream: bool, stop_at: float, lat: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            writer.write(raw)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError(f"status {status}")
            lower = head.lower()
            if b"content-length:" in lower:
                length = int(lower.split(b"content-length:")[1].split(b"\r\n")[0])
                await reader.readexactly(length)
            else:  # chunked stream: read to the terminating chunk
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            lat.append(time.perf_counter() - t0)
    finally:
        writer.close()


def load(url: str, stream: bool, concurrency: int, seconds: float) -> dict[str, float]:
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps({**REQUEST, "stream": stream}).encode()
    raw = (
        f"POST /v1/messages HTTP/1.1\r\nHost: {host}\r\nx-api-key: test-key\r\nanthropic-version: 2023-06-01\r\n"
        f"content-type: application/json\r\ncontent-length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    lat: list[float] = []

    async def main() -> None:
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*(_worker(host, int(port), raw, stream, stop_at, lat) for _ in range(concurrency)))

    t0 = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - t0
    lat.sort()
    return {
        "rps": len(lat) / elapsed,
        "p50": lat[len(lat) // 2] * 1000,
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000,
        "n": len(lat),
    }


def _measure(url: str, stream: bool, conc: int, seconds: float) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--load", url, "1" if stream else "0", str(conc), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="duration of each cell, split over the rounds")
    parser.add_argument("--rounds", type=int, default=5, help="alternating stub/bare rounds per cell")
    parser.add_argument("--load", nargs=4, metavar=("URL", "STREAM", "CONC", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:  # the load-generator process
        url, stream, conc, seconds = args.load
        print(json.dumps(load(url, stream == "1", int(conc), float(seconds))))
        return
    stub, stub_url = start([sys.executable, "-m", "conformance", "stub", "--port", "0"])
    bare, bare_url = start([sys.executable, "-c", BARE_APP])
    each = args.seconds / args.rounds
    try:
        print(f"{args.rounds} alternating rounds of {each:.1f} s per cell; medians over rounds")
        print(
            f"{'kind':<7}{'conc':>5}  {'stub req/s':>11}{'p50 ms':>8}{'p99 ms':>8}  {'bare req/s':>11}{'p50 ms':>8}{'p99 ms':>8}  {'stub/bare':>9}"
        )
        for stream in (False, True):
            for conc in (1, 16):
                rounds: list[tuple[dict, dict | None]] = []
                for _ in range(args.rounds):
                    mine = _measure(stub_url, stream, conc, each)
                    theirs = (
                        None if stream else _measure(bare_url, stream, conc, each)
                    )  # the bare endpoint does not stream
                    rounds.append((mine, theirs))
                med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
                s = [m for m, _ in rounds]
                line = f"{'stream' if stream else 'json':<7}{conc:>5}  {med(s, 'rps'):>11.0f}{med(s, 'p50'):>8.2f}{med(s, 'p99'):>8.2f}  "
                if stream:
                    line += f"{'-':>11}{'-':>8}{'-':>8}  {'-':>9}"
                else:
                    b = [t for _, t in rounds if t is not None]
                    ratio = statistics.median(m["rps"] / t["rps"] for m, t in rounds if t is not None)
                    line += f"{med(b, 'rps'):>11.0f}{med(b, 'p50'):>8.2f}{med(b, 'p99'):>8.2f}  {ratio:>9.2f}"
                print(line, flush=True)
    finally:
        for proc in (stub, bare):
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
