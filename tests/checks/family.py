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


def folded(results: Mapping[str, Result]) -> dict[str, dict]:
    """The folded view of ``results`` (conformance._fold): check ID -> row with ``verdict`` (as
    shown), ``raw_verdict`` and, for a blocked or folded check, ``under``."""
    from conformance._fold import fold

    return {row["id"]: row for row in fold(r.to_dict() for r in results.values())}


def run_resolved(patterns: str | Iterable[str], faults: Iterable[str] = (), **config: Any) -> dict[str, dict]:
    """:func:`run_checks`, then the checks its blocked results name as roots (and theirs), in the
    same run context, all in the folded view: check ID -> row. A family's verdicts then read as
    in a whole run, where a blocked check is under its root or, when no root failed, failed."""
    from conformance._fold import fold

    catalog = load_catalog()
    with stub_context(faults, **config) as ctx:
        results = run_in(ctx, patterns)
        for _ in range(5):  # roots of roots: a few levels at most
            wanted = {
                root
                for r in results.values()
                for root in r.outcome.blocked_by
                if root not in results and root in catalog and ctx.config.profile in catalog[root].profiles
            }
            if not wanted:
                break
            results.update({cid: run_check(ctx, catalog[cid]) for cid in sorted(wanted)})
    return {row["id"]: row for row in fold(r.to_dict() for r in results.values())}


def concluded_failing(view: Mapping[str, dict], ids: Iterable[str] | None = None) -> list[str]:
    """The checks of ``ids`` (default all) that failed as concluded (a check folded under its
    root included) or are shown failed (blocked by nothing that failed): not a blocked check
    shown under its root. What a fault's ``trips`` name."""
    keep = set(view) if ids is None else set(ids)
    failing = ("failed", "error")
    return sorted(
        cid for cid, row in view.items() if cid in keep and (row["verdict"] in failing or row["raw_verdict"] in failing)
    )
