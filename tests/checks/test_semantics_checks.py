"""semantics.*: every check passes (or is legitimately inconclusive) against the clean stub and
the controls, and each one fails under at least one stub defect (the faults whose trips name it)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from family import concluded_failing, run_checks, run_resolved
from family import verdicts as family_verdicts

from conformance._catalog import Verdict
from conformance._exchange import Exchange, RecordedRequest
from conformance._run import RunConfig
from conformance.checks import load_catalog
from conformance.checks._shared import StopSequenceTrials, StopSequenceTry, pick_stop_sequence
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.catalog import SDK_MODEL_IDS
from conformance.stub.faults import BY_NAME, FAULTS

FAMILY = "semantics.*"
CONTROLS = [f.name for f in FAULTS if f.kind == "control"]
IDS = [c.id for c in load_catalog().select(patterns=[FAMILY])]
# The stub answers "count from 1 to 10" with the whole count even after the prefill "1 2 3 4 5"
# (its generate.py docstring says the answer continues a prefill; the code does not), so the
# prefill check can only be inconclusive there: 200 and a Message, but a repeated prefill.
STUB_REPEATS_PREFILL = "semantics.conversation.prefill"


@cache
def verdicts(faults: tuple[str, ...] = (), **config) -> dict[str, tuple[Verdict, str]]:
    return family_verdicts(FAMILY, faults, model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20, **config)


def _not_passed(results: dict[str, tuple[Verdict, str]]) -> dict[str, tuple[Verdict, str]]:
    return {
        i: v
        for i, v in results.items()
        if v[0] is not Verdict.PASSED and not (i == STUB_REPEATS_PREFILL and v[0] is Verdict.INCONCLUSIVE)
    }


def test_every_check_is_named_by_some_defects_trips() -> None:
    assert IDS
    assert sorted(set(IDS) - {cid for f in FAULTS for cid in named_checks(f, IDS)}) == []


@pytest.mark.parametrize("profile", ["anthropic", "darkbloom"])
def test_clean_stub_passes(profile: str) -> None:
    results = verdicts(profile=profile)
    assert results
    assert _not_passed(results) == {}


def test_clean_stub_passes_under_api_version_2026() -> None:
    assert _not_passed(verdicts(version="2026-10-21")) == {}


def test_darkbloom_profile_keeps_the_documented_subset() -> None:
    assert set(verdicts(profile="darkbloom")) == {
        "semantics.max-tokens.cut",
        "semantics.max-tokens.bound",
        "semantics.usage.output-counted",
        "semantics.system.string-counted",
        "semantics.conversation.multi-turn",
    }


@pytest.mark.parametrize("control", CONTROLS)
def test_controls_fail_nothing(control: str) -> None:
    assert _not_passed(verdicts((control,))) == {}


# every defect whose trips name a check of the family fails each check they name (several
# defects get the same requirement wrong in different ways)
@pytest.mark.parametrize("fault", faults_naming(IDS))
def test_defect_fails_the_checks_its_trips_name(fault: str) -> None:
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(FAMILY, [fault], model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20)
    named = named_checks(BY_NAME[fault], IDS)
    assert named
    missing = set(named) - set(concluded_failing(view, named))
    assert {cid: (view[cid]["verdict"], view[cid]["message"]) for cid in missing} == {}


LEARNED = "try 1: stop_sequences ['7'] taken from the answer '1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20'"


def test_stop_sequence_verdicts_say_what_came() -> None:
    verdict, message = verdicts(("stop-sequence-in-text",))["semantics.stop-sequence.honoured"]
    assert message.startswith(f"expected text ending before the stop sequence '7' ({LEARNED}), got text")
    verdict, message = verdicts(("stop-sequence-not-echoed",))["semantics.stop-sequence.honoured"]
    assert message == f"expected stop_sequence '7' ({LEARNED}), got stop_sequence None"


def test_a_canned_reply_is_challenged_with_its_own_words() -> None:
    # a mock server that always says the same thing never counts to 7: the stop sequence is
    # taken from its own answer, which it then fails to stop at
    verdict, message = verdicts(("canned-reply",))["semantics.stop-sequence.honoured"]
    assert verdict is Verdict.FAILED
    assert "stop_sequences ['reply'] taken from the answer 'Hello! I am a canned reply" in message


def test_a_stop_sequence_is_a_word_first_seen_a_third_of_the_way_in() -> None:
    assert pick_stop_sequence("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20") == "7"
    assert pick_stop_sequence("Hello! How can I help you today?") == "can"
    assert pick_stop_sequence("ab cd ab ef gh ij") == "ef"  # the third word, "ab", comes earlier
    assert pick_stop_sequence("ok") is None and pick_stop_sequence("") is None


def test_usage_that_reports_nothing_fails_the_usage_check_alone() -> None:
    results = verdicts(("output-tokens-zero",))
    assert results["semantics.usage.output-counted"][0] is Verdict.FAILED
    assert results["semantics.max-tokens.cut"][0] is Verdict.PASSED  # the cut is judged on the text too


def test_missing_usage_blocks_the_usage_checks_not_fails_them() -> None:
    """No integer usage.output_tokens: the checks that read it are blocked by the check that
    reports it (response.usage.required-ints), neither failed nor left inconclusive."""
    results = run_checks(
        ["semantics.*"], ["missing-output-tokens"], model=SDK_MODEL_IDS[0], timeout=10, total_timeout=20
    )
    for cid in ("semantics.max-tokens.cut", "semantics.max-tokens.bound", "semantics.usage.output-counted"):
        assert results[cid].verdict is Verdict.BLOCKED, (cid, results[cid].outcome)
        assert results[cid].outcome.blocked_by == ("response.usage.required-ints",)


# ------------------------------------------------------------------ verdicts the stub never gives
# (a real model that ends early, a target that declines a capability): judged on canned exchanges.


class CannedContext:
    """Just enough of RunContext for a check: probes answer canned exchanges."""

    def __init__(self, **probes: Exchange) -> None:
        self.probes = {k.replace("_", "-"): v for k, v in probes.items()}
        self.config = RunConfig(target="http://127.0.0.1:9", profile="anthropic")

    def probe(self, name: str) -> Any:
        return self.probes[name]


def canned(status: int, body: dict) -> Exchange:
    request = RecordedRequest("POST", "http://127.0.0.1:9/v1/messages", (), b"{}")
    return Exchange(
        request=request,
        status=status,
        headers=(("content-type", "application/json"),),
        body=json.dumps(body).encode(),
        complete=True,
    )


def message(text: str, stop_reason: str, output_tokens: int = 5, **extra) -> Exchange:
    return canned(
        200,
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": output_tokens},
            **extra,
        },
    )


def declined_400() -> Exchange:
    return canned(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "tools: not supported"}})


def judge(check_id: str, ctx: CannedContext) -> Verdict:
    return load_catalog()[check_id].judge(ctx).verdict


def test_model_ending_before_the_limit_is_inconclusive() -> None:
    ctx = CannedContext(max_tokens_cut=message("1", "end_turn", output_tokens=1))
    assert judge("semantics.max-tokens.cut", ctx) is Verdict.INCONCLUSIVE


def trials(*tries: tuple[str, str]) -> StopSequenceTrials:
    """Learn-then-challenge tries: (learned text, text answered with the stop sequence)."""
    out = StopSequenceTrials()
    for learned, answered in tries:
        sequence = pick_stop_sequence(learned)
        out.tries.append(StopSequenceTry(message(learned, "end_turn"), sequence, message(answered, "end_turn")))
    return out


def test_model_never_producing_the_stop_sequence_again_is_inconclusive() -> None:
    # a model that answers differently each time: every try went elsewhere
    ctx = CannedContext(stop_sequence=trials(("One, two, three, four.", "Uno."), ("Eins, zwei, drei, vier.", "Un.")))
    assert judge("semantics.stop-sequence.honoured", ctx) is Verdict.INCONCLUSIVE


def test_a_learned_answer_without_words_is_inconclusive() -> None:
    ctx = CannedContext(stop_sequence=StopSequenceTrials([StopSequenceTry(message("ok", "end_turn"), None, None)]))
    assert judge("semantics.stop-sequence.honoured", ctx) is Verdict.INCONCLUSIVE


def test_a_max_tokens_cut_that_usage_hides_is_judged_on_the_text() -> None:
    ctx = CannedContext(max_tokens_cut=message("1 2 3 4 5 6 7 8 9 10", "end_turn", output_tokens=0))
    assert judge("semantics.max-tokens.cut", ctx) is Verdict.FAILED


def test_declined_capabilities_are_unsupported() -> None:
    ctx = CannedContext(
        tools_forced=declined_400(),
        tools_none=declined_400(),
        tool_result=declined_400(),
        thinking=declined_400(),
        prefill=declined_400(),
    )
    for check_id in (
        "semantics.tools.forced-tool",
        "semantics.tools.toolu-id",
        "semantics.tools.choice-none",
        "semantics.tools.tool-result-accepted",
        "semantics.thinking.block-first",
        "semantics.conversation.prefill",
    ):
        assert judge(check_id, ctx) is Verdict.UNSUPPORTED, check_id


def test_prefill_continued_passes_and_repeated_is_inconclusive() -> None:
    assert (
        judge("semantics.conversation.prefill", CannedContext(prefill=message(" 6 7 8 9 10", "end_turn")))
        is Verdict.PASSED
    )
    repeated = CannedContext(prefill=message("1 2 3 4 5 6 7 8 9 10", "end_turn"))
    assert judge("semantics.conversation.prefill", repeated) is Verdict.INCONCLUSIVE


def test_tool_call_with_wrong_input_fails() -> None:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"town": "Paris"}}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    assert judge("semantics.tools.forced-tool", CannedContext(tools_forced=canned(200, body))) is Verdict.FAILED


def test_a_tools_refusal_after_tools_worked_is_a_failure_not_a_decline() -> None:
    forced = canned(
        200,
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    )
    ctx = CannedContext(tools_forced=forced, tool_result=declined_400())
    assert judge("semantics.tools.tool-result-accepted", ctx) is Verdict.FAILED
    ctx = CannedContext(tools_forced=declined_400(), tool_result=declined_400())
    assert judge("semantics.tools.tool-result-accepted", ctx) is Verdict.UNSUPPORTED


@pytest.mark.parametrize(
    "fault", [None, "canned-reply", "ignore-stop-sequences", "ignore-max-tokens", "output-tokens-zero", "ignore-system"]
)
def test_model_dependent_checks_are_decided_on_deterministic_text(fault: str | None) -> None:
    """The stub and the faults whose text is deterministic (canned replies, echoes) leave no
    semantics check inconclusive: learning what the target says, then challenging it, decides."""
    results = verdicts(() if fault is None else (fault,))
    assert {cid: vm for cid, vm in results.items() if vm[0] is Verdict.INCONCLUSIVE} == {}
