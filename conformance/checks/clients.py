"""clients: the real clients, run against the target, work end to end.

The question a provider asks first is "will Claude Code, or my app on the TypeScript SDK, work
on my endpoint?". This family answers it by running them (:mod:`conformance.clients`), pinned
by the lockfile shipped with the package and installed with ``npm ci`` on first use (or by
``conformance clients install``):

* ``@anthropic-ai/sdk`` through a small driver: ``messages.create``, ``create({stream: true})``,
  ``messages.stream().finalMessage()``, the error classes of a 400, a 401 and a 404, and both
  credential styles (SDK 1.x sends its ``apiKey`` as ``Authorization: Bearer``; ``x-api-key``
  is what SDK 0.x, and Claude Code, send), each call with ``maxRetries: 0``;
* Claude Code in print mode (``claude -p``), locked down so the target can never make it run
  anything (no tools, no MCP, ``--bare``, a fresh HOME and an empty working directory, the
  process group killed at the bound, and a network namespace with only the target in reach
  where the machine allows: :mod:`conformance.clients._sandbox`), judged on its exit code and
  its output.

Their traffic goes through the harness's recording proxy and is each check's evidence. Without
Node (or without the packages and a way to install them) every check here is skipped with the
reason. Each client's time is bounded by the exchange bound (``max(4 × --timeout, 10 s)``) and
by what is left of the check's own bound.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from conformance._catalog import ANTHROPIC_ONLY, MUST, SHOULD, Blocked, Outcome, Verdict, check
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance._redact import WRONG_API_KEY
from conformance.checks._causes import HUNG, explain
from conformance.checks._common import HELLO

NO_KEY_PLACEHOLDER = "conformance-no-key-configured"
UNKNOWN_MODEL = "no-such-model-conformance"
SCENARIOS = (
    "create",
    "create-stream",
    "stream-final",
    "bad-request",
    "authentication",
    "not-found",
    "auth-bearer",
    "auth-x-api-key",
)
STREAMING = frozenset({"create-stream", "stream-final"})
TS_SDK = "clients-typescript-sdk"
CLAUDE_CODE = "clients-claude-code"
MARGIN = 1.0  # seconds a client's bound keeps from the check's own bound


@dataclass
class ClientRun:
    """A probe's result: the run, or why there was none."""

    unavailable: str | None = None  # no Node / no packages: the checks are skipped
    not_sent: str | None = None  # an earlier stream of the run hung: not started (its streams)
    run: Any = None  # DriverRun | ClaudeCodeRun
    installed: Any = None


def _key(ctx: Context) -> str:
    return ctx.config.api_key or NO_KEY_PLACEHOLDER


def _style(ctx: Context) -> str:
    """The credential style the target accepts on the messages route."""
    style = ctx.target.style_for("/v1/messages")
    return style if style in ("x-api-key", "bearer") else "x-api-key"


def _bound(ctx: Context, wanted: float) -> float:
    """``wanted`` seconds, or what is left of the check's bound, whichever is less."""
    deadline = ctx.target.deadline
    if deadline is None:
        return wanted
    return max(1.0, min(wanted, deadline[0] - time.perf_counter() - MARGIN))


def _installed(ctx: Context) -> tuple[Any, str | None]:
    from conformance.clients import ClientsUnavailable, ensure

    try:
        return ensure(timeout=_bound(ctx, 600.0)), None
    except ClientsUnavailable as exc:
        return None, str(exc)


# -- probes ---------------------------------------------------------------------------------


@probe(TS_SDK)
def _typescript_sdk(ctx: Context) -> ClientRun:
    from conformance.clients._sandbox import run_typescript_sdk

    inst, why = _installed(ctx)
    if inst is None:
        return ClientRun(unavailable=why)
    hung = ctx.target.hung_stream
    key = _key(ctx)
    config = {
        "model": ctx.model,
        "style": _style(ctx),
        "total_ms": int(ctx.config.total_timeout * 1000),
        "headers": dict(ctx.config.headers),
        "hello": HELLO,
        "wrong_key": WRONG_API_KEY,
        "unknown_model": UNKNOWN_MODEL,
    }
    run = run_typescript_sdk(
        inst,
        target=ctx.target.base_url,
        redactor=ctx.target.redactor.extended([key]),
        api_key=key,
        config=config,
        # once a stream of the run has hung, the SDK's streams would wait out the bound too
        scenarios=tuple(n for n in SCENARIOS if not (hung and n in STREAMING)),
        timeout=ctx.config.timeout,
        bound=_bound(ctx, ctx.config.total_timeout + 15.0),
        cap=ctx.target.max_body_bytes,
        insecure=ctx.config.insecure,
    )
    return ClientRun(run=run, installed=inst, not_sent=hung)


@probe(CLAUDE_CODE)
def _claude_code(ctx: Context) -> ClientRun:
    from conformance.clients._sandbox import run_claude_code

    inst, why = _installed(ctx)
    if inst is None:
        return ClientRun(unavailable=why)
    if ctx.target.hung_stream is not None:  # Claude Code streams: it would wait out the bound too
        return ClientRun(not_sent=ctx.target.hung_stream, installed=inst)
    key = _key(ctx)
    run = run_claude_code(
        inst,
        target=ctx.target.base_url,
        redactor=ctx.target.redactor.extended([key]),
        prompt=HELLO,
        model=ctx.model,
        api_key=key,
        auth_style=_style(ctx),
        headers=dict(ctx.config.headers),
        timeout=ctx.config.timeout,
        bound=_bound(ctx, ctx.config.total_timeout + 15.0),
        cap=ctx.target.max_body_bytes,
        insecure=ctx.config.insecure,
    )
    return ClientRun(run=run, installed=inst)


# -- judging the TypeScript SDK -------------------------------------------------------------


def _versions(probe_result: ClientRun) -> str:
    v = probe_result.run.versions if probe_result.run is not None else {}
    sdk = v.get("sdk") or getattr(probe_result.installed, "sdk_version", "?")
    return f"@anthropic-ai/sdk {sdk}, Node {v.get('node', '?')}"


def _traffic(exchanges: list[Exchange], total: int | None = None) -> str:
    """``POST /v1/messages?beta=true -> 400 x1, -> 200 x1`` (redacted by the caller)."""
    if not exchanges:
        return "no request reached the proxy"
    counts: Counter[tuple[str, str]] = Counter()
    order: list[tuple[str, str]] = []
    for ex in exchanges:
        path = ex.request.url.split("://", 1)[-1]
        path = "/" + path.split("/", 1)[1] if "/" in path else path
        got = str(ex.status) if ex.status is not None else f"no response ({ex.transport_error})"
        item = (f"{ex.request.method} {path}", got)
        if item not in counts:
            order.append(item)
        counts[item] += 1
    parts = [f"{req} -> {got}" + (f" x{counts[(req, got)]}" if counts[(req, got)] > 1 else "") for req, got in order]
    more = total - len(exchanges) if total is not None and total > len(exchanges) else 0
    text = "; ".join(parts[:6]) + (f"; … {len(parts) - 6} more kinds" if len(parts) > 6 else "")
    return text + (f" (and {more} more not recorded)" if more else "")


def _scenario(ctx: Context, name: str) -> tuple[dict[str, Any] | None, Outcome | None]:
    """The driver's result for ``name`` with its exchanges as evidence, or the verdict that
    stands in for it (skipped, a broken harness, a driver stopped at its bound)."""
    found: ClientRun = ctx.probe(TS_SDK)
    if found.unavailable is not None:
        return None, Outcome.skipped(f"the TypeScript SDK cannot run here: {found.unavailable}")
    if found.not_sent is not None and name in STREAMING:  # blocked by the stream that hung
        raise Blocked((HUNG,), f"not run: {found.not_sent}")
    run = found.run
    exchanges = run.exchanges.get(name, [])
    ctx.evidence(*exchanges)
    result = run.results.get(name)
    if result is not None:
        return result, None
    red = ctx.target.redactor
    if run.process.timed_out:
        return None, Outcome.failed(
            f"expected the SDK call to end, got none within {run.process.bound:g} s (the driver was stopped at "
            f"its bound); traffic: {red.text(_traffic(exchanges))}"
        )
    tail = " ".join(run.process.stderr.split())[-300:] or "no output"
    return None, Outcome(
        Verdict.ERROR,
        f"harness error: the TypeScript SDK driver exited with code {run.process.exit_code}: {red.text(tail)}",
    )


def _got_error(ctx: Context, result: dict[str, Any]) -> str:
    err = result.get("error") or {}
    status = f" (HTTP {err['status']})" if err.get("status") is not None else ""
    # the SDK's message names the path it called, with the proxy's label in front: not the target's
    message = " ".join(str(err.get("message")).split()).replace(f"/_/{result.get('scenario')}/", "/")
    return ctx.target.redactor.text(f"{err.get('class')}{status}: {message[:300]}")


def _message_problem(value: Any) -> str | None:
    """What keeps ``value`` (the driver's summary of what the SDK returned) from being a
    Message whose content a user reads, or None."""
    if not isinstance(value, dict) or value.get("kind") != "object":
        kind = value.get("kind") if isinstance(value, dict) else type(value).__name__
        return f"a {kind}, not a Message object"
    if value.get("type") != "message":
        return f"an object with type {value.get('type')!r}"
    content = value.get("content")
    if not isinstance(content, list):
        return f"a Message whose content is {content!r}"
    if not content:
        return "a Message with content []"
    return None


def _explained(ctx: Context, name: str, outcome: Outcome, *, valid: bool = True, status: int | None = None) -> Outcome:
    """A failed scenario judged by its last exchange: blocked by the check that reports a refusal
    or a hang, or failed with the causes narrow checks report (``_causes.explain``)."""
    found: ClientRun = ctx.probe(TS_SDK)
    exchanges = found.run.exchanges.get(name, []) if found.run is not None else []
    scope = (ctx.config.profile, ctx.config.anthropic_version)
    last = exchanges[-1] if exchanges else None
    return explain(outcome, last, valid=valid, expected_status=status, schemas=ctx.schemas, scope=scope)


def _expect_message(ctx: Context, name: str, *, text_first: bool = True) -> Outcome:
    return _explained(ctx, name, _judge_message(ctx, name, text_first=text_first))


def _judge_message(ctx: Context, name: str, *, text_first: bool = True) -> Outcome:
    result, stand_in = _scenario(ctx, name)
    if stand_in is not None:
        return stand_in
    assert result is not None
    expected = "a Message whose content[0] is a text block" if text_first else "a Message"
    if not result.get("ok"):
        return Outcome.mismatch(expected, _got_error(ctx, result))
    value: Any = result.get("value")
    problem = _message_problem(value)
    if problem is not None:
        return Outcome.mismatch(expected, ctx.target.redactor.text(problem))
    first = value["content"][0]
    if text_first and (first.get("type") != "text" or not isinstance(first.get("text"), str)):
        return Outcome.mismatch(expected, f"content[0] of type {first.get('type')!r}")
    return Outcome.passed(
        f"Message {value.get('id')}, stop_reason {value.get('stop_reason')!r} ({_versions(ctx.probe(TS_SDK))})"
    )


def _expect_error(ctx: Context, name: str, cls: str, status: int, error_type: str) -> Outcome:
    return _explained(ctx, name, _judge_error(ctx, name, cls, status, error_type), valid=False, status=status)


def _judge_error(ctx: Context, name: str, cls: str, status: int, error_type: str) -> Outcome:
    result, stand_in = _scenario(ctx, name)
    if stand_in is not None:
        return stand_in
    assert result is not None
    expected = f"{cls} (HTTP {status}) with type {error_type!r}"
    if result.get("ok"):
        problem = _message_problem(result.get("value"))
        return Outcome.mismatch(expected, "no error: " + (problem or "a Message"))
    err = result.get("error") or {}
    if err.get("class") != cls or err.get("status") != status:
        return Outcome.mismatch(expected, _got_error(ctx, result))
    if err.get("type") != error_type:
        return Outcome.mismatch(expected, f"{cls} with type {err.get('type')!r}")
    return Outcome.passed(f"{cls}, type {error_type!r} ({_versions(ctx.probe(TS_SDK))})")


@check(
    "clients.typescript-sdk.create",
    MUST,
    "contract §2.1, §7, §9.35",
    "The official TypeScript SDK's `messages.create` returns a Message whose content[0] is a text block.",
)
def typescript_create(ctx: Context) -> Outcome:
    """MUST work with ``client.messages.create(...)`` of ``@anthropic-ai/sdk``: a Message comes
    back and ``message.content[0].text`` is readable."""
    return _expect_message(ctx, "create")


@check(
    "clients.typescript-sdk.create-stream",
    MUST,
    "contract §3.3, §7, §9.35",
    "The TypeScript SDK's `messages.create({stream: true})` yields events message_start … message_stop.",
    profiles=ANTHROPIC_ONLY,
)
def typescript_create_stream(ctx: Context) -> Outcome:
    """MUST stream so that iterating the TypeScript SDK's stream raises nothing and yields the
    events from ``message_start`` through ``message_stop``."""
    return _explained(ctx, "create-stream", _judge_create_stream(ctx))


def _judge_create_stream(ctx: Context) -> Outcome:
    result, stand_in = _scenario(ctx, "create-stream")
    if stand_in is not None:
        return stand_in
    assert result is not None
    expected = "events message_start, content blocks, message_delta, message_stop"
    if not result.get("ok"):
        return Outcome.mismatch("a stream iterated to its end", _got_error(ctx, result))
    types = [t for t in (result.get("value") or {}).get("types") or [] if t != "ping"]
    if not types:
        return Outcome.mismatch(expected, "no event at all (the SDK saw nothing it could dispatch)")
    if (
        types[0] != "message_start"
        or types[-1] != "message_stop"
        or "message_delta" not in types
        or "content_block_start" not in types
    ):
        shown = types if len(types) <= 8 else types[:4] + ["…"] + types[-3:]
        return Outcome.mismatch(expected, f"events {shown}")
    return Outcome.passed(f"{len(types)} events from message_start to message_stop ({_versions(ctx.probe(TS_SDK))})")


@check(
    "clients.typescript-sdk.stream-final-message",
    MUST,
    "contract §3.4, §7, §9.35",
    "The TypeScript SDK's `messages.stream(...).finalMessage()` returns a Message with stop_reason set.",
    profiles=ANTHROPIC_ONLY,
)
def typescript_stream_final(ctx: Context) -> Outcome:
    """MUST stream so that the TypeScript SDK's stream helper accumulates a Message whose
    ``stop_reason`` is set and whose content is not empty."""
    return _explained(ctx, "stream-final", _judge_stream_final(ctx))


def _judge_stream_final(ctx: Context) -> Outcome:
    result, stand_in = _scenario(ctx, "stream-final")
    if stand_in is not None:
        return stand_in
    assert result is not None
    if not result.get("ok"):
        return Outcome.mismatch("a final Message", _got_error(ctx, result))
    value: Any = result.get("value")
    problem = _message_problem(value)
    if problem is not None:
        return Outcome.mismatch("a final Message", ctx.target.redactor.text(problem))
    if value.get("stop_reason") is None:
        return Outcome.mismatch("a final Message with stop_reason set", "stop_reason null")
    return Outcome.passed(
        f"final Message {value.get('id')}, stop_reason {value.get('stop_reason')!r}, "
        f"{len(value['content'])} block(s) ({_versions(ctx.probe(TS_SDK))})"
    )


@check(
    "clients.typescript-sdk.error-bad-request",
    MUST,
    "contract §4.2, §7, §9.6",
    "A request without max_tokens makes the TypeScript SDK throw BadRequestError (400, invalid_request_error).",
)
def typescript_bad_request(ctx: Context) -> Outcome:
    """MUST answer an invalid request so that the TypeScript SDK throws ``BadRequestError``
    (HTTP 400) whose error type is ``invalid_request_error``."""
    return _expect_error(ctx, "bad-request", "BadRequestError", 400, "invalid_request_error")


@check(
    "clients.typescript-sdk.error-authentication",
    MUST,
    "contract §4.2, §5.1, §9.3",
    "A wrong API key makes the TypeScript SDK throw AuthenticationError (401, authentication_error).",
)
def typescript_authentication(ctx: Context) -> Outcome:
    """MUST refuse a wrong key so that the TypeScript SDK throws ``AuthenticationError``
    (HTTP 401) whose error type is ``authentication_error``."""
    return _expect_error(ctx, "authentication", "AuthenticationError", 401, "authentication_error")


@check(
    "clients.typescript-sdk.error-not-found",
    MUST,
    "contract §4.2, §9.10",
    "An unknown model makes the TypeScript SDK throw NotFoundError (404, not_found_error).",
)
def typescript_not_found(ctx: Context) -> Outcome:
    """MUST answer an unknown model so that the TypeScript SDK throws ``NotFoundError``
    (HTTP 404) whose error type is ``not_found_error``."""
    return _expect_error(ctx, "not-found", "NotFoundError", 404, "not_found_error")


def _auth_left_out(ctx: Context, style: str) -> Outcome | None:
    if ctx.config.auth not in ("both", style):
        return Outcome.skipped(f"--auth {ctx.config.auth} leaves out {style}")
    return None


@check(
    "clients.typescript-sdk.auth-bearer",
    MUST,
    "contract §5.1, §9.2",
    "The TypeScript SDK with `apiKey` (SDK 1.x sends it as `Authorization: Bearer`) gets a Message.",
)
def typescript_auth_bearer(ctx: Context) -> Outcome:
    """MUST accept the credential as ``new Anthropic({apiKey})`` of SDK 1.x sends it:
    ``Authorization: Bearer <key>``."""
    return _auth_left_out(ctx, "bearer") or _expect_message(ctx, "auth-bearer", text_first=False)


@check(
    "clients.typescript-sdk.auth-x-api-key",
    MUST,
    "contract §5.1, §9.1",
    "The TypeScript SDK sending the key as `x-api-key` (as SDK 0.x and Claude Code do) gets a Message.",
)
def typescript_auth_x_api_key(ctx: Context) -> Outcome:
    """MUST accept the credential as ``x-api-key: <key>``, the header SDK 0.x and Claude Code
    send (SDK 1.x with ``defaultHeaders: {'x-api-key': key, Authorization: null}``)."""
    return _auth_left_out(ctx, "x-api-key") or _expect_message(ctx, "auth-x-api-key", text_first=False)


# -- Claude Code ----------------------------------------------------------------------------


@check(
    "clients.claude-code.print",
    SHOULD,
    "contract §1, §3, §5.1; Claude Code print mode",
    "Claude Code (`claude -p`, no tools) answers a prompt through the target and exits 0 with the answer.",
    profiles=ANTHROPIC_ONLY,
)
def claude_code_print(ctx: Context) -> Outcome:
    """SHOULD serve Claude Code: ``claude -p PROMPT`` with ``ANTHROPIC_BASE_URL`` at the target
    and the run's model exits 0 and prints the answer (``--output-format json``: not an error,
    a non-empty ``result``). Claude Code sends what it sends (``?beta=true``, its beta headers,
    ``context_management``, ``cache_control``, a streamed request) and falls back by itself where
    a 400 tells it to; the verdict is on the end result, the traffic is the evidence."""
    found: ClientRun = ctx.probe(CLAUDE_CODE)
    if found.unavailable is not None:
        return Outcome.skipped(f"Claude Code cannot run here: {found.unavailable}")
    if found.not_sent is not None:  # Claude Code streams: blocked by the stream that hung
        raise Blocked((HUNG,), f"not run: {found.not_sent}")
    run = found.run
    ctx.evidence(*run.exchanges)
    red = ctx.target.redactor
    proc = run.process
    version = f"Claude Code {getattr(found.installed, 'claude_code_version', '?')}"
    traffic = red.text(_traffic(run.exchanges, run.requests))
    where = f"{run.requests} request(s): {traffic}; {version}, {proc.isolation}"
    expected = "Claude Code to print an answer and exit 0"
    if proc.timed_out:
        return Outcome.mismatch(expected, f"no exit within {proc.bound:g} s (its process group was killed); {where}")
    result = run.result or {}
    answer = result.get("result")
    if proc.exit_code != 0 or result.get("is_error") or not isinstance(answer, str) or not answer.strip():
        said = answer if isinstance(answer, str) and answer.strip() else (proc.stderr or proc.stdout)
        said = " ".join(str(said).split())[:300] or "no output"
        bad = Outcome.mismatch(expected, red.text(f"exit {proc.exit_code}: {said!r}; {where}"))
        # judged by the last answer it got: a refusal or a defect a narrow check reports
        scope = (ctx.config.profile, ctx.config.anthropic_version)
        return explain(bad, run.exchanges[-1] if run.exchanges else None, schemas=ctx.schemas, scope=scope)
    refused = sum(1 for ex in run.exchanges if ex.status is not None and ex.status >= 400)
    fallback = f", {refused} refused first (Claude Code fell back)" if refused else ""
    excerpt = " ".join(answer.split())[:60]
    return Outcome.passed(red.text(f"exit 0 in {proc.elapsed:.1f} s, answered {excerpt!r}{fallback}; {where}"))
