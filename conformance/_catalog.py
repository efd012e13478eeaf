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
    # A precondition of the check (a property of its probe) did not hold, and another check
    # reports that property: this one could not judge its own requirement (``Blocked``).
    BLOCKED = "blocked"
    # Only in the folded view (conformance._fold): failed, and every violation it found is
    # already reported by a failed root check ("same cause as ...").
    FOLDED = "folded"


# One violation an aggregate check found, as the symptoms it shows; a symptom is the IDs of the
# narrow checks that report it (any one of them failing explains the symptom). A violation is
# explained when each of its symptoms is; an empty violation is one only this check reports.
Symptom = tuple[str, ...]
Violation = tuple[Symptom, ...]


@dataclass(frozen=True)
class Outcome:
    """A check's judgement: the verdict and one sentence saying why.

    ``blocked_by`` (verdict ``blocked``): the checks, any one of which reports the precondition
    that did not hold. ``causes`` (verdict ``failed``): the violations the check found, by
    symptom, so that the folded view can show a failure whose every violation is already
    reported elsewhere under that root instead of as one more red line."""

    verdict: Verdict
    message: str = ""
    blocked_by: tuple[str, ...] = ()
    causes: tuple[Violation, ...] = ()

    @classmethod
    def passed(cls, message: str = "") -> "Outcome":
        return cls(Verdict.PASSED, message)

    @classmethod
    def failed(cls, message: str) -> "Outcome":
        return cls(Verdict.FAILED, message)

    @classmethod
    def mismatch(cls, expected: str, got: str, *, causes: Iterable[Violation] = ()) -> "Outcome":
        return cls(Verdict.FAILED, f"expected {expected}, got {got}", causes=tuple(causes))

    def caused_by(self, causes: Iterable[Violation]) -> "Outcome":
        """This failure, with the violations behind it (see ``causes``)."""
        return Outcome(self.verdict, self.message, self.blocked_by, tuple(causes))

    @classmethod
    def inconclusive(cls, message: str) -> "Outcome":
        return cls(Verdict.INCONCLUSIVE, message)

    @classmethod
    def unsupported(cls, message: str) -> "Outcome":
        return cls(Verdict.UNSUPPORTED, message)

    @classmethod
    def skipped(cls, message: str) -> "Outcome":
        return cls(Verdict.SKIPPED, message)


class Blocked(Exception):
    """Raised by a check whose precondition (a property of its probe: answered 200, a Message by
    ``type``, an event stream with named events, the credential accepted) did not hold.

    ``roots`` are the checks that report that property (any one of them); the run records the
    verdict ``blocked``, and the folded view names the first of them that failed, or shows the
    check ``failed`` when none did. A check listed among its own roots is one that reports the
    property: the failure is its own, shown folded under a root listed before it (a more
    general form: content as blocks before a tool_result in them) when that one failed."""

    def __init__(self, roots: Iterable[str], message: str, *, peers: Iterable[Iterable[str]] = ()) -> None:
        super().__init__(message)
        self.roots = tuple(dict.fromkeys(roots))
        self.message = message
        # checks that send the same form as one another (neither is the other's cause)
        self.peers = tuple(frozenset(group) for group in peers)

    def before(self, check_id: str) -> tuple[str, ...]:
        """The roots listed before ``check_id`` (more general forms), its peers left out."""
        if check_id not in self.roots:
            return self.roots
        mine = [g for g in self.peers if check_id in g]
        return tuple(r for r in self.roots[: self.roots.index(check_id)] if not any(r in g for g in mine))


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
