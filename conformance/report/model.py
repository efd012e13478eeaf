"""The result model as the writers see it: loading, validating, summarising, writing JSON.

The model is the JSON-serialisable document of :func:`conformance._run.results_document`
(``results.json``); its JSON Schema is ``schemas/data/results.schema.json``. Every writer
(HTML, JUnit, Markdown, matrix, diff, terminal) reads only this document.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from conformance._redact import Redactor
from conformance._schema import SchemaLoadError, load_json_file

# Version 2: ``verdict`` is the folded view (conformance._fold: ``blocked`` and ``folded``
# rows under their root checks), ``raw_verdict`` what the check itself concluded.
FORMAT = {"name": "conformance-results", "version": 2}

# Verdicts from worst to best, as reports order them (values of conformance._catalog.Verdict).
VERDICTS = (
    "failed",
    "error",
    "unexpected pass",
    "folded",
    "blocked",
    "expected failure",
    "inconclusive",
    "unsupported",
    "skipped",
    "passed",
)
PROBLEM = frozenset({"failed", "error"})  # what fails a gate (a blocked or folded check: through its root)
SHOWN_UNDER = frozenset({"blocked", "folded"})  # shown under their root checks, not as red lines
LEVELS = ("MUST", "SHOULD", "MAY")
RESULTS_JSON = "results.json"


class ReportInputError(Exception):
    """An input file that cannot be used as a results document (one line for the user, exit 2)."""


def schema_path() -> Path:
    from conformance._schema import default_schema_dir

    return default_schema_dir() / "data" / "results.schema.json"


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    schema = json.loads(schema_path().read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def schema_errors(doc: Any, limit: int = 5) -> list[str]:
    """Up to ``limit`` one-line schema violations of ``doc`` (empty: valid)."""
    out = []
    for err in sorted(_validator().iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/" + "/".join(str(p) for p in err.absolute_path)
        msg = err.message if len(err.message) < 160 else err.message[:157] + "..."
        out.append(f"{where}: {msg}")
        if len(out) >= limit:
            break
    return out


def load_results(path: str | Path) -> dict:
    """Read and validate a ``results.json``; any problem is one :class:`ReportInputError` line."""
    p = Path(path)
    if p.is_dir():
        p = p / RESULTS_JSON
    try:
        doc = load_json_file(p)
    except SchemaLoadError as exc:
        raise ReportInputError(str(exc)) from None
    errors = schema_errors(doc, limit=1)
    if errors:
        raise ReportInputError(f"{p}: not a conformance results file ({errors[0]})")
    from conformance._fold import fold

    # the folded view, computed the same way for a file of any format version (format 1 has no
    # raw verdicts, blocked or folded checks: its view is its verdicts)
    doc["results"] = fold(doc["results"])
    return doc


# -- summaries --------------------------------------------------------------------------------


def clients_line(doc: dict) -> str:
    """``anthropic 2.17.0 (schemas aligned with anthropic 2.17.0)``; empty for a document
    written before the field existed."""
    harness = doc.get("harness", {})
    line = ", ".join(f"{name} {v}" for name, v in harness.get("clients", {}).items())
    aligned = ", ".join(f"{name} {v}" for name, v in harness.get("schemas_aligned_with", {}).items())
    return f"{line} (schemas aligned with {aligned})" if line and aligned else line


def verdict_rank(verdict: str) -> int:
    return VERDICTS.index(verdict) if verdict in VERDICTS else len(VERDICTS)


def level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def counts(results: Iterable[dict]) -> dict[str, int]:
    """Results per verdict, worst first, verdicts with no result left out."""
    out: dict[str, int] = {}
    for r in results:
        out[r["verdict"]] = out.get(r["verdict"], 0) + 1
    return {v: out[v] for v in sorted(out, key=verdict_rank)}


def families(doc: dict) -> dict[str, dict[str, int]]:
    """Family -> verdict counts, in the order families first appear (catalog order)."""
    fams: dict[str, list[dict]] = {}
    for r in doc["results"]:
        fams.setdefault(r["family"], []).append(r)
    return {f: counts(rs) for f, rs in fams.items()}


def problems(doc: dict) -> list[dict]:
    """Failed and errored results, MUST before SHOULD before MAY, in catalog order otherwise."""
    rows = [r for r in doc["results"] if r["verdict"] in PROBLEM]
    return sorted(rows, key=lambda r: level_rank(r["level"]))


def ordered(doc: dict) -> list[tuple[str, list[tuple[str, list[dict]]]]]:
    """Results grouped by family then level; families with failures first, failures first within.

    Returns ``[(family, [(level, [result, ...]), ...]), ...]``.
    """
    fam_order = list(dict.fromkeys(r["family"] for r in doc["results"]))
    groups: dict[str, dict[str, list[dict]]] = {}
    for r in doc["results"]:
        groups.setdefault(r["family"], {}).setdefault(r["level"], []).append(r)

    def fam_key(f: str) -> tuple[int, int]:
        bad = sum(1 for lv in groups[f].values() for r in lv if r["verdict"] in PROBLEM)
        return (0 if bad else 1, fam_order.index(f))

    out = []
    for fam in sorted(groups, key=fam_key):
        levels = []

        def lv_key(lv: str, fam: str = fam) -> tuple[int, int]:
            return (0 if any(r["verdict"] in PROBLEM for r in groups[fam][lv]) else 1, level_rank(lv))

        for lv in sorted(groups[fam], key=lv_key):
            rows = groups[fam][lv]
            rows = sorted(rows, key=lambda r: (verdict_rank(r["verdict"]), rows.index(r)))
            levels.append((lv, rows))
        out.append((fam, levels))
    return out


def dependents(doc: dict) -> dict[str, list[dict]]:
    """Root check ID -> the blocked and folded results shown under it, in catalog order."""
    out: dict[str, list[dict]] = {}
    for r in doc["results"]:
        if r["verdict"] in SHOWN_UNDER:
            for root in r.get("under") or ():
                out.setdefault(root, []).append(r)
    return out


def under_line(result: dict) -> str:
    """``blocked by X`` / ``same cause as X, Y`` for a blocked or folded result, else ''."""
    roots = ", ".join(result.get("under") or ())
    if result["verdict"] == "blocked":
        return f"blocked by {roots}"
    if result["verdict"] == "folded":
        return f"same cause as {roots}"
    return ""


def reason(result: dict) -> str:
    """The one-sentence reason shown next to a check (its message, else its note)."""
    return result.get("message") or result.get("note") or ""


# -- the JSON writer --------------------------------------------------------------------------


def with_format(doc: dict, diagnoses: list[dict] | None = None) -> dict:
    out = {"format": dict(FORMAT), **{k: v for k, v in doc.items() if k != "format"}}
    if diagnoses is not None:
        out["diagnoses"] = diagnoses
    return out


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write_text(path: Path, text: str, secrets: Iterable[str] = ()) -> Path:
    """Write ``text`` with every known secret redacted (the writers' last line of defence)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(Redactor(frozenset(secrets)).text(text), encoding="utf-8")
    return path
