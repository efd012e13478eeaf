"""The fleet's reports: the per-cell gate table and the merged matrix (checks × cells).

``OUTPUT/index.html`` and ``OUTPUT/summary.md`` are the matrix of ``conformance report merge``
(:mod:`conformance.report.matrix`) over the cells that produced results, one column per cell,
with the gate table of every cell (those that could not run included) above it;
``OUTPUT/results.json`` holds the table, the matrix and the fleet's verdict for tools. Each
cell's own reports are in ``OUTPUT/cells/CELL/`` beside its record ``cell.json``.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Mapping, Sequence

from conformance import __version__
from conformance.fleet.spec import Cell, Fleet
from conformance.report import model
from conformance.report.matrix import build_matrix, render_matrix_html, render_matrix_markdown

FORMAT = {"name": "conformance-fleet", "version": 1}
CELL_FORMAT = {"name": "conformance-fleet-cell", "version": 1}
CELLS_DIR = "cells"
CELL_JSON = "cell.json"
EXIT_PASSED, EXIT_FAILED, EXIT_NOT_RUN = 0, 1, 2
GATE_WORDS = {"passed": "passed", "failed": "FAILED", "error": "NOT RUN"}


def exit_code(records: Sequence[Mapping[str, Any]]) -> int:
    """1 when a cell failed its gate; otherwise 2 when a cell could not run; otherwise 0."""
    statuses = {r["status"] for r in records}
    if "failed" in statuses:
        return EXIT_FAILED
    if statuses - {"passed"} or not records:
        return EXIT_NOT_RUN
    return EXIT_PASSED


def verdict_line(records: Sequence[Mapping[str, Any]]) -> str:
    total = len(records)
    failed = [r["label"] for r in records if r["status"] == "failed"]
    not_run = [r["label"] for r in records if r["status"] not in ("passed", "failed")]

    def names(labels: list[str]) -> str:
        return ", ".join(labels[:5]) + (f", ... ({len(labels) - 5} more)" if len(labels) > 5 else "")

    if failed:
        line = f"FLEET FAILED: {len(failed)} of {total} cell(s) failed their gate: {names(failed)}"
        return line + (f"; {len(not_run)} could not run" if not_run else "")
    if not_run:
        return f"FLEET NOT COMPLETE: {len(not_run)} of {total} cell(s) could not run: {names(not_run)}"
    return f"FLEET PASSED: all {total} cell(s) passed their gate"


def cell_record(cell: Cell, fleet: Fleet, outcome: Mapping[str, Any], attempts: int) -> dict[str, Any]:
    """What ``cell.json`` keeps of a cell (no report files, no secrets)."""
    failed_ids = list(outcome.get("failed") or [])
    counts = dict(outcome.get("counts") or {})
    return {
        "format": dict(CELL_FORMAT),
        "fleet_key": fleet.key,
        "id": cell.id,
        "label": cell.label,
        "target": cell.target,
        "url": cell.url,
        "axes": dict(cell.axes),
        "anthropic_version": cell.anthropic_version,
        "profile": cell.profile,
        "auth": cell.auth,
        "model": outcome.get("model") or cell.options.get("model"),
        "status": outcome["status"],
        "exit_code": outcome.get("exit_code"),
        "gate": outcome.get("gate"),
        "error": outcome.get("error"),
        "counts": counts,
        "failed": counts.get("failed", 0),
        "errors": counts.get("error", 0),
        "failed_checks": failed_ids,
        "duration": outcome.get("duration"),
        "cpu_seconds": outcome.get("cpu_seconds"),
        "max_rss_mb": outcome.get("max_rss_mb"),
        "attempts": attempts,
        "worker": outcome.get("worker"),
        "host": outcome.get("host"),
        "harness_version": outcome.get("harness_version"),
        "resumed": False,
    }


def write_cell(out_dir: Path, record: Mapping[str, Any], files: Mapping[str, bytes], output: str) -> Path:
    """Replace ``OUTPUT/cells/CELL`` with the cell's report files, its output and its record."""
    import shutil
    import zlib

    cell_dir = out_dir / CELLS_DIR / record["id"]
    if cell_dir.is_dir() and (cell_dir / CELL_JSON).exists():
        shutil.rmtree(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    for name, blob in files.items():
        if "/" in name or name.startswith("."):
            continue
        (cell_dir / name).write_bytes(zlib.decompress(blob))
    if output:
        (cell_dir / "output.txt").write_text(output, encoding="utf-8")
    (cell_dir / CELL_JSON).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return cell_dir


def read_cell(out_dir: Path, cell_id: str) -> dict[str, Any] | None:
    path = out_dir / CELLS_DIR / cell_id / CELL_JSON
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("format") == CELL_FORMAT else None


def _axis_columns(fleet: Fleet) -> list[str]:
    return [a for a in fleet.axes if a not in ("anthropic_version", "profile", "auth")]


def gate_rows(fleet: Fleet, records: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """The gate table: a header and one row per cell, as text."""
    extra = _axis_columns(fleet)
    header = ["cell", "target", "version", "profile", "auth", *extra, "gate", "failed", "errors", "time", "tries"]
    rows = []
    for r in records:
        time_s = f"{r['duration']:.1f} s" if isinstance(r.get("duration"), (int, float)) else "-"
        gate = GATE_WORDS.get(r["status"], r["status"])
        rows.append(
            [
                r["label"],
                r["target"],
                r["anthropic_version"],
                r["profile"],
                r["auth"],
                *(str(r["axes"].get(a, "")) for a in extra),
                gate,
                str(r.get("failed", 0)) if r["status"] != "error" else "-",
                str(r.get("errors", 0)) if r["status"] != "error" else "-",
                time_s + (" (kept)" if r.get("resumed") else ""),
                str(r.get("attempts", 1)),
            ]
        )
    return header, rows


def gate_table_text(fleet: Fleet, records: Sequence[Mapping[str, Any]]) -> str:
    header, rows = gate_rows(fleet, records)
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row, r in zip(rows, records, strict=True):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if r["status"] == "error" and r.get("error"):
            lines.append(f"    {r['error']}")
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def gate_table_markdown(fleet: Fleet, records: Sequence[Mapping[str, Any]]) -> str:
    header, rows = gate_rows(fleet, records)
    icon = {"passed": "✅", "FAILED": "❌", "NOT RUN": "💥"}
    gate_col = header.index("gate")
    out = ["### Fleet gate", "", "| " + " | ".join(header) + " | why |", "|" + "---|" * (len(header) + 1)]
    for row, r in zip(rows, records, strict=True):
        cells = list(row)
        cells[0] = f"[{_md(cells[0])}]({CELLS_DIR}/{r['id']}/index.html)" if r["status"] != "error" else _md(cells[0])
        cells[gate_col] = f"{icon.get(cells[gate_col], '')} {cells[gate_col]}".strip()
        why = r.get("error") or (r.get("gate") if r["status"] == "failed" else "") or ""
        out.append("| " + " | ".join(_md(c) for c in cells) + f" | {_md(why)} |")
    return "\n".join(out) + "\n"


def _gate_table_html(fleet: Fleet, records: Sequence[Mapping[str, Any]], verdict: str, exit_status: int) -> str:
    header, rows = gate_rows(fleet, records)
    klass = "gate-pass" if exit_status == 0 else "gate-fail"
    parts = [
        "<style>#fleet td { white-space: nowrap; } #fleet td:last-child { white-space: normal; }</style>",
        '<h2 id="fleet-gate">Fleet gate</h2>',
        f'<p class="{klass}">{html.escape(verdict)}</p>',
        '<table id="fleet"><thead><tr>'
        + "".join(f"<th>{html.escape(h)}</th>" for h in header)
        + "<th>why</th></tr></thead><tbody>",
    ]
    gate_col = header.index("gate")
    for row, r in zip(rows, records, strict=True):
        cells = [html.escape(c) for c in row]
        if r["status"] != "error":
            cells[0] = f'<a href="{CELLS_DIR}/{html.escape(r["id"])}/index.html">{cells[0]}</a>'
        cls = {"passed": "gate-pass"}.get(r["status"], "gate-fail")
        cells[gate_col] = f'<span class="{cls}">{cells[gate_col]}</span>'
        why = r.get("error") or (r.get("gate") if r["status"] == "failed" else "") or ""
        parts.append(
            f'<tr data-cell="{html.escape(r["id"])}" data-status="{r["status"]}">'
            + "".join(f"<td>{c}</td>" for c in cells)
            + f"<td>{html.escape(why)}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append('<h2 id="fleet-matrix">Checks × cells</h2>')
    return "\n".join(parts) + "\n"


_EMPTY_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Conformance fleet</title>
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: 0 24px 24px; } table { border-collapse: collapse; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; } .gate-pass { color: #2e7d32; font-weight: 700; }
.gate-fail { color: #c62828; font-weight: 700; }</style>
</head>
<body>
<h1>Anthropic Messages API conformance fleet</h1>
<p>No cell produced results: there is no matrix.</p>
</body>
</html>
"""


def write_fleet_report(
    out_dir: Path, fleet: Fleet, cell_records: Sequence[Mapping[str, Any]], *, meta: Mapping[str, Any] | None = None
) -> tuple[list[Path], list[dict[str, Any]]]:
    """Write ``index.html``, ``summary.md`` and ``results.json`` of the fleet into ``out_dir``;
    the files and the records as reported (a cell whose ``results.json`` turns out unusable is
    an error there)."""
    records = [dict(r) for r in cell_records]
    docs, labels = [], []
    for r in records:
        if r["status"] not in ("passed", "failed"):
            continue
        try:
            doc = model.load_results(out_dir / CELLS_DIR / r["id"])
        except model.ReportInputError as exc:
            r.update(status="error", error=f"its results.json is unusable: {exc}")
            continue
        docs.append(doc)
        labels.append(r["label"])
    status = exit_code(records)
    verdict = verdict_line(records)
    matrix = build_matrix(docs, labels) if docs else None
    gate_html = _gate_table_html(fleet, records, verdict, status)
    if matrix is not None:
        page = render_matrix_html(matrix)
        anchor = page.find("</h1>")
        at = anchor + len("</h1>") if anchor >= 0 else page.find("<body>") + len("<body>")
        page = page[:at] + "\n" + gate_html + page[at:]
        markdown = render_matrix_markdown(matrix)
    else:
        page = _EMPTY_PAGE.replace("</h1>\n", "</h1>\n" + gate_html)
        markdown = ""
    summary = f"{gate_table_markdown(fleet, records)}\n**{verdict}**\n\n{markdown}"
    document = {
        "format": dict(FORMAT),
        "harness": {"name": "conformance", "version": __version__},
        "fleet": {"file": str(fleet.path), "key": fleet.key, "axes": list(fleet.axes), **dict(meta or {})},
        "exit_code": status,
        "verdict": verdict,
        "cells": records,
        "matrix": matrix,
    }
    paths = [
        model.write_text(out_dir / "index.html", page),
        model.write_text(out_dir / "summary.md", summary),
        model.write_text(out_dir / "results.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n"),
    ]
    return paths, records
