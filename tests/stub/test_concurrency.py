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
