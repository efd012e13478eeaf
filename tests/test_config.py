"""The run configuration's own validation: one clear line for a value that cannot work."""

from __future__ import annotations

import pytest

from conformance._config import RunConfig, RunSetupError
from conformance.plugin import _parse_triggers


def test_triggers_name_a_known_state_and_a_model() -> None:
    RunConfig(target="http://127.0.0.1:9", triggers={"overload": "busy"}).validate()
    with pytest.raises(
        RunSetupError, match="unknown state 'bogus': choose one of overload, rate-limit, mid-stream-error"
    ):
        RunConfig(target="http://127.0.0.1:9", triggers={"bogus": "x"}).validate()
    with pytest.raises(RunSetupError, match="expected a model name"):
        RunConfig(target="http://127.0.0.1:9", triggers={"overload": ""}).validate()


def test_trigger_options_parse_and_the_bundled_stub_declares_its_own() -> None:
    assert _parse_triggers(["overload=busy"], own_stub=False) == {"overload": "busy"}
    own = _parse_triggers([], own_stub=True)
    assert own == {
        "overload": "stub-overloaded",
        "rate-limit": "stub-rate-limited",
        "mid-stream-error": "stub-error-mid-stream",
    }
    with pytest.raises(RunSetupError, match="expected STATE=MODEL"):
        _parse_triggers(["overload"], own_stub=False)
