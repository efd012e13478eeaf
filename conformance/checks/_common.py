"""Small judgements that many check families share, and the requests their probes send."""

from __future__ import annotations

from typing import Any

from conformance._catalog import Blocked, Outcome
from conformance._exchange import Exchange
from conformance._options import STUB_TRIGGERS
from conformance.checks._causes import require_ok, require_sent

# Substantive first user turn every basic probe sends; kept short so any model answers fast.
HELLO = "Say hello in one short sentence."

# The one custom tool every tool probe offers (sdk, stream, semantics), and the question for it.
WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the current weather in a given city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "The city name, e.g. Paris"}},
        "required": ["city"],
    },
}
WEATHER_QUESTION = "What is the weather in Paris right now? Use the get_weather tool."


def basic_body(ctx: Any, **extra: Any) -> dict:
    """The smallest valid request of every profile (contract §1.1; the Darkbloom page's shape)."""
    body: dict[str, Any] = {
        "model": ctx.model,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": HELLO}],
    }
    body.update(extra)
    return body


def trigger_model(ctx: Any, state: str) -> str:
    """The model that makes the target enter ``state`` (overload, rate-limit, mid-stream-error):
    the one ``--trigger`` declared, else the bundled stub's."""
    return ctx.config.triggers.get(state) or STUB_TRIGGERS[state]


def describe(ex: Exchange) -> str:
    """What came back, in a few words: for "got ..." halves of a verdict."""
    if ex.transport_error:
        return f"no response ({ex.transport_error})"
    parts = [f"HTTP {ex.status}"]
    body = ex.json()
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and "type" in err:
            parts.append(f"error.type {err.get('type')!r}")
        elif "type" in body:
            parts.append(f"type {body.get('type')!r}")
        elif "object" in body:
            parts.append(f"object {body.get('object')!r}")
        else:  # JSON of another shape: show it (an error answered outside the envelope, say so)
            excerpt = ex.body[:80].decode("utf-8", "replace").replace("\n", " ")
            envelope = "no error envelope, " if ex.status is not None and ex.status >= 400 else ""
            parts.append(f"{envelope}body {excerpt!r}")
    elif ex.body:
        ct = ex.content_type or "no content-type"
        excerpt = ex.body[:60].decode("utf-8", "replace").replace("\n", " ")
        parts.append(f"{ct} body {excerpt!r}")
    else:
        parts.append("empty body")
    return ", ".join(parts)


def reachable(ex: Exchange) -> Outcome | None:
    """A failed verdict when there was no HTTP response at all, else None."""
    if ex.transport_error or ex.status is None:
        message = f"no HTTP response: {ex.transport_error}"
        require_sent(ex, message)  # not sent after an earlier stream hung: blocked by that one
        return Outcome.failed(message)
    return None


def expect_ok(ex: Exchange) -> Outcome | None:
    """None when the exchange is a 200; a failed outcome saying what came otherwise. A valid
    request refused for a reason a narrow check reports (the credential style, a form of the
    request) raises :class:`~conformance._catalog.Blocked` (see ``_causes.require_ok``)."""
    bad = reachable(ex)
    if bad:
        return bad
    if ex.status != 200:
        bad = Outcome.mismatch("HTTP 200", describe(ex))
        require_ok(ex, bad.message)
        return bad
    return None


def expect_error(ex: Exchange, status: int, error_type: str) -> Outcome:
    """The exact status and ``error.type`` in the Anthropic envelope (contract §4.1, §4.2)."""
    bad = reachable(ex)
    if bad:
        return bad
    body = ex.json()
    got_type = (
        body.get("error", {}).get("type") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
    )
    if ex.status != status or got_type != error_type:
        bad = Outcome.mismatch(f"HTTP {status} with error.type {error_type!r}", describe(ex))
        if ex.status in (401, 403) and status not in (401, 403):  # the credential, refused first
            require_ok(ex, bad.message)
        if ex.status == status and not (isinstance(body, dict) and body.get("type") == "error"):
            # the right status outside the envelope: its type cannot be read (the envelope
            # checks report the envelope)
            raise Blocked(("errors.envelope.shape", "errors.envelope.content-type"), bad.message)
        return bad
    return Outcome.passed(f"HTTP {status} {error_type}")


def error_type_of(ex: Exchange) -> str | None:
    body = ex.json()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        value = body["error"].get("type")
        return value if isinstance(value, str) else None
    return None


def declined(ex: Exchange) -> bool:
    """The target answered "not supported" correctly: 404 or 400 in the Anthropic envelope."""
    body = ex.json()
    return (
        ex.status in (400, 404)
        and isinstance(body, dict)
        and body.get("type") == "error"
        and error_type_of(ex) in ("not_found_error", "invalid_request_error")
    )


def missing_endpoint(ex: Exchange, what: str) -> Outcome:
    """A SHOULD endpoint of contract §6 that the target declined (404/400)."""
    return Outcome.mismatch(f"{what} implemented (contract §6, a SHOULD of §9)", f"{describe(ex)}: declined")


def schema_errors(ctx: Any, name: str, instance: Any) -> list:
    """``instance`` against schema ``name`` in the run's profile and API version."""
    return ctx.schemas.validate(name, instance, profile=ctx.config.profile, version=ctx.config.anthropic_version)


def first_error(errors: list, what: str) -> Outcome:
    """A failure naming the first schema error (and how many more)."""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return Outcome.failed(f"{what} is not valid: {errors[0].message}{more}")
