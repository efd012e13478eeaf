"""The errors family against the stub: clean passes, each error-path defect fails its checks.

Also a few minimal fake targets (a fixed answer to every request) for what no stub fault
covers: a target with no failure-injection models (inconclusive, never failed), a 429 without
``retry-after``, and a target that never errs at all.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from family import concluded_failing, folded, run_checks, run_resolved, run_url, stub_context

from conformance._catalog import Verdict
from conformance.checks import errors as er
from conformance.checks import load_catalog
from conformance.checks import request as rq
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.faults import BY_NAME, FAULTS

MODEL = "claude-opus-4-6"
PATTERNS = ["errors.*"]


def _ids(profile: str | None = None) -> list[str]:
    return [c.id for c in load_catalog().select(profile=profile, patterns=PATTERNS)]


def _verdicts(results: dict) -> dict[str, str]:
    return {cid: f"{r.verdict.value}: {r.outcome.message}" for cid, r in results.items()}


def _not(results: dict, verdict: Verdict) -> dict[str, str]:
    return {cid: v for cid, v in _verdicts(results).items() if results[cid].verdict is not verdict}


# -- clean stub --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["anthropic", "darkbloom"])
def test_clean_stub_passes_every_errors_check(profile):
    results = run_checks(PATTERNS, profile=profile, model=None)
    assert set(results) == set(_ids(profile))
    assert not _not(results, Verdict.PASSED)


def test_envelope_checks_judge_every_error_probe_and_keep_them_as_evidence():
    results = run_checks(["errors.envelope.shape"], model=MODEL)
    r = results["errors.envelope.shape"]
    statuses = {e["status"] for e in r.evidence}
    assert {400, 401, 404, 405, 429, 529} <= statuses
    # request-family probes, auth probes and this family's own: one evidence entry per exchange
    request_errors = [c for c in rq.CASES if c.expects_error and c.precondition is None]  # no size limit declared
    assert len(r.evidence) == len(request_errors) + 2 + 5


def test_darkbloom_runs_only_its_own_error_probes():
    with stub_context(profile="darkbloom", model=MODEL) as ctx:
        names = rq.error_probe_names(ctx)
    assert "request-missing-max-tokens" in names and "request-unknown-model" in names
    assert "request-unknown-block-type" not in names and "request-missing-version-header" not in names
    assert "request-oversize" not in names  # no declared limit


def test_error_table_is_the_contract_table():
    class Ctx:
        from conformance._schema import load_schemas

        schemas = load_schemas()

    table = er.error_table(Ctx)
    assert table["overloaded_error"]["status"] == 529 and table["request_too_large"]["status"] == 413
    assert er._pair_problem(table, 503, "overloaded_error")
    assert er._pair_problem(table, 404, "model_not_found")
    assert er._pair_problem(table, 502, "provider_error")
    assert er._pair_problem(table, 405, "invalid_request_error") is None
    assert er._pair_problem(table, 500, "api_error") is None


@pytest.mark.parametrize(
    "value,ok",
    [
        ("1", True),
        ("0.5", True),
        ("Wed, 21 Oct 2015 07:28:00 GMT", True),
        (None, False),
        ("soon", False),
        ("-3", False),
    ],
)
def test_retry_after_values(value, ok):
    assert (er._retry_after_problem(value) is None) is ok


# -- control faults never trip an errors check -------------------------------------------------

CONTROLS = [f.name for f in FAULTS if f.kind == "control"]


@pytest.mark.parametrize("fault", CONTROLS)
def test_control_faults_leave_errors_checks_passing(fault):
    assert not _not(run_checks(PATTERNS, [fault], model=MODEL), Verdict.PASSED)


# -- defects trip the checks -------------------------------------------------------------------


# exact: a defect whose trips name errors checks fails those and passes every other one
@pytest.mark.parametrize("fault", faults_naming(_ids("anthropic")))
def test_defect_fails_exactly_the_checks_its_trips_name(fault):
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(PATTERNS, [fault], model=MODEL)
    ids = _ids("anthropic")
    named = named_checks(BY_NAME[fault], ids)
    assert concluded_failing(view, ids) == sorted(named), {cid: view[cid]["message"] for cid in ids}
    # every other one passes, or is shown blocked under a check that fails for it
    untouched = set(ids) - set(named)
    assert {cid: view[cid]["verdict"] for cid in untouched if view[cid]["verdict"] not in ("passed", "blocked")} == {}


def test_every_errors_check_is_tripped_by_some_defect():
    tripped = {cid for f in FAULTS for cid in named_checks(f, _ids())}
    assert tripped == set(_ids())


def test_x_request_id_only_is_named_in_the_verdict():
    r = run_checks(["errors.request-id.header"], ["x-request-id-only"], model=MODEL)["errors.request-id.header"]
    assert "only x-request-id" in r.outcome.message


# -- minimal fake targets ----------------------------------------------------------------------


@contextmanager
def fake_target(status: int, body: dict, headers: dict[str, str] | None = None):
    """A server answering every request with ``status``, ``body`` (JSON) and ``headers``."""
    payload = json.dumps(body).encode()
    extra = {"request-id": "req_fake", **(headers or {})}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _envelope(etype: str) -> dict:
    return {"type": "error", "error": {"type": etype, "message": "x"}, "request_id": "req_fake"}


def test_no_failure_injection_is_inconclusive_not_failed():
    with fake_target(404, _envelope("not_found_error")) as url:
        results = run_url(url, ["errors.status.overload-529", "errors.status.rate-limit-429"], model=MODEL)
    for r in results.values():
        assert r.verdict is Verdict.INCONCLUSIVE and "offers no way to cause" in r.outcome.message


def test_a_stub_model_refused_is_inconclusive_unless_a_trigger_is_declared():
    # a real server answers the stub's model names with 400 "unknown model": nothing is known
    # about its overload or rate-limit answers, unless the provider declares how to cause them
    checks = ["errors.status.overload-529", "errors.status.rate-limit-429"]
    with fake_target(400, _envelope("invalid_request_error")) as url:
        undeclared = run_url(url, checks, model=MODEL)
        declared = run_url(url, checks, model=MODEL, triggers={"overload": "busy-model", "rate-limit": "slow-model"})
    for cid in checks:
        assert undeclared[cid].verdict is Verdict.INCONCLUSIVE, _verdicts(undeclared)[cid]
        assert "--trigger" in undeclared[cid].outcome.message
        # refused although declared: blocked by the forms of the request it sent; none of their
        # checks ran, so the folded view shows it failed
        assert folded(declared)[cid]["verdict"] == "failed", _verdicts(declared)[cid]
    assert "busy-model" in declared["errors.status.overload-529"].evidence[0]["request"]["body"]


def test_429_without_retry_after_fails():
    with fake_target(429, _envelope("rate_limit_error")) as url:
        r = run_url(url, ["errors.status.rate-limit-429"], model=MODEL)["errors.status.rate-limit-429"]
    assert r.verdict is Verdict.FAILED and "retry-after" in r.outcome.message


def test_405_without_allow_fails():
    with fake_target(405, _envelope("invalid_request_error")) as url:
        r = run_url(url, ["errors.routing.wrong-method"], model=MODEL)["errors.routing.wrong-method"]
    assert r.verdict is Verdict.FAILED and "Allow" in r.outcome.message


def test_a_target_that_never_errs():
    message = {
        "id": "msg_x",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    with fake_target(200, message) as url:
        results = run_url(url, PATTERNS, model=MODEL)
    for cid in (
        "errors.envelope.shape",
        "errors.envelope.content-type",
        "errors.status.type-agrees",
        "errors.request-id.body",
        "errors.retry.no-should-retry-on-400",
        "errors.status.overload-529",
        "errors.status.rate-limit-429",
    ):
        assert results[cid].verdict is Verdict.INCONCLUSIVE, (cid, _verdicts(results)[cid])
    assert results["errors.routing.unknown-path"].verdict is Verdict.FAILED
    assert results["errors.routing.wrong-method"].verdict is Verdict.FAILED
    assert results["errors.request-id.header"].verdict is Verdict.PASSED


def test_a_refusal_outside_the_envelope_says_what_came():
    # "expected HTTP 400 with error.type ..., got HTTP 400" hid the cause: the body is shown
    with fake_target(400, {"detail": "max_tokens: field required"}) as url:
        r = run_url(url, ["request.validation.missing-max-tokens"], model=MODEL)[
            "request.validation.missing-max-tokens"
        ]
    # the right status outside the envelope: blocked by the envelope checks, which report it
    assert r.verdict is Verdict.BLOCKED
    assert r.outcome.blocked_by == ("errors.envelope.shape", "errors.envelope.content-type")
    assert r.outcome.message.endswith(
        """got HTTP 400, no error envelope, body '{"detail": "max_tokens: field required"}'"""
    )
