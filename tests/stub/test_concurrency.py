"""100 concurrent streams on one stub, each parsed and checked (grammar, content, usage)."""

from __future__ import annotations

import asyncio
import json

import httpx
from stub_helpers import assemble, body, headers, parse_sse


async def _one(client: httpx.AsyncClient, url: str, n: int) -> dict:
    req = body(f"Count from {n} to {n + 30}", stream=True)
    async with client.stream("POST", url + "/v1/messages", json=req, headers=headers()) as r:
        assert r.status_code == 200
        raw = b"".join([chunk async for chunk in r.aiter_raw()])
    events = [(name, json.loads(data)) for name, data in parse_sse(raw.decode())]
    final = assemble(events)  # asserts message_start first, message_stop last, indices, name == type
    assert final["content"][0]["text"] == " ".join(str(i) for i in range(n, n + 31))
    assert final["usage"]["output_tokens"] == 31 and final["stop_reason"] == "end_turn"
    return final


def test_100_concurrent_streams(stub_url: str) -> None:
    async def main() -> list[dict]:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            return await asyncio.gather(*(_one(client, stub_url, n) for n in range(100)))

    finals = asyncio.run(main())
    assert len(finals) == 100 and len({f["id"] for f in finals}) == 100


def test_clients_that_leave_mid_stream_leave_the_stub_serving(start_stub) -> None:
    """Streams are written without a disconnect listener (app._Stream): a client that closes
    its connection after the first bytes, or during the buffered-stream fault's delay before
    them, costs nothing lasting; the next requests on the same stub are answered in full."""
    import socket
    from urllib.parse import urlsplit

    for faults in ([], ["buffered-stream"]):
        url = start_stub(faults=faults)
        host, port = urlsplit(url).hostname, urlsplit(url).port
        data = json.dumps(body("Count from 1 to 200", stream=True)).encode()
        head = "".join(f"{k}: {v}\r\n" for k, v in {**headers(), "content-type": "application/json"}.items())
        for read_first in (True, False):
            for _ in range(20):
                with socket.create_connection((host, port), timeout=5) as sock:
                    sock.sendall(
                        f"POST /v1/messages HTTP/1.1\r\nhost: x\r\n{head}content-length: {len(data)}\r\n\r\n".encode()
                        + data
                    )
                    if read_first:
                        assert sock.recv(64).startswith(b"HTTP/1.1 200")
        assert asyncio.run(_complete(url))["stop_reason"] == "end_turn"


async def _complete(url: str) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        finals = await asyncio.gather(*(_one(client, url, n) for n in range(5)))
    return finals[0]
