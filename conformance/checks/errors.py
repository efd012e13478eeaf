"""errors: every error answer is the Anthropic envelope, with the contract's status/type pairs.

The SDKs pick an exception class by HTTP status and copy ``error.type`` (contract §4.2); they
read ``request-id`` and ``retry-after`` and obey ``x-should-retry`` (§5.2, §5.3). So an error
a client can act on is: the right status, the envelope ``{"type":"error","error":{"type",
"message"}}`` as ``application/json``, the type that belongs to the status, and honest retry
headers (§4, §9 items 25-29 and 33).

The envelope checks judge every error answer of this run's error probes: the request family's
invalid-request probes (:func:`conformance.checks.request.error_probe_names`), the auth
family's missing/wrong-key probes, and this family's own (unknown path, wrong method, and the
stub's failure-injection models). An exchange that is not an error (status < 400) is left to
the check of its own scenario.
"""

from __future__ import annotations

import email.utils
import json
from functools import lru_cache
from pathlib import Path

from conformance._catalog import MUST, SHOULD, Blocked, Outcome, Verdict, check
from conformance._exchange import Exchange
from conformance._options import STUB_TRIGGERS
from conformance._probes import Context, probe
from conformance._schema import default_schema_dir
from conformance.checks._causes import require_ok
from conformance.checks._common import basic_body, describe, error_type_of, expect_error, reachable, trigger_model
from conformance.checks.request import error_probe_names

UNKNOWN_PATH = "/v1/conformance-no-such-path"
# The stub's documented failure-injection model ids (conformance/stub/app.py); a target that
# does not know them answers 404 and the checks that need them are inconclusive.
OVERLOADED_MODEL = STUB_TRIGGERS["overload"]
RATE_LIMITED_MODEL = STUB_TRIGGERS["rate-limit"]


@lru_cache(maxsize=None)
def _error_table(directory: str) -> dict[str, dict]:
    """``schemas/data/error-types.json`` (contract §4.2) by error type."""
    rows = json.loads((Path(directory) / "data" / "error-types.json").read_text(encoding="utf-8"))
    return {row["type"]: row for row in rows}


def error_table(ctx: Context) -> dict[str, dict]:
    directory = getattr(ctx.schemas, "directory", None) or default_schema_dir()
    return _error_table(str(directory))


# -- probes -----------------------------------------------------------------------------------


@probe("errors-unknown-path")
def _unknown_path(ctx: Context) -> dict[str, Exchange]:
    return {
        "GET": ctx.send("GET", UNKNOWN_PATH),
        "POST": ctx.send("POST", UNKNOWN_PATH, json=basic_body(ctx)),
    }


@probe("errors-wrong-method")
def _wrong_method(ctx: Context) -> Exchange:
    return ctx.send("GET", "/v1/messages")


@probe("errors-overloaded")
def _overloaded(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, model=trigger_model(ctx, "overload")))


@probe("errors-rate-limited")
def _rate_limited(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, model=trigger_model(ctx, "rate-limit")))


OWN_ERROR_PROBES = ("errors-unknown-path", "errors-wrong-method", "errors-overloaded", "errors-rate-limited")
AUTH_ERROR_PROBES = ("auth-missing", "auth-wrong")
SUCCESS_PROBE = "request-accept-content-string"


def _labelled(name: str, value: object) -> list[tuple[str, Exchange]]:
    if isinstance(value, Exchange):
        return [(name, value)]
    if isinstance(value, dict):
        return [(f"{name} {key}", ex) for key, ex in value.items() if isinstance(ex, Exchange)]
    if isinstance(value, (list, tuple)):
        return [(f"{name} #{i + 1}", ex) for i, ex in enumerate(value) if isinstance(ex, Exchange)]
    return []


def _gather(ctx: Context, names: list[str]) -> list[tuple[str, Exchange]]:
    out: list[tuple[str, Exchange]] = []
    for name in names:
        out.extend(_labelled(name, ctx.probe(name)))
    return out


def error_exchanges(ctx: Context) -> list[tuple[str, Exchange]]:
    """(probe label, exchange) for every error answer (status ≥ 400) of the run's error probes."""
    names = error_probe_names(ctx) + list(AUTH_ERROR_PROBES) + list(OWN_ERROR_PROBES)
    return [(label, ex) for label, ex in _gather(ctx, names) if ex.status is not None and ex.status >= 400]


def _summary(bad: list[str], total: int) -> str:
    shown = "; ".join(bad[:3]) + ("; …" if len(bad) > 3 else "")
    return f"{len(bad)} of {total} without it: {shown}"


def _no_errors() -> Outcome:
    return Outcome.inconclusive("no probe of this run produced an error response")


def _envelope_problem(ctx: Context, ex: Exchange) -> str | None:
    body = ex.json()
    if body is None:
        return f"HTTP {ex.status} with a body that is not JSON ({ex.json_error})"
    errors = ctx.schemas.validate("error", body, profile=ctx.config.profile, version=ctx.config.anthropic_version)
    if errors:
        return f"HTTP {ex.status} whose {errors[0].message}"
    return None


# -- envelope ---------------------------------------------------------------------------------


@check(
    "errors.envelope.shape",
    MUST,
    "contract §4.1, §9.25",
    'Every error response is the JSON envelope {"type":"error","error":{"type","message"}} (schemas/error.json).',
)
def envelope_shape(ctx: Context) -> Outcome:
    """MUST answer every error with ``{"type":"error","error":{"type","message"}}`` (optional
    ``request_id``), valid against schemas/error.json: the SDK reads ``error.type`` from it."""
    seen = error_exchanges(ctx)
    if not seen:
        return _no_errors()
    bad = [f"{label}: {problem}" for label, ex in seen if (problem := _envelope_problem(ctx, ex))]
    if bad:
        return Outcome.mismatch("the error envelope on every error response", _summary(bad, len(seen)))
    return Outcome.passed(f"{len(seen)} error responses, all in the envelope")


@check(
    "errors.envelope.content-type",
    MUST,
    "contract §4.1, §9.25",
    "Every error response is sent with `content-type: application/json`.",
)
def envelope_content_type(ctx: Context) -> Outcome:
    """MUST send every error response as ``application/json``."""
    seen = error_exchanges(ctx)
    if not seen:
        return _no_errors()
    bad = [
        f"{label}: HTTP {ex.status} {ex.content_type or 'no content-type'}"
        for label, ex in seen
        if ex.content_type != "application/json"
    ]
    if bad:
        return Outcome.mismatch("content-type application/json on every error response", _summary(bad, len(seen)))
    return Outcome.passed(f"{len(seen)} error responses, all application/json")


# -- status and type --------------------------------------------------------------------------


def _pair_problem(table: dict[str, dict], status: int, etype: str) -> str | None:
    by_status = {row["status"]: t for t, row in table.items()}
    row = table.get(etype)
    if status in by_status:
        if etype != by_status[status]:
            return f"HTTP {status} with error.type {etype!r} (the contract pairs {status} with {by_status[status]!r})"
        return None
    if 400 <= status < 500:
        # unlisted 4xx (405, 415, ...) use invalid_request_error (§4.2)
        if etype != "invalid_request_error":
            return f"HTTP {status} with error.type {etype!r} (an unlisted 4xx uses 'invalid_request_error')"
        return None
    if row is not None:
        return f"HTTP {status} with error.type {etype!r} (the contract pairs {etype!r} with {row['status']})"
    listed = ", ".join(str(s) for s in sorted(by_status) if s >= 500)
    return f"HTTP {status} with error.type {etype!r} (server errors use {listed})"


@check(
    "errors.status.type-agrees",
    MUST,
    "contract §4.2, §9.26; schemas/data/error-types.json",
    "Every error's HTTP status and `error.type` are a pair from the contract's table "
    "(400 invalid_request_error, 401 authentication_error, 404 not_found_error, 529 overloaded_error, ...).",
)
def status_type_agrees(ctx: Context) -> Outcome:
    """MUST use the status ↔ type pairs of §4.2: a listed status carries its type, an unlisted 4xx
    carries ``invalid_request_error``, and a server error is 500/504/529 with its type. Error
    responses without an ``error.type`` are left to ``errors.envelope.shape``."""
    table = error_table(ctx)
    found = [(label, ex, error_type_of(ex)) for label, ex in error_exchanges(ctx)]
    typed = [(label, ex, t) for label, ex, t in found if t is not None]
    if not typed:
        return Outcome.inconclusive("no error response of this run carried an error.type")
    # error_exchanges only yields answers with a status, so the None test never drops one
    bad = [
        f"{label}: {problem}"
        for label, ex, t in typed
        if ex.status is not None and (problem := _pair_problem(table, ex.status, t))
    ]
    if bad:
        return Outcome.mismatch(
            "the contract's status/type pair on every error", f"{len(bad)} of {len(typed)} not: " + "; ".join(bad[:3])
        )
    return Outcome.passed(f"{len(typed)} error responses, every status/type pair from the contract")


def _failure_injection(ctx: Context, name: str, what: str, state: str) -> Exchange | Outcome:
    """The probe's exchange, or an outcome when the target offers no way to cause ``what``: an
    answer in another state, or, for a state no ``--trigger`` declared, a 4xx refusing the
    stub's model (a real server rightly refuses a model it does not serve)."""
    ex = ctx.probe(name)
    bad = reachable(ex)
    if bad:
        return bad
    model = trigger_model(ctx, state)
    if ex.status in (200, 404):
        return Outcome.inconclusive(f"the target offers no way to cause {what}: model {model!r} got {describe(ex)}")
    if state not in ctx.config.triggers and ex.status is not None and 400 <= ex.status < 500 and ex.status != 429:
        return Outcome.inconclusive(
            f"no trigger declared for {what} (--trigger {state}=MODEL): the stub's model {model!r} got {describe(ex)}"
        )
    if ex.status in (400, 401, 403):  # the request was refused before the trigger could act
        require_ok(ex, f"expected {what}, got {describe(ex)}")
    return ex


@check(
    "errors.status.overload-529",
    SHOULD,
    "contract §4.2, §9.27",
    "Capacity shortage is 529 `overloaded_error` (not 503); decided only where the target can be made "
    f"to overload (`--trigger overload=MODEL`; the stub's model `{OVERLOADED_MODEL}`).",
)
def overload_529(ctx: Context) -> Outcome:
    """SHOULD answer capacity shortage with 529 ``overloaded_error``, not 503 (the SDK retries both,
    but only 529 becomes ``OverloadedError``)."""
    got = _failure_injection(ctx, "errors-overloaded", "an overload", "overload")
    if isinstance(got, Outcome):
        return got
    return expect_error(got, 529, "overloaded_error")


def _retry_after_problem(value: str | None) -> str | None:
    """None when ``value`` is a usable retry-after (delay-seconds or an HTTP date, RFC 9110 §10.2.3)."""
    if value is None:
        return "no retry-after header"
    text = value.strip()
    try:
        if float(text) >= 0:
            return None
    except ValueError:
        try:
            if email.utils.parsedate_to_datetime(text) is not None:
                return None
        except (TypeError, ValueError, IndexError):
            pass
    return f"retry-after {value!r} (neither seconds nor an HTTP date)"


@check(
    "errors.status.rate-limit-429",
    SHOULD,
    "contract §4.2, §5.2, §9.27",
    "A per-key limit is 429 `rate_limit_error` with a `retry-after` header; decided only where the "
    f"target can be made to rate-limit (`--trigger rate-limit=MODEL`; the stub's model `{RATE_LIMITED_MODEL}`).",
)
def rate_limit_429(ctx: Context) -> Outcome:
    """SHOULD answer a rate limit with 429 ``rate_limit_error`` and ``retry-after`` (seconds or an
    HTTP date), which the SDK honours before retrying."""
    got = _failure_injection(ctx, "errors-rate-limited", "a rate limit", "rate-limit")
    if isinstance(got, Outcome):
        return got
    verdict = expect_error(got, 429, "rate_limit_error")
    if verdict.verdict is not Verdict.PASSED:
        return verdict
    problem = _retry_after_problem(got.header("retry-after"))
    if problem:
        return Outcome.mismatch("HTTP 429 rate_limit_error with a retry-after header", f"HTTP 429 with {problem}")
    return Outcome.passed(f"HTTP 429 rate_limit_error, retry-after {got.header('retry-after')}")


# -- request ids ------------------------------------------------------------------------------


@check(
    "errors.request-id.header",
    SHOULD,
    "contract §5.2, §9.28",
    "Every response, error or success, carries a `request-id` header (the SDK reads exactly that name).",
)
def request_id_header(ctx: Context) -> Outcome:
    """SHOULD send ``request-id`` on every response: the SDK exposes it as ``_request_id`` and
    ``exc.request_id`` and reads no other name (``x-request-id`` does not count)."""
    seen = error_exchanges(ctx) + [(label, ex) for label, ex in _gather(ctx, [SUCCESS_PROBE]) if ex.status is not None]
    if not seen:
        return Outcome.inconclusive("no response was received")
    bad = []
    for label, ex in seen:
        if not (ex.header("request-id") or "").strip():
            alt = " (only x-request-id)" if ex.header("x-request-id") else ""
            bad.append(f"{label}: HTTP {ex.status}{alt}")
    if bad:
        return Outcome.mismatch("a request-id header on every response", _summary(bad, len(seen)))
    return Outcome.passed(f"{len(seen)} responses, all with request-id")


@check(
    "errors.request-id.body",
    SHOULD,
    "contract §4.1, §9.28",
    "Every error body carries `request_id` (a string) beside `type` and `error`.",
)
def request_id_body(ctx: Context) -> Outcome:
    """SHOULD include ``request_id`` (a string) in every error body, as the real API does."""
    seen = error_exchanges(ctx)
    if not seen:
        return _no_errors()
    bad = []
    unread = 0  # bodies that are no envelope: the envelope check reports them
    for label, ex in seen:
        body = ex.json()
        if _envelope_problem(ctx, ex) and not (isinstance(body, dict) and "request_id" in body):
            unread += 1
            continue
        value = body.get("request_id") if isinstance(body, dict) else None
        if not (isinstance(value, str) and value):
            bad.append(
                f"{label}: HTTP {ex.status} "
                + (
                    "request_id " + json.dumps(value)
                    if isinstance(body, dict) and "request_id" in body
                    else "no request_id"
                )
            )
    if bad:
        return Outcome.mismatch("a request_id string in every error body", _summary(bad, len(seen)))
    if unread == len(seen):
        raise Blocked(("errors.envelope.shape",), f"none of the {len(seen)} error bodies is in the envelope")
    return Outcome.passed(f"{len(seen) - unread} error bodies in the envelope, all with request_id")


# -- routing ----------------------------------------------------------------------------------


def _enveloped(ctx: Context, ex: Exchange, status: int, error_type: str) -> Outcome:
    """The exact status and type, in the envelope, as JSON. The right status with a body that is
    no envelope (or not JSON) is the envelope checks' to report: its type cannot be read."""
    verdict = expect_error(ex, status, error_type)
    problem = _envelope_problem(ctx, ex) if ex.status is not None else None
    if verdict.verdict is not Verdict.PASSED:
        if ex.status == status and problem:
            raise Blocked(("errors.envelope.shape", "errors.envelope.content-type"), verdict.message)
        return verdict
    if problem:
        bad = Outcome.mismatch(f"HTTP {status} {error_type} in the error envelope", problem)
        raise Blocked(("errors.envelope.shape",), bad.message)
    if ex.content_type != "application/json":
        bad = Outcome.mismatch(
            f"HTTP {status} {error_type} as application/json", f"content-type {ex.content_type or 'none'}"
        )
        raise Blocked(("errors.envelope.content-type",), bad.message)
    return verdict


@check(
    "errors.routing.unknown-path",
    MUST,
    "contract §8.10, §9.33",
    f"GET and POST on an unknown path under /v1 (`{UNKNOWN_PATH}`) get 404 `not_found_error` in the JSON "
    "envelope, not a plain-text 404.",
)
def unknown_path(ctx: Context) -> Outcome:
    """MUST answer unknown paths with 404 ``not_found_error`` in the JSON envelope (Go's default
    mux answers ``text/plain`` "404 page not found", which the SDK cannot read)."""
    exchanges = ctx.probe("errors-unknown-path")
    for method, ex in exchanges.items():
        verdict = _enveloped(ctx, ex, 404, "not_found_error")
        if verdict.verdict is not Verdict.PASSED:
            return Outcome(verdict.verdict, f"{method} {UNKNOWN_PATH}: {verdict.message}")
    return Outcome.passed(f"GET and POST {UNKNOWN_PATH}: HTTP 404 not_found_error in the envelope")


@check(
    "errors.routing.wrong-method",
    SHOULD,
    "contract §4.1, §4.2 (unlisted 4xx); RFC 9110 §15.5.6",
    "GET /v1/messages gets 405 `invalid_request_error` in the JSON envelope, with an `Allow` header naming POST.",
)
def wrong_method(ctx: Context) -> Outcome:
    """SHOULD answer a wrong method on a known path with 405 (HTTP semantics), in the envelope with
    ``invalid_request_error`` (§4.2 uses it for unlisted 4xx), and ``Allow: POST`` (RFC 9110 requires
    Allow on a 405). The contract does not name the status, hence SHOULD."""
    ex = ctx.probe("errors-wrong-method")
    verdict = _enveloped(ctx, ex, 405, "invalid_request_error")
    if verdict.verdict is not Verdict.PASSED:
        return verdict
    allow = ex.header("allow") or ""
    if "POST" not in [m.strip().upper() for m in allow.split(",")]:
        return Outcome.mismatch(
            "an Allow header naming POST on the 405", f"allow {allow!r}" if allow else "no Allow header"
        )
    return Outcome.passed(f"HTTP 405 invalid_request_error, Allow: {allow}")


# -- retry hints ------------------------------------------------------------------------------


@check(
    "errors.retry.no-should-retry-on-400",
    SHOULD,
    "contract §5.2, §5.3, §9.29",
    "Non-retryable errors (400, 401, 402, 403, 404, 413 and other 4xx but 408/409/429) never carry "
    "`x-should-retry: true`, which makes the SDK retry them.",
)
def no_should_retry(ctx: Context) -> Outcome:
    """SHOULD NOT send ``x-should-retry: true`` on an error the SDK would not retry by status: the SDK
    obeys the header over its own rules, so a 400 would be sent three times."""
    table = error_table(ctx)
    retryable = {row["status"] for row in table.values() if row["sdk_retries"]} | {408, 409, 429}
    seen = [
        (label, ex)
        for label, ex in error_exchanges(ctx)
        if ex.status is not None and ex.status < 500 and ex.status not in retryable
    ]
    if not seen:
        return Outcome.inconclusive("no non-retryable error response was seen in this run")
    bad = [
        f"{label}: HTTP {ex.status}"
        for label, ex in seen
        if (ex.header("x-should-retry") or "").strip().lower() == "true"
    ]
    if bad:
        return Outcome.mismatch(
            "no x-should-retry: true on non-retryable errors",
            f"{len(bad)} of {len(seen)} with it: " + "; ".join(bad[:3]),
        )
    return Outcome.passed(f"{len(seen)} non-retryable error responses, none with x-should-retry: true")
