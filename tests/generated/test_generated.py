"""The fuzz family against the stub: the clean stub passes, faults are found and shrunk.

Against the clean stub every fuzz property holds at a small budget; stub defects make the
properties fail with one piece of evidence (the minimal example, re-sent once) and its curl line
in the message; the same seed gives the same minimal example; ``--compare`` reports a
disagreement between a clean and a broken stub. (The strategies themselves: test_strategies.py.)
"""

from __future__ import annotations

import json

import pytest

from conformance._catalog import Verdict
from conformance._driver import explore
from conformance._run import RunConfig, RunContext, RunSetupError, preflight, run_check
from conformance._strategies import GenRequest, Scope, valid_examples, valid_requests
from conformance.checks import load_catalog
from conformance.stub.server import serve_in_thread

KEY = "test-key"
LIMIT = 65536


# -- the checks against the stub -----------------------------------------------------------------


def run(faults=(), patterns=("fuzz.valid.*", "fuzz.invalid.*"), **config) -> dict:
    with serve_in_thread(api_keys=[KEY], faults=list(faults), max_body_bytes=LIMIT) as url:
        cfg = RunConfig(
            target=url,
            api_key=KEY,
            max_body_bytes=LIMIT,
            examples=config.pop("examples", 15),
            fuzz_seconds=config.pop("fuzz_seconds", 60.0),
            **config,
        )
        with RunContext.open(cfg) as ctx:
            preflight(ctx)
            return {
                c.id: run_check(ctx, c) for c in load_catalog().select(profile=cfg.profile, patterns=list(patterns))
            }


@pytest.mark.parametrize("profile", ["anthropic", "darkbloom"])
def test_clean_stub_passes(profile: str) -> None:
    results = run(profile=profile)
    assert results and all(r.verdict is Verdict.PASSED for r in results.values()), {
        k: r.outcome.message for k, r in results.items() if r.verdict is not Verdict.PASSED
    }
    assert all(r.evidence == [] for r in results.values())  # hundreds of exchanges, none of them evidence


@pytest.mark.parametrize(
    "fault, check_id",
    [
        ("no-validation", "fuzz.invalid.rejected-exactly"),
        ("server-error-on-bad-input", "fuzz.invalid.never-5xx"),
        ("unknown-model-fallback", "fuzz.invalid.rejected-exactly"),
        ("default-max-tokens", "fuzz.invalid.rejected-exactly"),
        ("ignore-max-tokens", "fuzz.valid.constraints-hold"),
        ("stop-sequence-in-text", "fuzz.valid.constraints-hold"),
        ("tool-use-end-turn", "fuzz.valid.constraints-hold"),
        ("chat-completion-body", "fuzz.valid.accepted"),
        ("missing-message-stop", "fuzz.valid.accepted"),
    ],
)
def test_defects_fail_with_a_minimal_example(fault: str, check_id: str) -> None:
    r = run([fault], patterns=[check_id])[check_id]
    assert r.verdict is Verdict.FAILED, r.outcome.message
    assert "minimal failing example" in r.outcome.message and "curl " in r.outcome.message
    assert len(r.evidence) == 1  # the minimal example, re-sent once
    assert KEY not in r.outcome.message and KEY not in json.dumps(r.evidence)


def test_a_seed_repeats_the_run() -> None:
    first = run(["no-validation"], patterns=["fuzz.invalid.rejected-exactly"], hypothesis_seed=7)
    again = run(["no-validation"], patterns=["fuzz.invalid.rejected-exactly"], hypothesis_seed=7)
    strip = lambda m: m.split("127.0.0.1:")[0]  # noqa: E731 (the port differs)
    a, b = (x["fuzz.invalid.rejected-exactly"].outcome.message for x in (first, again))
    assert strip(a) == strip(b)


def test_schemathesis_checks_become_catalog_results() -> None:
    ids = [c.id for c in load_catalog().select(patterns=["fuzz.schemathesis.*"])]
    assert ids == [
        f"fuzz.schemathesis.{n}"
        for n in (
            "not-a-server-error",
            "status-code-conformance",
            "content-type-conformance",
            "response-schema-conformance",
            "negative-data-rejection",
            "positive-data-acceptance",
            "ignored-auth",
        )
    ]
    # bounded by --examples, not by the clock: a slow machine must reach the same verdicts
    results = run(["ignore-auth"], patterns=["fuzz.schemathesis.*"], examples=8, fuzz_seconds=120)
    assert results["fuzz.schemathesis.ignored-auth"].verdict is Verdict.FAILED
    assert len(results["fuzz.schemathesis.ignored-auth"].evidence) == 1
    assert results["fuzz.schemathesis.not-a-server-error"].verdict is Verdict.PASSED


def test_a_builtin_check_that_judged_nothing_is_inconclusive() -> None:
    """ignored_auth only judges a case that got a 2xx: with none in the budget it has tested
    nothing, and "held" would be a skip counted as a pass."""
    from conformance.checks import schemathesis

    with serve_in_thread(api_keys=[KEY], max_body_bytes=LIMIT) as url:
        with RunContext.open(RunConfig(target=url, api_key=KEY, max_body_bytes=LIMIT)) as ctx:
            preflight(ctx)
            schemathesis._state(ctx).schemathesis = schemathesis._Pass(cases=5, judged={"not_a_server_error": 5})
            checks = {c.id: c for c in load_catalog().select(patterns=["fuzz.schemathesis.*"])}
            held = run_check(ctx, checks["fuzz.schemathesis.not-a-server-error"])
            idle = run_check(ctx, checks["fuzz.schemathesis.ignored-auth"])
    assert held.verdict is Verdict.PASSED and "held on the 5" in held.outcome.message
    assert idle.verdict is Verdict.INCONCLUSIVE and "none that ignored_auth could judge" in idle.outcome.message


def test_compare_reports_a_disagreement() -> None:
    with serve_in_thread(api_keys=[KEY], faults=["no-validation"], max_body_bytes=LIMIT) as other:
        results = run(patterns=["fuzz.compare.agree"], compare=other, examples=10)
    r = results["fuzz.compare.agree"]
    assert r.verdict is Verdict.FAILED and "minimal request" in r.outcome.message, r.outcome.message
    assert len(r.evidence) == 2  # the same request, to each target
    with serve_in_thread(api_keys=[KEY], max_body_bytes=LIMIT) as twin:
        results = run(patterns=["fuzz.compare.agree"], compare=twin, examples=10)
    assert results["fuzz.compare.agree"].verdict is Verdict.PASSED, results["fuzz.compare.agree"].outcome.message
    assert run(patterns=["fuzz.compare.agree"])["fuzz.compare.agree"].verdict is Verdict.SKIPPED


def test_budget_options_are_checked() -> None:
    with pytest.raises(RunSetupError):
        RunConfig(target="http://x", examples=0).validate()
    with pytest.raises(RunSetupError):
        RunConfig(target="http://x", fuzz_seconds=0).validate()


# -- exploring in batches ------------------------------------------------------------------------


def _offline(examples: int) -> RunContext:
    """A run context for explore() alone (nothing is sent: the properties below judge locally)."""
    return RunContext.open(
        RunConfig(target="http://127.0.0.1:9", examples=examples, fuzz_seconds=60.0, hypothesis_seed=3)
    )


def test_batches_count_the_examples_judged() -> None:
    seen: list = []
    with _offline(120) as ctx:
        run = explore(
            ctx,
            valid_requests(Scope()),
            lambda req, r: seen.append(req.key()),
            examples=valid_examples(Scope()),
            batch=GenRequest.key,
        )
    assert run.failure is None and run.examples == 120 + len(valid_examples(Scope())) == len(seen)


def test_a_batched_failure_is_one_minimal_request() -> None:
    def prop(req, run) -> str | None:
        return "streams" if req.body.get("stream") is True else None

    with _offline(300) as ctx:
        run = explore(ctx, valid_requests(Scope()), prop, batch=GenRequest.key)
    assert isinstance(run.failure, GenRequest) and run.reason == "streams"
    assert run.failure.body == {
        "model": Scope().model,
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 1,
        "stream": True,
    }


def test_a_later_run_replays_the_schemathesis_cases_it_would_draw() -> None:
    """The shared schemathesis pass of a second run with the same seed, model and budget (the
    kill matrix: one run per fault) replays the cases drawn by the first: the same requests, in
    the same order, as a fresh draw sends."""
    from conformance.checks import schemathesis

    def requests_sent(fresh: bool) -> list[tuple]:
        if fresh:
            schemathesis._DRAWN.clear()
        with serve_in_thread(api_keys=[KEY], faults=["ignore-auth"], max_body_bytes=LIMIT) as url:
            with RunContext.open(
                RunConfig(
                    target=url, api_key=KEY, max_body_bytes=LIMIT, examples=8, fuzz_seconds=120, hypothesis_seed=11
                )
            ) as ctx:
                preflight(ctx)
                schemathesis._shared_pass(ctx)
                return [k[1:] for k in schemathesis._state(ctx).cache if k[0] == "schemathesis"]

    fresh = requests_sent(fresh=True)
    assert len(schemathesis._DRAWN) == 3  # positive, negative, negative POST /v1/messages
    replayed = requests_sent(fresh=False)
    assert len(fresh) >= 16 and replayed == fresh
    assert requests_sent(fresh=True) == fresh


def test_processes_sharing_a_run_directory_compute_each_part_of_the_pass_once(tmp_path) -> None:
    """Under xdist the schemathesis checks are two share groups, and the workers share the
    pass's parts through the run's directory (conformance._share.Parts): a process that finds a part
    claimed takes the other's result instead of drawing and sending it again, failures and
    their requests included; a part given up by its claimant is computed by the process that
    needs it."""
    from conformance._share import Parts
    from conformance.checks import schemathesis

    share = tmp_path / "run"
    share.mkdir()
    with serve_in_thread(api_keys=[KEY], faults=["ignore-auth"], max_body_bytes=LIMIT) as url:
        config = RunConfig(
            target=url,
            api_key=KEY,
            max_body_bytes=LIMIT,
            examples=6,
            fuzz_seconds=120,
            hypothesis_seed=5,
            share_dir=str(share),
        )

        def pass_of() -> tuple[schemathesis._Pass, int, RunContext]:
            ctx = RunContext.open(config)
            preflight(ctx)
            result = schemathesis._shared_pass(ctx)
            sent = sum(1 for k in schemathesis._state(ctx).cache if k[0] == "schemathesis")
            return result, sent, ctx

        first, first_sent, ctx1 = pass_of()
        second, second_sent, ctx2 = pass_of()
        try:
            assert first_sent > 0 and second_sent == 0  # the second process drew and sent nothing
            assert second.to_json() == first.to_json() and "ignored_auth" in second.failures
            assert all(KEY.encode() not in f.read_bytes() for f in share.iterdir()), "the API key went to disk"
            outcome = schemathesis._builtin_check("ignored_auth")(ctx2)  # shrinks from the shared finding
            assert outcome.verdict.value == "failed" and "minimal case" in outcome.message, outcome.message
        finally:
            ctx1.close()
            ctx2.close()

        # a part its claimant gave up (the run budget ran out mid-part) is computed here
        parts = Parts(str(share), "schemathesis-k")
        assert parts.claim(0) and not parts.claim(0)
        parts.abandon(0)
        assert parts.wait(0, 5) is None
        assert parts.claim(1)
        assert parts.wait(1, 0.1) is None  # claimed and never delivered: the bound ends the wait
