"""conformance: a conformance and test harness for servers that speak the Anthropic Messages API.

The public names live here; the engine lives in private modules (``_schema``, ``_sse``,
``_grammar``, ``_target``, ``_exchange``, ``_catalog``) and may change between versions.
"""

from conformance._schema import (
    API_VERSIONS,
    PROFILES,
    SchemaError,
    SchemaLoadError,
    SchemaSet,
    load_schemas,
)

__version__ = "0.1.0"

__all__ = [
    "API_VERSIONS",
    "PROFILES",
    "SchemaError",
    "SchemaLoadError",
    "SchemaSet",
    "load_schemas",
    "__version__",
]
