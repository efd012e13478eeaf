"""The probe registry, and the run context as checks and probes see it.

A probe is a named scenario that sends requests and returns what it recorded; the run context
runs each probe once and shares its result among the checks that read it. Checks and probes
are written against :class:`Context`, the part of the engine's run context they use, so the
families import nothing from the engine (``conformance._run``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:
    from conformance._config import RunConfig
    from conformance._exchange import Exchange
    from conformance._schema import SchemaSet
    from conformance._target import Target


class Context(Protocol):
    """What a check or a probe reads and does during a run."""

    config: RunConfig
    target: Target
    schemas: SchemaSet

    @property
    def model(self) -> str: ...

    @property
    def secrets(self) -> frozenset[str]: ...

    def send(self, method: str, path: str, **kw: Any) -> Exchange: ...

    def messages(self, body: dict, **kw: Any) -> Exchange: ...

    def probe(self, name: str) -> Any: ...

    def record(self, ex: Exchange) -> None: ...

    def evidence(self, *exchanges: Exchange) -> None: ...


Probe = Callable[[Context], Any]
PROBES: dict[str, Probe] = {}


def probe(name: str) -> Callable[[Probe], Probe]:
    """Register a probe: a named scenario that sends requests and returns what it recorded."""

    def register(fn: Probe) -> Probe:
        if name in PROBES:
            raise ValueError(f"probe {name!r} registered twice")
        PROBES[name] = fn
        return fn

    return register
