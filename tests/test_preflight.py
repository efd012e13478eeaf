"""The preflight: reach the target once, and find the credential style each route accepts."""

from __future__ import annotations

from conformance._run import RunConfig, RunContext, preflight
from conformance._target import route_of
from conformance.stub.server import serve_in_thread

KEY = "preflight-key"


def test_routes_are_named_by_their_path() -> None:
    assert route_of("/v1/messages") == route_of("/v1/messages?beta=true") == "messages"
    assert route_of("/v1/messages/count_tokens") == "count_tokens"
    assert route_of("/v1/models?limit=1") == route_of("/v1/models/claude-x") == "models"
    assert route_of("/v1/nope") == ""


def _negotiated(faults: list[str]) -> tuple[str, dict[str, str]]:
    with serve_in_thread(api_keys=[KEY], faults=faults) as url:
        with RunContext.open(RunConfig(target=url, api_key=KEY, timeout=10.0, total_timeout=20.0)) as ctx:
            preflight(ctx)
            return ctx.target.auth, dict(ctx.target.route_auth)


def test_each_route_is_probed_in_a_style_it_accepts() -> None:
    # Bearer on the model list, x-api-key on messages: probes use each where it works, so only
    # auth.accept.bearer reports the refusal (not every check with a 401)
    assert _negotiated(["x-api-key-messages-bearer-models"]) == (
        "bearer",
        {"messages": "x-api-key", "count_tokens": "x-api-key"},
    )
    assert _negotiated(["bearer-only"]) == ("bearer", {})
    assert _negotiated([]) == ("x-api-key", {})
