"""The HTML report: one self-contained ``index.html`` (inline CSS and JS, no network).

Failures first, grouped by family and level; filters by verdict, level and family; each check
expands to its evidence (curl reproduction, status, headers, body excerpt, SSE transcript with
arrival times). Evidence is shared between checks that judged the same exchange, so each
exchange is embedded once, as JSON, and rendered by the page's script when a check is opened.
Everything from the target is rendered as text (``textContent``, autoescaped Jinja), never as
markup.
"""

from __future__ import annotations

import json
from typing import Any

import jinja2

from conformance.report import model
from conformance.report.darkbloom import attestation
from conformance.report.diagnosis import diagnose

TEMPLATE = "index.html.j2"


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("conformance.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no '</script>', no HTML-significant characters)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _shared_evidence(doc: dict) -> tuple[list[dict], dict[str, list[int]]]:
    """Each distinct exchange once, and for each check the indices of its exchanges."""
    index: dict[str, int] = {}
    exchanges: list[dict] = []
    by_check: dict[str, list[int]] = {}
    for r in doc["results"]:
        refs = []
        for ex in r.get("evidence") or ():
            key = json.dumps(ex, sort_keys=True, ensure_ascii=False)
            if key not in index:
                index[key] = len(exchanges)
                exchanges.append(ex)
            refs.append(index[key])
        by_check[r["id"]] = refs
    return exchanges, by_check


def css_class(verdict: str) -> str:
    return "v-" + verdict.replace(" ", "-")


def render_html(doc: dict, diagnoses: list[dict] | None = None) -> str:
    """The report page for one results document."""
    if diagnoses is None:
        diagnoses = diagnose(doc)
    exchanges, by_check = _shared_evidence(doc)
    env = _env()
    env.filters["vclass"] = css_class
    verdicts = [v for v in model.VERDICTS if v in doc["counts"]]
    return env.get_template(TEMPLATE).render(
        doc=doc,
        counts=model.counts(doc["results"]),
        total=len(doc["results"]),
        families=model.families(doc),
        groups=model.ordered(doc),
        verdicts=verdicts,
        all_verdicts=model.VERDICTS,
        levels=[lv for lv in model.LEVELS if any(r["level"] == lv for r in doc["results"])],
        diagnoses=diagnoses,
        diagnosed={cid: d["title"] for d in reversed(diagnoses) for cid in d["checks"]},
        problem=model.PROBLEM,
        data=_script_json({"exchanges": exchanges, "evidence": by_check}),
        gate_passed=doc["gate"]["exit_code"] == 0,
        clients=model.clients_line(doc),
        darkbloom=attestation(doc),
    )
