"""Which narrow check reports what is wrong with an exchange (conformance.checks._causes)."""

from __future__ import annotations

import json

import pytest

from conformance._catalog import Blocked
from conformance._exchange import Exchange, RecordedRequest
from conformance.checks._causes import forms, invalid_roots, refusal_roots, require_ok, symptoms

JSON = (("content-type", "application/json"), ("anthropic-version", "2023-06-01"))


def exchange(body: object, status: int, *, headers: tuple = JSON, url: str = "http://h/v1/messages") -> Exchange:
    req = RecordedRequest("POST", url, headers, json.dumps(body).encode())
    return Exchange(request=req, status=status, headers=JSON, body=b'{"type":"error"}')


def test_a_refused_request_names_the_checks_that_send_each_of_its_forms() -> None:
    body = {
        "model": "m",
        "max_tokens": 8,
        "system": "be brief",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "ok"}]},
        ],
        "tools": [{"name": "f", "input_schema": {"type": "object"}}],
    }
    found = forms(body)
    # general forms before the specific ones a check of them sends
    assert found.index("request.accept.content-blocks") < found.index("semantics.tools.tool-result-accepted")
    assert {"request.accept.content-string", "request.accept.multi-turn", "request.accept.system-string"} <= set(found)
    assert "semantics.tools.forced-tool" in found
    beta = exchange(body, 500, headers=(*JSON, ("anthropic-beta", "x")), url="http://h/v1/messages?beta=true")
    assert {"request.headers.unknown-beta-tolerated", "client-requests.beta.query"} <= set(refusal_roots(beta))


def test_a_refused_credential_names_the_style_it_was_sent_in() -> None:
    ex = exchange({"model": "m"}, 401, headers=(*JSON, ("authorization", "Bearer k")))
    assert refusal_roots(ex) == ("auth.accept.bearer",)
    with pytest.raises(Blocked) as caught:
        require_ok(ex, "refused")
    assert caught.value.roots == ("auth.accept.bearer",)


def test_an_invalid_request_names_the_validation_checks_of_its_defects() -> None:
    ex = exchange({"messages": [], "max_tokens": "64"}, 200)
    roots = invalid_roots(ex)
    assert {
        "request.validation.missing-model",
        "request.validation.mistyped-max-tokens",
        "request.validation.numeric-string-max-tokens",
        "request.validation.empty-messages",
    } <= set(roots)
    # a request that is otherwise valid is invalid by its model
    assert invalid_roots(
        exchange({"model": "nope", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}, 200)
    ) == ("request.model.unknown-model",)


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        "x",
        {"messages": "x"},
        {"messages": [{"role": ["a"], "content": [{"type": ["t"]}]}]},
        {"messages": [{"role": "user", "content": [{"type": {"a": 1}}, 3]}], "system": 5, "metadata": []},
    ],
)
def test_odd_bodies_never_break_the_harness(body: object) -> None:
    for status in (200, 400, 401, 500):
        ex = exchange(body, status)
        symptoms(ex, valid=True)
        symptoms(ex, valid=False)
        invalid_roots(ex)
        refusal_roots(ex)
