"""The reference stub: a deterministic Anthropic Messages API server with switchable faults.

Public names: :func:`create_app`, :class:`StubConfig`, :func:`serve_in_thread`,
:class:`StubProcess`, :data:`FAULTS`.
"""

from .app import StubConfig, create_app
from .faults import FAULTS, Fault, FaultSet
from .server import StubProcess, serve_in_thread

__all__ = ["FAULTS", "Fault", "FaultSet", "StubConfig", "StubProcess", "create_app", "serve_in_thread"]
