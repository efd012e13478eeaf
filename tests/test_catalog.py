"""The catalog's own rules: stable IDs, one docstring per check, docs/checks.md current."""

from __future__ import annotations

import re

from conformance._catalog import CATALOG, Level
from conformance.catalogdoc import DOC, render
from conformance.checks import load_catalog

ID = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*){2,}$")


def test_ids_levels_refs_and_docstrings() -> None:
    load_catalog()
    assert len(CATALOG) > 50
    for c in CATALOG:
        assert ID.match(c.id), c.id
        assert isinstance(c.level, Level)
        assert c.ref.strip() and c.requirement.strip(), c.id
        assert c.profiles <= {"anthropic", "darkbloom"} and c.profiles, c.id
        doc = getattr(c.judge, "__doc__", None) or ""
        assert doc.strip(), f"{c.id}: the check function needs a docstring stating its requirement"


def test_docs_checks_md_is_current() -> None:
    assert DOC.exists() and DOC.read_text(encoding="utf-8") == render(), (
        "docs/checks.md is out of date: run python -m conformance.catalogdoc"
    )
