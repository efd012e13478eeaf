"""Snapshot every check's result on the clean stub and on every fault, normalised, for comparing
two versions of the harness (a refactoring must leave every verdict, message and piece of
evidence as it was).

    python scripts/snapshot_results.py OUT.json            # this checkout
    PYTHONPATH=/path/to/other/checkout python scripts/snapshot_results.py OTHER.json
    python scripts/snapshot_results.py --diff A.json B.json

Each row runs the anthropic profile in-process against the bundled stub with one fault on, as
the kill matrix does (conformance/killmatrix.py), and keeps each result's id, verdict, message
and evidence (request line, status, body excerpt). Times, durations, ports, generated ids and
dates are replaced by placeholders.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_NORMALISE = [
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"\b(msg|req|toolu|srvtoolu|chatcmpl|msgbatch)([_-])[A-Za-z0-9]+"), r"\1\2ID"),
    (re.compile(r'(\\?"created\\?": ?)\d+'), r"\1N"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "DATETIME"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "N s"),
    (re.compile(r"\"(elapsed|duration|t|at|time)\": ?[0-9.e-]+"), r'"\1": N'),
]


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        for pattern, repl in _NORMALISE:
            value = pattern.sub(repl, value)
        return value
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items() if k not in ("duration", "elapsed", "created", "times")}
    return value


def _row(faults: list[str]) -> dict[str, Any]:
    from conformance.killmatrix import BODY_LIMIT, EXAMPLES, FUZZ_SECONDS, KEY, PROFILE, reference_url
    from conformance.stub.server import ThreadedStub

    try:
        from conformance.checks import load_catalog
    except ImportError:  # an older checkout
        from conformance._catalog import load_catalog  # type: ignore[attr-defined,no-redef]
    from conformance._run import RunConfig, RunContext, preflight, run_check

    try:  # the stub's own triggers, declared as the kill matrix declares them (newer checkouts)
        from conformance._options import STUB_TRIGGERS

        extra: dict[str, Any] = {"triggers": STUB_TRIGGERS}
    except ImportError:
        extra = {}
    stub = ThreadedStub(api_keys=[KEY], faults=faults, max_body_bytes=BODY_LIMIT)
    url = stub.start()
    try:
        config = RunConfig(
            target=url,
            api_key=KEY,
            profile=PROFILE,
            timeout=10.0,
            total_timeout=20.0,
            max_body_bytes=BODY_LIMIT,
            compare=reference_url(),
            examples=EXAMPLES,
            fuzz_seconds=FUZZ_SECONDS,
            **extra,
        )
        with RunContext.open(config) as ctx:
            preflight(ctx)
            out = {}
            for c in load_catalog().select(profile=PROFILE):
                r = run_check(ctx, c).to_dict()
                evidence = [
                    {
                        "request": (e.get("request") or {}).get("curl"),
                        "status": e.get("status"),
                        "error": e.get("transport_error"),
                        "body": (e.get("body") or "")[:400],
                        "events": [(v.get("event"), v.get("data")) for v in e.get("events") or []][:40],
                        "anomalies": e.get("sse_anomalies"),
                    }
                    for e in r.get("evidence", [])
                ]
                out[r["id"]] = _norm({"verdict": r["verdict"], "message": r["message"], "evidence": evidence})
            return out
    finally:
        stub.request_stop()
        stub.join()


def snapshot(path: str) -> None:
    from conformance.stub.faults import FAULTS

    rows = {"(none)": _row([])}
    for fault in FAULTS:
        rows[fault.name] = _row([fault.name])
        print(
            f"{fault.name}: {sum(v['verdict'] == 'failed' for v in rows[fault.name].values())} failed",
            file=sys.stderr,
            flush=True,
        )
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=1, sort_keys=True)


def diff(a_path: str, b_path: str) -> int:
    a, b = (_norm(json.load(open(p, encoding="utf-8"))) for p in (a_path, b_path))
    differences = 0
    for row in sorted(set(a) | set(b)):
        ra, rb = a.get(row, {}), b.get(row, {})
        for cid in sorted(set(ra) | set(rb)):
            if ra.get(cid) != rb.get(cid):
                differences += 1
                print(f"{row} / {cid}:\n  A: {json.dumps(ra.get(cid))[:600]}\n  B: {json.dumps(rb.get(cid))[:600]}")
    rows = len(set(a) | set(b))
    cells = sum(len(set(a.get(r, {})) | set(b.get(r, {}))) for r in set(a) | set(b))
    print(f"{rows} rows, {cells} results compared: {differences} differ")
    return 1 if differences else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--diff"]:
        raise SystemExit(diff(sys.argv[2], sys.argv[3]))
    snapshot(sys.argv[1])
