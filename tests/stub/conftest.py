"""Fixtures for the stub's own tests: real servers on loopback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(ROOT))

from conformance.stub import serve_in_thread  # noqa: E402


@pytest.fixture(scope="session")
def stub_url() -> Iterator[str]:
    """One clean stub (key test-key, seed 0) for the whole session."""
    with serve_in_thread() as url:
        yield url


@pytest.fixture
def start_stub() -> Iterator[Callable[..., str]]:
    """Start extra stubs (faults, keys, limits) that stop at the end of the test."""
    stack: list = []

    def start(**kwargs: object) -> str:
        cm = serve_in_thread(**kwargs)  # type: ignore[arg-type]
        url = cm.__enter__()
        stack.append(cm)
        return url

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)
