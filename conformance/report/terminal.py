"""The end-of-run terminal summary: per family, the failing checks, diagnoses, reports, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from conformance.report import model


def summary_lines(
    doc: dict, diagnoses: list[dict] | None = None, report_files: Iterable[Path] = ()
) -> list[tuple[str, dict]]:
    """``(line, markup)`` pairs for pytest's terminal writer (markup: e.g. ``{"red": True}``)."""
    from conformance.report.diagnosis import diagnose

    if diagnoses is None:
        diagnoses = diagnose(doc)
    out: list[tuple[str, dict]] = []
    fams = model.families(doc)
    width = max((len(f) for f in fams), default=8) + 2
    for fam, c in fams.items():
        bad = any(v in model.PROBLEM for v in c)
        out.append((f"{fam:{width}}" + ", ".join(f"{n} {v}" for v, n in c.items()), {"red": bad} if bad else {}))
    total = ", ".join(f"{n} {v}" for v, n in model.counts(doc["results"]).items())
    out.append((f"{'total':{width}}{total} ({len(doc['results'])} checks)", {"bold": True}))
    failing = model.problems(doc)
    under = model.dependents(doc)
    if failing:
        out.append(("", {}))
        for r in failing:
            out.append((f"{r['verdict'].upper()} {r['id']} [{r['level']}]: {r['message']}", {"red": True}))
            for verdict, word in (("folded", "same cause"), ("blocked", "blocked by it")):
                ids = [d["id"] for d in under.get(r["id"], ()) if d["verdict"] == verdict]
                if ids:
                    shown = ", ".join(ids[:6]) + (f", … ({len(ids) - 6} more)" if len(ids) > 6 else "")
                    out.append((f"  + {len(ids)} {word}: {shown}", {}))
    if diagnoses:
        out.append(("", {}))
        for d in diagnoses:
            out.append((f"DIAGNOSIS {d['title']} ({len(d['checks'])} check(s))", {"yellow": True, "bold": True}))
            out.append((f"  likely cause: {d['cause']}", {}))
            out.append((f"  fix: {d['fix']}", {}))
    files = list(report_files)
    if files:
        where = files[0].parent
        names = ", ".join(p.name for p in sorted(files, key=lambda p: p.name != "index.html"))
        out.append(("", {}))
        out.append((f"reports written to {where}/: {names}", {}))
    return out
