"""darkbloom: the attestation evidence a Darkbloom coordinator shows a consumer on ``/v1/messages``.

The Darkbloom page says the messages endpoint goes "through the same provider dispatch and
attestation pipeline as all other inference endpoints". What that pipeline shows on the wire is
digested in ``../shared/spec/darkbloom-attestation.md`` (cited as "attestation §N"; its §5
proposes the checks, DB-R*, DB-K*, DB-H*, DB-S*, DB-E*). The family judges, from bytes on the
wire only:

* ``darkbloom.roster.*``: the provider roster ``GET /v1/providers/attestation`` (§2.5);
* ``darkbloom.key.*``: the coordinator key ``GET /v1/encryption-key`` (§3);
* ``darkbloom.headers.*``: the ``X-Provider-*`` / ``X-Attestation-*`` headers of committed
  answers, against the roster fetched right after each (§1);
* ``darkbloom.receipt.*``: ``se_signature`` + ``response_hash`` (§2): formats, placement in
  Anthropic shapes, the ECDSA P-256 signature verified over the ASCII hex of the hash, the
  official SDK in strict mode, one key per provider, and the hash's binding to the answer where
  ``--receipt-binding`` names a recomputable one;
* ``darkbloom.sealed.*``: sealed transport (NaCl box, ``application/eigeninference-sealed+json``,
  §3): sealed answers, per-event sealed streams, fresh nonces, every documented refusal.

Verdicts: a target that shows no Darkbloom evidence at all (no roster, no coordinator key, no
provider header, no receipt) gets *unsupported* on every check, not a wall of failures; evidence
that is optional and absent is *skipped* with the reason (never passed); a hash that cannot be
recomputed is *inconclusive*, never failed. Apple's certificate chains and App Attest need the
live service and are out of reach (attestation §6).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from conformance._catalog import MUST, SHOULD, Outcome, check
from conformance._darkbloom import (
    HASH_RE,
    KEY_ALGORITHM,
    SEALED_CONTENT_TYPE,
    SITE_ONLY_HEADERS,
    TRUST_LEVELS,
    Receipt,
    Sealer,
    candidate_keys,
    coordinator_kid,
    der_signature,
    evidence_headers,
    key_fingerprint,
    p256_key,
    receipts_in_events,
    receipts_in_message,
    roster_entries,
    sha256_hex,
    std_b64decode,
    std_b64encode,
    stub_text_hash,
    upstream_sse_hash_k,
    verify_receipt,
)
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance.checks._common import basic_body, describe, expect_error, expect_ok

DARKBLOOM = frozenset({"darkbloom"})
ROSTER_PATH = "/v1/providers/attestation"
KEY_PATH = "/v1/encryption-key"
UNKNOWN_MODEL = "conformance-no-such-model-0000"
TRUST_FLOOR = "hardware"  # the coordinator's default routing floor (attestation §2.5)
BOOLEAN_HEADERS = (
    "x-provider-attested",
    "x-provider-encrypted",
    "x-provider-secure-enclave",
    "x-provider-mda-verified",
)
REQUIRED_HEADERS = ("x-provider-id", "x-provider-trust-level", "x-provider-attested")
ENTRY_BOOLEANS = ("secure_enclave", "sip_enabled", "secure_boot_enabled", "mda_verified")
IDENTITY_FIELDS = ("serial_number", "mda_udid", "mda_cert_chain_b64")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SEALED_EVENT_RE = re.compile(rb"data: ?([A-Za-z0-9+/]+={0,2})\r?\n\r?\n")

ROSTER = "darkbloom-roster"
KEY = "darkbloom-key"
ANSWERS = "darkbloom-answers"
REFUSED = "darkbloom-refused"
SEALED = "darkbloom-sealed"


# ------------------------------------------------------------------------------- probes


@probe(ROSTER)
def _roster_probe(ctx: Context) -> dict[str, Exchange | None]:
    """The roster without credentials (it is public), and with them when that was refused."""
    anonymous = ctx.send("GET", ROSTER_PATH, auth="none")
    authenticated = ctx.send("GET", ROSTER_PATH) if anonymous.status in (401, 403) else None
    return {"anonymous": anonymous, "authenticated": authenticated}


@probe(KEY)
def _key_probe(ctx: Context) -> list[Exchange]:
    """The coordinator key, fetched twice without credentials (its kid must not change)."""
    return [ctx.send("GET", KEY_PATH, auth="none"), ctx.send("GET", KEY_PATH, auth="none")]


@dataclass
class Answer:
    """A ``/v1/messages`` answer and the roster fetched right after it."""

    ex: Exchange
    roster: Exchange
    stream: bool
    n: int

    @property
    def committed(self) -> bool:
        return self.ex.status == 200

    @property
    def label(self) -> str:
        return f"answer {self.n} ({'stream' if self.stream else 'non-stream'})"

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in self.ex.headers:
            out.setdefault(name.lower(), value)
        return out

    def evidence(self) -> dict[str, str]:
        return evidence_headers(self.ex.headers)

    def receipts(self) -> list[Receipt]:
        return _receipts_of(self.ex)

    def roster_body(self) -> Any:
        return self.roster.json() if self.roster.status == 200 else None


def _receipts_of(ex: Exchange) -> list[Receipt]:
    if ex.status != 200:
        return []
    if ex.is_stream:
        return receipts_in_events([(e.event, e.data) for e in ex.events])
    return receipts_in_message(ex.json())


@probe(ANSWERS)
def _answers_probe(ctx: Context) -> list[Answer]:
    """Three answers (non-stream, stream, non-stream), each followed by the roster."""
    out = []
    for n, stream in enumerate((False, True, False), 1):
        ex = ctx.messages(basic_body(ctx, stream=True) if stream else basic_body(ctx))
        out.append(Answer(ex, ctx.send("GET", ROSTER_PATH), stream, n))
    return out


@probe(REFUSED)
def _refused_probe(ctx: Context) -> list[Exchange]:
    """Requests refused before dispatch: invalid (400), unauthenticated (401), unknown model (404)."""
    invalid = {"model": ctx.model, "messages": [{"role": "user", "content": "Say hello."}]}
    return [
        ctx.messages(invalid),
        ctx.messages(basic_body(ctx), auth="wrong"),
        ctx.messages(basic_body(ctx, model=UNKNOWN_MODEL)),
    ]


@dataclass
class SealedExchange:
    ex: Exchange
    sealer: Sealer
    what: str


@dataclass
class SealedTrials:
    """Everything the sealed-transport probe sent (attestation §3)."""

    key: Exchange
    kid: str | None = None
    public: bytes | None = None
    unavailable: Exchange | None = None
    message: SealedExchange | None = None
    message_params: SealedExchange | None = None
    stream: SealedExchange | None = None
    handler_error: SealedExchange | None = None
    unauthorized: Exchange | None = None
    kid_mismatch: Exchange | None = None
    envelopes: dict[str, Exchange] = field(default_factory=dict)
    tampered: Exchange | None = None


def _coordinator_key(ex: Exchange) -> tuple[bytes | None, str | None]:
    body = ex.json() if ex.status == 200 else None
    if not isinstance(body, dict):
        return None, None
    public = std_b64decode(body.get("public_key"))
    kid = body.get("kid") if isinstance(body.get("kid"), str) else None
    return (public if public is not None and len(public) == 32 else None), kid


def _sealed_send(
    ctx: Context,
    plaintext: dict,
    public: bytes,
    kid: str | None,
    what: str,
    *,
    ctype: str = SEALED_CONTENT_TYPE,
    **kw: Any,
) -> SealedExchange:
    sealer = Sealer.new(public)
    envelope = sealer.envelope(json.dumps(plaintext).encode("utf-8"), kid)
    ex = ctx.send(
        "POST",
        "/v1/messages",
        content=json.dumps(envelope).encode("utf-8"),
        headers={"content-type": ctype},
        stream=plaintext.get("stream") is True,
        **kw,
    )
    return SealedExchange(ex, sealer, what)


@probe(SEALED)
def _sealed_probe(ctx: Context) -> SealedTrials:
    """Sealed requests: valid (non-stream, stream, the content type with parameters), an
    in-handler error, a wrong credential, a wrong kid, four malformed envelopes, a tampered box;
    or, when the coordinator has no key (503), one sealed request that must be refused so."""
    trials = SealedTrials(ctx.send("GET", KEY_PATH, auth="none"))
    public, kid = _coordinator_key(trials.key)
    trials.public, trials.kid = public, kid
    body = basic_body(ctx)
    if trials.key.status == 503 or public is None:
        if trials.key.status == 503:  # any well-formed envelope: there is no key to seal to
            dummy = Sealer.new(bytes(Sealer.new(bytes(32)).ephemeral.public_key))  # to a key of our own
            trials.unavailable = ctx.send(
                "POST",
                "/v1/messages",
                content=json.dumps(dummy.envelope(json.dumps(body).encode(), None)).encode(),
                headers={"content-type": SEALED_CONTENT_TYPE},
            )
        return trials
    trials.message = _sealed_send(ctx, body, public, kid, "sealed non-stream request")
    trials.stream = _sealed_send(ctx, basic_body(ctx, stream=True), public, kid, "sealed stream request")
    params = "Application/EigenInference-Sealed+JSON; charset=utf-8"
    trials.message_params = _sealed_send(ctx, body, public, kid, f"content type {params!r}", ctype=params)
    invalid = {k: v for k, v in body.items() if k != "model"}
    trials.handler_error = _sealed_send(ctx, invalid, public, kid, "sealed request without model")
    trials.unauthorized = _sealed_send(ctx, body, public, kid, "sealed request, wrong key", auth="wrong").ex
    wrong_kid = "0" * 16 if kid != "0" * 16 else "f" * 16
    trials.kid_mismatch = _sealed_send(ctx, body, public, wrong_kid, "wrong kid").ex
    good = Sealer.new(public).envelope(json.dumps(body).encode(), kid)
    bad: dict[str, bytes] = {
        "a body that is not JSON": b"{not json",
        "a ciphertext that is not base64": json.dumps({**good, "ciphertext": "*** not base64 ***"}).encode(),
        "an ephemeral key of 31 bytes": json.dumps({**good, "ephemeral_public_key": std_b64encode(bytes(31))}).encode(),
        "a ciphertext of 10 bytes": json.dumps({**good, "ciphertext": std_b64encode(bytes(10))}).encode(),
    }
    for what, raw in bad.items():
        trials.envelopes[what] = ctx.send(
            "POST", "/v1/messages", content=raw, headers={"content-type": SEALED_CONTENT_TYPE}
        )
    sealed = bytearray(std_b64decode(good["ciphertext"]) or b"")
    sealed[-1] ^= 0x01  # one bit of the box's last byte: the Poly1305 tag no longer matches
    tampered = {**good, "ciphertext": std_b64encode(bytes(sealed))}
    trials.tampered = ctx.send(
        "POST", "/v1/messages", content=json.dumps(tampered).encode(), headers={"content-type": SEALED_CONTENT_TYPE}
    )
    return trials


# ------------------------------------------------------------------------------- gates


def _roster_exchange(ctx: Context) -> Exchange:
    """The roster exchange to judge: the anonymous one, or the authenticated one when the
    anonymous one was refused."""
    r = ctx.probe(ROSTER)
    return r["authenticated"] if r["authenticated"] is not None else r["anonymous"]


def _is_roster(body: Any) -> bool:
    return isinstance(body, dict) and "providers" in body


def _key_shown(ex: Exchange) -> bool:
    body = ex.json()
    if ex.status == 200:
        return isinstance(body, dict) and "public_key" in body
    err = body.get("error") if isinstance(body, dict) else None
    return ex.status == 503 and isinstance(err, dict) and err.get("type") == "encryption_unavailable"


def _no_evidence(ctx: Context) -> Outcome | None:
    """*unsupported* when the target shows no Darkbloom evidence at all (attestation §5)."""
    roster = _roster_exchange(ctx)
    key = ctx.probe(KEY)[0]
    answers: list[Answer] = ctx.probe(ANSWERS)
    if _is_roster(roster.json()) or _key_shown(key):
        return None
    if any(a.evidence() or a.receipts() for a in answers):
        return None
    return Outcome.unsupported(
        f"no Darkbloom attestation evidence: GET {ROSTER_PATH} got {describe(roster)}, GET {KEY_PATH} got "
        f"{describe(key)}, and no /v1/messages answer carries an X-Provider-*/X-Attestation-* header or a receipt"
    )


def _roster_body(ctx: Context) -> tuple[dict | None, Outcome | None]:
    gate = _no_evidence(ctx)
    if gate:
        return None, gate
    body = _roster_exchange(ctx).json()
    if not _is_roster(body):
        return None, Outcome.skipped(
            f"no roster to judge (see darkbloom.roster.reachable): {describe(_roster_exchange(ctx))}"
        )
    return body, None


def _entries(ctx: Context) -> tuple[list[dict], Outcome | None]:
    body, bad = _roster_body(ctx)
    if bad:
        return [], bad
    entries = roster_entries(body)
    if not entries:
        return [], Outcome.skipped("the roster lists no provider (absent evidence)")
    return entries, None


# ------------------------------------------------------------------------------- roster


@check(
    "darkbloom.roster.reachable",
    MUST,
    "attestation §2.5, §5 DB-R1",
    "GET /v1/providers/attestation answers 200 application/json, an object with `providers`, without credentials.",
    profiles=DARKBLOOM,
)
def roster_reachable(ctx: Context) -> Outcome:
    """MUST publish the provider roster without authentication: 200, ``application/json``, an
    object containing ``providers`` (attestation §2.5: no auth on the route, server.go:836); a
    consumer reads it before it trusts any answer."""
    gate = _no_evidence(ctx)
    if gate:
        return gate
    r = ctx.probe(ROSTER)
    anonymous: Exchange = r["anonymous"]
    if anonymous.status in (401, 403):
        with_key = r["authenticated"]
        also = f"; with credentials: {describe(with_key)}" if with_key is not None else ""
        return Outcome.mismatch("HTTP 200 without credentials", f"{describe(anonymous)}{also}")
    bad = expect_ok(anonymous)
    if bad:
        return bad
    if anonymous.content_type != "application/json":
        return Outcome.mismatch("Content-Type application/json", repr(anonymous.header("content-type")))
    if not _is_roster(anonymous.json()):
        return Outcome.mismatch("a JSON object with providers", describe(anonymous))
    return Outcome.passed("roster published without credentials")


@check(
    "darkbloom.roster.arrays",
    SHOULD,
    "attestation §2.5, §5 DB-R2",
    "`providers`, and each entry's `models`, is an array even when empty (never null).",
    profiles=DARKBLOOM,
)
def roster_arrays(ctx: Context) -> Outcome:
    """SHOULD send empty lists as ``[]``: SNAP's Go nil slices come out as ``null`` for
    ``providers`` and for an entry's ``models`` (provider.go:1468-1572), which a typed client
    must special-case.
    (attestation §2.5, §5 DB-R2)"""
    body, bad = _roster_body(ctx)
    if bad:
        return bad
    assert body is not None
    providers = body.get("providers")
    if not isinstance(providers, list):
        return Outcome.mismatch("providers as an array", json.dumps(providers)[:60])
    for entry in providers:
        if isinstance(entry, dict) and not isinstance(entry.get("models"), list):
            got = json.dumps(entry.get("models")) if "models" in entry else "no models field"
            return Outcome.mismatch(f"models as an array in the entry of {entry.get('provider_id')!r}", got)
    return Outcome.passed(f"{len(providers)} entr{'y' if len(providers) == 1 else 'ies'}, every models an array")


@check(
    "darkbloom.roster.entries",
    MUST,
    "attestation §2.5, §5 DB-R3, DB-R7",
    "Every roster entry has a non-empty string provider_id, trust_level none|self_signed|hardware, and boolean "
    "secure_enclave, sip_enabled, secure_boot_enabled, mda_verified.",
    profiles=DARKBLOOM,
)
def roster_entries_typed(ctx: Context) -> Outcome:
    """MUST type each entry as documented (provider.go:1469-1502): a consumer keys on
    ``provider_id`` and branches on ``trust_level`` and the booleans. Informational (DB-R7): the
    verdict says whether identity-bearing fields (``serial_number``, ``mda_udid``,
    ``mda_cert_chain_b64``) are exposed (SNAP exposes them; DOC-NEW removed them).
    (attestation §2.5, §5 DB-R3, DB-R7)"""
    entries, bad = _entries(ctx)
    if bad:
        return bad
    for i, e in enumerate(entries):
        who = f"entry {i} ({e.get('provider_id')!r})"
        if not isinstance(e.get("provider_id"), str) or not e["provider_id"]:
            return Outcome.mismatch(f"a non-empty string provider_id in entry {i}", json.dumps(e.get("provider_id")))
        if e.get("trust_level") not in TRUST_LEVELS:
            return Outcome.mismatch(
                f"trust_level one of {', '.join(TRUST_LEVELS)} in {who}", json.dumps(e.get("trust_level"))
            )
        for name in ENTRY_BOOLEANS:
            if not isinstance(e.get(name), bool):
                got = json.dumps(e[name]) if name in e else "missing"
                return Outcome.mismatch(f"a boolean {name} in {who}", got)
    exposed = sorted({f for e in entries for f in IDENTITY_FIELDS if e.get(f)})
    note = f"identity-bearing fields exposed: {', '.join(exposed)}" if exposed else "no identity-bearing field exposed"
    return Outcome.passed(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} typed as documented; {note}")


@check(
    "darkbloom.roster.se-public-key",
    MUST,
    "attestation §2.2, §5 DB-R4",
    "Every non-empty se_public_key is standard base64 of 64 bytes (or 65 starting 0x04) that is a point on P-256.",
    profiles=DARKBLOOM,
)
def roster_keys(ctx: Context) -> Outcome:
    """MUST publish each provider's Secure Enclave key so that it can be loaded: standard base64
    of the raw X‖Y (64 bytes, 88 characters) or of 0x04‖X‖Y, on the P-256 curve (§2.2); receipts
    are verified with it.
    (attestation §2.2, §5 DB-R4)"""
    entries, bad = _entries(ctx)
    if bad:
        return bad
    keys = [(e.get("provider_id"), e.get("se_public_key")) for e in entries if e.get("se_public_key")]
    if not keys:
        return Outcome.skipped("no roster entry publishes an se_public_key (absent evidence)")
    for provider, text in keys:
        key, problem = p256_key(text)
        if key is None:
            return Outcome.mismatch(
                f"a P-256 key in the se_public_key of {provider!r}", f"{problem}: {str(text)[:40]!r}"
            )
    return Outcome.passed(f"{len(keys)} key(s) load as P-256 points: " + ", ".join(key_fingerprint(t) for _, t in keys))


@check(
    "darkbloom.roster.unique-ids",
    SHOULD,
    "attestation §2.5, §5 DB-R5",
    "provider_id values are unique within one roster.",
    profiles=DARKBLOOM,
)
def roster_unique(ctx: Context) -> Outcome:
    """SHOULD list each provider once: a consumer matches ``X-Provider-Id`` to exactly one entry
    (its key and trust level).
    (attestation §2.5, §5 DB-R5)"""
    entries, bad = _entries(ctx)
    if bad:
        return bad
    ids = [e.get("provider_id") for e in entries]
    repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
    if repeated:
        return Outcome.mismatch("unique provider_id values", f"{repeated[0]!r} listed {ids.count(repeated[0])} times")
    return Outcome.passed(f"{len(ids)} distinct provider id(s)")


@check(
    "darkbloom.roster.mdm-verified",
    SHOULD,
    "attestation §2.5, §5 DB-R6",
    "mdm_verified is true exactly when trust_level is hardware.",
    profiles=DARKBLOOM,
)
def roster_mdm(ctx: Context) -> Outcome:
    """SHOULD keep ``mdm_verified`` consistent with the trust level it is derived from
    (``mdm_verified == (trust_level == "hardware")``, provider.go:1507-1561).
    (attestation §2.5, §5 DB-R6)"""
    entries, bad = _entries(ctx)
    if bad:
        return bad
    for e in entries:
        want = e.get("trust_level") == "hardware"
        if e.get("mdm_verified") is not want:
            got = json.dumps(e["mdm_verified"]) if "mdm_verified" in e else "no mdm_verified"
            return Outcome.mismatch(
                f"mdm_verified {str(want).lower()} for trust_level {e.get('trust_level')!r} ({e.get('provider_id')!r})",
                got,
            )
    return Outcome.passed(
        f"mdm_verified agrees with trust_level in {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    )


# ------------------------------------------------------------------------------- coordinator key


def _key_body(ctx: Context) -> tuple[Exchange, dict | None, Outcome | None]:
    gate = _no_evidence(ctx)
    ex = ctx.probe(KEY)[0]
    if gate:
        return ex, None, gate
    if ex.status == 503:
        return ex, None, Outcome.skipped("the coordinator has no key (503): no kid to judge")
    body = ex.json()
    if ex.status != 200 or not isinstance(body, dict) or std_b64decode(body.get("public_key")) is None:
        return ex, None, Outcome.skipped(f"no coordinator key to judge (see darkbloom.key.shape): {describe(ex)}")
    return ex, body, None


@check(
    "darkbloom.key.shape",
    MUST,
    "attestation §3, §5 DB-K1, DB-K2",
    "GET /v1/encryption-key answers, without credentials, 200 {kid, public_key (base64 of 32 bytes), "
    'algorithm "x25519-nacl-box"} or 503 encryption_unavailable.',
    profiles=DARKBLOOM,
)
def key_shape(ctx: Context) -> Outcome:
    """MUST publish the coordinator's X25519 key for sealed transport, or say it has none:
    200 with ``kid``, ``public_key`` (standard base64 of exactly 32 bytes) and ``algorithm:
    "x25519-nacl-box"``, or 503 ``encryption_unavailable`` (sender_encryption.go:99-111).
    (attestation §3, §5 DB-K1, DB-K2)"""
    gate = _no_evidence(ctx)
    if gate:
        return gate
    ex = ctx.probe(KEY)[0]
    if ex.status == 503:
        return expect_error(ex, 503, "encryption_unavailable")
    bad = expect_ok(ex)
    if bad:
        return bad
    body = ex.json()
    if not isinstance(body, dict):
        return Outcome.mismatch("a JSON object", describe(ex))
    if not isinstance(body.get("kid"), str) or not body["kid"]:
        return Outcome.mismatch("a string kid", json.dumps(body.get("kid")))
    public = std_b64decode(body.get("public_key"))
    if public is None or len(public) != 32:
        what = "not padded standard base64" if public is None else f"{len(public)} bytes"
        return Outcome.mismatch("public_key as standard base64 of 32 bytes", what)
    if body.get("algorithm") != KEY_ALGORITHM:
        return Outcome.mismatch(f"algorithm {KEY_ALGORITHM!r}", json.dumps(body.get("algorithm")))
    return Outcome.passed(f"X25519 key, kid {body['kid']}")


@check(
    "darkbloom.key.kid",
    MUST,
    "attestation §3, §5 DB-K3",
    "kid is the lowercase hex of the first 8 bytes of SHA-256 of the 32 public key bytes.",
    profiles=DARKBLOOM,
)
def key_kid(ctx: Context) -> Outcome:
    """MUST derive ``kid`` from the key as documented (coordinator_key.go:76-77), so a sender
    can tell which key it sealed to (a mismatch is refused with ``kid_mismatch``).
    (attestation §3, §5 DB-K3)"""
    _, body, bad = _key_body(ctx)
    if bad:
        return bad
    assert body is not None
    public = std_b64decode(body["public_key"]) or b""
    want = coordinator_kid(public)
    if body.get("kid") != want:
        how = (
            " (SHA-256 of the base64 text, not of the key bytes)"
            if body.get("kid") == sha256_hex(body["public_key"])[:16]
            else ""
        )
        return Outcome.mismatch(f"kid {want}", f"{body.get('kid')!r}{how}")
    return Outcome.passed(f"kid {want} derived from the key")


@check(
    "darkbloom.key.cache",
    SHOULD,
    "attestation §3, §5 DB-K4",
    "GET /v1/encryption-key sends Cache-Control: public, max-age=300, and two fetches return the same kid.",
    profiles=DARKBLOOM,
)
def key_cache(ctx: Context) -> Outcome:
    """SHOULD let senders cache the key (``Cache-Control: public, max-age=300``) and keep it
    stable within that time: two fetches in one run name the same ``kid``.
    (attestation §3, §5 DB-K4)"""
    ex, body, bad = _key_body(ctx)
    if bad:
        return bad
    assert body is not None
    cache = (ex.header("cache-control") or "").replace(" ", "").lower().split(",")
    if "public" not in cache or "max-age=300" not in cache:
        return Outcome.mismatch("Cache-Control: public, max-age=300", repr(ex.header("cache-control")))
    again = ctx.probe(KEY)[1].json()
    kid2 = again.get("kid") if isinstance(again, dict) else None
    if kid2 != body.get("kid"):
        return Outcome.mismatch(f"the same kid on a second fetch ({body.get('kid')})", repr(kid2))
    return Outcome.passed("cacheable for 300 s, stable kid")


# ------------------------------------------------------------------------------- provider headers


def _answers(ctx: Context) -> tuple[list[Answer], Outcome | None]:
    gate = _no_evidence(ctx)
    if gate:
        return [], gate
    answers = [a for a in ctx.probe(ANSWERS) if a.committed]
    if not answers:
        return [], Outcome.inconclusive("no request was answered 200: " + describe(ctx.probe(ANSWERS)[0].ex))
    return answers, None


def _with_headers(ctx: Context) -> tuple[list[Answer], Outcome | None]:
    answers, bad = _answers(ctx)
    if bad:
        return [], bad
    shown = [a for a in answers if a.evidence()]
    if not shown:
        return [], Outcome.skipped(
            "no X-Provider-*/X-Attestation-* header on any answer (absent; see darkbloom.headers.present)"
        )
    return shown, None


@check(
    "darkbloom.headers.present",
    SHOULD,
    "attestation §1.1, §1.2, §4, §5 DB-H1, DB-H7",
    "Committed /v1/messages answers (stream and non-stream) carry X-Provider-Id, X-Provider-Trust-Level and "
    "X-Provider-Attested.",
    profiles=DARKBLOOM,
)
def headers_present(ctx: Context) -> Outcome:
    """SHOULD show which provider answered, as the chat route does ("same attestation
    pipeline"): SNAP's generic handler writes none of the ``X-Provider-*`` headers on
    ``/v1/messages`` (consumer.go:2354-2547), DOC-NEW's ``writeCommittedProviderHeaders`` does.
    Informational (DB-H7): the verdict says whether ``x-se-signature`` / ``x-response-hash``
    headers (documented on docs.darkbloom.dev, set by no code) appear.
    (attestation §1.1, §1.2, §4, §5 DB-H1, DB-H7)"""
    answers, bad = _answers(ctx)
    if bad:
        return bad
    missing = [(a, [h for h in REQUIRED_HEADERS if h not in a.headers()]) for a in answers]
    missing = [(a, m) for a, m in missing if m]
    site = sorted({h for a in answers for h in SITE_ONLY_HEADERS if h in a.headers()})
    note = f"; SITE-only headers present: {', '.join(site)}" if site else "; no x-se-signature/x-response-hash header"
    if missing:
        a, names = missing[0]
        return Outcome.mismatch(
            "X-Provider-Id, X-Provider-Trust-Level and X-Provider-Attested on every committed answer",
            f"{a.label} without {', '.join(names)} ({len(missing)} of {len(answers)} answers lack some){note}",
        )
    return Outcome.passed(f"on all {len(answers)} answers (stream and non-stream){note}")


@check(
    "darkbloom.headers.typed",
    MUST,
    "attestation §1.1, §5 DB-H2",
    "X-Provider-Trust-Level is none|self_signed|hardware; X-Provider-Attested, -Encrypted, -Secure-Enclave, "
    "-Mda-Verified are true|false (where present).",
    profiles=DARKBLOOM,
)
def headers_typed(ctx: Context) -> Outcome:
    """MUST (if present) give the documented values (registry.go:51-53, consumer.go:1041-1063):
    consumers compare them as strings.
    (attestation §1.1, §5 DB-H2)"""
    answers, bad = _with_headers(ctx)
    if bad:
        return bad
    for a in answers:
        h = a.evidence()
        trust = h.get("x-provider-trust-level")
        if trust is not None and trust not in TRUST_LEVELS:
            return Outcome.mismatch(f"X-Provider-Trust-Level one of {', '.join(TRUST_LEVELS)} ({a.label})", repr(trust))
        for name in BOOLEAN_HEADERS:
            if name in h and h[name] not in ("true", "false"):
                return Outcome.mismatch(f"{name} true or false ({a.label})", repr(h[name]))
    return Outcome.passed(f"typed as documented on {len(answers)} answer(s)")


@check(
    "darkbloom.headers.roster-match",
    MUST,
    "attestation §1.1, §2.5, §5 DB-H3",
    "X-Provider-Id names a provider_id of the roster fetched right after the answer.",
    profiles=DARKBLOOM,
)
def headers_roster_match(ctx: Context) -> Outcome:
    """MUST (if present) name a provider the roster lists (``X-Provider-Id`` is the registry's
    connection UUID, the roster's ``provider_id``): otherwise the consumer cannot look up the key
    or trust level of the provider that answered.
    (attestation §1.1, §2.5, §5 DB-H3)"""
    answers, bad = _with_headers(ctx)
    if bad:
        return bad
    judged = 0
    for a in answers:
        provider = a.headers().get("x-provider-id")
        if provider is None:
            continue
        judged += 1
        ids = [e.get("provider_id") for e in roster_entries(a.roster_body())]
        if provider not in ids:
            return Outcome.mismatch(
                f"X-Provider-Id among the roster's provider ids ({a.label})",
                f"{provider!r}, roster {describe(a.roster)} with {len(ids)} provider(s)",
            )
    if not judged:
        return Outcome.skipped("no X-Provider-Id header on any answer (absent)")
    return Outcome.passed(f"{judged} answer(s) name a listed provider")


@check(
    "darkbloom.headers.attestation-key",
    MUST,
    "attestation §1.2, §2.2, §5 DB-H4",
    "X-Attestation-Se-Public-Key is a P-256 key equal to the roster entry's se_public_key, and "
    "X-Provider-Trust-Level equals its trust_level.",
    profiles=DARKBLOOM,
)
def headers_attestation_key(ctx: Context) -> Outcome:
    """MUST (if present) agree with the roster: the key an answer names is the one its provider
    registered (DOC-NEW's recommended consumer action is pinning the header key against the
    roster's ``se_public_key``), and so is the trust level.
    (attestation §1.2, §2.2, §5 DB-H4)"""
    answers, bad = _with_headers(ctx)
    if bad:
        return bad
    judged = 0
    for a in answers:
        h = a.headers()
        entries = [e for e in roster_entries(a.roster_body()) if e.get("provider_id") == h.get("x-provider-id")]
        if not entries:
            continue  # no entry to compare with: darkbloom.headers.roster-match reports it
        key = h.get("x-attestation-se-public-key")
        if key is not None:
            judged += 1
            loaded, problem = p256_key(key)
            if loaded is None:
                return Outcome.mismatch(f"a P-256 key in X-Attestation-Se-Public-Key ({a.label})", problem or "")
            listed = [e.get("se_public_key") for e in entries]
            if key not in listed:
                return Outcome.mismatch(
                    f"the roster's se_public_key of {h.get('x-provider-id')} ({a.label})",
                    f"key {key_fingerprint(key)}, roster key(s) {', '.join(key_fingerprint(k) for k in listed)}",
                )
        trust = h.get("x-provider-trust-level")
        if trust is not None:
            judged += 1
            if trust not in [e.get("trust_level") for e in entries]:
                return Outcome.mismatch(
                    f"the roster's trust_level ({a.label})", f"{trust!r}, roster {entries[0].get('trust_level')!r}"
                )
    if not judged:
        return Outcome.skipped("no answer names a listed provider together with a key or trust level")
    return Outcome.passed("header key and trust level agree with the roster")


@check(
    "darkbloom.headers.not-on-refusals",
    SHOULD,
    "attestation §1.1, §5 DB-H5",
    "Requests refused before dispatch (400, 401, 404) carry no X-Provider-*/X-Attestation-* headers.",
    profiles=DARKBLOOM,
)
def headers_not_on_refusals(ctx: Context) -> Outcome:
    """SHOULD write provider headers only once a provider is committed (consumer.go:1028-1069):
    on a refusal no provider answered, and a header naming one misleads the consumer.
    (attestation §1.1, §5 DB-H5)"""
    gate = _no_evidence(ctx)
    if gate:
        return gate
    refused = [ex for ex in ctx.probe(REFUSED) if ex.status is not None and 400 <= ex.status < 500]
    if not refused:
        return Outcome.inconclusive("no request was refused: " + describe(ctx.probe(REFUSED)[0]))
    for ex in refused:
        shown = evidence_headers(ex.headers)
        if shown:
            return Outcome.mismatch(f"no provider headers on HTTP {ex.status}", ", ".join(sorted(shown)))
    return Outcome.passed(f"none on {len(refused)} refusal(s) ({', '.join(str(ex.status) for ex in refused)})")


@check(
    "darkbloom.headers.job-id",
    SHOULD,
    "attestation §1.1, §2.1, §5 DB-H6",
    "Streamed answers carry X-Inference-Job-ID, a UUID (the request_id the provider hashes).",
    profiles=DARKBLOOM,
)
def headers_job_id(ctx: Context) -> Outcome:
    """SHOULD send the per-attempt job UUID on streams (consumer.go:1118): it is the
    ``request_id`` in the receipt's hash, without which the hash cannot be recomputed.
    (attestation §1.1, §2.1, §5 DB-H6)"""
    answers, bad = _answers(ctx)
    if bad:
        return bad
    streams = [a for a in answers if a.stream and a.ex.is_stream]
    if not streams:
        return Outcome.skipped("no committed stream answer")
    for a in streams:
        job = a.headers().get("x-inference-job-id")
        if job is None or not UUID_RE.fullmatch(job):
            return Outcome.mismatch(f"X-Inference-Job-ID as a UUID ({a.label})", repr(job) if job else "absent")
    return Outcome.passed(f"on {len(streams)} stream(s)")


@check(
    "darkbloom.headers.trust-floor",
    SHOULD,
    "attestation §2.5, §4, §5 DB-H8",
    "The provider that answered has trust level hardware (the coordinator's default routing floor).",
    profiles=DARKBLOOM,
)
def headers_trust_floor(ctx: Context) -> Outcome:
    """SHOULD route only to providers meeting the default floor ``hardware`` (registry.go:359,
    scheduler.go:370): the served provider's trust level (its header, else its roster entry).
    (attestation §2.5, §4, §5 DB-H8)"""
    answers, bad = _answers(ctx)
    if bad:
        return bad
    levels = []
    for a in answers:
        h = a.headers()
        trust = h.get("x-provider-trust-level")
        if trust is None and h.get("x-provider-id"):
            listed = [e for e in roster_entries(a.roster_body()) if e.get("provider_id") == h["x-provider-id"]]
            trust = listed[0].get("trust_level") if listed else None
        if trust is not None:
            levels.append((a, trust))
    if not levels:
        return Outcome.skipped("no answer says which provider or trust level served it (absent)")
    for a, trust in levels:
        if trust != TRUST_FLOOR:
            return Outcome.mismatch(f"trust level {TRUST_FLOOR} ({a.label})", repr(trust))
    return Outcome.passed(f"{TRUST_FLOOR} on {len(levels)} answer(s)")


# ------------------------------------------------------------------------------- receipts


def _receipts(ctx: Context) -> tuple[list[tuple[Answer, Receipt]], Outcome | None]:
    answers, bad = _answers(ctx)
    if bad:
        return [], bad
    found = [(a, r) for a in answers for r in a.receipts()]
    if not found:
        return [], Outcome.skipped(
            f"no receipt (se_signature, response_hash) on any of {len(answers)} answers (absent evidence)"
        )
    return found, None


@check(
    "darkbloom.receipt.paired",
    MUST,
    "attestation §1.1, §5 DB-S1",
    "se_signature and response_hash appear together, in the same object, or not at all.",
    profiles=DARKBLOOM,
)
def receipt_paired(ctx: Context) -> Outcome:
    """MUST send both receipt fields or neither (consumer.go:1465-1504 adds both only when the
    provider signed): a hash without its signature proves nothing, a signature without its
    hash cannot be checked.
    (attestation §1.1, §5 DB-S1)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    for a, r in found:
        if not r.paired:
            have, lack = ("response_hash", "se_signature") if r.signature is None else ("se_signature", "response_hash")
            return Outcome.mismatch(f"both receipt fields ({a.label})", f"{have} without {lack} in {r.where()}")
    return Outcome.passed(f"{len(found)} complete receipt(s)")


@check(
    "darkbloom.receipt.hash-format",
    MUST,
    "attestation §2.1, §5 DB-S2",
    "response_hash is 64 lowercase hex digits.",
    profiles=DARKBLOOM,
)
def receipt_hash_format(ctx: Context) -> Outcome:
    """MUST (if present) be ``lowercase_hex(SHA-256(...))`` (security.rs:739-743 formats
    ``{:x}``): the signature covers these exact 64 characters.
    (attestation §2.1, §5 DB-S2)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    hashes = [(a, r) for a, r in found if r.hash is not None]
    if not hashes:
        return Outcome.skipped("no receipt carries a response_hash")
    for a, r in hashes:
        if not isinstance(r.hash, str) or not HASH_RE.fullmatch(r.hash):
            return Outcome.mismatch(f"64 lowercase hex digits ({a.label})", json.dumps(r.hash)[:80])
    return Outcome.passed(f"{len(hashes)} hash(es) well-formed")


@check(
    "darkbloom.receipt.signature-format",
    MUST,
    "attestation §2.2, §5 DB-S3",
    "se_signature is padded standard base64 of a DER SEQUENCE of two positive INTEGERs (at most 72 bytes).",
    profiles=DARKBLOOM,
)
def receipt_signature_format(ctx: Context) -> Outcome:
    """MUST (if present) encode the signature as the Secure Enclave emits it: ASN.1 DER
    ``Ecdsa-Sig-Value``, standard base64 with padding (Bridge.swift:79-90). Raw r‖s (P1363) or
    base64url are not what verifiers decode.
    (attestation §2.2, §5 DB-S3)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    sigs = [(a, r) for a, r in found if r.signature is not None]
    if not sigs:
        return Outcome.skipped("no receipt carries an se_signature")
    for a, r in sigs:
        der, problem = der_signature(r.signature)
        if der is None:
            return Outcome.mismatch(
                f"a base64 DER ECDSA signature ({a.label})", f"{problem}: {str(r.signature)[:40]!r}"
            )
    return Outcome.passed(f"{len(sigs)} DER signature(s)")


def _verified(
    found: Iterable[tuple[Answer, Receipt]], roster: Callable[[Answer], Any]
) -> list[tuple[Answer, Receipt, Any]]:
    return [(a, r, verify_receipt(r, candidate_keys(a.headers(), roster(a)))) for a, r in found if r.paired]


@check(
    "darkbloom.receipt.signature-verifies",
    MUST,
    "attestation §2.2, §2.3, §5 DB-S4",
    "se_signature verifies as ECDSA P-256/SHA-256 over the ASCII bytes of response_hash under the key the answer "
    "names (X-Attestation-Se-Public-Key, else the roster entry of X-Provider-Id, else a roster key).",
    profiles=DARKBLOOM,
)
def receipt_verifies(ctx: Context) -> Outcome:
    """MUST (if present) verify per the consumer recipe of §2.3: the key from
    ``X-Attestation-Se-Public-Key``, else the roster entry of ``X-Provider-Id``, else every
    roster key (the verdict names the one that matched); ECDSA with SHA-256 over the 64 ASCII
    characters of ``response_hash`` (not over the digest they spell). What it proves: the holder
    of that key signed that hex string.
    (attestation §2.2, §2.3, §5 DB-S4)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    checked = _verified(found, Answer.roster_body)
    if not checked:
        return Outcome.skipped("no complete receipt to verify (see darkbloom.receipt.paired)")
    for a, _, v in checked:
        if not v.ok:
            return Outcome.mismatch(f"a signature that verifies ({a.label})", v.detail)
    return Outcome.passed("; ".join(f"{a.label}: {v.detail}" for a, _, v in checked))


@check(
    "darkbloom.receipt.placement",
    MUST,
    "attestation §1.1, §1.2, §5 DB-S5",
    "A receipt sits at the top level of the Message, or in the data of a named event before message_stop; "
    "never in an unnamed data: event.",
    profiles=DARKBLOOM,
)
def receipt_placement(ctx: Context) -> Outcome:
    """MUST place receipts in Anthropic shapes (MID: top level of the Message, inside the
    ``message_delta`` data): SNAP's extra unnamed ``data:`` event is discarded by every
    Anthropic client (the SDK drops unnamed events), so its receipt never reaches the user.
    (attestation §1.1, §1.2, §5 DB-S5)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    for a, r in found:
        if not r.stream and r.path != "$":
            return Outcome.mismatch(f"the receipt at the Message's top level ({a.label})", r.where())
        if r.stream and (r.event is None or r.after_stop):
            return Outcome.mismatch(f"the receipt in a named event before message_stop ({a.label})", r.where())
    return Outcome.passed("; ".join(f"{a.label}: {r.where()}" for a, r in found))


@check(
    "darkbloom.receipt.before-terminator",
    MUST,
    "attestation §1.1 (stream ordering defect), §5 DB-S6",
    "A stream's receipt arrives before message_stop and before any data: [DONE].",
    profiles=DARKBLOOM,
)
def receipt_before_terminator(ctx: Context) -> Outcome:
    """MUST deliver the receipt before the stream ends: SNAP forwards the provider's
    ``data: [DONE]`` and only then writes the receipt and a second ``[DONE]``
    (consumer.go:1147-1163), so a client that stops at the first terminator (Darkbloom's own
    console) never sees it.
    (attestation §1.1 (stream ordering defect), §5 DB-S6)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    streamed = [(a, r) for a, r in found if r.stream]
    if not streamed:
        return Outcome.skipped("no receipt in a stream (absent)")
    for a, r in streamed:
        if r.after_done or r.after_stop:
            end = "a data: [DONE]" if r.after_done else "message_stop"
            return Outcome.mismatch(f"the receipt before the stream's end ({a.label})", f"{r.where()}, after {end}")
    return Outcome.passed(f"{len(streamed)} stream receipt(s) before message_stop")


@check(
    "darkbloom.receipt.sdk-strict",
    SHOULD,
    "attestation §4 (measured), §5 DB-S7; contract §7",
    "Receipt-bearing answers (non-stream and stream) pass the official SDK in strict mode.",
    profiles=DARKBLOOM,
)
def receipt_sdk_strict(ctx: Context) -> Outcome:
    """SHOULD carry receipts so that clients keep working: the official SDK in strict mode
    accepts extra top-level Message fields and extra ``message_delta`` fields (measured,
    attestation §4) but rejects an event type it does not know."""
    from conformance.checks.sdk import _call

    found, bad = _receipts(ctx)
    if bad:
        return bad
    request = {k: v for k, v in basic_body(ctx).items()}
    single = _call(ctx, lambda c: c.messages.create(**request))
    if not single.ok:
        return single.mismatch("the SDK (strict) to parse a receipt-bearing Message")
    streamed = _call(ctx, lambda c: [e.type for e in c.messages.create(stream=True, **request)])
    if not streamed.ok:
        return streamed.mismatch("the SDK (strict) to read a receipt-bearing stream")
    extra = getattr(single.value, "model_extra", None) or {}
    readable = "receipt readable as model_extra" if "se_signature" in extra else "no receipt on the SDK's Message"
    return Outcome.passed(f"strict SDK parsed the Message and a {len(streamed.value)}-event stream; {readable}")


@check(
    "darkbloom.receipt.one-key-per-provider",
    SHOULD,
    "attestation §2.2, §6, §5 DB-S8",
    "Every receipt of answers by the same X-Provider-Id verifies under one unchanged key.",
    profiles=DARKBLOOM,
)
def receipt_one_key(ctx: Context) -> Outcome:
    """SHOULD sign with one key per provider session (the SE key lives as long as the provider
    process; a new key comes with a new ``provider_id``): pinning a provider's key is how a
    consumer notices a swapped provider.
    (attestation §2.2, §6, §5 DB-S8)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    keys: dict[str, list[str]] = {}
    for a, _, v in _verified(found, Answer.roster_body):
        provider = a.headers().get("x-provider-id")
        if v.ok and provider and v.key is not None:
            keys.setdefault(provider, []).append(key_fingerprint(v.key.text))
    if not keys:
        return Outcome.skipped("no verified receipt names its provider (X-Provider-Id)")
    for provider, prints in keys.items():
        if len(set(prints)) > 1:
            return Outcome.mismatch(
                f"one signing key for provider {provider}", f"{len(set(prints))} keys: {', '.join(prints)}"
            )
    counted = max(len(p) for p in keys.values())
    if counted < 2:
        return Outcome.inconclusive("no provider answered twice with a verified receipt")
    return Outcome.passed(", ".join(f"{p}: {len(v)} receipts under key {v[0]}" for p, v in keys.items()))


def _stream_text(ex: Exchange) -> tuple[str, int | None]:
    text, tokens = [], None
    for e in ex.events:
        try:
            p = json.loads(e.data)
        except ValueError:
            continue
        if not isinstance(p, dict):
            continue
        if p.get("type") == "content_block_delta" and isinstance(p.get("delta"), dict):
            if p["delta"].get("type") == "text_delta" and isinstance(p["delta"].get("text"), str):
                text.append(p["delta"]["text"])
        elif p.get("type") == "message_delta" and isinstance(p.get("usage"), dict):
            if isinstance(p["usage"].get("output_tokens"), int):
                tokens = p["usage"]["output_tokens"]
    return "".join(text), tokens


def _binding(ctx: Context, a: Answer, r: Receipt) -> tuple[bool | None, str]:
    """(True: recomputed, False: mismatch, None: not recomputable) and why."""
    binding = ctx.config.receipt_binding
    job = a.headers().get("x-inference-job-id")
    if binding == "stub-text":
        if not job:
            return None, f"{a.label}: no X-Inference-Job-ID to recompute with"
        if a.stream:
            text, tokens = _stream_text(a.ex)
        else:
            body = a.ex.json()
            blocks = body.get("content") if isinstance(body, dict) else None
            text = "".join(
                b["text"]
                for b in blocks or ()
                if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
            )
            usage = body.get("usage") if isinstance(body, dict) else None
            tokens = usage.get("output_tokens") if isinstance(usage, dict) else None
        if not isinstance(tokens, int):
            return None, f"{a.label}: no usage.output_tokens to recompute with"
        want = stub_text_hash(job, tokens, text)
        if r.hash != want:
            return (
                False,
                f"{a.label}: response_hash {str(r.hash)[:16]}…, recomputed {want[:16]}… (job {job}, {tokens} tokens)",
            )
        return True, f"{a.label}: recomputed"
    # upstream-openai-sse: SNAP-style streams of upstream chunks (attestation §2.4)
    if not a.stream or not job:
        return None, f"{a.label}: {'not a stream' if not a.stream else 'no X-Inference-Job-ID'}"
    lines = []
    for e in a.ex.events:
        if e.data.strip() == "[DONE]":
            break
        if "reasoning_content" in e.data:
            return None, f"{a.label}: a reasoning chunk (re-marshalled by the coordinator)"
        if not receipts_in_events([(e.event, e.data)]):
            lines.append(e.data)
    k = upstream_sse_hash_k(job, lines, str(r.hash), int(basic_body(ctx)["max_tokens"]))
    if k is None:
        return False, f"{a.label}: no token count in [0, max_tokens] reproduces response_hash"
    return True, f"{a.label}: recomputed with {k} tokens"


@check(
    "darkbloom.receipt.hash-binding",
    MUST,
    "attestation §2.1, §2.4, §5 DB-S9, DB-S10",
    "Under a recomputable --receipt-binding (stub-text, upstream-openai-sse), response_hash is recomputed from the "
    "job id, the token count and the answer received; otherwise inconclusive.",
    profiles=DARKBLOOM,
)
def receipt_hash_binding(ctx: Context) -> Outcome:
    """MUST bind the hash to the answer where the target's binding makes it recomputable:
    ``stub-text`` (``sha256_hex(f"{X-Inference-Job-ID}:{output_tokens}:{text}")``, DB-S9) or
    ``upstream-openai-sse`` (some ``k`` in ``[0, max_tokens]`` reproduces it from the job id and
    the concatenated pre-``[DONE]`` data lines, DB-S10). Where the coordinator re-marshals what
    the provider signed (non-stream answers, Anthropic-shaped streams, reasoning chunks) the hash
    cannot be recomputed: *inconclusive* with the reason, never failed.
    (attestation §2.1, §2.4, §5 DB-S9, DB-S10)"""
    found, bad = _receipts(ctx)
    if bad:
        return bad
    if ctx.config.receipt_binding == "none":
        return Outcome.inconclusive(
            "receipt binding none: what the provider hashed is not on the wire (attestation §2.4); "
            "declare a recomputable one with --receipt-binding"
        )
    hashed = [(a, r) for a, r in found if isinstance(r.hash, str)]
    results = [_binding(ctx, a, r) for a, r in hashed]
    wrong = [why for ok, why in results if ok is False]
    if wrong:
        return Outcome.mismatch(f"response_hash recomputed under binding {ctx.config.receipt_binding}", wrong[0])
    done = [why for ok, why in results if ok]
    unknown = [why for ok, why in results if ok is None]
    if not done:
        return Outcome.inconclusive("; ".join(unknown) or "no response_hash to recompute")
    rest = f" ({len(unknown)} not recomputable: {unknown[0]})" if unknown else ""
    return Outcome.passed(f"{len(done)} hash(es) recomputed under {ctx.config.receipt_binding}{rest}")


# ------------------------------------------------------------------------------- sealed transport


def _trials(ctx: Context, *, need_key: bool = True) -> tuple[SealedTrials | None, Outcome | None]:
    gate = _no_evidence(ctx)
    if gate:
        return None, gate
    trials: SealedTrials = ctx.probe(SEALED)
    if need_key and trials.key.status == 503:
        return None, Outcome.skipped("the coordinator has no key (503 encryption_unavailable): nothing to seal")
    if need_key and trials.public is None:
        return None, Outcome.skipped(f"no usable coordinator key (see darkbloom.key.shape): {describe(trials.key)}")
    return trials, None


def _plaintext_refusal(ex: Exchange | None, status: int, error_type: str, what: str) -> Outcome | None:
    """None when ``ex`` is the documented plaintext refusal; else the failure."""
    if ex is None:
        return Outcome.failed(f"{what}: not sent")
    judged = expect_error(ex, status, error_type)
    if judged.verdict.value != "passed":
        return Outcome.failed(f"{what}: {judged.message}")
    if ex.content_type != "application/json" or ex.header("x-eigen-sealed") is not None:
        return Outcome.mismatch(f"{what}: a plaintext JSON refusal", f"Content-Type {ex.header('content-type')!r}")
    return None


def _open_body(s: SealedExchange) -> tuple[bytes | None, bytes | None, str]:
    """(nonce, plaintext, problem) of a sealed body answer."""
    body = s.ex.json()
    if s.ex.content_type != SEALED_CONTENT_TYPE:
        return None, None, f"Content-Type {s.ex.header('content-type')!r}, not {SEALED_CONTENT_TYPE}"
    if not isinstance(body, dict) or not isinstance(body.get("ciphertext"), str):
        return None, None, f"no {{kid, ciphertext}} body: {describe(s.ex)}"
    try:
        nonce, plaintext = s.sealer.open(body["ciphertext"])
    except ValueError as exc:
        return None, None, f"ciphertext: {exc}"
    return nonce, plaintext, ""


@dataclass
class OpenedStream:
    nonces: list[bytes] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    problem: str = ""


def _open_stream(s: SealedExchange) -> OpenedStream:
    out = OpenedStream()
    if s.ex.content_type != "text/event-stream":
        out.problem = f"Content-Type {s.ex.header('content-type')!r}, not text/event-stream"
        return out
    if not s.ex.events:
        out.problem = "no event"
        return out
    for e in s.ex.events:
        m = SEALED_EVENT_RE.fullmatch(e.raw)
        if e.event is not None or m is None:
            out.problem = f"event #{e.position} is not one data: <base64> line: {e.raw[:60]!r}"
            return out
        try:
            nonce, plaintext = s.sealer.open(m.group(1).decode())
        except ValueError as exc:
            out.problem = f"event #{e.position}: {exc}"
            return out
        out.nonces.append(nonce)
        out.texts.append(plaintext.decode("utf-8", "replace"))
    return out


def _events_of(texts: list[str]) -> list[Any]:
    from conformance._sse import SSEParser

    parser = SSEParser()
    events = parser.feed("".join(t + "\n\n" for t in texts).encode("utf-8"), 0.0)
    return events + parser.close(0.0)


@check(
    "darkbloom.sealed.headers",
    MUST,
    "attestation §3, §5 DB-E1",
    "An answer to a valid sealed request carries X-Eigen-Sealed: true and X-Eigen-Sealed-Kid equal to the key's kid.",
    profiles=DARKBLOOM,
)
def sealed_headers(ctx: Context) -> Outcome:
    """MUST mark sealed answers (sender_encryption.go:263-264, :372-373) so the sender knows to
    open them and with which key.
    (attestation §3, §5 DB-E1)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None
    for s in (trials.message, trials.stream):
        assert s is not None
        sealed, kid = s.ex.header("x-eigen-sealed"), s.ex.header("x-eigen-sealed-kid")
        if sealed != "true" or kid != trials.kid:
            return Outcome.mismatch(
                f"X-Eigen-Sealed: true and X-Eigen-Sealed-Kid: {trials.kid} ({s.what})",
                f"{sealed!r} and {kid!r}, {describe(s.ex)}",
            )
    return Outcome.passed(f"marked sealed with kid {trials.kid}")


@check(
    "darkbloom.sealed.message",
    MUST,
    "attestation §3, §5 DB-E2",
    "A sealed non-stream answer is application/eigeninference-sealed+json {kid, ciphertext} that opens (NaCl box) "
    "to a Message valid like the plaintext answer.",
    profiles=DARKBLOOM,
)
def sealed_message(ctx: Context) -> Outcome:
    """MUST seal the whole answer to the sender's ephemeral key: ``{kid, ciphertext}`` with
    ``ciphertext`` = base64(nonce ‖ box), the sealed content type, the original status
    (sender_encryption.go:340-377); opened, it is the Message the plaintext route answers.
    (attestation §3, §5 DB-E2)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None and trials.message is not None
    s = trials.message
    bad = expect_ok(s.ex)
    if bad:
        return Outcome.failed(f"{s.what}: {bad.message}")
    _, plaintext, problem = _open_body(s)
    if plaintext is None:
        return Outcome.mismatch(f"a sealed body ({s.what})", problem)
    try:
        message = json.loads(plaintext)
    except ValueError:
        return Outcome.mismatch("the sealed body to open to JSON", repr(plaintext[:60]))
    errors = ctx.schemas.validate("message", message, profile=ctx.config.profile, version=ctx.config.anthropic_version)
    if errors:
        return Outcome.failed(f"the opened Message is not valid: {errors[0].message}")
    return Outcome.passed(f"opened to Message {message.get('id')!r} ({len(plaintext)} bytes)")


@check(
    "darkbloom.sealed.stream",
    MUST,
    "attestation §3, §5 DB-E3",
    "A sealed stream is text/event-stream of `data: <base64>` events, each opening to exactly one plaintext event, "
    "which together pass the Messages stream grammar.",
    profiles=DARKBLOOM,
)
def sealed_stream(ctx: Context) -> Outcome:
    """MUST seal a stream event by event (sender_encryption.go:316-356): each ``\\n\\n``-framed
    event sealed alone with a fresh nonce, written as one ``data:`` line; the opened events, in
    order, are a stream that passes the contract's grammar (§3 of the contract).
    (attestation §3, §5 DB-E3)"""
    from conformance._grammar import StreamGrammar

    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None and trials.stream is not None
    s = trials.stream
    bad = expect_ok(s.ex)
    if bad:
        return Outcome.failed(f"{s.what}: {bad.message}")
    opened = _open_stream(s)
    if opened.problem:
        return Outcome.mismatch(f"a per-event sealed stream ({s.what})", opened.problem)
    for i, text in enumerate(opened.texts):
        n = len(_events_of([text]))
        if n != 1:
            return Outcome.mismatch(f"one plaintext event per sealed event (#{i})", f"{n} events: {text[:80]!r}")
    grammar = StreamGrammar()
    for e in _events_of(opened.texts):
        grammar.feed(e)
    grammar.finish(complete=s.ex.complete)
    if grammar.violations:
        v = grammar.violations[0]
        more = f" (and {len(grammar.violations) - 1} more)" if len(grammar.violations) > 1 else ""
        return Outcome.failed(
            f"the opened stream breaks stream.grammar.{v.rule} at event #{v.position}: {v.message}{more}"
        )
    return Outcome.passed(f"{len(opened.texts)} sealed events open to a valid stream")


@check(
    "darkbloom.sealed.fresh-nonces",
    SHOULD,
    "attestation §3, §5 DB-E4",
    "No nonce repeats across the sealed events of a stream or across sealed answers of a run.",
    profiles=DARKBLOOM,
)
def sealed_nonces(ctx: Context) -> Outcome:
    """SHOULD draw a fresh random nonce for every box (XSalsa20-Poly1305 under one key pair with a
    repeated nonce leaks the XOR of the plaintexts and allows forgeries).
    (attestation §3, §5 DB-E4)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None
    nonces: list[bytes] = []
    for s in (trials.message, trials.message_params, trials.handler_error):
        if s is not None:
            nonce, _, _ = _open_body(s)
            if nonce is not None:
                nonces.append(nonce)
    if trials.stream is not None:
        nonces += _open_stream(trials.stream).nonces
    if len(nonces) < 2:
        return Outcome.inconclusive(f"{len(nonces)} sealed box(es) opened: nothing to compare")
    repeated = len(nonces) - len(set(nonces))
    if repeated:
        return Outcome.mismatch("a fresh nonce per box", f"{repeated} repeated among {len(nonces)} boxes")
    return Outcome.passed(f"{len(nonces)} distinct nonces")


@check(
    "darkbloom.sealed.kid-mismatch",
    MUST,
    "attestation §3, §5 DB-E5",
    "A sealed request naming another kid is refused 400 kid_mismatch, in plaintext JSON.",
    profiles=DARKBLOOM,
)
def sealed_kid_mismatch(ctx: Context) -> Outcome:
    """MUST refuse an envelope sealed to another key, in plaintext (the sender cannot open a
    sealed refusal): 400 ``kid_mismatch`` (sender_encryption.go:121-184).
    (attestation §3, §5 DB-E5)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None
    return _plaintext_refusal(trials.kid_mismatch, 400, "kid_mismatch", "wrong kid") or Outcome.passed(
        "400 kid_mismatch in plaintext"
    )


@check(
    "darkbloom.sealed.bad-envelope",
    MUST,
    "attestation §3, §5 DB-E6",
    "A malformed envelope (not JSON, bad base64, key not 32 bytes, ciphertext under 24 bytes) is refused 400 "
    "invalid_sealed_envelope, in plaintext JSON.",
    profiles=DARKBLOOM,
)
def sealed_bad_envelope(ctx: Context) -> Outcome:
    """MUST refuse each malformed envelope with 400 ``invalid_sealed_envelope`` in plaintext, never
    a 200, and never fall back to reading the body as plaintext (sender_encryption.go:121-184).
    (attestation §3, §5 DB-E6)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None
    for what, ex in trials.envelopes.items():
        refused = _plaintext_refusal(ex, 400, "invalid_sealed_envelope", what)
        if refused:
            return refused
    return Outcome.passed(f"{len(trials.envelopes)} malformed envelopes refused 400 invalid_sealed_envelope")


@check(
    "darkbloom.sealed.tampered",
    MUST,
    "attestation §3, §5 DB-E6",
    "A sealed request whose box does not open (one bit flipped) is refused 400 decryption_failed, in plaintext JSON.",
    profiles=DARKBLOOM,
)
def sealed_tampered(ctx: Context) -> Outcome:
    """MUST refuse a box whose Poly1305 tag does not verify with 400 ``decryption_failed``: a
    coordinator that answers it ran a request nobody sealed.
    (attestation §3, §5 DB-E6)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None
    return _plaintext_refusal(trials.tampered, 400, "decryption_failed", "tampered ciphertext") or Outcome.passed(
        "400 decryption_failed in plaintext"
    )


@check(
    "darkbloom.sealed.unavailable",
    MUST,
    "attestation §3, §5 DB-E7",
    "When GET /v1/encryption-key answers 503, a sealed request is refused 503 encryption_unavailable.",
    profiles=DARKBLOOM,
)
def sealed_unavailable(ctx: Context) -> Outcome:
    """MUST refuse sealed requests with 503 ``encryption_unavailable`` while the coordinator has
    no key (sender_encryption.go:99-111), rather than read the envelope as a plaintext request.
    (attestation §3, §5 DB-E7)"""
    trials, bad = _trials(ctx, need_key=False)
    if bad:
        return bad
    assert trials is not None
    if trials.key.status != 503:
        return Outcome.skipped(f"the coordinator has a key: GET {KEY_PATH} got {describe(trials.key)}")
    return _plaintext_refusal(trials.unavailable, 503, "encryption_unavailable", "sealed request") or Outcome.passed(
        "503 encryption_unavailable"
    )


@check(
    "darkbloom.sealed.content-type-params",
    SHOULD,
    "attestation §3, §5 DB-E8",
    "The sealed content type is recognised case-insensitively and with parameters (; charset=utf-8).",
    profiles=DARKBLOOM,
)
def sealed_content_type(ctx: Context) -> Outcome:
    """SHOULD match the media type as HTTP does (sender_encryption.go:55, :80-91: case-insensitive,
    parameters ignored): a client library that adds ``; charset=utf-8`` still gets sealing. The
    envelope was recognised when it was opened and answered (a 200 Message, sealed or not: how
    the answer is sealed is darkbloom.sealed.message's to judge); read as a plaintext request it
    is refused.
    (attestation §3, §5 DB-E8)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None and trials.message_params is not None
    s = trials.message_params
    bad = expect_ok(s.ex)
    if bad:
        return Outcome.failed(f"{s.what}: {bad.message}")
    _, plaintext, problem = _open_body(s)
    if plaintext is not None:
        return Outcome.passed(f"{s.what} sealed and opened")
    body = s.ex.json()
    if isinstance(body, dict) and body.get("type") == "message":
        return Outcome.passed(f"{s.what} opened and answered (in clear: see darkbloom.sealed.message)")
    return Outcome.mismatch(f"the envelope opened and answered ({s.what})", problem)


@check(
    "darkbloom.sealed.plaintext-unaffected",
    MUST,
    "attestation §3, §5 DB-E9",
    "Plaintext requests on /v1/messages are answered in clear, without X-Eigen-Sealed headers.",
    profiles=DARKBLOOM,
)
def sealed_plaintext(ctx: Context) -> Outcome:
    """MUST leave plaintext requests alone: sealing is opted into by the request's content type
    only (sender_encryption.go:55).
    (attestation §3, §5 DB-E9)"""
    answers, bad = _answers(ctx)
    if bad:
        return bad
    for a in answers:
        marked = [n for n in ("x-eigen-sealed", "x-eigen-sealed-kid") if a.ex.header(n) is not None]
        if marked or a.ex.content_type == SEALED_CONTENT_TYPE:
            return Outcome.mismatch(
                f"a plaintext answer ({a.label})", ", ".join(marked) or a.ex.header("content-type") or ""
            )
    return Outcome.passed(f"{len(answers)} plaintext answer(s) unaffected")


@check(
    "darkbloom.sealed.errors-sealed",
    SHOULD,
    "attestation §3, §5 DB-E10",
    "An in-handler error on a sealed request (missing model) comes back sealed with its status; a 401 stays plaintext.",
    profiles=DARKBLOOM,
)
def sealed_errors(ctx: Context) -> Outcome:
    """SHOULD seal whatever the handler answers, errors included, with the original status
    (sender_encryption.go:340-377), while refusals before the sealed layer (401 from
    ``requireAuth``) stay plaintext.
    (attestation §3, §5 DB-E10)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None and trials.handler_error is not None
    s = trials.handler_error
    if s.ex.status != 400:
        return Outcome.mismatch(f"HTTP 400 ({s.what})", describe(s.ex))
    _, plaintext, problem = _open_body(s)
    if plaintext is None:
        return Outcome.mismatch(f"the 400 sealed ({s.what})", problem)
    try:
        err = json.loads(plaintext).get("error", {}).get("type")
    except (ValueError, AttributeError):
        err = None
    if err != "invalid_request_error":
        return Outcome.mismatch("the sealed 400 to open to invalid_request_error", repr(plaintext[:80]))
    unauthorized = _plaintext_refusal(trials.unauthorized, 401, "authentication_error", "sealed request, wrong key")
    if unauthorized:
        return unauthorized
    return Outcome.passed("400 sealed, 401 in plaintext")


@check(
    "darkbloom.sealed.receipts",
    SHOULD,
    "attestation §3, §5 DB-E11",
    "Receipts inside sealed answers pass the receipt checks (paired, formats, signature, placement, before the end) "
    "once opened; X-Provider-* headers stay in clear.",
    profiles=DARKBLOOM,
)
def sealed_receipts(ctx: Context) -> Outcome:
    """SHOULD keep the attestation evidence intact through sealing: the ``X-Provider-*`` headers
    travel in clear (outside the seal), and the opened answers' receipts satisfy DB-S1 to
    DB-S6.
    (attestation §3, §5 DB-E11)"""
    trials, bad = _trials(ctx)
    if bad:
        return bad
    assert trials is not None
    plain = [a for a in ctx.probe(ANSWERS) if a.committed]
    shown = set().union(*(a.evidence() for a in plain)) if plain else set()
    roster = _roster_exchange(ctx).json()
    found: list[tuple[SealedExchange, Receipt]] = []
    for s in (trials.message, trials.stream):
        if s is None or s.ex.status != 200:
            continue
        missing = sorted(shown - set(evidence_headers(s.ex.headers)))
        if missing:
            return Outcome.mismatch(f"provider headers in clear on the {s.what}", f"{', '.join(missing)} absent")
        if s.ex.is_stream:
            opened = _open_stream(s)
            if opened.problem:
                continue  # darkbloom.sealed.stream reports it
            found += [(s, r) for r in receipts_in_events([(e.event, e.data) for e in _events_of(opened.texts)])]
        else:
            _, plaintext, _ = _open_body(s)
            if plaintext is None:
                continue  # darkbloom.sealed.message reports it
            try:
                found += [(s, r) for r in receipts_in_message(json.loads(plaintext))]
            except ValueError:
                continue
    if not found:
        return Outcome.skipped("no receipt in an opened sealed answer (absent)")
    for s, r in found:
        headers = {n.lower(): v for n, v in reversed(s.ex.headers)}
        problem = None
        if not r.paired:
            problem = "an incomplete receipt"
        elif not isinstance(r.hash, str) or not HASH_RE.fullmatch(r.hash):
            problem = f"response_hash {json.dumps(r.hash)[:40]}"
        elif der_signature(r.signature)[0] is None:
            problem = f"se_signature {der_signature(r.signature)[1]}"
        elif (r.stream and (r.event is None or r.after_stop or r.after_done)) or (not r.stream and r.path != "$"):
            problem = f"the receipt in {r.where()}"
        else:
            v = verify_receipt(r, candidate_keys(headers, roster))
            problem = None if v.ok else f"a signature that {v.detail}"
        if problem:
            return Outcome.mismatch(f"the opened receipt to pass DB-S1..S6 ({s.what})", problem)
    return Outcome.passed(f"{len(found)} opened receipt(s) verify; provider headers in clear")
