"""The check families, one module each. Importing this package registers every check.

Module order is catalog order: the families a provider should fix first come first.
"""

from conformance.checks import (  # noqa: F401
    auth,
    capabilities,
    errors,
    generated,
    request,
    response,
    sdk,
    semantics,
    stream,
)
