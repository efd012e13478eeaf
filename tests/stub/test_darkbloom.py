"""The stub's ``--darkbloom`` mode, its faults, and the ``darkbloom`` check family.

* each Darkbloom fault visibly changes the wire (its proof, also run by ``test_faults.py``), and
  the proof fails against the clean ``--darkbloom`` stub;
* each Darkbloom fault fails exactly the checks it names under the ``darkbloom`` profile, each
  Darkbloom control none, and ``darkbloom-mode`` none under either profile;
* a plain Anthropic-compatible server (the stub without ``--darkbloom``) gets *unsupported* on
  every ``darkbloom.*`` check;
* the receipt verification is real: flipping one byte of the body, the hash or the signature
  makes it fail (attestation §5 DB-S11), checked with an independent verifier too.

The keys are generated per stub start; nothing secret is printed (the API key is the stubs' own).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Callable

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from nacl.public import Box, PrivateKey, PublicKey
from stub_helpers import HTTP, KEY, body, headers, parse_sse, post

from conformance import _darkbloom as db
from conformance._catalog import Verdict
from conformance._exchange import Exchange, RecordedRequest
from conformance._run import RunConfig, RunContext, preflight, run_check
from conformance._sse import SSEParser
from conformance.checks import load_catalog
from conformance.checks.darkbloom import Answer, _binding
from conformance.killmatrix import failing, named_checks, verdicts_against
from conformance.stub.faults import BY_NAME
from conformance.stub.faults.darkbloom import FAULTS, MODE
from conformance.stub.server import StubProcess, ThreadedStub

SEALED = "application/eigeninference-sealed+json"
ROSTER = "/v1/providers/attestation"
KEY_PATH = "/v1/encryption-key"
DARKBLOOM_IDS = [c.id for c in load_catalog().select(profile="darkbloom", patterns=["darkbloom.*"])]


# ------------------------------------------------------------------------------- helpers


def roster(url: str) -> dict:
    return HTTP.get(url + ROSTER).json()


def serving(url: str) -> dict:
    return next(e for e in roster(url)["providers"] if e["status"] == "online")


def stream_events(url: str, payload: dict | None = None) -> tuple[Any, list[tuple[str | None, str]]]:
    r = post(url, {**(payload or body()), "stream": True})
    return r, parse_sse(r.text)


def receipt_of_stream(events: list[tuple[str | None, str]]) -> dict:
    delta = next(json.loads(d) for n, d in events if n == "message_delta")
    return {k: delta[k] for k in db.RECEIPT_FIELDS if k in delta}


def coordinator(url: str) -> tuple[bytes, str]:
    key = HTTP.get(url + KEY_PATH).json()
    return base64.b64decode(key["public_key"]), key["kid"]


def sealed_post(url: str, payload: Any, *, kid: str | None = None, ctype: str = SEALED, raw: bytes | None = None):
    """POST a sealed request (PyNaCl directly: independent of conformance._darkbloom); returns
    the response and the box that opens its answer."""
    public, real_kid = coordinator(url)
    eph = PrivateKey.generate()
    box = Box(eph, PublicKey(public))
    envelope = {
        "kid": real_kid if kid is None else kid,
        "ephemeral_public_key": base64.b64encode(bytes(eph.public_key)).decode(),
        "ciphertext": base64.b64encode(bytes(box.encrypt(json.dumps(payload).encode()))).decode(),
    }
    content = raw if raw is not None else json.dumps(envelope).encode()
    r = HTTP.post(url + "/v1/messages", content=content, headers=headers(**{"content-type": ctype}))
    return r, box


def open_b64(box: Box, text: str) -> tuple[bytes, bytes]:
    raw = base64.b64decode(text)
    return raw[:24], box.decrypt(raw[24:], raw[:24])


def p256(text: str) -> ec.EllipticCurvePublicKey:
    raw = base64.b64decode(text)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw if len(raw) == 64 else raw)


def independent_verify(key_text: str, signature_b64: str, response_hash: str) -> bool:
    try:
        p256(key_text).verify(base64.b64decode(signature_b64), response_hash.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


# ------------------------------------------------------------------------------- proofs

# Each proof takes the URL of a stub with only that fault on and asserts the visible change;
# test_faults.py runs them with the other faults' proofs.
PROOFS: dict[str, Callable[[str], None]] = {}


def proof(name: str) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
    def register(fn: Callable[[str], None]) -> Callable[[str], None]:
        assert name in BY_NAME, name
        PROOFS[name] = fn
        return fn

    return register


@proof(MODE)
def _(url: str) -> None:
    r = post(url, body())
    assert r.headers["x-provider-trust-level"] == "hardware" and len(r.json()["response_hash"]) == 64
    assert roster(url)["providers"][0]["provider_id"] == r.headers["x-provider-id"]


@proof("darkbloom-no-coordinator-key")
def _(url: str) -> None:
    k = HTTP.get(url + KEY_PATH)
    assert k.status_code == 503 and k.json()["error"]["type"] == "encryption_unavailable"
    r = HTTP.post(url + "/v1/messages", content=b"{}", headers=headers(**{"content-type": SEALED}))
    assert r.status_code == 503 and r.json()["error"]["type"] == "encryption_unavailable"
    assert post(url, body()).status_code == 200


@proof("darkbloom-roster-auth")
def _(url: str) -> None:
    assert HTTP.get(url + ROSTER).status_code == 401
    assert HTTP.get(url + ROSTER, headers=headers()).json()["providers"]


@proof("darkbloom-roster-null")
def _(url: str) -> None:
    assert any(e["models"] is None for e in roster(url)["providers"])


@proof("darkbloom-roster-entry-mistyped")
def _(url: str) -> None:
    assert serving(url)["sip_enabled"] == "true"


@proof("darkbloom-roster-key-truncated")
def _(url: str) -> None:
    assert len(base64.b64decode(serving(url)["se_public_key"])) == 63
    assert len(base64.b64decode(post(url, body()).headers["x-attestation-se-public-key"])) == 64


@proof("darkbloom-roster-key-off-curve")
def _(url: str) -> None:
    text = serving(url)["se_public_key"]
    assert len(base64.b64decode(text)) == 64
    try:
        p256(text)
    except ValueError:
        return
    raise AssertionError("the roster key is a point on P-256")


@proof("darkbloom-roster-duplicate-ids")
def _(url: str) -> None:
    ids = [e["provider_id"] for e in roster(url)["providers"]]
    assert len(ids) == 2 and len(set(ids)) == 1


@proof("darkbloom-mdm-mismatch")
def _(url: str) -> None:
    entry = serving(url)
    assert entry["trust_level"] == "hardware" and entry["mdm_verified"] is False


@proof("darkbloom-key-algorithm-name")
def _(url: str) -> None:
    assert HTTP.get(url + KEY_PATH).json()["algorithm"] == "x25519"


@proof("darkbloom-kid-over-base64")
def _(url: str) -> None:
    key = HTTP.get(url + KEY_PATH).json()
    assert key["kid"] == hashlib.sha256(key["public_key"].encode()).hexdigest()[:16]


@proof("darkbloom-key-no-cache")
def _(url: str) -> None:
    k = HTTP.get(url + KEY_PATH)
    assert k.status_code == 200 and "cache-control" not in k.headers


@proof("darkbloom-no-provider-headers")
def _(url: str) -> None:
    r = post(url, body())
    assert not [h for h in r.headers if h.startswith(("x-provider-", "x-attestation-"))] and r.json()["se_signature"]


@proof("darkbloom-header-mistyped")
def _(url: str) -> None:
    assert post(url, body()).headers["x-provider-attested"] == "yes"


@proof("darkbloom-header-key-mismatch")
def _(url: str) -> None:
    r = post(url, body())
    assert r.headers["x-attestation-se-public-key"] != serving(url)["se_public_key"]
    assert independent_verify(serving(url)["se_public_key"], r.json()["se_signature"], r.json()["response_hash"])


@proof("darkbloom-unknown-provider-id")
def _(url: str) -> None:
    provider = post(url, body()).headers["x-provider-id"]
    assert provider not in [e["provider_id"] for e in roster(url)["providers"]]


@proof("darkbloom-provider-headers-on-400")
def _(url: str) -> None:
    r = post(url, {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 400 and r.headers["x-provider-id"]


@proof("darkbloom-no-job-id")
def _(url: str) -> None:
    r, _ = stream_events(url)
    assert r.status_code == 200 and "x-inference-job-id" not in r.headers and r.headers["x-provider-id"]


@proof("darkbloom-self-signed-provider")
def _(url: str) -> None:
    assert post(url, body()).headers["x-provider-trust-level"] == "self_signed"
    assert serving(url)["trust_level"] == "self_signed"


@proof("darkbloom-receipt-one-field")
def _(url: str) -> None:
    answer = post(url, body()).json()
    assert "response_hash" in answer and "se_signature" not in answer


@proof("darkbloom-hash-uppercase")
def _(url: str) -> None:
    h = post(url, body()).json()["response_hash"]
    assert h == h.upper() and len(h) == 64


@proof("darkbloom-signature-raw-rs")
def _(url: str) -> None:
    assert len(base64.b64decode(post(url, body()).json()["se_signature"])) == 64


@proof("darkbloom-signature-base64url")
def _(url: str) -> None:
    sig = post(url, body()).json()["se_signature"]
    assert ("-" in sig or "_" in sig or len(sig) % 4) and not sig.endswith("=")


@proof("darkbloom-signature-over-digest")
def _(url: str) -> None:
    r = post(url, body())
    answer, key = r.json(), r.headers["x-attestation-se-public-key"]
    assert not independent_verify(key, answer["se_signature"], answer["response_hash"])
    p256(key).verify(
        base64.b64decode(answer["se_signature"]), bytes.fromhex(answer["response_hash"]), ec.ECDSA(hashes.SHA256())
    )


@proof("darkbloom-hash-off-by-one")
def _(url: str) -> None:
    r = post(url, body())
    answer = r.json()
    text = "".join(b["text"] for b in answer["content"] if b["type"] == "text")
    job, tokens = r.headers["x-inference-job-id"], answer["usage"]["output_tokens"]
    assert answer["response_hash"] == db.sha256_hex(f"{job}:{tokens + 1}:{text}")


@proof("darkbloom-receipt-unnamed-event")
def _(url: str) -> None:
    _, events = stream_events(url)
    unnamed = [json.loads(d) for n, d in events if n is None]
    assert len(unnamed) == 1 and "se_signature" in unnamed[0] and events[-1][0] == "message_stop"


@proof("darkbloom-receipt-after-done")
def _(url: str) -> None:
    _, events = stream_events(url)
    assert [d for _, d in events[-3:]][0::2] == ["[DONE]", "[DONE]"] and "se_signature" in events[-2][1]


@proof("darkbloom-receipt-event")
def _(url: str) -> None:
    _, events = stream_events(url)
    assert events[-2][0] == "receipt" and "se_signature" in json.loads(events[-2][1])


@proof("darkbloom-key-rotated")
def _(url: str) -> None:
    first = post(url, body()).headers
    second = post(url, body()).headers
    assert first["x-provider-id"] == second["x-provider-id"]
    assert first["x-attestation-se-public-key"] != second["x-attestation-se-public-key"]


@proof("darkbloom-reply-not-sealed")
def _(url: str) -> None:
    r, _ = sealed_post(url, body())
    assert r.status_code == 200 and r.json()["type"] == "message" and "x-eigen-sealed" not in r.headers


@proof("darkbloom-sealed-events-merged")
def _(url: str) -> None:
    r, box = sealed_post(url, {**body(), "stream": True})
    _, first = open_b64(box, parse_sse(r.text)[0][1])
    assert first.count(b"\n\nevent: ") == 1


@proof("darkbloom-nonce-reused")
def _(url: str) -> None:
    (a, box_a), (b, box_b) = sealed_post(url, body()), sealed_post(url, body())
    assert open_b64(box_a, a.json()["ciphertext"])[0] == open_b64(box_b, b.json()["ciphertext"])[0]


@proof("darkbloom-refusals-200")
def _(url: str) -> None:
    r, _ = sealed_post(url, body(), kid="0" * 16)
    assert r.status_code == 200 and r.json()["error"]["type"] == "kid_mismatch"


@proof("darkbloom-tampered-executed")
def _(url: str) -> None:
    public, kid = coordinator(url)
    eph = PrivateKey.generate()
    sealed = bytearray(bytes(Box(eph, PublicKey(public)).encrypt(json.dumps(body()).encode())))
    sealed[-1] ^= 1
    envelope = {
        "kid": kid,
        "ephemeral_public_key": base64.b64encode(bytes(eph.public_key)).decode(),
        "ciphertext": base64.b64encode(bytes(sealed)).decode(),
    }
    r, _ = sealed_post(url, body(), raw=json.dumps(envelope).encode())
    assert r.status_code == 200


@proof("darkbloom-unavailable-passthrough")
def _(url: str) -> None:
    assert HTTP.get(url + KEY_PATH).status_code == 503
    r = HTTP.post(url + "/v1/messages", content=b"{}", headers=headers(**{"content-type": SEALED}))
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


@proof("darkbloom-sealed-type-exact")
def _(url: str) -> None:
    assert sealed_post(url, body())[0].status_code == 200
    r, _ = sealed_post(url, body(), ctype=SEALED + "; charset=utf-8")
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


@proof("darkbloom-sealed-header-on-plaintext")
def _(url: str) -> None:
    assert post(url, body()).headers["x-eigen-sealed"] == "true"


@proof("darkbloom-sealed-error-in-clear")
def _(url: str) -> None:
    r, _ = sealed_post(url, {"max_tokens": 10, "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"


# ------------------------------------------------------------------------------- the mode


@pytest.fixture(scope="module")
def darkbloom_url(start_stub: Callable[..., str]) -> str:
    return start_stub(darkbloom=True)


def test_every_darkbloom_fault_has_a_proof() -> None:
    assert set(PROOFS) == {f.name for f in FAULTS}
    assert all(f.name.startswith("darkbloom-") for f in FAULTS)
    for f in FAULTS:
        assert all(t.startswith("darkbloom.") and t in DARKBLOOM_IDS for t in f.trips), f.name


@pytest.mark.parametrize("name", sorted(PROOFS))
def test_fault_changes_the_wire(name: str, start_stub: Callable[..., str]) -> None:
    PROOFS[name](start_stub(faults=[name]))


@pytest.mark.parametrize("name", sorted(n for n in PROOFS if n != MODE))
def test_proof_fails_on_the_clean_darkbloom_stub(name: str, darkbloom_url: str) -> None:
    """The proofs discriminate against the mode itself, not only against a plain stub."""
    with pytest.raises((AssertionError, KeyError, IndexError, StopIteration, TypeError, ValueError)):
        PROOFS[name](darkbloom_url)


def test_the_mode_serves_verifiable_evidence(darkbloom_url: str) -> None:
    r = post(darkbloom_url, body())
    answer = r.json()
    entry = serving(darkbloom_url)
    assert entry["provider_id"] == r.headers["x-provider-id"] and len(entry["se_public_key"]) == 88
    assert r.headers["x-attestation-se-public-key"] == entry["se_public_key"]
    assert independent_verify(entry["se_public_key"], answer["se_signature"], answer["response_hash"])
    text = "".join(b["text"] for b in answer["content"] if b["type"] == "text")
    want = hashlib.sha256(f"{r.headers['x-inference-job-id']}:{answer['usage']['output_tokens']}:{text}".encode())
    assert answer["response_hash"] == want.hexdigest()
    s, events = stream_events(darkbloom_url)
    receipt = receipt_of_stream(events)
    assert independent_verify(entry["se_public_key"], receipt["se_signature"], receipt["response_hash"])
    assert "[DONE]" not in s.text and [n for n, _ in events][-1] == "message_stop"
    refused = post(darkbloom_url, {"model": "claude-sonnet-4-5"})
    assert refused.status_code == 400 and not [h for h in refused.headers if h.startswith("x-provider-")]


def test_sealed_transport_round_trip(darkbloom_url: str) -> None:
    public, kid = coordinator(darkbloom_url)
    assert kid == hashlib.sha256(public).hexdigest()[:16]
    r, box = sealed_post(darkbloom_url, body())
    assert r.status_code == 200 and r.headers["content-type"] == SEALED and r.headers["x-eigen-sealed-kid"] == kid
    assert r.headers["x-provider-id"]  # attestation headers travel in clear
    _, plaintext = open_b64(box, r.json()["ciphertext"])
    assert json.loads(plaintext)["type"] == "message" and "se_signature" in json.loads(plaintext)
    r, box = sealed_post(darkbloom_url, {**body(), "stream": True})
    opened = [open_b64(box, d)[1].decode() for _, d in parse_sse(r.text)]
    assert opened[0].startswith("event: message_start\n") and opened[-1].startswith("event: message_stop\n")
    assert len({open_b64(box, d)[0] for _, d in parse_sse(r.text)}) == len(opened)
    for kid_sent, status, kind in (("0" * 16, 400, "kid_mismatch"),):
        refused, _ = sealed_post(darkbloom_url, body(), kid=kid_sent)
        assert refused.status_code == status and refused.json()["error"]["type"] == kind
    wrong_key = HTTP.post(
        darkbloom_url + "/v1/messages",
        content=b"{}",
        headers={**headers(**{"content-type": SEALED}), "x-api-key": "wrong"},
    )
    assert wrong_key.status_code == 401 and wrong_key.headers["content-type"].startswith("application/json")


def test_the_stub_command_serves_the_mode() -> None:
    with StubProcess(darkbloom=True, startup_timeout=20.0) as stub:
        assert HTTP.get(stub.base_url + ROSTER).json()["providers"]
        assert HTTP.get(stub.base_url + KEY_PATH).status_code == 200
    with StubProcess(startup_timeout=20.0) as plain:
        assert HTTP.get(plain.base_url + ROSTER).status_code == 404


# ------------------------------------------------------------------------------- the checks


def _darkbloom_verdicts(url: str, binding: str = "stub-text") -> dict[str, Any]:
    config = RunConfig(
        target=url, api_key=KEY, profile="darkbloom", timeout=10.0, total_timeout=20.0, receipt_binding=binding
    )
    with RunContext.open(config) as ctx:
        preflight(ctx)
        return {c.id: run_check(ctx, c) for c in load_catalog().select(profile="darkbloom", patterns=["darkbloom.*"])}


def test_a_plain_server_is_unsupported_not_failed(start_stub: Callable[..., str]) -> None:
    results = _darkbloom_verdicts(start_stub())
    assert set(results) == set(DARKBLOOM_IDS) and len(results) >= 30
    assert {r.verdict for r in results.values()} == {Verdict.UNSUPPORTED}
    assert "no Darkbloom attestation evidence" in results["darkbloom.receipt.signature-verifies"].outcome.message


def test_the_clean_mode_passes_every_darkbloom_check(darkbloom_url: str) -> None:
    results = _darkbloom_verdicts(darkbloom_url)
    # the only check not passed: the coordinator has a key, so its "no key" refusal is not shown
    assert {cid: r.verdict for cid, r in results.items() if r.verdict != Verdict.PASSED} == {
        "darkbloom.sealed.unavailable": Verdict.SKIPPED
    }
    assert (
        "verified under the X-Attestation-Se-Public-Key header"
        in results["darkbloom.receipt.signature-verifies"].outcome.message
    )


def test_without_a_declared_binding_the_hash_is_inconclusive(
    darkbloom_url: str, start_stub: Callable[..., str]
) -> None:
    clean = _darkbloom_verdicts(darkbloom_url, binding="none")["darkbloom.receipt.hash-binding"]
    broken = _darkbloom_verdicts(start_stub(faults=["darkbloom-hash-off-by-one"]), binding="none")
    assert clean.verdict == broken["darkbloom.receipt.hash-binding"].verdict == Verdict.INCONCLUSIVE


@pytest.mark.slow
@pytest.mark.parametrize("name", [f.name for f in FAULTS])
def test_fault_fails_exactly_the_checks_it_names(name: str) -> None:
    """Under the darkbloom profile (the whole profile, not only darkbloom.*), against the stub in
    --darkbloom mode; darkbloom-mode also under the anthropic profile (verdicts_against's default
    for it)."""
    fault = BY_NAME[name]
    ids = [c.id for c in load_catalog()]
    failed = failing(verdicts_against([name]) if name == MODE else verdicts_against([name], profile="darkbloom"))
    assert sorted(failed) == sorted(named_checks(fault, ids)), f"{name}: failed {failed}, names {list(fault.trips)}"


# ------------------------------------------------------------------------------- self-test (DB-S11)


@pytest.fixture(scope="module")
def signed_answer() -> tuple[dict, dict[str, str]]:
    """One receipt-bearing answer of a fresh --darkbloom stub: (Message, response headers)."""
    stub = ThreadedStub(darkbloom=True)
    url = stub.start()
    try:
        r = post(url, body())
        return r.json(), dict(r.headers)
    finally:
        stub.request_stop()
        stub.join()


def _verify(message: dict, hdrs: dict[str, str]) -> db.Verification:
    receipt = db.receipts_in_message(message)[0]
    return db.verify_receipt(receipt, db.candidate_keys(hdrs, None))


def _flip_b64(text: str, index: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[index] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_verification_accepts_the_untouched_receipt(signed_answer) -> None:
    message, hdrs = signed_answer
    v = _verify(message, hdrs)
    assert v.ok and v.key is not None and v.key.source == "X-Attestation-Se-Public-Key header"
    assert independent_verify(hdrs["x-attestation-se-public-key"], message["se_signature"], message["response_hash"])


@pytest.mark.parametrize("index", [0, 5, -1])
def test_one_flipped_signature_byte_fails(signed_answer, index: int) -> None:
    message, hdrs = signed_answer
    flipped = {**message, "se_signature": _flip_b64(message["se_signature"], index)}
    assert not _verify(flipped, hdrs).ok
    assert not independent_verify(
        hdrs["x-attestation-se-public-key"], flipped["se_signature"], message["response_hash"]
    )


@pytest.mark.parametrize("index", [0, 31, 63])
def test_one_flipped_hash_byte_fails(signed_answer, index: int) -> None:
    message, hdrs = signed_answer
    h = message["response_hash"]
    flipped = h[:index] + ("0" if h[index] != "0" else "1") + h[index + 1 :]
    assert not _verify({**message, "response_hash": flipped}, hdrs).ok


def test_one_flipped_body_byte_breaks_the_binding(signed_answer) -> None:
    message, hdrs = signed_answer
    raw = json.dumps(message).encode()

    class Ctx:
        class config:
            receipt_binding = "stub-text"

    def answer(payload: bytes) -> Answer:
        request = RecordedRequest("POST", "http://stub/v1/messages", (), b"")
        ex = Exchange(request, status=200, headers=tuple(hdrs.items()), body=payload)
        return Answer(ex, ex, stream=False, n=1)

    receipt = db.receipts_in_message(message)[0]
    assert _binding(Ctx(), answer(raw), receipt)[0] is True
    text = message["content"][0]["text"]
    changed = text[:3] + chr(ord(text[3]) ^ 1) + text[4:]
    tampered = json.dumps({**message, "content": [{**message["content"][0], "text": changed}]}).encode()
    assert len(tampered) == len(raw) and sum(a != b for a, b in zip(tampered, raw, strict=True)) == 1
    ok, why = _binding(Ctx(), answer(tampered), receipt)
    assert ok is False and "recomputed" in why


def test_key_and_signature_encodings() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    from cryptography.hazmat.primitives import serialization

    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    assert db.p256_key(base64.b64encode(point[1:]).decode())[0] is not None  # 64 bytes X‖Y
    assert db.p256_key(base64.b64encode(point).decode())[0] is not None  # 65 bytes 0x04‖X‖Y
    assert "63 bytes" in str(db.p256_key(base64.b64encode(point[1:64]).decode())[1])
    der = key.sign(b"x" * 64, ec.ECDSA(hashes.SHA256()))
    assert db.der_signature(base64.b64encode(der).decode())[0] == der
    assert "P1363" in str(db.der_signature(base64.b64encode(bytes(64)).decode())[1])
    url = base64.urlsafe_b64encode(der).decode().rstrip("=")
    if url != base64.b64encode(der).decode():
        assert db.der_signature(url)[0] is None


def test_upstream_openai_sse_binding() -> None:
    """DB-S10: the k search over SNAP's upstream chunks (``"data: " + payload``, no separators)."""
    chunks = [json.dumps({"choices": [{"delta": {"content": w}}]}) for w in ("Hello", " there")]
    h = db.sha256_hex("job-1:7:" + "".join("data: " + c for c in chunks))
    assert db.upstream_sse_hash_k("job-1", chunks, h, 64) == 7
    assert db.upstream_sse_hash_k("job-1", chunks[:1], h, 64) is None


def test_receipts_are_found_where_they_are() -> None:
    events = [
        ("message_start", '{"type":"message_start"}'),
        ("message_delta", '{"type":"message_delta","se_signature":"s","response_hash":"h"}'),
        ("message_stop", '{"type":"message_stop"}'),
        (None, "[DONE]"),
        (None, '{"choices":[],"se_signature":"s","response_hash":"h"}'),
    ]
    first, late = db.receipts_in_events(events)
    assert first.event == "message_delta" and not first.after_stop and first.paired
    assert late.event is None and late.after_stop and late.after_done
    assert db.receipts_in_message({"usage": {"response_hash": "h"}})[0].path == "$.usage"


def test_sealer_opens_only_its_own_answers() -> None:
    coordinator_key = PrivateKey.generate()
    sealer = db.Sealer.new(bytes(coordinator_key.public_key))
    envelope = sealer.envelope(b"hello", "kid")
    eph = PublicKey(base64.b64decode(envelope["ephemeral_public_key"]))
    sealed = base64.b64decode(envelope["ciphertext"])
    assert Box(coordinator_key, eph).decrypt(sealed[24:], sealed[:24]) == b"hello"
    answer = base64.b64encode(bytes(Box(coordinator_key, eph).encrypt(b"answer"))).decode()
    assert sealer.open(answer)[1] == b"answer"
    with pytest.raises(ValueError):
        db.Sealer.new(bytes(coordinator_key.public_key)).open(answer)
    parser = SSEParser()
    assert len(parser.feed(b"data: x\n\n", 0.0)) == 1


# ------------------------------------------------------------------------------- the report


def _report(url: str) -> tuple[str, dict]:
    from conformance._run import results_document
    from conformance.report.darkbloom import attestation
    from conformance.report.html import render_html

    config = RunConfig(target=url, api_key=KEY, profile="darkbloom", receipt_binding="stub-text")
    doc = results_document(_darkbloom_verdicts(url).values(), config, "claude-sonnet-4-5", "must")
    section = attestation(doc)
    assert section is not None
    return render_html(doc), section


def test_the_report_shows_providers_receipts_and_absent_evidence(darkbloom_url: str) -> None:
    html, section = _report(darkbloom_url)
    provider = serving(darkbloom_url)
    assert provider["provider_id"] in [p["id"] for p in section["providers"]]
    assert [p["id"] for p in section["served"]] == [provider["provider_id"]]
    # the probe's three answers, and the two the SDK read in strict mode
    assert len(section["receipts"]) == 5 and all(r["verified"] for r in section["receipts"])
    assert {r["source"] for r in section["receipts"]} == {"X-Attestation-Se-Public-Key header"}
    assert [a["id"] for a in section["absent"]] == ["darkbloom.sealed.unavailable"]
    assert 'id="darkbloom-receipts"' in html and db.key_fingerprint(provider["se_public_key"]) in html
    assert KEY not in html


def test_the_report_shows_a_receipt_that_does_not_verify(start_stub: Callable[..., str]) -> None:
    html, section = _report(start_stub(faults=["darkbloom-signature-over-digest"]))
    assert section["receipts"] and not any(r["verified"] for r in section["receipts"])
    assert 'data-verified="false"' in html


def test_the_report_of_a_plain_server_says_unsupported(start_stub: Callable[..., str]) -> None:
    html, section = _report(start_stub())
    assert section["unsupported"] and "shows no Darkbloom attestation evidence" in html
