"""The stub's ``--darkbloom`` mode: Darkbloom's attestation evidence around the Messages API.

What a Darkbloom coordinator shows a consumer (``../shared/spec/darkbloom-attestation.md``, cited
as "attestation §N"; §5.1 lists what a reference server emits), with real keys made fresh at
every start:

* one provider with a P-256 signing key (``cryptography``; the provider's Secure Enclave key of
  §2.2), published as standard base64 of its 64 raw bytes X‖Y;
* ``GET /v1/providers/attestation``, no auth: the roster (§2.5), the serving provider (trust
  ``hardware``) and an offline one (no key, no models);
* ``GET /v1/encryption-key``, no auth: the coordinator's X25519 key (PyNaCl), its ``kid`` (hex of
  the first 8 bytes of SHA-256 of the key) and ``Cache-Control: public, max-age=300`` (§3);
* on every committed ``/v1/messages`` answer (never on a refusal): the ``X-Provider-*`` /
  ``X-Attestation-Se-Public-Key`` headers, ``X-Inference-Job-ID`` and ``X-Request-ID`` (§1.2);
* a receipt on each such answer: ``response_hash`` = SHA-256 hex of
  ``"{job id}:{output_tokens}:{text}"`` (the declared binding ``stub-text``: every text block or
  ``text_delta`` concatenated) and ``se_signature`` = padded standard base64 of the DER ECDSA
  P-256/SHA-256 signature over the ASCII hex of that hash (§2.1-§2.2); top-level fields of the
  Message, or fields of the ``message_delta`` event's data (MID's placement, §1.2);
* sealed transport on ``/v1/messages`` (§3): a request of content type
  ``application/eigeninference-sealed+json`` (any case, parameters ignored) is opened with the
  NaCl box, authenticated first (a 401 stays plaintext), refused in plaintext with
  ``encryption_unavailable`` / ``invalid_request_error`` / ``invalid_sealed_envelope`` /
  ``kid_mismatch`` / ``decryption_failed`` where it must be; its answer is sealed to the
  sender's ephemeral key with the original status (``{kid, ciphertext}`` for a body, one
  ``data: <base64>`` line per SSE event, a fresh nonce each), with ``X-Eigen-Sealed: true`` and
  ``X-Eigen-Sealed-Kid``; attestation headers stay in clear.

The faults of :mod:`.faults.darkbloom` change these shapes; their names are read at the decision
points below. The app (``app.py``) calls :meth:`Darkbloom.commit` for each committed answer,
:meth:`Darkbloom.refused` on each refusal, wraps ``/v1/messages`` in :meth:`Darkbloom.sealed` and
adds :meth:`Darkbloom.routes`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _json
from .faults import FaultSet, Frame
from .faults.darkbloom import NAMES, PREFIX

if TYPE_CHECKING:  # pragma: no cover
    from .app import ApiError, Stub

SEALED_TYPE = "application/eigeninference-sealed+json"
MAX_SEALED_BODY = 16 * 2**20  # sender_encryption.go:132
NONCE = 24
APPLE_ROOT_CA_URL = "https://www.apple.com/certificateauthority/"


def wanted(config_darkbloom: bool, faults: FaultSet) -> bool:
    """Whether a stub is in ``--darkbloom`` mode: asked for, or a Darkbloom fault is on."""
    return config_darkbloom or any(n.startswith(PREFIX) for n in faults.names)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


class _Refusal(Exception):
    """A refusal of the sealed layer: status, error type, message (plaintext JSON)."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message


def _header_map(scope: Scope) -> dict[str, str]:
    """Request headers by lower-case name, the first of a repeated one (as the app reads them)."""
    return {n.decode("latin-1").lower(): v.decode("latin-1") for n, v in reversed(scope["headers"])}


@dataclass(frozen=True)
class Commit:
    """The evidence of one committed answer: its job id, headers and receipt maker."""

    job_id: str
    headers: dict[str, str]
    owner: "Darkbloom"
    signing: Any  # the provider key that signs this answer

    def message(self, msg: dict) -> dict:
        """The Message with its receipt at the top level (§1.2 MID, §5.1 item 5)."""
        text = "".join(
            b.get("text", "") for b in msg.get("content") or () if isinstance(b, dict) and b.get("type") == "text"
        )
        usage = msg.get("usage")
        tokens = usage.get("output_tokens") if isinstance(usage, dict) else None
        tokens = tokens if isinstance(tokens, int) else 0
        return {**msg, **self.owner.receipt(self.signing, self.job_id, tokens, text)}

    def frames(self, frames: list[Frame]) -> list[Frame]:
        """The stream with its receipt in the ``message_delta`` data (§1.2 MID), or where a fault
        puts it; a stream without a ``message_delta`` (cut by an error) carries none."""
        on = self.owner.on
        text, tokens, delta_at, stop_at = [], 0, None, None
        payloads: list[Any] = []
        for i, frame in enumerate(frames):
            try:
                payload = json.loads(frame.data)
            except ValueError:
                payload = None
            payloads.append(payload)
            kind = payload.get("type") if isinstance(payload, dict) else None
            if kind == "content_block_delta" and isinstance(payload.get("delta"), dict):
                if payload["delta"].get("type") == "text_delta":
                    text.append(str(payload["delta"].get("text", "")))
            elif kind == "message_delta":
                delta_at = i
                usage = payload.get("usage")
                if isinstance(usage, dict) and isinstance(usage.get("output_tokens"), int):
                    tokens = usage["output_tokens"]
            elif kind == "message_stop" and stop_at is None:
                stop_at = i
        if delta_at is None:
            return frames
        receipt = self.owner.receipt(self.signing, self.job_id, tokens, "".join(text))
        out = list(frames)
        before = stop_at if stop_at is not None else len(out)
        if "darkbloom-receipt-after-done" in on:
            tail = [
                Frame(None, "[DONE]"),
                Frame(None, _json.dumps_text({"choices": [], **receipt})),
                Frame(None, "[DONE]"),
            ]
            return out + tail
        if "darkbloom-receipt-unnamed-event" in on:
            out.insert(before, Frame(None, _json.dumps_text(receipt)))
            return out
        if "darkbloom-receipt-event" in on:
            out.insert(before, Frame("receipt", _json.dumps_text({"type": "receipt", **receipt})))
            return out
        out[delta_at] = replace(frames[delta_at], data=_json.dumps_text({**payloads[delta_at], **receipt}))
        return out


class Darkbloom:
    """The attestation state of one stub: keys, roster, and the Darkbloom faults switched on."""

    def __init__(self, faults: FaultSet, models: Sequence[str], api_error: type["ApiError"]) -> None:
        from cryptography.hazmat.primitives.asymmetric import ec
        from nacl.public import PrivateKey
        from nacl.utils import random

        self.on = frozenset(faults.names & NAMES)
        self.api_error = api_error  # the app's ApiError: what Stub.authenticate raises
        self.models = list(models)
        self.provider_id = str(uuid.uuid4())
        self.offline_id = self.provider_id if "darkbloom-roster-duplicate-ids" in self.on else str(uuid.uuid4())
        self.unknown_id = str(uuid.uuid4())
        self.signing = ec.generate_private_key(ec.SECP256R1())
        self.other_key = ec.generate_private_key(ec.SECP256R1())  # darkbloom-header-key-mismatch
        self.commits = 0
        no_key = self.on & {"darkbloom-no-coordinator-key", "darkbloom-unavailable-passthrough"}
        self.coordinator = None if no_key else PrivateKey.generate()
        self.kid = ""
        if self.coordinator is not None:
            public = bytes(self.coordinator.public_key)
            hashed = _b64(public).encode() if "darkbloom-kid-over-base64" in self.on else public
            self.kid = hashlib.sha256(hashed).hexdigest()[:16]
        self.fixed_nonce = random(NONCE)  # darkbloom-nonce-reused

    # ------------------------------------------------------------------ keys and receipts

    @staticmethod
    def key_text(key: Any) -> str:
        """``se_public_key`` as the provider publishes it: standard base64 of X‖Y (§2.2)."""
        from cryptography.hazmat.primitives import serialization

        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return _b64(point[1:])

    def roster_key_text(self) -> str:
        raw = base64.b64decode(self.key_text(self.signing))
        if "darkbloom-roster-key-truncated" in self.on:
            return _b64(raw[:63])
        if "darkbloom-roster-key-off-curve" in self.on:
            from cryptography.hazmat.primitives.asymmetric import ec

            for bit in range(256):  # the first change of Y that leaves the curve (about half do)
                changed = raw[:32] + (int.from_bytes(raw[32:], "big") ^ (1 << bit)).to_bytes(32, "big")
                try:
                    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + changed)
                except ValueError:
                    return _b64(changed)
        return self.key_text(self.signing)

    def receipt(self, signing: Any, job_id: str, output_tokens: int, text: str) -> dict[str, str]:
        """``response_hash`` and ``se_signature`` in the ``stub-text`` binding (§2.1-§2.2)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        on = self.on
        tokens = output_tokens + 1 if "darkbloom-hash-off-by-one" in on else output_tokens
        digest = hashlib.sha256(f"{job_id}:{tokens}:{text}".encode()).hexdigest()
        if "darkbloom-hash-uppercase" in on:
            digest = digest.upper()
        if "darkbloom-receipt-one-field" in on:
            return {"response_hash": digest}
        signed = bytes.fromhex(digest) if "darkbloom-signature-over-digest" in on else digest.encode("ascii")
        while True:
            der = signing.sign(signed, ec.ECDSA(hashes.SHA256()))
            if "darkbloom-signature-raw-rs" in on:
                r, s = decode_dss_signature(der)
                return {"response_hash": digest, "se_signature": _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))}
            if "darkbloom-signature-base64url" in on:
                url = base64.urlsafe_b64encode(der).decode().rstrip("=")
                if url == _b64(der):  # no '+', '/' or padding to tell them apart: sign again
                    continue
                return {"response_hash": digest, "se_signature": url}
            return {"response_hash": digest, "se_signature": _b64(der)}

    # ------------------------------------------------------------------ answers

    def commit(self, request_id: str, stream: bool) -> Commit:
        """The evidence of a committed answer (after validation: never on a refusal)."""
        from cryptography.hazmat.primitives.asymmetric import ec

        on = self.on
        self.commits += 1
        if "darkbloom-key-rotated" in on and self.commits > 1:
            self.signing = ec.generate_private_key(ec.SECP256R1())
        job_id = str(uuid.uuid4())
        headers: dict[str, str] = {}
        if "darkbloom-no-provider-headers" not in on:
            trust = "self_signed" if "darkbloom-self-signed-provider" in on else "hardware"
            shown = self.other_key if "darkbloom-header-key-mismatch" in on else self.signing
            headers = {
                "x-provider-id": self.unknown_id if "darkbloom-unknown-provider-id" in on else self.provider_id,
                "x-provider-trust-level": trust,
                "x-provider-attested": "yes" if "darkbloom-header-mistyped" in on else "true",
                "x-provider-encrypted": "true",
                "x-provider-secure-enclave": "true",
                "x-provider-chip": "Apple M3 Max",
                "x-provider-model": "Mac15,9",
                "x-attestation-se-public-key": self.key_text(shown),
            }
        if "darkbloom-no-job-id" not in on:
            headers["x-inference-job-id"] = job_id
        headers["x-request-id"] = request_id
        return Commit(job_id, headers, self, self.signing)

    def refused(self, response: Response) -> Response:
        """A refusal before dispatch: no provider headers (unless a fault adds them)."""
        if "darkbloom-provider-headers-on-400" in self.on:
            response.headers["x-provider-id"] = self.provider_id
            response.headers["x-provider-trust-level"] = "hardware"
            response.headers["x-provider-attested"] = "true"
        return response

    # ------------------------------------------------------------------ endpoints

    def roster(self) -> dict[str, Any]:
        """The roster body (§2.5; DOC-NEW: no serial numbers or MDA chains)."""
        on = self.on
        hardware = "darkbloom-self-signed-provider" not in on
        serving = {
            "provider_id": self.provider_id,
            "chip_name": "Apple M3 Max",
            "hardware_model": "Mac15,9",
            "trust_level": "hardware" if hardware else "self_signed",
            "status": "online",
            "memory_gb": 128,
            "gpu_cores": 40,
            "models": list(self.models),
            "secure_enclave": True,
            "sip_enabled": "true" if "darkbloom-roster-entry-mistyped" in on else True,
            "secure_boot_enabled": True,
            "authenticated_root_enabled": True,
            "se_public_key": self.roster_key_text(),
            "mdm_verified": hardware and "darkbloom-mdm-mismatch" not in on,
            "acme_verified": False,
            "mda_verified": False,
        }
        offline = {
            "provider_id": self.offline_id,
            "chip_name": "Apple M2",
            "hardware_model": "Mac14,3",
            "trust_level": "none",
            "status": "offline",
            "memory_gb": 16,
            "gpu_cores": 10,
            "models": None if "darkbloom-roster-null" in on else [],
            "secure_enclave": False,
            "sip_enabled": True,
            "secure_boot_enabled": True,
            "authenticated_root_enabled": True,
            "se_public_key": "",
            "mdm_verified": False,
            "acme_verified": False,
            "mda_verified": False,
        }
        return {
            "providers": [serving, offline],
            "apple_root_ca_url": APPLE_ROOT_CA_URL,
            "apple_enterprise_root_ca": "Apple Enterprise Attestation Root CA",
            "verification_instructions": "Verify each receipt's se_signature (ECDSA P-256, SHA-256, DER) over the "
            "ASCII response_hash with the provider's se_public_key.",
        }

    def routes(self, stub: "Stub") -> list[Route]:
        async def roster(request: Request) -> Response:
            _, rid, _ = stub.next_ids()
            if "darkbloom-roster-auth" in self.on:
                try:
                    stub.authenticate(_header_map(request.scope), "models")
                except self.api_error as err:
                    return stub.error_response(rid, err)
            return stub.respond(rid, 200, self.roster())

        async def encryption_key(request: Request) -> Response:
            _, rid, _ = stub.next_ids()
            if self.coordinator is None:
                refusal = self.api_error(503, "encryption_unavailable", "no coordinator key configured")
                return stub.error_response(rid, refusal)
            body = {
                "kid": self.kid,
                "public_key": _b64(bytes(self.coordinator.public_key)),
                "algorithm": "x25519" if "darkbloom-key-algorithm-name" in self.on else "x25519-nacl-box",
            }
            cache = {} if "darkbloom-key-no-cache" in self.on else {"cache-control": "public, max-age=300"}
            return stub.respond(rid, 200, body, cache)

        return [
            Route("/v1/providers/attestation", _endpoint(roster), methods=["GET"]),
            Route("/v1/encryption-key", _endpoint(encryption_key), methods=["GET"]),
        ]

    # ------------------------------------------------------------------ sealed transport

    def is_sealed(self, content_type: str) -> bool:
        if "darkbloom-sealed-type-exact" in self.on:
            return content_type == SEALED_TYPE
        return content_type.split(";", 1)[0].strip().lower() == SEALED_TYPE

    def _open(self, body: bytes) -> tuple[bytes, bytes]:
        """(plaintext, ephemeral public key) of a sealed request body, or a :class:`_Refusal`."""
        from nacl.exceptions import CryptoError
        from nacl.public import Box, PublicKey

        assert self.coordinator is not None
        try:
            envelope = json.loads(body)
        except ValueError:
            raise _Refusal(400, "invalid_sealed_envelope", "sealed body is not JSON") from None
        if not isinstance(envelope, dict):
            raise _Refusal(400, "invalid_sealed_envelope", "sealed body is not a JSON object")
        kid = envelope.get("kid")
        if kid not in (None, "") and kid != self.kid:
            raise _Refusal(400, "kid_mismatch", "kid does not name the coordinator's current key")
        ephemeral = _unb64(envelope.get("ephemeral_public_key"))
        if ephemeral is None or len(ephemeral) != 32:
            raise _Refusal(400, "invalid_sealed_envelope", "ephemeral_public_key must be standard base64 of 32 bytes")
        sealed = _unb64(envelope.get("ciphertext"))
        if sealed is None or len(sealed) < NONCE:
            raise _Refusal(400, "invalid_sealed_envelope", "ciphertext must be standard base64 of a nonce and a box")
        try:
            plaintext = Box(self.coordinator, PublicKey(ephemeral)).decrypt(sealed[NONCE:], sealed[:NONCE])
        except CryptoError:
            raise _Refusal(400, "decryption_failed", "the sealed request does not open") from None
        return plaintext, ephemeral

    def _seal(self, plaintext: bytes, ephemeral: bytes) -> str:
        from nacl.public import Box, PublicKey
        from nacl.utils import random

        assert self.coordinator is not None
        nonce = self.fixed_nonce if "darkbloom-nonce-reused" in self.on else random(NONCE)
        return _b64(bytes(Box(self.coordinator, PublicKey(ephemeral)).encrypt(plaintext, nonce)))

    def sealed(self, inner: ASGIApp, stub: "Stub") -> ASGIApp:
        """``/v1/messages`` behind the sealed-transport layer (§3)."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            headers = _header_map(scope)
            if not self.is_sealed(headers.get("content-type", "")):
                if "darkbloom-sealed-header-on-plaintext" in self.on:
                    send = self._marked(send)
                await inner(scope, receive, send)
                return
            _, rid, _ = stub.next_ids()
            try:  # requireAuth runs before the sealed layer: its 401 stays plaintext
                stub.authenticate(headers, "messages")
            except self.api_error as err:
                await stub.error_response(rid, err)(scope, receive, send)
                return
            if self.coordinator is None:
                if "darkbloom-unavailable-passthrough" in self.on:
                    await inner(scope, receive, send)
                    return
                refusal = _Refusal(503, "encryption_unavailable", "sealed transport is not configured")
                await self._refuse(stub, rid, refusal)(scope, receive, send)
                return
            try:
                body = await _read(receive)
                plaintext, ephemeral = self._open(body)
            except _Refusal as refusal:
                if refusal.error_type == "decryption_failed" and "darkbloom-tampered-executed" in self.on:
                    # what a server that ignores the box's tag runs: some request, answered 200
                    ephemeral = _unb64(_json_object(body).get("ephemeral_public_key")) or bytes(32)
                    default = {
                        "model": self.models[0],
                        "max_tokens": 16,
                        "messages": [{"role": "user", "content": "?"}],
                    }
                    plaintext = json.dumps(default).encode()
                else:
                    await self._refuse(stub, rid, refusal)(scope, receive, send)
                    return
            inner_scope = dict(scope)
            inner_scope["headers"] = [
                (n, v) for n, v in scope["headers"] if n.lower() not in (b"content-type", b"content-length")
            ] + [(b"content-type", b"application/json"), (b"content-length", str(len(plaintext)).encode())]
            await inner(inner_scope, _replay(plaintext, receive), self._sealing(send, ephemeral))

        return _Asgi(app)

    def _refuse(self, stub: "Stub", rid: str, refusal: _Refusal) -> Response:
        error = self.api_error(refusal.status, refusal.error_type, refusal.message)
        response = stub.error_response(rid, error)
        if "darkbloom-refusals-200" in self.on and refusal.status == 400:
            response.status_code = 200
        return response

    def _marked(self, send: Send) -> Send:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(b"x-eigen-sealed", b"true"), (b"x-eigen-sealed-kid", self.kid.encode())]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        return marked

    def _sealing(self, send: Send, ephemeral: bytes) -> Send:
        """A ``send`` that seals what the handler writes (sender_encryption.go:257-377)."""
        on = self.on
        state: dict[str, Any] = {"clear": False, "stream": False, "start": None, "buffer": b"", "pending": []}
        marks = [(b"x-eigen-sealed", b"true"), (b"x-eigen-sealed-kid", self.kid.encode())]

        async def sealing(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                ctype = next((v for n, v in raw if n.lower() == b"content-type"), b"")
                status = message["status"]
                stream = ctype.lower().startswith(b"text/event-stream")
                state["stream"] = stream
                state["clear"] = (status >= 400 and "darkbloom-sealed-error-in-clear" in on) or (
                    status == 200 and not stream and "darkbloom-reply-not-sealed" in on
                )
                if state["clear"]:
                    await send(message)
                elif stream:
                    await send(
                        {**message, "headers": [(n, v) for n, v in raw if n.lower() != b"content-length"] + marks}
                    )
                else:
                    kept = [(n, v) for n, v in raw if n.lower() not in (b"content-type", b"content-length")]
                    state["start"] = {**message, "headers": kept + marks + [(b"content-type", SEALED_TYPE.encode())]}
                return
            if message["type"] != "http.response.body" or state["clear"]:
                await send(message)
                return
            more = message.get("more_body", False)
            state["buffer"] += message.get("body", b"")
            if not state["stream"]:
                if more:
                    return
                sealed = _json.dumps({"kid": self.kid, "ciphertext": self._seal(state["buffer"], ephemeral)})
                start = state["start"]
                start["headers"] = start["headers"] + [(b"content-length", str(len(sealed)).encode())]
                await send(start)
                await send({"type": "http.response.body", "body": sealed, "more_body": False})
                return
            *events, state["buffer"] = state["buffer"].split(b"\n\n")
            if not more and state["buffer"].strip():
                events.append(state["buffer"])
                state["buffer"] = b""
            pending: list[bytes] = state["pending"]
            pending.extend(e for e in events if e.strip())
            group = 2 if "darkbloom-sealed-events-merged" in on else 1
            out = []
            while len(pending) >= group or (pending and not more):
                take, pending[:] = pending[:group], pending[group:]
                sealed_event = self._seal(b"\n\n".join(take), ephemeral)
                out.append(b"data: " + sealed_event.encode() + b"\n\n")
            await send({"type": "http.response.body", "body": b"".join(out), "more_body": more})

        return sealing


def _json_object(body: bytes) -> dict:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class _Asgi:
    """An ASGI app as an object: Starlette's Route takes a plain function for a request handler."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def _endpoint(handler: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handler(Request(scope, receive, send))
        await response(scope, receive, send)

    return _Asgi(app)


async def _read(receive: Receive) -> bytes:
    """The request body, at most :data:`MAX_SEALED_BODY` bytes (else 400 invalid_request_error)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Refusal(400, "invalid_request_error", "request body unreadable")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_SEALED_BODY:
            raise _Refusal(400, "invalid_request_error", "sealed body exceeds 16 MiB")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` giving ``body`` once, then the connection's own messages (its disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
