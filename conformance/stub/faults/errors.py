"""Faults of the error path (§4, §8.2-8.3) and of the request id (§5.2, §8.9)."""

from __future__ import annotations

from typing import Callable

from ._base import Fault, Json, defect
from .request import SCHEMA_VALIDATION

_WRONG_TYPES = {
    "not_found_error": "model_not_found",
    "rate_limit_error": "rate_limit_exceeded",
    "overloaded_error": "model_not_available",
    "api_error": "internal_error",
    "authentication_error": "auth_error",
}


def _openai_envelope(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    return status, {"error": body["error"]}, headers


def _wrong_type(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    etype = body["error"]["type"]
    if etype in _WRONG_TYPES:
        body["error"]["type"] = _WRONG_TYPES[etype]
    return status, body, headers


ErrorHook = Callable[[int, Json, dict[str, str]], tuple[int, Json, dict[str, str]]]


def _remap(old: int, new: int) -> ErrorHook:
    def hook(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
        return (new if status == old else status), body, headers

    return hook


def _should_retry(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    if 400 <= status < 500 and status not in (408, 409, 429):
        headers["x-should-retry"] = "true"
    return status, body, headers


def _no_retry_after(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    if status == 429:
        headers.pop("retry-after", None)
    return status, body, headers


def _no_allow(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    if status == 405:
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"}
    return status, body, headers


def _no_body_request_id(status: int, body: Json, headers: dict[str, str]) -> tuple[int, Json, dict[str, str]]:
    body.pop("request_id", None)
    return status, body, headers


def _no_request_id(headers: dict[str, str], request_id: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in ("request-id", "x-request-id")}


def _x_request_id(headers: dict[str, str], request_id: str) -> dict[str, str]:
    if "request-id" not in headers:
        return headers
    return {("x-request-id" if k == "request-id" else k): v for k, v in headers.items()}


FAULTS: tuple[Fault, ...] = (
    # ---- errors (§4, §8.2-8.3)
    defect(
        "openai-error-envelope",
        'errors are {"error":{type,message}}: no top-level "type":"error", no request_id (Darkbloom §8.2)',
        "errors.envelope.shape",
        "client-requests.errors.invalid-stream",
        error=_openai_envelope,
    ),
    defect(
        "wrong-error-type",
        "non-Anthropic error types: model_not_found, rate_limit_exceeded, provider_error, internal_error (Darkbloom §8.3)",
        "clients.typescript-sdk.error-authentication",
        "clients.typescript-sdk.error-not-found",
        "errors.status.type-agrees",
        "request.model.unknown-model",
        "models.retrieve.unknown",
        "errors.status.overload-529",
        "errors.status.rate-limit-429",
        "fuzz.invalid.rejected-exactly",
        "errors.routing.unknown-path",
        "sdk.errors.authentication",
        "sdk.errors.not-found",
        error=_wrong_type,
        breaks="many",  # every error's type: each status's requirement is broken on its own
    ),
    defect(
        "status-503-for-overload",
        "capacity shortage answered 503 instead of 529 overloaded_error (Darkbloom §8.3)",
        "errors.status.overload-529",
        "errors.status.type-agrees",
        error=_remap(529, 503),
    ),
    defect(
        "server-error-on-bad-input",
        "invalid requests get 500 api_error instead of 400 invalid_request_error",
        "clients.typescript-sdk.error-bad-request",
        *SCHEMA_VALIDATION,
        "count-tokens.validation.missing-messages",
        "sdk.errors.bad-request",
        "fuzz.invalid.never-5xx",
        "fuzz.schemathesis.not-a-server-error",
        "client-requests.errors.invalid-stream",
        validation="500",
        breaks="many",  # every validation rule answered 500: each rule's check fails
    ),
    defect(
        "retry-on-client-error",
        "4xx errors carry x-should-retry: true, so SDKs retry a 400 (§9 item 29)",
        "errors.retry.no-should-retry-on-400",
        error=_should_retry,
    ),
    defect(
        "validation-422",
        "invalid requests get 422 (the FastAPI/pydantic default) instead of 400, in the error envelope",
        "clients.typescript-sdk.error-bad-request",
        "request.validation.missing-model",
        "fuzz.invalid.rejected-exactly",
        "fuzz.schemathesis.status-code-conformance",
        "client-requests.errors.invalid-stream",
        error=_remap(400, 422),
        breaks="many",  # every validation rule answered 422: each rule's check fails
    ),
    defect(
        "429-without-retry-after",
        "rate-limit answers (429) carry no retry-after header, so clients guess their backoff",
        "errors.status.rate-limit-429",
        error=_no_retry_after,
    ),
    defect(
        "405-without-allow",
        "a wrong method gets 405 without the Allow header RFC 9110 requires",
        "errors.routing.wrong-method",
        error=_no_allow,
    ),
    defect(
        "plain-text-404",
        'unknown paths answer text/plain "404 page not found" (Go default mux, Darkbloom §8.10)',
        "errors.envelope.*",  # schemathesis meets an unknown path only by chance
        plain_text_404=True,
    ),
    defect(
        "json-errors-as-text",
        "error bodies are JSON but sent as content-type text/plain",
        "errors.envelope.content-type",
        "fuzz.schemathesis.content-type-conformance",
        "client-requests.errors.invalid-stream",
        error_content_type="text/plain; charset=utf-8",
    ),
    # ---- headers (§5.2, §8.9)
    defect(
        "no-request-id",
        "no request-id header, no request_id in error bodies",
        "errors.request-id.*",
        "response.headers.request-id",
        "sdk.messages.raw-response-headers",
        headers=_no_request_id,
        request_id_in_body=False,
        error=_no_body_request_id,
    ),
    defect(
        "x-request-id-only",
        "request id only as X-Request-ID (Darkbloom §8.9); SDK reads request-id",
        "errors.request-id.*",
        "response.headers.request-id",
        "sdk.messages.raw-response-headers",
        headers=_x_request_id,
        request_id_in_body=False,
        error=_no_body_request_id,
    ),
)
