"""The request family against the stub: clean passes, each defect that matters fails it.

Every check of ``request.*`` must pass against the clean stub (in both profiles), stay passing
under every control fault, and fail under at least one defect. Where no stub fault breaks a
check (body parsing, size limit, accepted shapes), a minimal fake server in this file plays the
broken target: one that answers 200 to everything, and one that answers 500 to everything.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from family import concluded_failing, folded, run_checks, run_resolved, run_url

from conformance._catalog import Verdict
from conformance.checks import load_catalog
from conformance.checks import request as rq
from conformance.killmatrix import faults_naming, named_checks
from conformance.stub.faults import BY_NAME, FAULTS

MODEL = "claude-opus-4-6"
LIMIT = 4096
PATTERNS = ["request.*"]


def _ids(profile: str | None = None) -> list[str]:
    return [c.id for c in load_catalog().select(profile=profile, patterns=PATTERNS)]


# the stub enforces LIMIT, and the run declares it (so the 413 check runs) unless told otherwise
run_stub = partial(run_checks, model=MODEL, max_body_bytes=LIMIT, stub_kwargs={"max_body_bytes": LIMIT})
run_fake = partial(run_url, model=MODEL, max_body_bytes=LIMIT)


def _verdicts(results: dict) -> dict[str, str]:
    return {cid: f"{r.verdict.value}: {r.outcome.message}" for cid, r in results.items()}


# -- clean stub --------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["anthropic", "darkbloom"])
def test_clean_stub_passes_every_request_check(profile):
    results = run_stub(PATTERNS, profile=profile, model=None)  # the model is discovered from /v1/models
    assert set(results) == set(_ids(profile))
    bad = {cid: v for cid, v in _verdicts(results).items() if results[cid].verdict is not Verdict.PASSED}
    assert not bad


def test_darkbloom_profile_is_the_documented_subset():
    dark = set(_ids("darkbloom"))
    assert "request.validation.missing-max-tokens" in dark and "request.accept.darkbloom-example" in dark
    for undocumented in (
        "request.validation.unknown-block-type",
        "request.accept.content-blocks",
        "request.accept.system-blocks",
        "request.version.sampling-params-2026",
        "request.version.missing-version-header",
        "request.accept.all-parameters",
    ):
        assert undocumented not in dark


def test_oversize_is_skipped_without_a_declared_limit():
    results = run_stub(["request.size.*"], max_body_bytes=None)
    r = results["request.size.oversize"]
    assert r.verdict is Verdict.SKIPPED and "--max-body-bytes" in r.outcome.message
    assert r.evidence == []  # nothing was sent


def test_every_probe_is_evidence_and_errors_are_typed():
    results = run_stub(["request.validation.missing-model", "request.model.*"])
    r = results["request.validation.missing-model"]
    assert len(r.evidence) == 1 and r.evidence[0]["status"] == 400
    assert '"model"' not in r.evidence[0]["request"]["body"]


# -- control faults never trip a request check -------------------------------------------------

CONTROLS = [f.name for f in FAULTS if f.kind == "control"]


@pytest.mark.parametrize("fault", CONTROLS)
def test_control_faults_leave_request_checks_passing(fault):
    results = run_stub(PATTERNS, [fault])
    bad = {cid: v for cid, v in _verdicts(results).items() if results[cid].verdict is not Verdict.PASSED}
    assert not bad


# -- defects trip the checks -------------------------------------------------------------------


# a defect whose trips name request checks fails each of them
@pytest.mark.parametrize("fault", faults_naming(_ids("anthropic")))
def test_defect_fails_the_checks_its_trips_name(fault):
    # as in a whole run: blocked checks resolved against the checks they name (family.run_resolved)
    view = run_resolved(PATTERNS, [fault], model=MODEL, max_body_bytes=LIMIT, stub_kwargs={"max_body_bytes": LIMIT})
    named = named_checks(BY_NAME[fault], _ids("anthropic"))
    assert named
    missing = set(named) - set(concluded_failing(view, named))
    assert {cid: (view[cid]["verdict"], view[cid]["message"]) for cid in missing} == {}


def test_every_request_check_is_named_by_some_defects_trips():
    assert sorted(set(_ids()) - {cid for f in FAULTS for cid in named_checks(f, _ids())}) == []


def test_credentials_refused_in_the_probes_style_fail_every_request_check():
    """Without a preflight the run sends x-api-key, which bearer-only refuses: every request
    check sees 401 (not a trip: a real run's preflight picks Bearer, see the kill matrix)."""
    results = run_stub(PATTERNS, ["bearer-only"])
    assert set(results) == set(_ids("anthropic"))
    # each is blocked by the credential check (a refused style is that check's one red line);
    # without it in the run, nothing reports the refusal, and the folded view shows them failed
    blocked = {cid for cid, r in results.items() if r.verdict is Verdict.BLOCKED}
    assert {cid: v for cid, v in _verdicts(results).items() if cid not in blocked} == {}
    assert all(results[cid].outcome.blocked_by == ("auth.accept.x-api-key",) for cid in blocked)
    assert {cid for cid, row in folded(results).items() if row["verdict"] != "failed"} == set()


# -- minimal broken targets --------------------------------------------------------------------


def _message() -> dict:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "Hello."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }


@contextmanager
def fake_target(status: int, body: dict):
    """A server answering every request (any method, path, body) with ``status`` and ``body``."""
    payload = json.dumps(body).encode()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("request-id", "req_fake")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_accepts_everything_fails_every_invalid_request_check():
    with fake_target(200, _message()) as url:
        results = run_fake(url, PATTERNS)
    for case in rq.CASES:
        expected = Verdict.FAILED if case.expects_error else Verdict.PASSED
        assert results[case.check_id].verdict is expected, (case.check_id, _verdicts(results)[case.check_id])
    for cid in _ids("anthropic"):
        if cid.startswith("request.accept."):
            assert results[cid].verdict is Verdict.PASSED


def test_a_server_that_fails_everything_fails_every_acceptance_check():
    envelope = {"type": "error", "error": {"type": "api_error", "message": "boom"}, "request_id": "req_fake"}
    with fake_target(500, envelope) as url:
        results = run_fake(url, PATTERNS)
    # shown failed, or blocked or folded under a check that fails for the same refusal: none passes
    view = folded(results)
    shown = ("failed", "blocked", "folded")
    assert {cid: row["verdict"] for cid, row in view.items() if row["verdict"] not in shown} == {}
    assert all(
        view[row["under"][0]]["raw_verdict"] in ("failed", "blocked") for row in view.values() if row.get("under")
    )
    assert any(row["verdict"] == "failed" for row in view.values())


def test_all_parameters_unsupported_is_a_400_in_the_envelope():
    refusal = {"type": "error", "error": {"type": "invalid_request_error", "message": "top_k: not supported"}}
    with fake_target(400, refusal) as url:
        results = run_fake(url, ["request.accept.all-parameters", "request.headers.*"])
    assert results["request.accept.all-parameters"].verdict is Verdict.UNSUPPORTED
    assert results["request.headers.unknown-beta-tolerated"].verdict is Verdict.PASSED


# -- the probes' own requests ------------------------------------------------------------------


class _Ctx:
    model = MODEL

    class config:
        max_body_bytes = LIMIT


@pytest.mark.parametrize("version", ["2023-06-01", "2026-10-21"])
def test_all_parameters_body_is_valid_for_its_version(version):
    from conformance._schema import load_schemas

    body = rq.all_parameters_body(_Ctx, version)
    assert load_schemas().validate("messages-request", body, version=version) == []


def test_oversize_body_is_valid_json_of_limit_plus_one_bytes():
    kw = rq._oversize(_Ctx)
    assert len(kw["content"]) == LIMIT + 1
    assert json.loads(kw["content"])["model"] == MODEL


def test_invalid_bodies_are_invalid_and_valid_ones_valid():
    from conformance._schema import load_schemas

    schemas = load_schemas()
    for case in rq.CASES:
        kw = case.build(_Ctx) if case.name != "oversize" else {}
        if "json" in kw and case.check_id.startswith("request.validation."):
            assert schemas.validate("messages-request", kw["json"]), case.check_id
