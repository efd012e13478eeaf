"""The matrix of targets: checks × targets from several results files, as HTML and Markdown.

``conformance report merge A.json B.json ... -o DIR`` writes ``DIR/index.html`` and
``DIR/summary.md``: one row per check (union of all runs, catalog order of the first run that
has it), one column per run, each cell the verdict with its one-sentence reason, the way a
compatibility table shows many implementations side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import jinja2

from conformance.report import model

SYMBOL = {
    "passed": "✅",
    "failed": "❌",
    "error": "💥",
    "expected failure": "⚠️",
    "unexpected pass": "❗",
    "folded": "🔗",
    "blocked": "⛔",
    "unsupported": "➖",
    "inconclusive": "❔",
    "skipped": "⏭️",
}


def default_labels(paths: Sequence[str | Path], docs: Sequence[dict]) -> list[str]:
    """A column name per run: the directory of a ``results.json`` (``reports/vllm/results.json``
    -> ``vllm``), else the file's stem; repeated names get ``#2``, ``#3``."""
    labels = []
    for p, doc in zip(paths, docs, strict=True):
        p = Path(p)
        if p.is_dir():
            name = p.resolve().name
        elif p.name == model.RESULTS_JSON and p.resolve().parent.name:
            name = p.resolve().parent.name
        else:
            name = p.stem
        labels.append(name or doc["target"])
    seen: dict[str, int] = {}
    out = []
    for name in labels:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if labels.count(name) == 1 else f"{name}#{seen[name]}")
    return out


def build_matrix(docs: Sequence[dict], labels: Sequence[str]) -> dict:
    """``{columns: [...], rows: [{id, family, level, ref, requirement, cells: [...]}], ...}``."""
    if len(docs) != len(labels):
        raise ValueError("one label per results document")
    columns = []
    for label, doc in zip(labels, docs, strict=True):
        columns.append(
            {
                "label": label,
                "target": doc["target"],
                "profile": doc["profile"],
                "anthropic_version": doc["anthropic_version"],
                "model": doc.get("model"),
                "created": doc["created"],
                "harness": " · ".join(
                    filter(None, (f"{doc['harness']['name']} {doc['harness']['version']}", model.clients_line(doc)))
                ),
                "gate": doc["gate"],
                "counts": model.counts(doc["results"]),
                "total": len(doc["results"]),
            }
        )
    rows: dict[str, dict] = {}
    for doc in docs:
        for r in doc["results"]:
            rows.setdefault(
                r["id"],
                {
                    "id": r["id"],
                    "family": r["family"],
                    "level": r["level"],
                    "ref": r["ref"],
                    "requirement": r["requirement"],
                    "cells": [None] * len(docs),
                },
            )
    for i, doc in enumerate(docs):
        for r in doc["results"]:
            rows[r["id"]]["cells"][i] = {"verdict": r["verdict"], "message": model.reason(r)}
    for row in rows.values():
        verdicts = {c["verdict"] if c else None for c in row["cells"]}
        row["differs"] = len(verdicts) > 1
        row["problem"] = any(c and c["verdict"] in model.PROBLEM for c in row["cells"])
    families = list(dict.fromkeys(r["family"] for r in rows.values()))
    return {"columns": columns, "rows": list(rows.values()), "families": families}


def render_matrix_markdown(matrix: dict) -> str:
    cols = matrix["columns"]
    out = ["### Anthropic Messages API conformance matrix", ""]
    out.append("| run | target | profile | version | model | gate | " + " | ".join(model.VERDICTS) + " |")
    out.append("|---|---|---|---|---|---|" + "---:|" * len(model.VERDICTS))
    for c in cols:
        gate = "✅ passed" if c["gate"]["exit_code"] == 0 else "❌ failed"
        out.append(
            f"| **{c['label']}** | `{c['target']}` | {c['profile']} | {c['anthropic_version']} | "
            f"`{c['model'] or '?'}` | {gate} | "
            + " | ".join(str(c["counts"].get(v, "·")) for v in model.VERDICTS)
            + " |"
        )
    out += [
        "",
        "| check | level | " + " | ".join(c["label"].replace("|", "\\|") for c in cols) + " |",
        "|---|---|" + ":---:|" * len(cols),
    ]
    for row in matrix["rows"]:
        cells = [SYMBOL.get(c["verdict"], c["verdict"]) if c else " " for c in row["cells"]]
        out.append(f"| `{row['id']}` | {row['level']} | " + " | ".join(cells) + " |")
    out += ["", "Legend: " + ", ".join(f"{s} {v}" for v, s in SYMBOL.items()) + ", blank: not run.", ""]
    return "\n".join(out)


def render_matrix_html(matrix: dict) -> str:
    from conformance.report.html import css_class

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vclass"] = css_class
    return env.get_template("matrix.html.j2").render(m=matrix, verdicts=model.VERDICTS, symbol=SYMBOL)


def write_matrix(paths: Sequence[str | Path], out_dir: str | Path, labels: Sequence[str] | None = None) -> list[Path]:
    """Load ``paths`` (results files or report directories) and write the matrix into ``out_dir``."""
    docs = [model.load_results(p) for p in paths]
    if labels:
        if len(labels) != len(docs):
            raise model.ReportInputError(f"{len(labels)} --label value(s) for {len(docs)} results file(s)")
        labels = list(labels)
    else:
        labels = default_labels(paths, docs)
    m = build_matrix(docs, labels)
    out = Path(out_dir)
    return [
        model.write_text(out / "index.html", render_matrix_html(m)),
        model.write_text(out / "summary.md", render_matrix_markdown(m)),
    ]
