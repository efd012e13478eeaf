"""The folded view of a run: one defect, one red line.

A check judges its own requirement; when its probe shows a defect another check reports, its
verdict would only echo that defect. Two things fold such echoes under their cause, and nothing
is hidden (each row keeps ``raw_verdict``, its message and its evidence):

- **blocked**: the check raised :class:`conformance._catalog.Blocked`: a precondition of its
  probe did not hold (answered 200, a Message by ``type``, an event stream with named events,
  the credential accepted) and ``blocked_by`` names the checks that report that property. The
  row is shown ``blocked`` under the first of them that failed; when none did (or none ran),
  the precondition explains nothing and the row is shown ``failed``.
- **folded** ("same cause"): a failed check that listed its violations by symptom
  (``causes``) is shown ``folded`` under the failed root checks that report every one of
  them. A violation with no symptom, or a symptom no failed check reports, keeps it failed.

Roots are failed (or expected-failure) results that are neither blocked nor folded: first the
checks that list no causes (narrow checks), then aggregate checks whose violations nothing
else reports. The view is a pure function of the result rows (``raw_verdict`` when present,
else ``verdict``), so ``results.json``, ``report merge`` and ``report diff`` compute the same.
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["FOLDED_FIELDS", "ROOTING", "effective_roots", "fold", "raw_verdict"]

BLOCKED, FOLDED, FAILED = "blocked", "folded", "failed"
# Raw verdicts of a check that can explain others: it reported a defect (an expected failure is
# a known defect; an error is the harness's own and explains nothing).
ROOTING = frozenset({FAILED, "expected failure"})
FOLDED_FIELDS = ("raw_verdict", "under")


def raw_verdict(row: dict) -> str:
    return row.get("raw_verdict", row["verdict"])


def _explain(causes: list, standing: dict[str, None]) -> list[str] | None:
    """The standing roots that report every symptom of every violation, or None."""
    if not causes:
        return None
    under: dict[str, None] = {}
    for violation in causes:
        if not violation:
            return None
        for symptom in violation:
            root = next((r for r in symptom if r in standing), None)
            if root is None:
                return None
            under[root] = None
    return list(under)


def fold(rows: Iterable[dict]) -> list[dict]:
    """The rows with the folded view applied: ``verdict`` is what reports show and the gate
    counts, ``raw_verdict`` what the check concluded, ``under`` the roots a blocked or folded
    row is shown under. Idempotent."""
    out = []
    for r in rows:
        row = {k: v for k, v in r.items() if k not in FOLDED_FIELDS}
        row["raw_verdict"] = raw = raw_verdict(r)
        row["verdict"] = raw
        out.append(row)
    by_id = {r["id"]: r for r in out}
    # A blocked row is under the first of its roots that reported a defect (a root that is
    # itself blocked counts once it is resolved: rows resolve in rounds until nothing changes);
    # with none, the failure is its own.
    unresolved = [r for r in out if r["raw_verdict"] == BLOCKED]
    while unresolved:
        later = []
        for r in unresolved:
            state = _blocked_root(r, by_id)
            if state is _WAIT:
                later.append(r)
            elif state is None:
                r["verdict"] = FAILED
            else:
                r["under"] = [state]
        if len(later) == len(unresolved):
            # checks blocking one another, none explained from outside: the first (in catalog
            # order) fails for it, and the others may then be blocked by it
            later[0]["verdict"] = FAILED
            later = later[1:]
        unresolved = later
    # Then same-cause folding. Narrow roots first: failures that name no causes (a blocked row
    # shown failed is one).
    shown = [r for r in out if r["verdict"] in ROOTING]
    standing: dict[str, None] = {r["id"]: None for r in shown if not r.get("causes")}
    remaining = []
    for r in shown:
        if not r.get("causes") or r["verdict"] != FAILED:
            continue
        under = _explain(r["causes"], standing)
        if under:
            r["verdict"], r["under"] = FOLDED, under
        else:
            remaining.append(r)
    # Then aggregate failures nothing narrow explains may explain one another (never themselves,
    # never a check already shown under another).
    used: set[str] = set()
    for r in remaining:
        others = {i: None for i in [*standing, *(x["id"] for x in remaining if x["verdict"] == FAILED)]}
        others.pop(r["id"], None)
        under = None if r["id"] in used else _explain(r["causes"], others)
        if under:
            r["verdict"], r["under"] = FOLDED, under
            used.update(under)
    return out


_WAIT = "wait"


def _blocked_root(row: dict, by_id: dict[str, dict]) -> str | None:
    """The root a blocked row is shown under, None when none of its roots shows a defect, or
    ``_WAIT`` while one of them is a blocked row not resolved yet."""
    waiting = False
    for rid in row.get("blocked_by", ()):
        root = by_id.get(rid)
        if root is None:
            continue
        if root["raw_verdict"] in ROOTING:
            return rid
        if root["raw_verdict"] == BLOCKED:
            if "under" in root or root["verdict"] == FAILED:
                return rid
            if root["verdict"] == BLOCKED:  # not resolved yet
                waiting = True
    return _WAIT if waiting else None


def effective_roots(row: dict, by_id: dict[str, dict], _seen: frozenset[str] = frozenset()) -> list[dict]:
    """The standing root rows a blocked or folded row is shown under, through chains (a check
    blocked by a check that is itself folded is under that one's roots)."""
    found: list[dict] = []
    for rid in row.get("under", ()):
        root = by_id.get(rid)
        if root is None or rid in _seen:
            continue
        if root["verdict"] in (BLOCKED, FOLDED):
            found += effective_roots(root, by_id, _seen | {row["id"]})
        else:
            found.append(root)
    return found
