"""The kill matrix: proof that every check can fail.

The suites run against the bundled stub once per fault. A defect fault must make the checks
its catalog entry names (``Fault.trips``, fnmatch globs) fail; the clean stub and every control
(legal variations a correct client must accept) must fail nothing. A row runs the ``anthropic``
profile, except the Darkbloom faults (``darkbloom-*``, :mod:`conformance.stub.faults.darkbloom`):
they run the ``darkbloom`` profile, whose ``darkbloom.*`` checks they trip, against the stub in
``--darkbloom`` mode, and ``darkbloom-mode`` (the mode itself, a control) runs both profiles.
The matrix, faults × failing checks, is written to ``docs/kill-matrix.md`` and a self-test keeps
it current.

    python -m conformance.killmatrix            # rewrite docs/kill-matrix.md
    python -m conformance.killmatrix --check    # exit 1 when the file is out of date
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from statistics import median
from typing import Iterable

from conformance._catalog import Verdict
from conformance._fold import fold
from conformance._options import STUB_TRIGGERS
from conformance._run import RunConfig, RunContext, preflight, run_check
from conformance.catalogdoc import generated_doc_main
from conformance.checks import load_catalog
from conformance.stub.faults import FAULTS, Fault
from conformance.stub.faults.darkbloom import MODE as DARKBLOOM_MODE
from conformance.stub.faults.darkbloom import PREFIX as DARKBLOOM_PREFIX
from conformance.stub.server import ThreadedStub

KEY = "kill-matrix-key"
# A small declared body limit keeps the 413 probe cheap while still exercising it.
BODY_LIMIT = 64 * 1024
# The fuzz family's budget per property: its explicit examples (one per mutation kind and
# constraint) come first, then EXAMPLES generated ones. The count decides, not the clock
# (FUZZ_SECONDS is a backstop only), so a row is the same on a fast or a loaded machine.
EXAMPLES = 10
FUZZ_SECONDS = 60.0
PROFILE = "anthropic"
DARKBLOOM = "darkbloom"
PROFILES = (PROFILE, DARKBLOOM)
DOC = Path(__file__).resolve().parent.parent / "docs" / "kill-matrix.md"
FAILING = {Verdict.FAILED, Verdict.ERROR}
FAILING_VIEW = frozenset({Verdict.FAILED.value, Verdict.ERROR.value})


_reference: ThreadedStub | None = None


def reference_url() -> str:
    """A clean stub, started once per process (daemon thread): the ``--compare`` reference."""
    global _reference
    if _reference is None:
        _reference = ThreadedStub(api_keys=[KEY], max_body_bytes=BODY_LIMIT)
        _reference.start()
    return _reference.base_url


def profiles_of(faults: Iterable[str]) -> tuple[str, ...]:
    """The profiles a row runs: ``darkbloom`` for a Darkbloom fault (its checks are there), both
    for ``darkbloom-mode`` (the mode's extra headers and fields break no ``anthropic`` check, and
    the mode passes its own profile), ``anthropic`` for every other row."""
    names = list(faults)
    if DARKBLOOM_MODE in names:
        return PROFILES
    if any(n.startswith(DARKBLOOM_PREFIX) for n in names):
        return (DARKBLOOM,)
    return (PROFILE,)


def rows_against(faults: Iterable[str] = (), *, profile: str | None = None) -> dict[str, dict]:
    """Run every check of ``profile`` (None: of :func:`profiles_of` the faults, a failing row of
    any of them kept) against the stub with ``faults`` on: check id -> its result row in the
    folded view (``verdict`` as shown, ``raw_verdict`` as concluded; conformance._fold)."""
    faults = list(faults)
    merged: dict[str, dict] = {}
    for name in (profile,) if profile is not None else profiles_of(faults):
        for row in _rows(faults, name):
            if row["id"] not in merged or row["verdict"] in FAILING_VIEW:
                merged[row["id"]] = row
    return merged


def verdicts_against(faults: Iterable[str] = (), *, profile: str | None = None) -> dict[str, Verdict]:
    """:func:`rows_against` as check id -> the verdict shown (the folded view)."""
    return {cid: Verdict(row["verdict"]) for cid, row in rows_against(faults, profile=profile).items()}


def _rows(faults: list[str], profile: str) -> list[dict]:
    """One profile's rows. A clean stub is the ``--compare`` reference, so the differential
    check runs too; the ``darkbloom`` profile runs against the stub in ``--darkbloom`` mode, whose
    receipt binding (``stub-text``) is declared as a run that starts the bundled stub declares it."""
    catalog = load_catalog()
    darkbloom = profile == DARKBLOOM
    stub = ThreadedStub(api_keys=[KEY], faults=faults, max_body_bytes=BODY_LIMIT, darkbloom=darkbloom)
    url = stub.start()
    try:
        # the stub's own triggers are declared, as a run that starts the bundled stub declares them
        config = RunConfig(
            target=url,
            api_key=KEY,
            profile=profile,
            timeout=10.0,
            total_timeout=20.0,
            triggers=STUB_TRIGGERS,
            max_body_bytes=BODY_LIMIT,
            compare=reference_url(),
            examples=EXAMPLES,
            fuzz_seconds=FUZZ_SECONDS,
            receipt_binding="stub-text" if darkbloom else "none",
        )
        with RunContext.open(config) as ctx:
            preflight(ctx)  # picks the auth style the stub accepts, as a real run does
            rows = []
            for c in catalog.select(profile=profile):
                row = run_check(ctx, c).to_dict()
                row.pop("evidence")  # the matrix needs verdicts; a row's evidence can be megabytes
                rows.append(row)
            return fold(rows)
    finally:
        stub.request_stop()
        stub.join()


def failing(verdicts: dict[str, Verdict] | dict[str, dict]) -> list[str]:
    """The checks shown failed (the folded view): a fault's red lines."""
    return sorted(cid for cid, v in verdicts.items() if _shown(v) in FAILING_VIEW)


def shown_under(rows: dict[str, dict]) -> list[str]:
    """The checks shown blocked or folded under a root (a fault's consequences, not red lines)."""
    return sorted(cid for cid, row in rows.items() if row["verdict"] in ("blocked", "folded"))


def raw_failing(rows: dict[str, dict]) -> list[str]:
    """The checks that failed as concluded, or are shown failed: what proves a trip (a check
    folded under a root still failed; a blocked one did not judge)."""
    return sorted(
        cid for cid, row in rows.items() if row["raw_verdict"] in FAILING_VIEW or row["verdict"] in FAILING_VIEW
    )


def _shown(value: Verdict | dict) -> str:
    return value["verdict"] if isinstance(value, dict) else Verdict(value).value


def unmet_trips(fault: Fault, failed: Iterable[str]) -> list[str]:
    """The fault's ``trips`` globs that no failing check matches (each must match one)."""
    failed = list(failed)
    return [glob for glob in fault.trips if not any(fnmatch.fnmatchcase(cid, glob) for cid in failed)]


def named_checks(fault: Fault, ids: Iterable[str]) -> list[str]:
    """The check IDs of ``ids`` that the fault's ``trips`` name (match one of its globs)."""
    return [cid for cid in ids if any(fnmatch.fnmatchcase(cid, glob) for glob in fault.trips)]


def faults_naming(ids: Iterable[str]) -> list[str]:
    """The faults whose ``trips`` name at least one of ``ids``, in catalog order (a family's
    tests run each of them and expect the checks it names to fail)."""
    ids = list(ids)
    return [f.name for f in FAULTS if named_checks(f, ids)]


def render(rows: dict[str, dict[str, dict]]) -> str:
    """Markdown: one row per fault (clean stub first), the checks shown failing and, apart, the
    checks shown under them (blocked or folded: the defect's consequences)."""
    by_name = {f.name: f for f in FAULTS}
    lines = [
        "# Kill matrix",
        "",
        "Generated by `python -m conformance.killmatrix`; `tests/test_kill_matrix.py` keeps it current.",
        f"Each row runs every `{PROFILE}`-profile check against the bundled stub with one fault on;",
        f"a `{DARKBLOOM_PREFIX}*` row runs the `{DARKBLOOM}` profile against the stub in `--darkbloom` mode,",
        f"and `{DARKBLOOM_MODE}` runs both profiles.",
        "Defects must fail the checks their catalog entry names (as concluded: a check shown under its root",
        "still failed); the clean stub and the controls must fail nothing and block nothing. *Failing* is",
        "what a report shows as red lines; *under a root* lists the checks shown blocked or folded",
        "(same cause) under them. A defect that breaks one requirement (`breaks: one`) shows at most 3",
        "red lines; one that breaks many (no validation at all, one wrong status for every error) fails",
        "each of their checks.",
        "",
        "| fault | kind | breaks | failing checks | under a root |",
        "|---|---|---|---|---|",
    ]
    for name, view in rows.items():
        fault = by_name.get(name)
        kind = "clean" if fault is None else fault.kind
        breaks = fault.breaks if fault is not None and fault.kind == "defect" else ""
        cells = [failing(view), shown_under(view)]
        shown = ["<br>".join(f"`{c}`" for c in ids) if ids else "none" for ids in cells]
        lines.append(f"| `{name}` | {kind} | {breaks} | {shown[0]} | {shown[1]} |")
    defects = {
        n: len(failing(v))
        for n, v in rows.items()
        if n in by_name and by_name[n].kind == "defect" and profiles_of([n]) == (PROFILE,)
    }
    if defects:
        one = [c for n, c in defects.items() if by_name[n].breaks == "one"]
        lines += [
            "",
            f"`{PROFILE}`-profile defect faults: {len(defects)}; red lines per fault: median "
            f"{median(defects.values()):g}; at most {max(one, default=0)} for a fault that breaks one requirement.",
        ]
    lines += ["", "## Checks and the faults that trip them", "", "| check | tripped by |", "|---|---|"]
    tripped: dict[str, list[str]] = {c.id: [] for p in PROFILES for c in load_catalog().select(profile=p)}
    for name, view in rows.items():
        for cid in raw_failing(view):
            tripped.setdefault(cid, []).append(name)
    for cid, names in tripped.items():
        lines.append(f"| `{cid}` | {', '.join(f'`{n}`' for n in names) if names else '**nothing**'} |")
    return "\n".join(lines) + "\n"


def parse(text: str) -> dict[str, tuple[list[str], list[str]]]:
    """The rows of a rendered matrix (fault -> (failing checks, checks under a root)), for the
    currency test."""
    rows: dict[str, tuple[list[str], list[str]]] = {}
    for line in text.splitlines():
        if line.startswith("| `") and line.count("|") == 6:
            _, name, _kind, _breaks, failed, under, _ = (part.strip() for part in line.split("|"))
            rows[name.strip("`")] = tuple(  # type: ignore[assignment]
                [] if cell == "none" else [c.strip("`") for c in cell.split("<br>")] for cell in (failed, under)
            )
    return rows


def compute() -> dict[str, dict[str, dict]]:
    rows = {"(none)": rows_against()}
    for fault in FAULTS:
        rows[fault.name] = rows_against([fault.name])
    return rows


def main(argv: list[str] | None = None) -> int:
    return generated_doc_main(DOC, "conformance.killmatrix", lambda: render(compute()), argv)


if __name__ == "__main__":
    raise SystemExit(main())
