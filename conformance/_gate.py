"""The gate: which results fail a run, and the expected-failures file that excuses known ones.

Results are :class:`conformance._run.Result` objects or their ``to_dict()`` form (what crosses
xdist workers and what ``results.json`` holds).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from conformance._catalog import Level, Outcome, Verdict
from conformance._config import RunSetupError
from conformance._fold import effective_roots, fold
from conformance._options import GATES

if TYPE_CHECKING:
    from conformance._run import Result


@dataclass(frozen=True)
class ExpectedFailure:
    check_id: str
    reason: str
    expires: _dt.date | None


class ExpectedFailures:
    """The ``--expect-failures`` file: check IDs a provider knows fail, each with a reason and expiry.

    Format (YAML or JSON): a list of ``{id, reason, expires: YYYY-MM-DD}``. A listed failure is
    reported as an expected failure and does not fail the gate; a listed check that passes is an
    unexpected pass; an entry past its expiry no longer excuses anything.
    """

    def __init__(self, entries: Iterable[ExpectedFailure], today: _dt.date | None = None) -> None:
        self.entries = {e.check_id: e for e in entries}
        self.today = today or _dt.date.today()

    @classmethod
    def load(cls, path: str | Path, known_ids: Iterable[str] = ()) -> "ExpectedFailures":
        import yaml

        p = Path(path)
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunSetupError(f"expected-failures file {p} does not exist") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise RunSetupError(f"expected-failures file {p} is not readable YAML/JSON: {first}") from None
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            raise RunSetupError(f"expected-failures file {p}: expected a list of {{id, reason, expires}} entries")
        known = set(known_ids)
        entries = []
        for i, item in enumerate(raw):
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("id"), str)
                or not isinstance(item.get("reason"), str)
            ):
                raise RunSetupError(f"expected-failures file {p}: entry {i + 1} needs a string 'id' and 'reason'")
            if known and item["id"] not in known:
                raise RunSetupError(f"expected-failures file {p}: entry {i + 1} names unknown check {item['id']!r}")
            expires = item.get("expires")
            if isinstance(expires, str):
                try:
                    expires = _dt.date.fromisoformat(expires)
                except ValueError:
                    raise RunSetupError(
                        f"expected-failures file {p}: entry {i + 1} has a bad date {expires!r} (use YYYY-MM-DD)"
                    ) from None
            elif expires is not None and not isinstance(expires, _dt.date):
                raise RunSetupError(
                    f"expected-failures file {p}: entry {i + 1} has a bad date {expires!r} (use YYYY-MM-DD)"
                )
            entries.append(ExpectedFailure(item["id"], item["reason"], expires))
        return cls(entries)

    def apply(self, result: Result) -> None:
        entry = self.entries.get(result.check.id)
        if entry is None:
            return
        if entry.expires is not None and entry.expires < self.today:
            result.note = f"expected-failure entry expired on {entry.expires.isoformat()}: {entry.reason}"
            if result.verdict is Verdict.PASSED:
                return
            # An expired excuse is a failure of its own, whatever the check said.
            result.outcome = replace(
                result.outcome,
                verdict=Verdict.FAILED,
                message=f"{result.outcome.message} [expected-failure entry expired {entry.expires.isoformat()}]".strip(),
                blocked_by=(),
            )
            return
        result.note = f"expected failure: {entry.reason}"
        if result.verdict is Verdict.FAILED:
            result.outcome = replace(result.outcome, verdict=Verdict.XFAIL)
        elif result.verdict is Verdict.PASSED:
            result.outcome = Outcome(Verdict.XPASS, "listed as an expected failure, but passed")


_BLOCKING = {Verdict.FAILED.value, Verdict.ERROR.value}


def gated_levels(gate: str) -> set[str]:
    if gate not in GATES:
        raise RunSetupError(f"unknown gate {gate!r}: choose one of {', '.join(GATES)}")
    return {Level.MUST.value} if gate == "must" else {Level.MUST.value, Level.SHOULD.value}


def gate_verdict(results: Iterable[Result | dict], gate: str = "must") -> tuple[int, str]:
    """The run's exit code (as pytest.ExitCode values) and a one-line verdict, on the folded
    view (:mod:`conformance._fold`).

    0 when every gated check passed (or failed expectedly, or was unsupported/inconclusive);
    1 when one failed or errored; 5 when no check produced a verdict at all. A blocked or folded
    check fails the gate only through its root: not at all when its roots are gated failures
    (counted already) or expected failures (excused); by itself, "blocked by <root>", when a
    root is not gated (a SHOULD under ``--gate must``). Results may be :class:`Result` objects
    or their ``to_dict()`` form (what crosses xdist workers).
    """
    levels = gated_levels(gate)
    rows = fold(r if isinstance(r, dict) else r.to_dict() for r in results)
    if not any(r["verdict"] != Verdict.SKIPPED.value for r in rows):
        return 5, "GATE: no check ran"
    by_id = {r["id"]: r for r in rows}
    failing = []
    through: dict[str, str] = {}  # blocked/folded id -> the ungated root it fails the gate through
    for r in rows:
        if r["level"] not in levels:
            continue
        if r["verdict"] in _BLOCKING:
            failing.append(r)
        elif r["verdict"] in (Verdict.BLOCKED.value, Verdict.FOLDED.value):
            roots = effective_roots(r, by_id)
            loose = [
                x
                for x in roots
                if x["verdict"] != Verdict.XFAIL.value and not (x["level"] in levels and x["verdict"] in _BLOCKING)
            ]
            if loose or not roots:
                failing.append(r)
                through[r["id"]] = loose[0]["id"] if loose else "?"
    if failing:
        failed = sum(r["verdict"] == Verdict.FAILED.value for r in failing)
        errors = sum(r["verdict"] == Verdict.ERROR.value for r in failing)
        blocked = len(failing) - failed - errors
        counts = ", ".join(
            part
            for part in (
                f"{failed} failed" if failed else "",
                f"{errors} error{'s' * (errors != 1)}" if errors else "",
                f"{blocked} blocked by an ungated check" if blocked else "",
            )
            if part
        )
        shown = [r["id"] + (f" (blocked by {through[r['id']]})" if r["id"] in through else "") for r in failing[:5]]
        ids = ", ".join(shown) + (" …" if len(failing) > 5 else "")
        return 1, f"GATE FAILED ({gate.upper()}): {counts}: {ids}"
    return 0, f"GATE PASSED ({gate.upper()}): no {'/'.join(sorted(levels))} check failed"
