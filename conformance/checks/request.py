"""request: what the server accepts and what it refuses, with exact status and error type.

Two halves (contract §1, §4.2, §5.1, §9 items 4-10 and 34):

* ``request.validation.*``, ``request.model.*``, ``request.size.*``, ``request.version.*``,
  ``request.headers.*``: one invalid (or version-dependent) request per check, each carrying
  its exact expected answer. "Some 4xx" is never a pass: a missing ``model`` must give 400
  ``invalid_request_error``, an unknown model 404 ``not_found_error``, and so on.
* ``request.accept.*``: the valid shapes a client relies on (string and block content, string
  and block system prompts, the Darkbloom page's own example) are answered 200.

The cases are data (:data:`CASES`); each registers one probe named ``request-<name>`` and one
check. The errors family (:mod:`conformance.checks.errors`) reuses the probes of the cases
that expect an error (:func:`error_probe_names`) to judge the error envelope itself.

Profiles: the ``darkbloom`` profile gets only what the Darkbloom page documents: ``model``,
``messages`` (role user|assistant, string content), ``max_tokens`` (all three "required") and
a string ``system``; its validation cases are the required fields missing or mistyped, a
role outside user|assistant, a body that is not JSON at all, and an unknown model id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from conformance._catalog import ALL_PROFILES, ANTHROPIC_ONLY, MUST, SHOULD, Blocked, Level, Outcome, check
from conformance._exchange import Exchange
from conformance._probes import Context, probe
from conformance.checks._causes import message_symptoms, require_message, require_ok
from conformance.checks._common import HELLO, basic_body, describe, error_type_of, expect_error, expect_ok, reachable

VERSION_2023 = "2023-06-01"
VERSION_2026 = "2026-10-21"
UNKNOWN_MODEL = "conformance-no-such-model-0000"
UNKNOWN_VERSION = "1999-01-01"
UNKNOWN_BETA = "conformance-unknown-beta-2099-01-01"

# A probe's request: keyword arguments for ``ctx.send("POST", "/v1/messages", **kw)``.
Build = Callable[[Context], dict]
Judge = Callable[[Context, Exchange], Outcome]


def _json(body: dict, **headers: str | None) -> dict:
    return {"json": body, "headers": headers} if headers else {"json": body}


def _without(ctx: Context, name: str) -> dict:
    body = basic_body(ctx)
    del body[name]
    return body


def _raw(data: bytes, content_type: str = "application/json") -> dict:
    return {"content": data, "headers": {"content-type": content_type}}


def _basic_bytes(ctx: Context) -> bytes:
    return json.dumps(basic_body(ctx), ensure_ascii=False).encode("utf-8")


def _non_utf8(ctx: Context) -> dict:
    # "café" with é as the single Latin-1 byte 0xE9: valid JSON syntax, invalid UTF-8.
    model = json.dumps(ctx.model).encode("utf-8")
    text = b'"caf\xe9: ' + HELLO.encode("ascii") + b'"'
    data = b'{"model":' + model + b',"max_tokens":64,"messages":[{"role":"user","content":' + text + b"}]}"
    return _raw(data)


def _oversize(ctx: Context) -> dict:
    # Valid JSON padded with insignificant whitespace to exactly limit + 1 bytes: a server
    # that ignores its own limit sees a small, cheap request rather than a huge prompt.
    limit = ctx.config.max_body_bytes
    data = _basic_bytes(ctx)
    assert limit is not None
    return _raw(data + b" " * max(0, limit + 1 - len(data)))


def _needs_limit(ctx: Context) -> Outcome | None:
    if ctx.config.max_body_bytes is None:
        return Outcome.skipped("the target declares no request-size limit; pass --max-body-bytes")
    return None


def _judge_error(status: int, error_type: str) -> Judge:
    def judge(ctx: Context, ex: Exchange) -> Outcome:
        return expect_error(ex, status, error_type)

    return judge


def _judge_ok(ctx: Context, ex: Exchange) -> Outcome:
    return expect_ok(ex) or Outcome.passed("HTTP 200")


def _judge_beta(ctx: Context, ex: Exchange) -> Outcome:
    bad = reachable(ex)
    if bad:
        return bad
    if ex.status == 200:
        return Outcome.passed("HTTP 200: the unknown beta was ignored")
    body = ex.json()
    if (
        ex.status == 400
        and isinstance(body, dict)
        and body.get("type") == "error"
        and error_type_of(ex) == "invalid_request_error"
    ):
        return Outcome.passed("HTTP 400 invalid_request_error: the unknown beta was refused in the envelope")
    bad = Outcome.mismatch("HTTP 200, or HTTP 400 invalid_request_error in the error envelope", describe(ex))
    if ex.status in (401, 403):  # the credential, refused before the beta was looked at
        require_ok(ex, bad.message)
    return bad


@dataclass(frozen=True)
class Case:
    """One request scenario with its exact expected answer."""

    check_id: str
    name: str  # probe name suffix: the probe is ``request-<name>``
    level: Level
    ref: str
    requirement: str
    build: Build
    judge: Judge
    profiles: frozenset[str] = ALL_PROFILES
    expects_error: bool = True  # the errors family judges the envelope of these answers
    precondition: Callable[[Context], Outcome | None] | None = None

    @property
    def probe_name(self) -> str:
        return f"request-{self.name}"


def _invalid(
    topic: str,
    name: str,
    level: Level,
    ref: str,
    requirement: str,
    build: Build,
    status: int = 400,
    error_type: str = "invalid_request_error",
    *,
    profiles: frozenset[str] = ANTHROPIC_ONLY,
    precondition: Callable[[Context], Outcome | None] | None = None,
) -> Case:
    return Case(
        f"request.{topic}.{name}",
        name,
        level,
        ref,
        requirement,
        build,
        _judge_error(status, error_type),
        profiles,
        True,
        precondition,
    )


_DB = "; Darkbloom: Request"
REQUIRED = "contract §1.1, §4.2, §9.6" + _DB

CASES: tuple[Case, ...] = (
    # -- required fields missing or mistyped (§9 item 6: MUST, both profiles)
    _invalid(
        "validation",
        "missing-model",
        MUST,
        REQUIRED,
        "A request without `model` gets 400 `invalid_request_error`.",
        lambda ctx: _json(_without(ctx, "model")),
        profiles=ALL_PROFILES,
    ),
    _invalid(
        "validation",
        "mistyped-model",
        MUST,
        REQUIRED,
        "A request whose `model` is not a string (`123`) gets 400 `invalid_request_error`.",
        lambda ctx: _json(basic_body(ctx, model=123)),
        profiles=ALL_PROFILES,
    ),
    _invalid(
        "validation",
        "missing-messages",
        MUST,
        REQUIRED,
        "A request without `messages` gets 400 `invalid_request_error`.",
        lambda ctx: _json(_without(ctx, "messages")),
        profiles=ALL_PROFILES,
    ),
    _invalid(
        "validation",
        "mistyped-messages",
        MUST,
        REQUIRED,
        'A request whose `messages` is not an array (`"hi"`) gets 400 `invalid_request_error`.',
        lambda ctx: _json(basic_body(ctx, messages="hi")),
        profiles=ALL_PROFILES,
    ),
    _invalid(
        "validation",
        "missing-max-tokens",
        MUST,
        REQUIRED,
        "A request without `max_tokens` gets 400 `invalid_request_error` (not a silent default).",
        lambda ctx: _json(_without(ctx, "max_tokens")),
        profiles=ALL_PROFILES,
    ),
    # a word no API coerces to a number: the MUST; whether "64" is coerced is unverified (SHOULD)
    _invalid(
        "validation",
        "mistyped-max-tokens",
        MUST,
        REQUIRED,
        'A request whose `max_tokens` is a string (`"sixty-four"`) gets 400 `invalid_request_error`.',
        lambda ctx: _json(basic_body(ctx, max_tokens="sixty-four")),
        profiles=ALL_PROFILES,
    ),
    _invalid(
        "validation",
        "numeric-string-max-tokens",
        SHOULD,
        "contract §1.1, §4.2",
        'A request whose `max_tokens` is a numeric string (`"64"`) gets 400 `invalid_request_error` '
        "(an integer is required; the API's coercion of numeric strings is unverified).",
        lambda ctx: _json(basic_body(ctx, max_tokens="64")),
        profiles=ALL_PROFILES,
    ),
    # A role outside user|assistant makes `messages` mistyped (its items are MessageParam,
    # whose role is an enum: §1.2; the Darkbloom page lists exactly "user" or "assistant").
    _invalid(
        "validation",
        "bad-role",
        MUST,
        "contract §1.2, §4.2, §9.6" + _DB,
        'A message with role `"robot"` (not user|assistant) gets 400 `invalid_request_error`.',
        lambda ctx: _json(basic_body(ctx, messages=[{"role": "robot", "content": HELLO}])),
        profiles=ALL_PROFILES,
    ),
    # A body that is not JSON carries none of the required fields; §4.2 maps "invalid request
    # format" to 400 invalid_request_error, and §9.26 makes the status/type pairs a MUST.
    _invalid(
        "validation",
        "malformed-json",
        MUST,
        "contract §1, §4.2, §9.6, §9.26",
        "A body that is truncated, unparseable JSON gets 400 `invalid_request_error`.",
        lambda ctx: _raw(_basic_bytes(ctx)[:-7]),
        profiles=ALL_PROFILES,
    ),
    # -- further validation (SHOULD; anthropic profile: beyond what the Darkbloom page documents)
    _invalid(
        "validation",
        "empty-messages",
        SHOULD,
        "contract §1.1; schemas/messages-request (minItems 1)",
        "A request with `messages: []` gets 400 `invalid_request_error` (there is no turn to answer).",
        lambda ctx: _json(basic_body(ctx, messages=[])),
    ),
    _invalid(
        "validation",
        "negative-max-tokens",
        SHOULD,
        "contract §1.1 (max_tokens minimum 0; ≥ 1 under 2023-06-01)",
        "A request with `max_tokens: -1` gets 400 `invalid_request_error`.",
        lambda ctx: _json(basic_body(ctx, max_tokens=-1)),
    ),
    _invalid(
        "validation",
        "unknown-block-type",
        SHOULD,
        "contract §1.3, §9.8",
        'A content block of unknown type (`{"type":"hologram"}`) gets 400 `invalid_request_error`, not silence.',
        lambda ctx: _json(basic_body(ctx, messages=[{"role": "user", "content": [{"type": "hologram"}]}])),
    ),
    _invalid(
        "validation",
        "unknown-top-level-field",
        SHOULD,
        "contract §1, §9.8",
        'An unknown top-level field gets 400 `invalid_request_error` (the real API: "Extra inputs are not permitted").',
        lambda ctx: _json(basic_body(ctx, conformance_unknown_field=True)),
    ),
    _invalid(
        "validation",
        "non-utf8-body",
        SHOULD,
        "contract §1 (JSON body; RFC 8259 §8.1: UTF-8), §4.2",
        "A JSON body that is not valid UTF-8 gets 400 `invalid_request_error`.",
        _non_utf8,
    ),
    # §5.1 says `content-type: application/json` is required; §4.2 uses 400 invalid_request_error
    # for every malformed request (and for unlisted 4xx such as 415).
    _invalid(
        "validation",
        "wrong-content-type",
        SHOULD,
        "contract §5.1, §4.2",
        "A JSON body sent as `content-type: text/plain` gets 400 `invalid_request_error` "
        "(the contract requires `application/json` on requests).",
        lambda ctx: _raw(_basic_bytes(ctx), "text/plain"),
    ),
    # -- the model id (§9 item 10: MUST)
    _invalid(
        "model",
        "unknown-model",
        MUST,
        "contract §4.2, §9.10; Darkbloom: Request (model: see Models)",
        "A request naming a model the server does not have gets 404 `not_found_error`.",
        lambda ctx: _json(basic_body(ctx, model=UNKNOWN_MODEL)),
        404,
        "not_found_error",
        profiles=ALL_PROFILES,
    ),
    # -- size (§9 item 34)
    _invalid(
        "size",
        "oversize",
        SHOULD,
        "contract §1.4, §4.2, §9.34",
        "A body one byte over the target's declared size limit gets 413 `request_too_large`.",
        _oversize,
        413,
        "request_too_large",
        profiles=ALL_PROFILES,
        precondition=_needs_limit,
    ),
    # -- API version (§5.1, §9 items 4 and 9)
    _invalid(
        "version",
        "missing-version-header",
        SHOULD,
        "contract §5.1, §9.4",
        "A request without the `anthropic-version` header gets 400 `invalid_request_error`.",
        lambda ctx: _json(basic_body(ctx), **{"anthropic-version": None}),
    ),
    _invalid(
        "version",
        "unknown-version-header",
        SHOULD,
        "contract §5.1, §9.4",
        f"A request with `anthropic-version: {UNKNOWN_VERSION}` (no such version) gets 400 `invalid_request_error`.",
        lambda ctx: _json(basic_body(ctx), **{"anthropic-version": UNKNOWN_VERSION}),
    ),
    _invalid(
        "version",
        "sampling-params-2026",
        SHOULD,
        "contract §1.1 [v2026], §9.9",
        f"`temperature` under `anthropic-version: {VERSION_2026}` gets 400 `invalid_request_error`.",
        lambda ctx: _json(basic_body(ctx, temperature=0.5), **{"anthropic-version": VERSION_2026}),
    ),
    Case(
        "request.version.temperature-accepted-2023",
        "temperature-accepted-2023",
        SHOULD,
        "contract §1.1, §9.9",
        f"`temperature: 0.5` under `anthropic-version: {VERSION_2023}` is accepted (200).",
        lambda ctx: _json(basic_body(ctx, temperature=0.5), **{"anthropic-version": VERSION_2023}),
        _judge_ok,
        ANTHROPIC_ONLY,
        expects_error=False,
    ),
    # -- beta header (§5.1, §9 item 5)
    Case(
        "request.headers.unknown-beta-tolerated",
        "unknown-beta",
        SHOULD,
        "contract §5.1, §9.5",
        "An unknown `anthropic-beta` value is ignored (200) or refused with 400 `invalid_request_error` "
        "in the envelope; never a 5xx.",
        lambda ctx: _json(basic_body(ctx), **{"anthropic-beta": UNKNOWN_BETA}),
        _judge_beta,
        ANTHROPIC_ONLY,
        expects_error=False,
    ),
)


def _register(case: Case) -> None:
    def run_probe(ctx: Context) -> Exchange:
        kw = case.build(ctx)
        if not case.expects_error and "json" in kw:  # a valid request: in a form the target accepts
            return ctx.messages(kw.pop("json"), **kw)
        return ctx.send("POST", "/v1/messages", **kw)

    probe(case.probe_name)(run_probe)

    def judge(ctx: Context) -> Outcome:
        if case.precondition is not None:
            early = case.precondition(ctx)
            if early is not None:
                return early
        return case.judge(ctx, ctx.probe(case.probe_name))

    judge.__name__ = case.check_id.rsplit(".", 1)[-1].replace("-", "_")
    judge.__doc__ = f"{case.level.value}: {case.requirement}"
    check(case.check_id, case.level, case.ref, case.requirement, profiles=case.profiles)(judge)


for _case in CASES:
    _register(_case)


def error_probe_names(ctx: Context) -> list[str]:
    """Probes of this family whose answer should be an error, for the run's profile.

    The errors family judges the envelope of every one of them (an unexpected 200 is simply
    not an error response and is left to the check of its own case).
    """
    return [
        c.probe_name
        for c in CASES
        if c.expects_error
        and ctx.config.profile in c.profiles
        and (c.precondition is None or c.precondition(ctx) is None)
    ]


# -- valid requests are accepted (§9 item 7) ------------------------------------------------

DARKBLOOM_SYSTEM = "You are a helpful assistant."
DARKBLOOM_QUESTION = "What is the difference between a process and a thread?"


@probe("request-accept-darkbloom-example")
def _darkbloom_example(ctx: Context) -> Exchange:
    # The page's example verbatim, except the model (the page's id may not exist on the target).
    return ctx.messages(
        {
            "model": ctx.model,
            "max_tokens": 512,
            "system": DARKBLOOM_SYSTEM,
            "messages": [{"role": "user", "content": DARKBLOOM_QUESTION}],
        },
        keep=("content", "system"),
    )


@probe("request-accept-content-string")
def _content_string(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx), keep=("content",))


@probe("request-accept-content-blocks")
def _content_blocks(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, messages=[{"role": "user", "content": [{"type": "text", "text": HELLO}]}]))


@probe("request-accept-system-string")
def _system_string(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, system=DARKBLOOM_SYSTEM), keep=("system",))


@probe("request-accept-system-blocks")
def _system_blocks(ctx: Context) -> Exchange:
    return ctx.messages(basic_body(ctx, system=[{"type": "text", "text": DARKBLOOM_SYSTEM}]))


@probe("request-accept-multi-turn")
def _multi_turn(ctx: Context) -> Exchange:
    return ctx.messages(
        basic_body(
            ctx,
            messages=[
                {"role": "user", "content": "Remember the word 'teal'."},
                {"role": "assistant", "content": "I will remember it."},
                {"role": "user", "content": HELLO},
            ],
        )
    )


def all_parameters_body(ctx: Context, version: str) -> dict:
    """A request that sets every top-level parameter the contract lists for ``version`` (§1.1),
    with values that change the answer as little as possible (no tool call, no thinking)."""
    body = basic_body(
        ctx,
        system=[{"type": "text", "text": DARKBLOOM_SYSTEM}],
        stop_sequences=["\n\n\n\n"],
        stream=False,
        metadata={"user_id": "conformance-harness"},
        tools=[
            {
                "name": "get_time",
                "description": "Current time in a time zone.",
                "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
            }
        ],
        tool_choice={"type": "none"},
        thinking={"type": "disabled"},
        service_tier="auto",
        output_config={"effort": None, "format": None},
        cache_control={"type": "ephemeral"},
        container=None,
        inference_geo=None,
    )
    if version == VERSION_2023:
        body.update(temperature=0.5, top_p=0.9, top_k=40)
    else:
        body.update(speed="standard", diagnostics=None)
    return body


@probe("request-accept-all-parameters")
def _all_parameters(ctx: Context) -> Exchange:
    return ctx.messages(all_parameters_body(ctx, ctx.config.anthropic_version))


def _accepted(ctx: Context, name: str, what: str, own: str | None = None) -> Outcome:
    """200 for the probe's request. ``own``: the check reports the refusal of its whole request
    (the Darkbloom example), folded under a form of it another check reports when that fails."""
    ex = ctx.probe(name)
    try:
        return expect_ok(ex) or Outcome.passed(f"HTTP 200 for {what}")
    except Blocked as exc:
        if own is None or ex.status in (401, 403):  # the credential, refused: not this request's
            raise
        raise Blocked([*exc.roots, own], exc.message, peers=exc.peers) from None


@check(
    "request.accept.darkbloom-example",
    MUST,
    "contract §9.7; Darkbloom: Examples",
    "The Darkbloom page's example request (system string, one user turn, max_tokens 512) is answered 200.",
)
def accept_darkbloom_example(ctx: Context) -> Outcome:
    """MUST answer the Darkbloom page's own example request (with the target's model) with 200."""
    return _accepted(
        ctx, "request-accept-darkbloom-example", "the Darkbloom example request", own="request.accept.darkbloom-example"
    )


@check(
    "request.accept.content-string",
    MUST,
    "contract §1.2, §9.7; Darkbloom: Request",
    "A user turn whose `content` is a string is answered 200.",
)
def accept_content_string(ctx: Context) -> Outcome:
    """MUST accept ``content`` as a string (shorthand for one text block)."""
    return _accepted(ctx, "request-accept-content-string", "string content")


@check(
    "request.accept.content-blocks",
    MUST,
    "contract §1.2, §1.3, §9.7",
    "A user turn whose `content` is an array of `text` blocks is answered 200.",
    profiles=ANTHROPIC_ONLY,
)
def accept_content_blocks(ctx: Context) -> Outcome:
    """MUST accept ``content`` as an array of ``text`` blocks."""
    return _accepted(ctx, "request-accept-content-blocks", "content as text blocks")


@check(
    "request.accept.system-string",
    MUST,
    "contract §1.1, §9.7; Darkbloom: Request",
    "A request with `system` as a string is answered 200.",
)
def accept_system_string(ctx: Context) -> Outcome:
    """MUST accept ``system`` as a string."""
    return _accepted(ctx, "request-accept-system-string", "a string system prompt")


@check(
    "request.accept.system-blocks",
    MUST,
    "contract §1.1, §9.7",
    "A request with `system` as an array of `text` blocks is answered 200.",
    profiles=ANTHROPIC_ONLY,
)
def accept_system_blocks(ctx: Context) -> Outcome:
    """MUST accept ``system`` as an array of ``text`` blocks."""
    return _accepted(ctx, "request-accept-system-blocks", "a system prompt as text blocks")


@check(
    "request.accept.multi-turn",
    SHOULD,
    "contract §1.2; Darkbloom: Request (role user or assistant)",
    "A conversation alternating user, assistant, user turns is answered 200.",
)
def accept_multi_turn(ctx: Context) -> Outcome:
    """SHOULD accept a user/assistant/user conversation (both roles the contract and the page list)."""
    return _accepted(ctx, "request-accept-multi-turn", "a three-turn conversation")


@check(
    "request.accept.all-parameters",
    SHOULD,
    "contract §1.1, §9.8",
    "A request setting every top-level parameter of the API version gets a 200 Message, or 400 "
    "`invalid_request_error` naming what is unsupported; never a 5xx or a 200 that is not a Message.",
    profiles=ANTHROPIC_ONLY,
)
def accept_all_parameters(ctx: Context) -> Outcome:
    """SHOULD accept every top-level parameter the contract lists for the version; a parameter the
    server does not support SHOULD be refused with 400 ``invalid_request_error`` (§9 item 8), which
    is reported as unsupported. A 5xx, another error, or a 200 whose body is not a valid Message
    (the parameters garbled the answer) fails."""
    ex = ctx.probe("request-accept-all-parameters")
    bad = reachable(ex)
    if bad:
        return bad
    if ex.status == 200:
        body = ex.json()
        if body is None:
            return Outcome.mismatch("a JSON Message", f"HTTP 200 with {ex.json_error}")
        errors = ctx.schemas.validate("message", body, profile=ctx.config.profile, version=ctx.config.anthropic_version)
        if errors:
            got = f"HTTP 200 whose {errors[0].message}"
            require_message(ex, f"expected a Message valid against schemas/message.json, got {got}")
            found = message_symptoms(body, errors)
            return Outcome.mismatch(
                "a Message valid against schemas/message.json", got, causes=[found] if found else []
            )
        return Outcome.passed("HTTP 200 with a valid Message")
    body = ex.json()
    if (
        ex.status == 400
        and isinstance(body, dict)
        and body.get("type") == "error"
        and error_type_of(ex) == "invalid_request_error"
    ):
        message = body["error"].get("message")
        return Outcome.unsupported(
            f"HTTP 400 invalid_request_error: a parameter is not supported ({str(message)[:120]!r})"
        )
    bad = Outcome.mismatch("HTTP 200 with a Message, or HTTP 400 invalid_request_error", describe(ex))
    require_ok(ex, bad.message)  # refused for a form of the request another check sends on its own
    return bad
