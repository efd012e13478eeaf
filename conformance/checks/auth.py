"""auth: both credential styles work, and bad credentials are refused the Anthropic way.

SDK 0.x/1.x send ``x-api-key``; SDK 2.x sends ``Authorization: Bearer`` (contract §5.1), so a
server that the official SDK can use accepts both (§9 items 1-3).
"""

from __future__ import annotations

from conformance._catalog import MUST, Outcome, check
from conformance._probes import Context, probe
from conformance.checks._common import basic_body, describe, expect_error, expect_ok


@probe("auth-x-api-key")
def _x_api_key(ctx: Context):
    return ctx.messages(basic_body(ctx), auth="x-api-key")


@probe("auth-bearer")
def _bearer(ctx: Context):
    return ctx.messages(basic_body(ctx), auth="bearer")


@probe("auth-missing")
def _missing(ctx: Context):
    return ctx.messages(basic_body(ctx), auth="none")


@probe("auth-wrong")
def _wrong(ctx: Context):
    return ctx.messages(basic_body(ctx), auth="wrong")


def _accepted(ctx: Context, style: str) -> Outcome:
    if ctx.config.auth not in ("both", style):
        return Outcome.skipped(f"--auth {ctx.config.auth} leaves out {style}")
    ex = ctx.probe(f"auth-{style}")
    return expect_ok(ex) or Outcome.passed(f"HTTP 200 with {style} credentials")


@check(
    "auth.accept.x-api-key",
    MUST,
    "contract §5.1, §9.1",
    "A valid key sent as `x-api-key` is accepted (SDK 0.x/1.x send only this).",
)
def accept_x_api_key(ctx: Context) -> Outcome:
    """MUST accept ``x-api-key: <key>``: the header SDK 0.x and 1.x send for ``api_key=``."""
    return _accepted(ctx, "x-api-key")


@check(
    "auth.accept.bearer",
    MUST,
    "contract §5.1, §9.2; Darkbloom: Authentication",
    "A valid key sent as `Authorization: Bearer` is accepted (SDK 2.x sends only this).",
)
def accept_bearer(ctx: Context) -> Outcome:
    """MUST accept ``Authorization: Bearer <key>``: SDK 2.x sends it for ``api_key=``."""
    return _accepted(ctx, "bearer")


@check(
    "auth.reject.missing-key",
    MUST,
    "contract §4.2, §9.3",
    "A request without credentials gets 401 `authentication_error` in the error envelope.",
)
def reject_missing(ctx: Context) -> Outcome:
    """MUST answer a request with no credentials with 401 ``authentication_error``."""
    return expect_error(ctx.probe("auth-missing"), 401, "authentication_error")


@check(
    "auth.reject.wrong-key",
    MUST,
    "contract §4.2, §9.3",
    "A request with a wrong key gets 401 `authentication_error` in the error envelope.",
)
def reject_wrong(ctx: Context) -> Outcome:
    """MUST answer a request with a wrong key with 401 ``authentication_error``."""
    ex = ctx.probe("auth-wrong")
    if ex.status == 200:
        return Outcome.mismatch("HTTP 401 authentication_error", f"{describe(ex)}: the wrong key was accepted")
    return expect_error(ex, 401, "authentication_error")
