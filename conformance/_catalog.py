"""The check catalog: every conformance check, its identity, and the verdicts it can give.

A check is a small function over recorded exchanges::

    @check("response.shape.message-schema", MUST, "contract §2.1",
           "A non-streaming 200 body is a Message valid against schemas/message.json.")
    def message_schema(ctx: Context) -> Outcome:
        ex = ctx.probe("basic")
        ...

Checks never send requests: they ask the run context for a *probe* (a named scenario that
builds requests and sends them through the Target, recorded once per run and shared by every
check that judges it). Every exchange a check looked at becomes its evidence.

IDs are ``family.topic.name`` and stable across versions; the catalog is printed by
``--list-checks`` and rendered into ``docs/checks.md``.
"""

from __future__ import annotations

import enum
import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from conformance._probes import Context


class Level(str, enum.Enum):
    """RFC 2119 strength of a requirement (contract §9 uses the same words)."""

    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


MUST, SHOULD, MAY = Level.MUST, Level.SHOULD, Level.MAY


class Verdict(str, enum.Enum):
    """What a check concluded. Only ``passed`` counts as a pass."""

    PASSED = "passed"
    FAILED = "failed"
    XFAIL = "expected failure"  # failed, and listed in the expected-failures file
    XPASS = "unexpected pass"  # passed, although listed as an expected failure
    UNSUPPORTED = "unsupported"  # the target declines an optional capability correctly
    INCONCLUSIVE = "inconclusive"  # the target's behaviour did not let the check decide
    SKIPPED = "skipped"  # not run (not in the profile, deselected, prerequisite missing)
    ERROR = "error"  # the harness itself broke; never blamed on the target


@dataclass(frozen=True)
class Outcome:
    """A check's judgement: the verdict and one sentence saying why."""

    verdict: Verdict
    message: str = ""

    @classmethod
    def passed(cls, message: str = "") -> "Outcome":
        return cls(Verdict.PASSED, message)

    @classmethod
    def failed(cls, message: str) -> "Outcome":
        return cls(Verdict.FAILED, message)

    @classmethod
    def mismatch(cls, expected: str, got: str) -> "Outcome":
        return cls(Verdict.FAILED, f"expected {expected}, got {got}")

    @classmethod
    def inconclusive(cls, message: str) -> "Outcome":
        return cls(Verdict.INCONCLUSIVE, message)

    @classmethod
    def unsupported(cls, message: str) -> "Outcome":
        return cls(Verdict.UNSUPPORTED, message)

    @classmethod
    def skipped(cls, message: str) -> "Outcome":
        return cls(Verdict.SKIPPED, message)


ALL_PROFILES = frozenset({"anthropic", "darkbloom"})
ANTHROPIC_ONLY = frozenset({"anthropic"})


@dataclass(frozen=True)
class Check:
    """One catalog entry: identity, strength, scope and the function that judges."""

    id: str
    level: Level
    ref: str  # contract section or Darkbloom page section the requirement comes from
    requirement: str  # one line, imperative
    judge: Callable[["Context"], Outcome] = field(compare=False, repr=False)
    profiles: frozenset[str] = ALL_PROFILES
    # A capability the profile may lack (count_tokens, models, tools, thinking, images): a
    # target that declines it correctly is "unsupported", not failed.
    capability: str | None = None

    @property
    def family(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def title(self) -> str:
        return self.id.rsplit(".", 1)[-1].replace("-", " ")


class Catalog:
    """Every registered check, in registration order."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, entry: Check) -> Check:
        parts = entry.id.split(".")
        if len(parts) < 3 or not all(parts):
            raise ValueError(f"check id {entry.id!r} is not family.topic.name")
        if entry.id in self._checks:
            raise ValueError(f"check id {entry.id!r} registered twice")
        self._checks[entry.id] = entry
        return entry

    def __iter__(self):
        return iter(self._checks.values())

    def __len__(self) -> int:
        return len(self._checks)

    def __getitem__(self, check_id: str) -> Check:
        return self._checks[check_id]

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._checks

    def select(self, *, profile: str | None = None, patterns: Iterable[str] = ()) -> list[Check]:
        """Checks of ``profile`` whose ID matches any of ``patterns`` (fnmatch globs)."""
        patterns = [p for p in patterns if p]
        return [
            c
            for c in self
            if (profile is None or profile in c.profiles)
            and (not patterns or any(fnmatch.fnmatchcase(c.id, p) for p in patterns))
        ]

    def unmatched(self, patterns: Iterable[str]) -> list[str]:
        """The patterns that select no check at all (a typo the user should hear about)."""
        return [p for p in patterns if p and not any(fnmatch.fnmatchcase(c.id, p) for c in self)]


CATALOG = Catalog()


def check(
    check_id: str,
    level: Level,
    ref: str,
    requirement: str,
    *,
    profiles: Iterable[str] = ALL_PROFILES,
    capability: str | None = None,
) -> Callable[[Callable[["Context"], Outcome]], Callable[["Context"], Outcome]]:
    """Register the decorated function as catalog entry ``check_id``."""

    def register(fn: Callable[["Context"], Outcome]) -> Callable[["Context"], Outcome]:
        CATALOG.add(Check(check_id, level, ref, requirement, fn, frozenset(profiles), capability))
        return fn

    return register
