"""Shared values for the report tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

# A key that looks real; it must appear in no report file and nowhere in the terminal output.
CANARY = "sk-ant-api03-CANARY-q8Zr4TnW7xYp2Lm9Kd3Vb6Hs1Jf5Gc0-canary"
FAULTS = ("chat-completion-body", "done-sentinel", "openai-error-envelope")


def make_doc(verdicts: dict[str, str], *, target: str = "http://t.example", level: str = "MUST") -> dict:
    """A small valid results document: check id -> verdict."""
    results = []
    for cid, verdict in verdicts.items():
        results.append(
            {
                "id": cid,
                "title": cid.rsplit(".", 1)[-1],
                "family": cid.split(".", 1)[0],
                "level": level,
                "profiles": ["anthropic"],
                "ref": "contract §1",
                "requirement": f"{cid} holds.",
                "capability": None,
                "verdict": verdict,
                "message": "" if verdict == "passed" else f"expected x, got y ({cid})",
                "note": "",
                "duration": 0.01,
                "evidence": [],
            }
        )
    counts: dict[str, int] = {}
    for r in results:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    failed = any(r["verdict"] in ("failed", "error") for r in results)
    return {
        "harness": {"name": "conformance", "version": "0.1.0"},
        "created": "2026-01-02T03:04:05+00:00",
        "target": target,
        "profile": "anthropic",
        "anthropic_version": "2023-06-01",
        "model": "m-1",
        "seed": 0,
        "gate": {
            "level": "must",
            "exit_code": 1 if failed else 0,
            "verdict": "GATE FAILED (MUST)" if failed else "GATE PASSED (MUST)",
        },
        "counts": counts,
        "results": results,
    }
