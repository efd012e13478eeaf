"""conformance: a conformance and test harness for servers that speak the Anthropic Messages API.

The public names live here; the engine lives in private modules (``_schema``, ``_sse``,
``_grammar``, ``_target``, ``_exchange``, ``_catalog``) and may change between versions.

>>> import conformance
>>> result = conformance.run("https://your.server", api_key="...", checks=["stream.*"])
>>> result.gate_passed, result.failed

Names are imported on first use: the pytest entry point loads this package in every pytest
session of a machine where it is installed, and must cost next to nothing there.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

_WHERE = {
    "RunResult": "conformance._api",
    "run": "conformance._api",
    "API_VERSIONS": "conformance._schema",
    "PROFILES": "conformance._schema",
    "SchemaError": "conformance._schema",
    "SchemaLoadError": "conformance._schema",
    "SchemaSet": "conformance._schema",
    "load_schemas": "conformance._schema",
}

__all__ = [
    "API_VERSIONS",
    "PROFILES",
    "RunResult",
    "SchemaError",
    "SchemaLoadError",
    "SchemaSet",
    "__version__",
    "load_schemas",
    "run",
]

if TYPE_CHECKING:
    from conformance._api import RunResult, run
    from conformance._schema import API_VERSIONS, PROFILES, SchemaError, SchemaLoadError, SchemaSet, load_schemas


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")
