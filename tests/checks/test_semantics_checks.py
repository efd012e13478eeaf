"""semantics.*: every check passes (or is legitimately inconclusive) against the clean stub and
the controls, and each one fails under at least one stub defect (the faults below)."""

from __future__ import annotations

import json
from functools import lru_cache

import pytest

from conformance._catalog import Verdict, load_catalog
from conformance._exchange import Exchange, RecordedRequest
from conformance._run import RunConfig, RunContext, run_check
from conformance.stub.catalog import SDK_MODEL_IDS
from conformance.stub.faults import FAULTS
from conformance.stub.server import serve_in_thread

KEY = "test-key"
FAMILY = "semantics.*"
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]
# The stub answers "count from 1 to 10" with the whole count even after the prefill "1 2 3 4 5"
# (its generate.py docstring says the answer continues a prefill; the code does not), so the
# prefill check can only be inconclusive there: 200 and a Message, but a repeated prefill.
STUB_REPEATS_PREFILL = "semantics.conversation.prefill"


@lru_cache(maxsize=None)
def verdicts(faults: tuple[str, ...] = (), profile: str = "anthropic", version: str = "2023-06-01") -> dict[str, tuple[Verdict, str]]:
    checks = load_catalog().select(profile=profile, patterns=[FAMILY])
    with serve_in_thread(api_keys=[KEY], faults=list(faults)) as url:
        config = RunConfig(target=url, api_key=KEY, model=SDK_MODEL_IDS[0], profile=profile, anthropic_version=version,
                           timeout=10, total_timeout=20)
        with RunContext.open(config) as ctx:
            return {c.id: (r.verdict, r.outcome.message) for c in checks for r in [run_check(ctx, c)]}


def _not_passed(results: dict[str, tuple[Verdict, str]]) -> dict[str, tuple[Verdict, str]]:
    return {
        i: v
        for i, v in results.items()
        if v[0] is not Verdict.PASSED and not (i == STUB_REPEATS_PREFILL and v[0] is Verdict.INCONCLUSIVE)
    }


def test_the_family_is_registered() -> None:
    ids = {c.id for c in load_catalog().select(patterns=[FAMILY])}
    assert ids == set(KILLS)


@pytest.mark.parametrize("profile", ["anthropic", "darkbloom"])
def test_clean_stub_passes(profile: str) -> None:
    results = verdicts((), profile)
    assert results
    assert _not_passed(results) == {}


def test_clean_stub_passes_under_api_version_2026() -> None:
    assert _not_passed(verdicts((), "anthropic", "2026-10-21")) == {}


def test_darkbloom_profile_keeps_the_documented_subset() -> None:
    assert set(verdicts((), "darkbloom")) == {
        "semantics.max-tokens.cut",
        "semantics.max-tokens.bound",
        "semantics.system.string-counted",
        "semantics.conversation.multi-turn",
    }


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    assert _not_passed(verdicts((control,))) == {}


# check id -> a defect fault that must make it fail
KILLS = {
    "semantics.max-tokens.cut": "ignore-max-tokens",
    "semantics.max-tokens.bound": "ignore-max-tokens",
    "semantics.stop-sequence.honoured": "stop-sequence-in-text",
    "semantics.system.string-counted": "ignore-system",
    "semantics.system.blocks-counted": "ignore-system",
    "semantics.content.string-and-blocks": "chat-completion-body",
    "semantics.conversation.multi-turn": "chat-completion-body",
    "semantics.conversation.prefill": "chat-completion-body",
    "semantics.tools.forced-tool": "tool-use-end-turn",
    "semantics.tools.toolu-id": "non-msg-ids",
    "semantics.tools.choice-none": "chat-completion-body",
    "semantics.tools.tool-result-accepted": "chat-completion-body",
    "semantics.thinking.block-first": "thinking-without-signature",
}
# more defects each check must catch (several ways to get the same requirement wrong)
ALSO = [
    ("semantics.max-tokens.cut", "openai-stop-reasons"),
    ("semantics.stop-sequence.honoured", "ignore-stop-sequences"),
    ("semantics.stop-sequence.honoured", "stop-sequence-not-echoed"),
    ("semantics.tools.forced-tool", "tool-input-as-string"),
    ("semantics.thinking.block-first", "missing-message-start"),
]


@pytest.mark.parametrize("check_id,fault", sorted(KILLS.items()) + ALSO)
def test_defect_fails_check(check_id: str, fault: str) -> None:
    verdict, message = verdicts((fault,))[check_id]
    assert verdict is Verdict.FAILED, f"{check_id} under {fault}: {verdict.value} ({message})"


def test_stop_sequence_verdicts_say_what_came() -> None:
    verdict, message = verdicts(("stop-sequence-in-text",))["semantics.stop-sequence.honoured"]
    assert message.startswith("expected text ending before the stop sequence '7', got text")
    verdict, message = verdicts(("stop-sequence-not-echoed",))["semantics.stop-sequence.honoured"]
    assert message == "expected stop_sequence '7', got stop_sequence None"


def test_missing_usage_is_inconclusive_not_failed() -> None:
    results = verdicts(("missing-output-tokens",))
    assert results["semantics.max-tokens.cut"][0] is Verdict.INCONCLUSIVE
    assert results["semantics.max-tokens.bound"][0] is Verdict.INCONCLUSIVE


# ------------------------------------------------------------------ verdicts the stub never gives
# (a real model that ends early, a target that declines a capability): judged on canned exchanges.


class CannedContext:
    """Just enough of RunContext for a check: probes answer canned exchanges."""

    def __init__(self, **probes: Exchange) -> None:
        self.probes = {k.replace("_", "-"): v for k, v in probes.items()}
        self.config = RunConfig(target="http://127.0.0.1:9", profile="anthropic")

    def probe(self, name: str) -> Exchange:
        return self.probes[name]


def canned(status: int, body: dict) -> Exchange:
    request = RecordedRequest("POST", "http://127.0.0.1:9/v1/messages", (), b"{}")
    return Exchange(request=request, status=status, headers=(("content-type", "application/json"),), body=json.dumps(body).encode(), complete=True)


def message(text: str, stop_reason: str, output_tokens: int = 5, **extra) -> Exchange:
    return canned(200, {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}], "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": output_tokens}, **extra,
    })


def declined_400() -> Exchange:
    return canned(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "tools: not supported"}})


def judge(check_id: str, ctx: CannedContext) -> Verdict:
    return load_catalog()[check_id].judge(ctx).verdict


def test_model_ending_before_the_limit_is_inconclusive() -> None:
    ctx = CannedContext(max_tokens_cut=message("1", "end_turn", output_tokens=1))
    assert judge("semantics.max-tokens.cut", ctx) is Verdict.INCONCLUSIVE


def test_model_never_producing_the_stop_sequence_is_inconclusive() -> None:
    ctx = CannedContext(stop_sequence=message("One, two, three.", "end_turn"))
    assert judge("semantics.stop-sequence.honoured", ctx) is Verdict.INCONCLUSIVE


def test_declined_capabilities_are_unsupported() -> None:
    ctx = CannedContext(tools_forced=declined_400(), tools_none=declined_400(), tool_result=declined_400(),
                        thinking=declined_400(), prefill=declined_400())
    for check_id in ("semantics.tools.forced-tool", "semantics.tools.toolu-id", "semantics.tools.choice-none",
                     "semantics.tools.tool-result-accepted", "semantics.thinking.block-first",
                     "semantics.conversation.prefill"):
        assert judge(check_id, ctx) is Verdict.UNSUPPORTED, check_id


def test_prefill_continued_passes_and_repeated_is_inconclusive() -> None:
    assert judge("semantics.conversation.prefill", CannedContext(prefill=message(" 6 7 8 9 10", "end_turn"))) is Verdict.PASSED
    repeated = CannedContext(prefill=message("1 2 3 4 5 6 7 8 9 10", "end_turn"))
    assert judge("semantics.conversation.prefill", repeated) is Verdict.INCONCLUSIVE


def test_tool_call_with_wrong_input_fails() -> None:
    body = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"town": "Paris"}}],
        "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    assert judge("semantics.tools.forced-tool", CannedContext(tools_forced=canned(200, body))) is Verdict.FAILED
