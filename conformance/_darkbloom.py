"""Darkbloom attestation evidence as data: what a consumer can read and verify on the wire.

The digest of the coordinator's and provider's behaviour is
``../shared/spec/darkbloom-attestation.md`` (cited as "attestation §N"). This module holds the
consumer's side of it, with no I/O, for the ``darkbloom`` check family and the report:

* P-256 public keys in the documented encodings (§2.2: standard base64 of 64 raw bytes X‖Y, or 65
  bytes starting 0x04) and their fingerprints;
* receipts (``se_signature`` + ``response_hash``, §1.1, §2): where they sit in a Message or a
  stream, their formats, and the verification recipe of §2.3 (ECDSA P-256/SHA-256 over the ASCII
  hex of the hash, the signature DER in padded standard base64), with the key chosen in the
  documented order (the response's header, the roster entry of its provider, every roster key);
* the ``stub-text`` hash binding (§2.1, §5 DB-S9) and the ``upstream-openai-sse`` one (§2.4,
  DB-S10);
* sealed transport (§3): the NaCl box (X25519 + XSalsa20-Poly1305) a sender seals a request with
  and opens the answer with, and the coordinator's ``kid`` (hex of the first 8 bytes of
  SHA-256 of its public key).

The cryptography is the kept libraries' (``cryptography`` for P-256/ECDSA/DER, PyNaCl for the
box); nothing here is hand-rolled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

SEALED_CONTENT_TYPE = "application/eigeninference-sealed+json"
KEY_ALGORITHM = "x25519-nacl-box"
TRUST_LEVELS = ("none", "self_signed", "hardware")
RECEIPT_FIELDS = ("se_signature", "response_hash")
# response headers that are attestation evidence (§1.1): written only on committed answers
EVIDENCE_HEADER_PREFIXES = ("x-provider-", "x-attestation-")
# headers documented on docs.darkbloom.dev but never set by any code version (§1.2, DB-H7)
SITE_ONLY_HEADERS = ("x-se-signature", "x-response-hash")
HASH_RE = re.compile(r"[0-9a-f]{64}")
_STD_B64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
NONCE_BYTES = 24


# ----------------------------------------------------------------------------- encodings


def std_b64decode(text: Any) -> bytes | None:
    """The bytes of padded standard base64 (RFC 4648 §4), else None (base64url, missing padding,
    whitespace and other characters are refused: the documented encoding is Go's StdEncoding)."""
    if not isinstance(text, str) or not _STD_B64.fullmatch(text):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def std_b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def p256_key(text: Any) -> tuple[Any, str | None]:
    """(public key, None) for an ``se_public_key`` in a documented encoding (§2.2), else
    (None, why not)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    raw = std_b64decode(text)
    if raw is None:
        return None, "not padded standard base64"
    if len(raw) == 64:
        raw = b"\x04" + raw
    elif len(raw) != 65 or raw[0] != 4:
        return None, f"{len(raw)} bytes, not 64 (X‖Y) or 65 (0x04‖X‖Y)"
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw), None
    except ValueError:
        return None, "not a point on P-256"


def key_fingerprint(text: Any) -> str:
    """A short, stable name for a key as published: 16 hex digits of SHA-256 of its bytes
    (of the text when it does not decode)."""
    raw = std_b64decode(text)
    data = raw if raw is not None else str(text).encode("utf-8", "replace")
    return hashlib.sha256(data).hexdigest()[:16]


def coordinator_kid(public_key: bytes) -> str:
    """The ``kid`` of a coordinator key: lowercase hex of the first 8 bytes of SHA-256 of the
    32 public key bytes (§3, coordinator_key.go:76-77)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


# ----------------------------------------------------------------------------- receipts


def der_signature(text: Any) -> tuple[bytes | None, str | None]:
    """(DER bytes, None) for an ``se_signature`` as documented (§2.2: padded standard base64 of a
    DER SEQUENCE of two positive INTEGERs, at most 72 bytes), else (None, why not)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

    if not isinstance(text, str):
        return None, f"a {type(text).__name__}, not a string"
    raw = std_b64decode(text)
    if raw is None:
        urlsafe = re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", text) is not None and re.search(r"[_-]|[^=]$", text)
        return None, "base64url, not padded standard base64" if urlsafe else "not padded standard base64"
    if len(raw) > 72:
        return None, f"{len(raw)} bytes, more than a DER P-256 signature (72)"
    try:
        r, s = decode_dss_signature(raw)
    except ValueError:
        shape = " (64 bytes: raw r‖s, IEEE P1363)" if len(raw) == 64 else ""
        return None, f"not a DER SEQUENCE of two INTEGERs{shape}"
    if r <= 0 or s <= 0:
        return None, "r or s not positive"
    if encode_dss_signature(r, s) != raw:
        return None, "not canonical DER"
    return raw, None


def verifies(key: Any, signature: bytes, response_hash: str) -> bool:
    """Whether ``signature`` (DER) is an ECDSA P-256/SHA-256 signature by ``key`` over the ASCII
    bytes of ``response_hash`` (§2.3 step 3: the hex text, not the digest it spells)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key.verify(signature, response_hash.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, UnicodeEncodeError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Receipt:
    """One object that carries ``se_signature`` and/or ``response_hash``, and where it was."""

    signature: Any  # the se_signature value (None: absent)
    hash: Any  # the response_hash value (None: absent)
    path: str  # JSON path of the object: "$" is the Message's top level
    stream: bool
    event: str | None = None  # the SSE event name (None: an unnamed event)
    position: int = -1  # the event's position in the stream
    after_stop: bool = False  # after message_stop
    after_done: bool = False  # after a ``data: [DONE]``

    @property
    def paired(self) -> bool:
        return self.signature is not None and self.hash is not None

    def where(self) -> str:
        if not self.stream:
            return "the Message's top level" if self.path == "$" else f"the Message at {self.path}"
        name = f"event {self.event!r}" if self.event is not None else "an unnamed data: event"
        inside = "" if self.path == "$" else f" at {self.path}"
        return f"{name} #{self.position}{inside}"


def _walk(value: Any, path: str) -> Iterable[tuple[str, dict]]:
    if isinstance(value, dict):
        if any(f in value for f in RECEIPT_FIELDS):
            yield path, value
        for key, item in value.items():
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")


def receipts_in_message(body: Any) -> list[Receipt]:
    """The receipts of a non-streamed answer, wherever they sit in its JSON."""
    return [
        Receipt(obj.get("se_signature"), obj.get("response_hash"), path, stream=False) for path, obj in _walk(body, "$")
    ]


def receipts_in_events(events: Sequence[tuple[str | None, str]]) -> list[Receipt]:
    """The receipts of a stream given as (event name, data) pairs, in order."""
    out: list[Receipt] = []
    stopped = done = False
    for position, (name, data) in enumerate(events):
        if data.strip() == "[DONE]":
            done = True
            continue
        try:
            payload = json.loads(data)
        except ValueError:
            payload = None
        for path, obj in _walk(payload, "$"):
            out.append(
                Receipt(
                    obj.get("se_signature"),
                    obj.get("response_hash"),
                    path,
                    stream=True,
                    event=name,
                    position=position,
                    after_stop=stopped,
                    after_done=done,
                )
            )
        if name == "message_stop":
            stopped = True
    return out


@dataclass(frozen=True)
class KeyChoice:
    """A key to verify a receipt with and where it came from (§2.3 step 1)."""

    text: str
    source: str


def candidate_keys(headers: Mapping[str, str], roster: Any) -> list[KeyChoice]:
    """The keys §2.3 step 1 names, in its order: ``X-Attestation-Se-Public-Key`` if present;
    else the roster entry whose ``provider_id`` equals ``X-Provider-Id``; else every non-empty
    ``se_public_key`` of the roster (the matching one is reported)."""
    header_key = headers.get("x-attestation-se-public-key")
    if header_key:
        return [KeyChoice(header_key, "X-Attestation-Se-Public-Key header")]
    entries = roster_entries(roster)
    provider = headers.get("x-provider-id")
    if provider:
        own = [e for e in entries if e.get("provider_id") == provider and e.get("se_public_key")]
        return [KeyChoice(str(e["se_public_key"]), f"roster entry of X-Provider-Id {provider}") for e in own]
    return [
        KeyChoice(str(e["se_public_key"]), f"roster key of provider {e.get('provider_id')} (no provider header)")
        for e in entries
        if isinstance(e.get("se_public_key"), str) and e["se_public_key"]
    ]


@dataclass(frozen=True)
class Verification:
    ok: bool
    detail: str  # "verified under ..." or why not
    key: KeyChoice | None = None


def verify_receipt(receipt: Receipt, keys: Sequence[KeyChoice]) -> Verification:
    """§2.3 steps 2-3 over the keys of step 1 (:func:`candidate_keys`)."""
    if not receipt.paired:
        return Verification(False, "incomplete receipt (one of se_signature, response_hash)")
    if not isinstance(receipt.hash, str):
        return Verification(False, "response_hash is not a string")
    signature, why = der_signature(receipt.signature)
    if signature is None:
        return Verification(False, f"se_signature is {why}")
    if not keys:
        return Verification(False, "no key to verify with: no X-Attestation-Se-Public-Key, no roster key")
    bad = []
    for choice in keys:
        key, problem = p256_key(choice.text)
        if key is None:
            bad.append(f"{choice.source} is {problem}")
            continue
        if verifies(key, signature, receipt.hash):
            return Verification(
                True, f"verified under the {choice.source} (key {key_fingerprint(choice.text)})", choice
            )
    tried = f"{len(keys)} key(s)" if len(keys) > 1 else f"the {keys[0].source} (key {key_fingerprint(keys[0].text)})"
    return Verification(False, "; ".join(bad) if bad and len(bad) == len(keys) else f"does not verify under {tried}")


def roster_entries(roster: Any) -> list[dict]:
    """The provider entries of a roster body (none when it has no ``providers`` array)."""
    providers = roster.get("providers") if isinstance(roster, dict) else None
    return [e for e in providers if isinstance(e, dict)] if isinstance(providers, list) else []


def evidence_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The ``X-Provider-*`` / ``X-Attestation-*`` headers of an answer (names lower case)."""
    return {n.lower(): v for n, v in headers if n.lower().startswith(EVIDENCE_HEADER_PREFIXES)}


# ----------------------------------------------------------------------------- hash binding


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stub_text_hash(job_id: str, output_tokens: int, text: str) -> str:
    """The ``stub-text`` binding (§5 DB-S9): SHA-256 hex of ``"{job id}:{output_tokens}:{text}"``,
    the text being every text block (or ``text_delta``) of the answer, concatenated."""
    return sha256_hex(f"{job_id}:{output_tokens}:{text}")


def upstream_sse_hash_k(job_id: str, data_lines: Sequence[str], response_hash: str, max_tokens: int) -> int | None:
    """The ``upstream-openai-sse`` binding (§2.4, DB-S10): the token count ``k`` in
    ``[0, max_tokens]`` for which SHA-256 hex of ``"{job id}:{k}:{concat}"`` is the hash, where
    ``concat`` joins ``"data: " + payload`` of every data line before the first ``[DONE]``
    (the receipt event excluded); None when no ``k`` does."""
    concat = "".join("data: " + d for d in data_lines)
    for k in range(max_tokens + 1):
        if sha256_hex(f"{job_id}:{k}:{concat}") == response_hash:
            return k
    return None


# ----------------------------------------------------------------------------- sealed transport


@dataclass(frozen=True)
class Sealer:
    """A sender's side of one sealed exchange: its ephemeral key and the coordinator's."""

    ephemeral: Any  # nacl.public.PrivateKey
    coordinator: bytes  # the coordinator's 32-byte X25519 public key

    @classmethod
    def new(cls, coordinator: bytes) -> "Sealer":
        from nacl.public import PrivateKey

        return cls(PrivateKey.generate(), coordinator)

    def _box(self) -> Any:
        from nacl.public import Box, PublicKey

        return Box(self.ephemeral, PublicKey(self.coordinator))

    def envelope(self, plaintext: bytes, kid: str | None) -> dict[str, str]:
        """The request body (§3): ``kid``, ``ephemeral_public_key``, ``ciphertext`` (nonce ‖ box)."""
        sealed = self._box().encrypt(plaintext)  # a fresh random 24-byte nonce first
        out = {"ephemeral_public_key": std_b64encode(bytes(self.ephemeral.public_key))}
        if kid is not None:
            out["kid"] = kid
        out["ciphertext"] = std_b64encode(bytes(sealed))
        return out

    def open(self, text: Any) -> tuple[bytes, bytes]:
        """(nonce, plaintext) of a sealed answer's base64 ``nonce ‖ box``; ValueError when it
        does not open."""
        from nacl.exceptions import CryptoError

        raw = std_b64decode(text)
        if raw is None:
            raise ValueError("not padded standard base64")
        if len(raw) < NONCE_BYTES + 16:
            raise ValueError(f"{len(raw)} bytes, shorter than a nonce and a box tag")
        try:
            return raw[:NONCE_BYTES], self._box().decrypt(raw[NONCE_BYTES:], raw[:NONCE_BYTES])
        except CryptoError:
            raise ValueError(
                "the box does not open with the coordinator key and this request's ephemeral key"
            ) from None
