"""The real clients for these tests: installed with ``npm ci`` on first use (as a run does).

Without Node or the npm registry the tests that need the clients are skipped with the reason,
except in CI (``CI`` set), where ``.ci/run`` installs both and a missing client is a failure.
"""

from __future__ import annotations

import os

import pytest

from conformance.clients import ClientsUnavailable, Installed, ensure


@pytest.fixture(scope="session")
def clients() -> Installed:
    try:
        return ensure(timeout=600)
    except ClientsUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the real clients are required in CI: {exc}")
        pytest.skip(f"the real clients cannot run here: {exc}")
