"""Faults of Darkbloom's attestation evidence (``../shared/spec/darkbloom-attestation.md``, cited
as "attestation §N"): the provider roster, the coordinator key, provider headers, signed receipts
and sealed transport, as the stub's ``--darkbloom`` mode serves them (:mod:`conformance.stub.darkbloom`).

Each fault is a defect a coordinator shows or is likely to (attestation §1, §2, §3 and the fault
list of §5.1), or a legal variation. They change shapes only the ``--darkbloom`` mode produces,
so they carry no hook of :mod:`._base`: the mode reads which of them are on (:data:`NAMES`) at
its own decision points. Switching any of them on puts the stub in ``--darkbloom`` mode.

The kill matrix runs the defects (and ``darkbloom-no-coordinator-key``) under the ``darkbloom``
profile, whose ``darkbloom.*`` checks they trip; ``darkbloom-mode``, the mode itself, is the
control that shows the extra headers and fields break no check of either profile.
"""

from __future__ import annotations

from ._base import Fault, control, defect

PREFIX = "darkbloom-"
MODE = "darkbloom-mode"  # the --darkbloom mode as a control (kill matrix: both profiles)

FAULTS: tuple[Fault, ...] = (
    control(
        MODE, "the stub in --darkbloom mode: roster, coordinator key, provider headers, receipts, sealed transport"
    ),
    control(
        "darkbloom-no-coordinator-key",
        "--darkbloom mode without a coordinator key: GET /v1/encryption-key and sealed requests answer 503 "
        "encryption_unavailable (attestation §3)",
    ),
    # ---- roster: GET /v1/providers/attestation (attestation §2.5)
    defect(
        "darkbloom-roster-auth",
        "the provider roster demands credentials (401 without them); it is public (attestation §2.5)",
        "darkbloom.roster.reachable",
    ),
    defect(
        "darkbloom-roster-null",
        "empty roster arrays are JSON null (Go nil slices, SNAP): the offline provider's models is null",
        "darkbloom.roster.arrays",
    ),
    defect(
        "darkbloom-roster-entry-mistyped",
        'a roster entry\'s sip_enabled is the string "true", not a boolean',
        "darkbloom.roster.entries",
    ),
    defect(
        "darkbloom-roster-key-truncated",
        "the roster's se_public_key is truncated to 63 bytes (the header still carries the whole key)",
        "darkbloom.roster.se-public-key",
        "darkbloom.headers.attestation-key",
    ),
    defect(
        "darkbloom-roster-key-off-curve",
        "the roster's se_public_key is 64 bytes that are no point on P-256",
        "darkbloom.roster.se-public-key",
        "darkbloom.headers.attestation-key",
    ),
    defect(
        "darkbloom-roster-duplicate-ids",
        "the offline provider is listed under the serving provider's provider_id",
        "darkbloom.roster.unique-ids",
    ),
    defect(
        "darkbloom-mdm-mismatch",
        "the hardware-trust provider has mdm_verified false",
        "darkbloom.roster.mdm-verified",
    ),
    # ---- coordinator key: GET /v1/encryption-key (attestation §3)
    defect(
        "darkbloom-key-algorithm-name",
        'GET /v1/encryption-key names the algorithm "x25519", not "x25519-nacl-box"',
        "darkbloom.key.shape",
    ),
    defect(
        "darkbloom-kid-over-base64",
        "the kid is computed over the base64 text of the key, not its 32 bytes",
        "darkbloom.key.kid",
    ),
    defect(
        "darkbloom-key-no-cache",
        "GET /v1/encryption-key without Cache-Control: public, max-age=300",
        "darkbloom.key.cache",
    ),
    # ---- provider headers on /v1/messages (attestation §1.1)
    defect(
        "darkbloom-no-provider-headers",
        "no X-Provider-* / X-Attestation-* headers on /v1/messages (SNAP's handleGenericInference)",
        "darkbloom.headers.present",
    ),
    defect(
        "darkbloom-header-mistyped",
        'X-Provider-Attested is "yes", not true/false',
        "darkbloom.headers.typed",
    ),
    defect(
        "darkbloom-header-key-mismatch",
        "X-Attestation-Se-Public-Key is another provider's key, not the roster's (nor the signing key)",
        "darkbloom.headers.attestation-key",
        "darkbloom.receipt.signature-verifies",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-unknown-provider-id",
        "X-Provider-Id names no provider of the roster",
        "darkbloom.headers.roster-match",
    ),
    defect(
        "darkbloom-provider-headers-on-400",
        "X-Provider-* headers on requests refused before dispatch (400, 401, 404)",
        "darkbloom.headers.not-on-refusals",
    ),
    defect(
        "darkbloom-no-job-id",
        "no X-Inference-Job-ID on answers (streams included), so no hash can be recomputed",
        "darkbloom.headers.job-id",
    ),
    defect(
        "darkbloom-self-signed-provider",
        "the serving provider's trust level is self_signed, below the default floor hardware",
        "darkbloom.headers.trust-floor",
    ),
    # ---- receipts: se_signature + response_hash (attestation §2)
    defect(
        "darkbloom-receipt-one-field",
        "receipts carry response_hash without se_signature",
        "darkbloom.receipt.paired",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-hash-uppercase",
        "response_hash in upper-case hex (signed as sent)",
        "darkbloom.receipt.hash-format",
        "darkbloom.receipt.hash-binding",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-signature-raw-rs",
        "se_signature is the raw 64-byte r‖s (IEEE P1363), not DER",
        "darkbloom.receipt.signature-format",
        "darkbloom.receipt.signature-verifies",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-signature-base64url",
        "se_signature in unpadded base64url, not padded standard base64",
        "darkbloom.receipt.signature-format",
        "darkbloom.receipt.signature-verifies",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-signature-over-digest",
        "se_signature signs the 32-byte digest, not the ASCII hex of response_hash",
        "darkbloom.receipt.signature-verifies",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-hash-off-by-one",
        "response_hash binds output_tokens + 1 (the stub-text binding no longer recomputes)",
        "darkbloom.receipt.hash-binding",
    ),
    defect(
        "darkbloom-receipt-unnamed-event",
        "the stream's receipt is an extra unnamed data: event before message_stop (SNAP's shape)",
        "darkbloom.receipt.placement",
        "darkbloom.sealed.stream",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-receipt-after-done",
        "the stream ends data: [DONE], data: {receipt}, data: [DONE] after message_stop (the SNAP defect)",
        "darkbloom.receipt.placement",
        "darkbloom.receipt.before-terminator",
        "darkbloom.sealed.stream",
        "darkbloom.sealed.receipts",
    ),
    defect(
        "darkbloom-receipt-event",
        "the stream's receipt is a named event `receipt` of its own (strict SDK clients reject it)",
        "darkbloom.receipt.sdk-strict",
    ),
    defect(
        "darkbloom-key-rotated",
        "the provider's signing key changes with every answer under the same provider id",
        "darkbloom.receipt.one-key-per-provider",
    ),
    # ---- sealed transport (attestation §3)
    defect(
        "darkbloom-reply-not-sealed",
        "a sealed request's 200 reply is plain JSON, without X-Eigen-Sealed headers",
        "darkbloom.sealed.headers",
        "darkbloom.sealed.message",
    ),
    defect(
        "darkbloom-sealed-events-merged",
        "two SSE events sealed into one data: line",
        "darkbloom.sealed.stream",
    ),
    defect(
        "darkbloom-nonce-reused",
        "one nonce for every sealed body and event",
        "darkbloom.sealed.fresh-nonces",
    ),
    defect(
        "darkbloom-refusals-200",
        "the sealed layer's refusals (kid_mismatch, invalid_sealed_envelope, decryption_failed) come with status 200",
        "darkbloom.sealed.kid-mismatch",
        "darkbloom.sealed.bad-envelope",
        "darkbloom.sealed.tampered",
    ),
    defect(
        "darkbloom-tampered-executed",
        "a ciphertext that does not open is answered 200, as if a request had been decrypted",
        "darkbloom.sealed.tampered",
    ),
    defect(
        "darkbloom-unavailable-passthrough",
        "without a coordinator key, sealed requests reach the handler (400) instead of 503 encryption_unavailable",
        "darkbloom.sealed.unavailable",
    ),
    defect(
        "darkbloom-sealed-type-exact",
        "the sealed content type is recognised only exactly (not case-insensitively, not with parameters)",
        "darkbloom.sealed.content-type-params",
    ),
    defect(
        "darkbloom-sealed-header-on-plaintext",
        "X-Eigen-Sealed headers on answers to plaintext requests",
        "darkbloom.sealed.plaintext-unaffected",
    ),
    defect(
        "darkbloom-sealed-error-in-clear",
        "an in-handler error on a sealed request (400) is answered in clear",
        "darkbloom.sealed.errors-sealed",
    ),
)

NAMES = frozenset(f.name for f in FAULTS)
