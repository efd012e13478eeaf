"""Running checks in the family tests: the stub (with faults) in a thread, a run context on it,
and the catalog's checks selected by profile and ID patterns, run in catalog order.

Imported by bare name (``from family import run_checks``): pytest puts this directory on
``sys.path`` when it imports the tests beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from conformance._catalog import Verdict
from conformance._options import STUB_TRIGGERS
from conformance._run import Result, RunConfig, RunContext, run_check
from conformance.checks import load_catalog
from conformance.stub.server import serve_in_thread

KEY = "test-key"


def run_config(
    url: str,
    *,
    profile: str = "anthropic",
    version: str = "2023-06-01",
    model: str | None = None,
    api_key: str = KEY,
    **config: Any,
) -> RunConfig:
    """The run's configuration for the target at ``url``; ``config``: any other RunConfig field."""
    return RunConfig(target=url, api_key=api_key, profile=profile, anthropic_version=version, model=model, **config)


@contextmanager
def stub_context(
    faults: Iterable[str] = (), *, api_key: str = KEY, stub_kwargs: Mapping[str, Any] | None = None, **config: Any
) -> Iterator[RunContext]:
    """A run context on a stub serving ``faults`` and accepting ``api_key``; ``stub_kwargs`` go
    to the stub (e.g. ``max_body_bytes``), ``config`` to :func:`run_config`."""
    with serve_in_thread(api_keys=[api_key], faults=list(faults), **(stub_kwargs or {})) as url:
        # the stub's own triggers are declared, as a run that starts the bundled stub declares them
        config.setdefault("triggers", STUB_TRIGGERS)
        with RunContext.open(run_config(url, api_key=api_key, **config)) as ctx:
            yield ctx


def run_in(ctx: RunContext, patterns: str | Iterable[str]) -> dict[str, Result]:
    """Every check of the context's profile matching ``patterns``, run: check ID -> result."""
    selected = load_catalog().select(
        profile=ctx.config.profile, patterns=[patterns] if isinstance(patterns, str) else patterns
    )
    return {c.id: run_check(ctx, c) for c in selected}


def run_checks(patterns: str | Iterable[str], faults: Iterable[str] = (), **config: Any) -> dict[str, Result]:
    """The checks matching ``patterns`` run against a stub serving ``faults`` (keywords as for
    :func:`stub_context`)."""
    with stub_context(faults, **config) as ctx:
        return run_in(ctx, patterns)


def run_url(url: str, patterns: str | Iterable[str], **config: Any) -> dict[str, Result]:
    """The checks matching ``patterns`` run against the target at ``url`` (keywords as for
    :func:`run_config`)."""
    with RunContext.open(run_config(url, **config)) as ctx:
        return run_in(ctx, patterns)


def verdicts(
    patterns: str | Iterable[str], faults: Iterable[str] = (), **config: Any
) -> dict[str, tuple[Verdict, str]]:
    """:func:`run_checks` as check ID -> (verdict, message)."""
    return {cid: (r.verdict, r.outcome.message) for cid, r in run_checks(patterns, faults, **config).items()}
