"""The probes several check families read: one definition each, named by a constant.

``basic`` is the plain request most checks judge; the others are semantics probes whose 200
answers the response family also validates against the Message schema (contract §1, §2).
"""

from __future__ import annotations

from typing import Any

from conformance._probes import Context, probe
from conformance.checks._common import WEATHER_QUESTION, WEATHER_TOOL, basic_body

BASIC = "basic"
BASIC_AGAIN = "basic-again"
MAX_TOKENS_CUT = "max-tokens-cut"
STOP_SEQUENCE_PROBE = "stop-sequence"
TOOLS_FORCED = "tools-forced"
THINKING = "thinking"

# Counting is the one answer every model gives the same way, token after token.
COUNT_TO_50 = "Count from 1 to 50, separated by spaces."
COUNT_TO_20 = "Count from 1 to 20, separated by spaces."
# "7" occurs in any rendering of 1..20 ("7", " 7", "7,"), so a stop sequence is certain to match.
STOP_SEQUENCE = "7"


@probe(BASIC)
def _basic(ctx: Context):
    return ctx.messages(basic_body(ctx))


@probe(BASIC_AGAIN)
def _basic_again(ctx: Context):
    return ctx.messages(basic_body(ctx))


@probe(MAX_TOKENS_CUT)
def _max_tokens_cut(ctx: Context):
    return ctx.messages(basic_body(ctx, max_tokens=1, messages=[{"role": "user", "content": COUNT_TO_50}]))


@probe(STOP_SEQUENCE_PROBE)
def _stop_sequence(ctx: Context):
    return ctx.messages(
        basic_body(
            ctx,
            max_tokens=100,
            messages=[{"role": "user", "content": COUNT_TO_20}],
            stop_sequences=[STOP_SEQUENCE],
        )
    )


def tools_body(ctx: Context, **extra: Any) -> dict:
    return basic_body(
        ctx, max_tokens=256, tools=[WEATHER_TOOL], messages=[{"role": "user", "content": WEATHER_QUESTION}], **extra
    )


@probe(TOOLS_FORCED)
def _tools_forced(ctx: Context):
    return ctx.messages(tools_body(ctx, tool_choice={"type": "tool", "name": WEATHER_TOOL["name"]}))


def thinking_body(ctx: Context, **extra: Any) -> dict:
    return basic_body(
        ctx,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "What is 12 times 12? Answer with the number only."}],
        **extra,
    )


@probe(THINKING)
def _thinking(ctx: Context):
    return ctx.messages(thinking_body(ctx))
