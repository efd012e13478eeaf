"""The model a target serves: the first id listed by ``GET /v1/models`` (contract §6).

What a run uses when no ``--model`` is given, and what the ``--compare`` reference target is
asked for. Unreachable, or nothing listed: :class:`~conformance._config.RunSetupError`, one line
for the user.
"""

from __future__ import annotations

from conformance._config import RunSetupError
from conformance._target import Target


def discover_model(target: Target) -> str:
    ex = target.send("GET", "/v1/models?limit=1")
    if ex.transport_error:
        raise RunSetupError(f"cannot reach {target.base_url}: {ex.transport_error}")
    body = ex.json()
    data = body.get("data") if isinstance(body, dict) else None
    if (
        ex.status == 200
        and isinstance(data, list)
        and data
        and isinstance(data[0], dict)
        and isinstance(data[0].get("id"), str)
    ):
        return data[0]["id"]
    raise RunSetupError(
        f"no --model given and GET {target.base_url}/v1/models did not list one (status {ex.status}); pass --model ID"
    )
