"""A short Markdown summary of one run (``summary.md``), fit for a pull-request comment."""

from __future__ import annotations

from conformance.report import model

MAX_FAILURES = 25


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _one_line(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_markdown(doc: dict, diagnoses: list[dict] | None = None) -> str:
    from conformance.report.diagnosis import diagnose

    if diagnoses is None:
        diagnoses = diagnose(doc)
    icon = "✅" if doc["gate"]["exit_code"] == 0 else "❌"
    out = [
        f"### {icon} Anthropic Messages API conformance: {doc['gate']['verdict']}",
        "",
        f"Target `{doc['target']}` · profile `{doc['profile']}` · anthropic-version `{doc['anthropic_version']}` · "
        f"model `{doc.get('model') or '(unknown)'}` · seed {doc['seed']} · "
        f"{doc['harness']['name']} {doc['harness']['version']} · {doc['created']}"
        + (f" · {model.clients_line(doc)}" if model.clients_line(doc) else ""),
        "",
        "**"
        + ", ".join(f"{n} {v}" for v, n in model.counts(doc["results"]).items())
        + f"** of {len(doc['results'])} checks",
        "",
    ]
    fams = model.families(doc)
    verdicts = [v for v in model.VERDICTS if any(v in c for c in fams.values())]
    out.append("| family | " + " | ".join(verdicts) + " |")
    out.append("|---|" + "---:|" * len(verdicts))
    for fam, c in fams.items():
        out.append(f"| {fam} | " + " | ".join(str(c.get(v, 0)) if c.get(v) else "·" for v in verdicts) + " |")
    failing = model.problems(doc)
    under = model.dependents(doc)
    if failing:
        out += ["", f"#### Failing checks ({len(failing)})", ""]
        for r in failing[:MAX_FAILURES]:
            out.append(f"- `{r['id']}` **{r['level']}** {r['verdict']}: {_one_line(r['message'])}")
            shown = under.get(r["id"], [])
            if shown:
                ids = ", ".join(f"`{d['id']}` ({d['verdict']})" for d in shown[:8])
                more = f", … {len(shown) - 8} more" if len(shown) > 8 else ""
                out.append(f"  - and, with the same root: {ids}{more}")
        if len(failing) > MAX_FAILURES:
            out.append(f"- … and {len(failing) - MAX_FAILURES} more (see `index.html`)")
    if diagnoses:
        out += ["", "#### Diagnosis", ""]
        for d in diagnoses:
            out.append(f"- **{d['title']}** ({len(d['checks'])} checks). Likely cause: {d['cause']} Fix: {d['fix']}")
    out += ["", "Full report with evidence: `index.html`; machine-readable: `results.json`, `junit.xml`.", ""]
    return "\n".join(out)
