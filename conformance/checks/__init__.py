"""The check families, one module each. Importing this package imports every family, and each
check registers itself in :data:`conformance._catalog.CATALOG` as its module is imported;
:func:`load_catalog` returns the catalog so loaded.

The families are imported here, in this order, whichever of them a caller names first: the
order is the catalog's (the families a provider should fix first come first).
"""

from __future__ import annotations

from conformance._catalog import CATALOG, Catalog

# isort: off
from conformance.checks import auth  # noqa: F401
from conformance.checks import request  # noqa: F401
from conformance.checks import response  # noqa: F401
from conformance.checks import semantics  # noqa: F401
from conformance.checks import stream  # noqa: F401
from conformance.checks import errors  # noqa: F401
from conformance.checks import sdk  # noqa: F401
from conformance.checks import models  # noqa: F401
from conformance.checks import count_tokens  # noqa: F401
from conformance.checks import fuzz  # noqa: F401
from conformance.checks import schemathesis  # noqa: F401
from conformance.checks import client_requests  # noqa: F401
from conformance.checks import darkbloom  # noqa: F401
from conformance.checks import clients  # noqa: F401
# isort: on


def load_catalog() -> Catalog:
    """The catalog with every family's checks registered, in catalog order."""
    return CATALOG
