"""Validations per second of a typical Message body and a typical SSE event payload.

jsonschema (pure Python, readable errors) and jsonschema-rs (compiled) side by side, in one
run, over the same compiled schemas the harness and the stub use. Prints medians of repeated
timing rounds and the ratio between the two.

    python benchmarks/bench_schema.py
"""

from __future__ import annotations

import statistics
import time

import jsonschema

from conformance._schema import load_schemas

MESSAGE = {
    "id": "msg_01XFDUDYJgAACTvhG8fDDBEc",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "text", "text": "A process is an independent program with its own memory space."},
        {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Paris"}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 22, "output_tokens": 94, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
}
EVENT = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}


def rounds(fn, instance, n: int, repeat: int = 7) -> float:
    """Median seconds per validation over ``repeat`` rounds of ``n`` calls."""
    per_call = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            fn(instance)
        per_call.append((time.perf_counter() - start) / n)
    return statistics.median(per_call)


def main() -> None:
    schemas = load_schemas()
    print(f"{'instance':14} {'jsonschema':>14} {'jsonschema-rs':>14} {'ratio':>7}")
    for label, name, instance in (("Message", "message", MESSAGE), ("SSE event", "stream-event", EVENT)):
        v = schemas.validator(name)
        slow = jsonschema.Draft202012Validator({"$ref": v.path.as_uri()}, registry=schemas.registry)
        assert slow.is_valid(instance) and v.is_valid(instance)
        t_py = rounds(slow.is_valid, instance, 300)
        t_rs = rounds(v.is_valid, instance, 20000)
        print(
            f"{label:14} {t_py * 1e3:11.4f} ms {t_rs * 1e3:11.4f} ms {t_py / t_rs:6.0f}x"
            f"   ({1 / t_py:,.0f}/s vs {1 / t_rs:,.0f}/s)"
        )
    print("goal: median validation of one Message under 0.1 ms (the fast path)")


if __name__ == "__main__":
    main()
