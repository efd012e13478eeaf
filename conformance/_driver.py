"""The Hypothesis driver of the generated-request checks: drawing examples, judging them
within the run's bounds, and sending generated requests.

:func:`explore` runs one property: Hypothesis draws examples from a strategy and the property
judges each. Its budget is the run's (``--examples`` per property, ``--fuzz-seconds`` per
property, shrinking included) and so is its seed (``--hypothesis-seed``, else
``--conformance-seed``): the same seed gives the same examples. A batched property's
Hypothesis example is a list of up to :data:`BATCH` distinct examples, judged one by one; a
failure still shrinks to one example. Generation draws from the strategies alone, never from
literals in the harness's source.

:func:`send` sends a generated request through the run context (``ctx.send``) but outside any
probe, so the hundreds of generated exchanges are not evidence; answers are kept per run and
target by the request's bytes, so properties over the same strategy and seed send each request
once.
"""

from __future__ import annotations

import contextlib
import time
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import example as hypothesis_example
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning

from conformance._exchange import Exchange
from conformance._probes import Context
from conformance._strategies import GenRequest, Scope
from conformance._target import Target

PATH = "/v1/messages"

# ----------------------------------------------------------------------------- exploring


class _Failed(Exception):
    """Raised inside the Hypothesis test when the property does not hold."""


class _OutOfTime(BaseException):
    """Raised inside the Hypothesis test once the time bound is spent: Hypothesis lets a
    BaseException through at once, so generation or shrinking stops right there."""


@dataclass
class Exploration:
    """What one property's Hypothesis run found."""

    examples: int = 0  # examples judged (sent or served from the cache)
    failure: Any = None  # the last (smallest) failing example
    reason: str = ""
    out_of_time: bool = False
    notes: dict[str, int] = field(default_factory=dict)  # e.g. declined optional capabilities


def effective_seed(ctx: Context) -> int:
    c = ctx.config
    return c.hypothesis_seed if c.hypothesis_seed is not None else c.seed


class _Enough(BaseException):
    """Raised inside the Hypothesis test once ``--examples`` examples were judged (batches)."""


BATCH = 8  # at most this many requests per Hypothesis example (batched properties)


def explore(
    ctx: Context,
    strategy: st.SearchStrategy,
    prop: Callable[[Any, Exploration], str | None],
    *,
    shrink: bool = True,
    seconds: float | None = None,
    examples: tuple = (),
    batch: Callable[[Any], Any] | None = None,
    drawn_lists: bool = False,
) -> Exploration:
    """Run Hypothesis over ``strategy``: ``prop(example, run)`` returns a failure reason or None.

    ``examples`` are tried first (Hypothesis's explicit phase), then generated ones.
    Bounded by ``--examples`` and ``--fuzz-seconds`` (generation and shrinking together): once
    time is up the run stops at the next example. The smallest failing example seen is kept
    (while shrinking, Hypothesis only tries examples smaller than the best so far), whatever
    Hypothesis raises in the end.

    With ``batch`` (a function giving each example's identity), one Hypothesis example is a
    list of up to :data:`BATCH` distinct examples; ``--examples`` still counts examples judged.
    ``prop`` judges them one at a time, in order, and the first failing one is the failure:
    shrinking deletes the others from the list and shrinks that one, so the minimal failing
    example is one example, as without batches. (The list is unique, so Hypothesis's mutator does not
    copy one element over another, and no example is sent twice in a batch.)
    With ``drawn_lists``, ``strategy`` draws such lists itself (invalid requests: several
    mutations of one valid body, see :func:`conformance._strategies.invalid_batches`).
    """
    run = Exploration()
    deadline = time.monotonic() + (seconds if seconds is not None else ctx.config.fuzz_seconds)
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    budget = ctx.config.examples
    explicit = len(examples)

    def judge(example: Any) -> None:
        if time.monotonic() > deadline:
            run.out_of_time = True
            raise _OutOfTime
        run.examples += 1
        reason = prop(example, run)
        if reason is not None:
            run.failure, run.reason = example, reason
            raise _Failed(reason)

    test: Callable[[Any], None]
    if batch is None and not drawn_lists:
        given_strategy, test = strategy, judge
    else:
        given_strategy = strategy if drawn_lists else st.lists(strategy, min_size=1, max_size=BATCH, unique_by=batch)
        examples = (list(examples),) if examples else ()  # one batch: the first failing one ends it

        def judge_batch(items: list) -> None:
            for item in items:
                if run.failure is None and run.examples >= budget + explicit:
                    raise _Enough  # generated enough (never while shrinking)
                judge(item)

        test = judge_batch

    @hypothesis_seed(effective_seed(ctx))
    @settings(
        max_examples=budget,
        deadline=None,
        database=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        derandomize=False,
    )
    @given(given_strategy)
    def property_holds(example: Any) -> None:
        test(example)

    for ex in reversed(examples):
        property_holds = hypothesis_example(ex)(property_holds)
    try:
        with warnings.catch_warnings(), _no_source_constants():
            warnings.simplefilter("ignore", HypothesisWarning)  # e.g. the repr of an oversize body
            property_holds()
    except (_OutOfTime, _Enough):
        pass
    except Exception:  # noqa: BLE001 (_Failed, or Hypothesis's Flaky when time ran out while shrinking)
        if run.failure is None:
            raise
    return run


@contextlib.contextmanager
def _no_source_constants() -> Iterator[None]:
    """Generation draws from the strategies alone, not from literals in our source.

    Hypothesis mixes literals from the source of every loaded local (non-site-packages) module
    into what it generates. Which modules are loaded differs between a serial run and an xdist
    worker, and the literals change with every edit of our own code, so one seed would not give
    one set of requests (and the kill matrix would not be reproducible). Hypothesis offers no
    setting for this; its private hook is swapped while we explore, and left alone if it moved.
    """
    try:
        from hypothesis.internal.conjecture import providers

        getter, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE.cache, providers.Constants()
    except (ImportError, AttributeError):  # pragma: no cover - a Hypothesis without the feature
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()  # permitted constants computed with the local ones
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.clear()


# ----------------------------------------------------------------------------- generated requests


def scope_of(ctx: Context) -> Scope:
    c = ctx.config
    return Scope(profile=c.profile, version=c.anthropic_version, model=ctx.model, max_body_bytes=c.max_body_bytes)


# per run: (id of the --compare target, or of None for the run's own; what goes on the wire) -> the answer
_ANSWERS: "weakref.WeakKeyDictionary[Context, dict[tuple, Exchange]]" = weakref.WeakKeyDictionary()


def send(ctx: Context, req: GenRequest, target: Target | None = None) -> Exchange:
    """The answer to ``req`` (sent once per run and target; later asks are served from the cache)."""
    if ctx not in _ANSWERS:
        _ANSWERS[ctx] = {}
    cache = _ANSWERS[ctx]
    key = (id(target), req.key())
    if key not in cache:
        kw = req.send_kwargs()
        cache[key] = target.send("POST", PATH, **kw) if target is not None else ctx.send("POST", PATH, **kw)
    return cache[key]
