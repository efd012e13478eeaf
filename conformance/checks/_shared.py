"""The probes several check families read: one definition each, named by a constant.

``basic`` is the plain request most checks judge; the others are semantics probes whose 200
answers the response family also validates against the Message schema (contract §1, §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance._exchange import Exchange
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


@probe(BASIC)
def _basic(ctx: Context):
    return ctx.messages(basic_body(ctx))


@probe(BASIC_AGAIN)
def _basic_again(ctx: Context):
    return ctx.messages(basic_body(ctx))


@probe(MAX_TOKENS_CUT)
def _max_tokens_cut(ctx: Context):
    return ctx.messages(basic_body(ctx, max_tokens=1, messages=[{"role": "user", "content": COUNT_TO_50}]))


@dataclass
class StopSequenceTry:
    """One learn-then-challenge try: the answer without a stop sequence, the sequence taken
    from inside it, and the answer to the same request with that stop sequence."""

    learned: Exchange
    sequence: str | None  # None: the learned answer had no text to take one from
    challenged: Exchange | None


@dataclass
class StopSequenceTrials:
    tries: list[StopSequenceTry] = field(default_factory=list)

    @property
    def exchange(self) -> Exchange:
        """The last answer to a request with a stop sequence (else the last learned answer)."""
        last = self.tries[-1]
        return last.challenged or last.learned


STOP_SEQUENCE_TRIES = 3


def pick_stop_sequence(text: str) -> str | None:
    """A stop sequence any compliant server must act on, given that it answers ``text`` again:
    the first word from a third of the way in whose first occurrence is that word (so the text
    before it is unchanged), e.g. "7" in "1 2 3 ... 20", "can" in "Hello! How can I help?"."""
    words = text.split()
    offset = 0
    positions = []
    for word in words:
        offset = text.index(word, offset)
        positions.append(offset)
        offset += len(word)
    for i in range(max(1, len(words) // 3), len(words)):
        if text.find(words[i]) == positions[i] > 0:
            return words[i]
    return None


def _counting(ctx: Context, **extra: Any) -> Exchange:
    body = basic_body(ctx, max_tokens=100, messages=[{"role": "user", "content": COUNT_TO_20}], **extra)
    if ctx.config.anthropic_version == "2023-06-01":
        # temperature 0 makes a model repeat itself; refused, the same request goes without it
        ex = ctx.messages({**body, "temperature": 0})
        if ex.status != 400:
            return ex
    return ctx.messages(body)


@probe(STOP_SEQUENCE_PROBE)
def _stop_sequence(ctx: Context) -> StopSequenceTrials:
    """Learn, then challenge: ask for a count, take a stop sequence from inside the answer, and
    ask again with it; a try whose second answer went elsewhere is repeated (contract §1.1)."""
    trials = StopSequenceTrials()
    for _ in range(STOP_SEQUENCE_TRIES):
        learned = _counting(ctx)
        body = learned.json() if learned.status == 200 else None
        text = message_text(body) if isinstance(body, dict) else ""
        sequence = pick_stop_sequence(text)
        challenged = _counting(ctx, stop_sequences=[sequence]) if sequence else None
        trials.tries.append(StopSequenceTry(learned, sequence, challenged))
        if sequence is None or challenged is None or challenged.status != 200:
            break
        answer = challenged.json()
        if (
            not isinstance(answer, dict)
            or answer.get("stop_reason") == "stop_sequence"
            or sequence in message_text(answer)
        ):
            break  # decided: acted on, or ignored
    return trials


def message_text(msg: dict) -> str:
    """The text of a Message's text blocks, joined."""
    content = msg.get("content")
    return (
        "".join(
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
        if isinstance(content, list)
        else ""
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


def shown_supported(ctx: Context, capability: str) -> bool:
    """Whether the target has shown it supports ``capability`` ("tools", "thinking"): its own
    probe (forced tool use; thinking enabled) was answered 200 with the capability's block.
    Read whatever order checks run in; once shown, a 400 to a later valid request using the
    capability is a defect, not a decline."""
    name, blocks = {"tools": (TOOLS_FORCED, ("tool_use",)), "thinking": (THINKING, ("thinking", "redacted_thinking"))}[
        capability
    ]
    ex = ctx.probe(name)
    body = ex.json() if isinstance(ex, Exchange) and ex.status == 200 else None
    content = body.get("content") if isinstance(body, dict) else None
    return isinstance(content, list) and any(isinstance(b, dict) and b.get("type") in blocks for b in content)
