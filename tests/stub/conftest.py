"""Fixtures for the stub's own tests: real servers on loopback."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pytest

from conformance.stub.server import ThreadedStub


@pytest.fixture(scope="session")
def _stubs() -> Iterator[dict[str, ThreadedStub]]:
    """Stubs are stateless apart from id counters, so one per configuration serves the session;
    they are stopped together at the end (uvicorn needs ~0.2 s each to wind down)."""
    running: dict[str, ThreadedStub] = {}
    yield running
    for stub in running.values():
        stub.request_stop()
    for stub in running.values():
        stub.join()


@pytest.fixture(scope="session")
def start_stub(_stubs: dict[str, ThreadedStub]) -> Callable[..., str]:
    """``start_stub(faults=[...], api_keys=[...], ...)`` -> base URL of a running stub."""

    def start(**options: Any) -> str:
        key = json.dumps(options, sort_keys=True, default=str)
        if key not in _stubs:
            stub = ThreadedStub(**options)
            stub.start()
            _stubs[key] = stub
        return _stubs[key].base_url

    return start


@pytest.fixture(scope="session")
def stub_url(start_stub: Callable[..., str]) -> str:
    """The clean stub (key test-key, seed 0)."""
    return start_stub()
