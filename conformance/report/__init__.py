"""Report writers over the one result model (``results.json``).

:func:`write_reports` writes a run's reports into one directory under fixed names:

* ``results.json``: the whole model (schema: ``schemas/data/results.schema.json``);
* ``index.html``: self-contained HTML (:mod:`conformance.report.html`);
* ``junit.xml``: one test case per check (:mod:`conformance.report.junit`);
* ``summary.md``: a short Markdown summary (:mod:`conformance.report.markdown`).

``conformance report merge`` (:mod:`.matrix`) and ``conformance report diff`` (:mod:`.diff`)
read results files back. Every file passes through the run's redactor before it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from conformance.report.diagnosis import diagnose
from conformance.report.model import ReportInputError, load_results

INDEX_HTML = "index.html"
RESULTS_JSON = "results.json"
JUNIT_XML = "junit.xml"
SUMMARY_MD = "summary.md"
REPORT_FILES = (INDEX_HTML, RESULTS_JSON, JUNIT_XML, SUMMARY_MD)

__all__ = ["REPORT_FILES", "ReportInputError", "diagnose", "load_results", "write_reports"]


def write_reports(doc: dict, directory: str | Path, secrets: Iterable[str] = ()) -> list[Path]:
    """Write every report of ``doc`` (a results document) into ``directory``; returns the paths."""
    from conformance.report import html, junit, markdown, model

    out = Path(directory)
    secrets = frozenset(secrets)
    diagnoses = diagnose(doc)
    full = model.with_format(doc, diagnoses)
    return [
        model.write_text(out / RESULTS_JSON, model.dumps(full), secrets),
        model.write_text(out / JUNIT_XML, junit.render_junit(doc), secrets),
        model.write_text(out / SUMMARY_MD, markdown.render_markdown(doc, diagnoses), secrets),
        model.write_text(out / INDEX_HTML, html.render_html(doc, diagnoses), secrets),
    ]
