"""Every check can fail: the kill matrix, one test per stub fault (xdist spreads them).

Each defect fault must fail at least one check and every check its catalog entry names;
the clean stub and each control must fail nothing; docs/kill-matrix.md must show exactly the
rows measured here, and, by it, every check of the catalog is tripped by some fault.
"""

from __future__ import annotations

import pytest

from conformance.checks import load_catalog
from conformance.killmatrix import DOC, PROFILE, failing, parse, unmet_trips, verdicts_against
from conformance.stub.faults import BY_NAME


def documented() -> dict[str, list[str]]:
    assert DOC.exists(), "docs/kill-matrix.md is missing: run python -m conformance.killmatrix"
    return parse(DOC.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["(none)", *BY_NAME])
def test_fault_row(name: str) -> None:
    failed = failing(verdicts_against([] if name == "(none)" else [name]))
    fault = None if name == "(none)" else BY_NAME[name]  # a name not in the catalog is an error
    if fault is None or fault.kind == "control":
        assert failed == [], f"{name} must trip nothing, but these checks failed: {failed}"
    else:
        assert failed, f"defect fault {name} trips no check"
        assert unmet_trips(fault, failed) == [], (
            f"{name} must fail checks matching {unmet_trips(fault, failed)}; it failed {failed}"
        )
    # every cell: what a row fails depends on its fault alone, not on the rows an xdist worker
    # ran before it (generated cases and their positive/negative modes are fixed before anything
    # is sent; see conformance.checks.generated._serve_model)
    assert sorted(documented().get(name) or []) == sorted(failed), (
        "docs/kill-matrix.md is out of date: run python -m conformance.killmatrix"
    )


def test_the_matrix_lists_every_fault_once() -> None:
    assert list(documented()) == ["(none)", *BY_NAME]


def test_every_check_is_tripped_by_some_fault() -> None:
    tripped = {cid for row in documented().values() for cid in row}
    never = [c.id for c in load_catalog().select(profile=PROFILE) if c.id not in tripped]
    assert never == [], f"no stub fault makes these checks fail: {never}"
