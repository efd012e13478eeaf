"""The Darkbloom attestation section of the HTML report, from the results document alone.

For a run with ``darkbloom.*`` results it lists the providers of the roster (id, trust level,
key fingerprint), the providers that answered (their ``X-Provider-*`` headers), each receipt of
a plaintext answer with its verification result and the source of the key it verified under
(re-verified from the recorded exchange with :mod:`conformance._darkbloom`, the recipe of
attestation §2.3), and the evidence that was absent (the family's skipped and unsupported
verdicts, with their reasons). Sealed answers are recorded as ciphertext: their receipts are
judged by ``darkbloom.sealed.receipts`` and not repeated here.
"""

from __future__ import annotations

import json
from typing import Any

from conformance import _darkbloom as db

FAMILY = "darkbloom"
ROSTER_PATH = "/v1/providers/attestation"
MESSAGES_PATH = "/v1/messages"


def _path(ex: dict) -> str:
    url = str(ex.get("request", {}).get("url", ""))
    path = url.split("://", 1)[-1]
    return "/" + path.split("/", 1)[1] if "/" in path else ""


def _headers(ex: dict) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in ex.get("headers") or ():
        if isinstance(pair, (list, tuple)) and len(pair) == 2:
            out.setdefault(str(pair[0]).lower(), str(pair[1]))
    return out


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _sealed(ex: dict) -> bool:
    sent = {str(n).lower(): str(v) for n, v in ex.get("request", {}).get("headers") or ()}
    return db.SEALED_CONTENT_TYPE in sent.get("content-type", "").lower()


def _exchanges(results: list[dict]) -> list[dict]:
    """Each exchange of the family's evidence once, in the order recorded."""
    seen: set[str] = set()
    out = []
    for r in results:
        for ex in r.get("evidence") or ():
            key = json.dumps(ex, sort_keys=True, ensure_ascii=False)
            if key not in seen:
                seen.add(key)
                out.append(ex)
    return out


def attestation(doc: dict) -> dict | None:
    """The section's data, or None when the run judged no ``darkbloom.*`` check."""
    results = [r for r in doc.get("results") or () if r.get("family") == FAMILY]
    if not results:
        return None
    exchanges = _exchanges(results)
    rosters = [(i, _json(ex.get("body"))) for i, ex in enumerate(exchanges) if _path(ex).startswith(ROSTER_PATH)]
    rosters = [(i, body) for i, body in rosters if isinstance(body, dict) and "providers" in body]
    providers: dict[str, dict] = {}
    for _, body in rosters:
        for e in db.roster_entries(body):
            key = e.get("se_public_key")
            providers[str(e.get("provider_id"))] = {
                "id": str(e.get("provider_id")),
                "trust": str(e.get("trust_level")),
                "status": str(e.get("status", "")),
                "key": db.key_fingerprint(key) if key else "none",
            }
    served: dict[str, dict] = {}
    receipts: list[dict] = []
    for i, ex in enumerate(exchanges):
        if not _path(ex).startswith(MESSAGES_PATH) or ex.get("status") != 200 or _sealed(ex):
            continue
        h = _headers(ex)
        if h.get("x-provider-id"):
            key = h.get("x-attestation-se-public-key")
            served.setdefault(
                h["x-provider-id"],
                {
                    "id": h["x-provider-id"],
                    "trust": h.get("x-provider-trust-level", "(not sent)"),
                    "key": db.key_fingerprint(key) if key else "(not sent)",
                },
            )
        stream = bool(ex.get("events"))
        found = (
            db.receipts_in_events([(e.get("event"), str(e.get("data", ""))) for e in ex.get("events") or ()])
            if stream
            else db.receipts_in_message(_json(ex.get("body")))
        )
        after = next((body for j, body in rosters if j > i), rosters[-1][1] if rosters else None)
        for r in found:
            v = db.verify_receipt(r, db.candidate_keys(h, after))
            receipts.append(
                {
                    "answer": "stream" if stream else "non-stream",
                    "provider": h.get("x-provider-id", "(not sent)"),
                    "where": r.where(),
                    "hash": str(r.hash)[:16] + "…" if r.hash is not None else "(absent)",
                    "verified": v.ok,
                    "detail": v.detail,
                    "source": v.key.source if v.key is not None else "(none)",
                }
            )
    absent = [
        {"id": r["id"], "verdict": r["verdict"], "message": r.get("message", "")}
        for r in results
        if r.get("verdict") in ("skipped", "unsupported")
    ]
    return {
        "providers": list(providers.values()),
        "served": list(served.values()),
        "receipts": receipts,
        "absent": absent,
        "unsupported": all(r.get("verdict") == "unsupported" for r in results),
    }
