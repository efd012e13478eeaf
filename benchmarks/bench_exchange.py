"""Per-exchange cost of Target.send against a bare httpx.Client, on one local uvicorn server.

    /work/venv/bin/python benchmarks/bench_exchange.py [--n 2000] [--block 100]

The server (a subprocess) answers POST /v1/messages with a fixed Message JSON, or with a fixed
10-event stream when the body has "stream": true. Both clients keep their connection alive;
runs alternate in blocks so drift affects both alike. Printed: median and p90 per exchange,
and the median overhead of Target.send (goal: under 1 ms). The overhead can be negative: the
Target hands each request to its httpx transport directly, skipping the client layer
(cookies, redirects, auth) that a bare httpx.Client runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

MESSAGE = {
    "id": "msg_bench",
    "type": "message",
    "role": "assistant",
    "model": "bench-model",
    "content": [{"type": "text", "text": "Hello from the benchmark server."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 7},
}


def _stream_bytes() -> bytes:
    start = dict(MESSAGE, content=[], stop_reason=None, usage={"input_tokens": 12, "output_tokens": 1})
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        ("ping", {"type": "ping"}),
        *[
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"word{i} "}},
            )
            for i in range(4)
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 7},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    assert len(events) == 10
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


def serve() -> None:
    """Child process: a raw ASGI app on 127.0.0.1, port printed on stdout."""
    import socket

    import uvicorn

    message = json.dumps(MESSAGE).encode()
    stream = _stream_bytes()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        is_stream = b'"stream":true' in body
        payload, ctype = (stream, b"text/event-stream") if is_stream else (message, b"application/json")
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", ctype), (b"request-id", b"req_bench")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only for
    # such sockets, and without it Nagle + delayed ACK add ~40 ms to every keep-alive exchange.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="exchanges per client and kind (default 2000)")
    ap.add_argument("--block", type=int, default=100, help="exchanges per block before switching client")
    args = ap.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import httpx

    from conformance._target import Target, Timeouts

    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        port = int(proc.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        key = "sk-ant-bench-key"
        target = Target(url, api_key=key, timeouts=Timeouts(connect=5, read=10, event_idle=10, total=30))
        bare = httpx.Client(headers={"x-api-key": key, "anthropic-version": "2023-06-01"}, timeout=10)
        bodies = {
            "json": {"model": "bench-model", "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]},
            "stream": {
                "model": "bench-model",
                "max_tokens": 16,
                "messages": [{"role": "user", "content": "Hi"}],
                "stream": True,
            },
        }

        def with_target(body: dict) -> None:
            ex = target.messages(body)
            assert ex.status == 200 and ex.complete, ex
            assert not body.get("stream") or len(ex.events) == 10

        def with_bare(body: dict) -> None:
            if body.get("stream"):
                with bare.stream("POST", url + "/v1/messages", json=body) as r:
                    data = b"".join(r.iter_raw())
                assert r.status_code == 200 and data.count(b"\n\n") == 10
            else:
                r = bare.post(url + "/v1/messages", json=body)
                assert r.status_code == 200 and r.json()["id"] == "msg_bench"

        for body in bodies.values():  # warm up connections, imports, caches
            for _ in range(50):
                with_target(body)
                with_bare(body)

        times: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}  # client-process CPU per exchange, per block
        for kind, body in bodies.items():
            for start in range(0, args.n, args.block):
                for who, fn in (("target", with_target), ("httpx", with_bare)):
                    bucket = times.setdefault((kind, who), [])
                    count = min(args.block, args.n - start)
                    c0 = time.process_time()
                    for _ in range(count):
                        t0 = time.perf_counter()
                        fn(body)
                        bucket.append(time.perf_counter() - t0)
                    cpu.setdefault((kind, who), []).append((time.process_time() - c0) / count)
        target.close()
        bare.close()
    finally:
        proc.terminate()
        proc.wait(10)

    print(
        f"per-exchange time, N={args.n} each, blocks of {args.block}, loopback uvicorn, Python {sys.version.split()[0]}"
    )
    print("(wall: per exchange; cpu: client-process CPU per exchange, median over blocks; less noisy on a busy host)")
    print(f"{'kind':<8}{'client':<16}{'median ms':>10}{'p90 ms':>10}{'cpu ms':>10}")
    for kind in bodies:
        for who, label in (("httpx", "httpx.Client"), ("target", "Target.send")):
            xs = sorted(times[(kind, who)])
            print(
                f"{kind:<8}{label:<16}{statistics.median(xs) * 1e3:>10.3f}{xs[int(len(xs) * 0.9)] * 1e3:>10.3f}"
                f"{statistics.median(cpu[(kind, who)]) * 1e3:>10.3f}"
            )
        over = (statistics.median(times[(kind, "target")]) - statistics.median(times[(kind, "httpx")])) * 1e3
        over_cpu = (statistics.median(cpu[(kind, "target")]) - statistics.median(cpu[(kind, "httpx")])) * 1e3
        verdict = "under" if over < 1 else "OVER"
        print(f"{kind:<8}{'overhead':<16}{over:>10.3f}{'':>10}{over_cpu:>10.3f}   ({verdict} the 1 ms goal)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
