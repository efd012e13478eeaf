"""JUnit XML from the result model: one test case per check, named by its ID.

Level, contract reference, verdict and requirement are test-case properties, so CI systems
(GitLab, Jenkins, GitHub test reporters) show them. Verdicts map onto JUnit's vocabulary:
failed -> <failure>, error -> <error> (a harness error), blocked / folded (shown under the root
check that fails for their cause) / expected failure / unsupported / inconclusive / skipped ->
<skipped> with the verdict and the root in its message, passed and unexpected pass -> a plain
test case (neither fails the gate).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from conformance.report.model import clients_line, under_line

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SKIPPED = frozenset({"blocked", "folded", "expected failure", "unsupported", "inconclusive", "skipped"})


def _x(text: object) -> str:
    """Text XML 1.0 can carry (control characters from a hostile target become U+FFFD)."""
    return _INVALID_XML.sub("\ufffd", "" if text is None else str(text))


def _details(r: dict) -> str:
    lines = [
        f"{r['id']} [{r['level']}] {r['verdict']}: {r['message']}",
        f"requirement: {r['requirement']} ({r['ref']})",
    ]
    if r.get("note"):
        lines.append(f"note: {r['note']}")
    for ex in (r.get("evidence") or [])[:3]:
        req = ex.get("request") or {}
        lines.append(f"$ {req.get('curl', '')}")
        lines.append(f"-> {ex.get('status')} {ex.get('transport_error') or ''}".rstrip())
    return "\n".join(lines)


def render_junit(doc: dict) -> str:
    results = doc["results"]
    n = {
        "tests": len(results),
        "failures": sum(r["verdict"] == "failed" for r in results),
        "errors": sum(r["verdict"] == "error" for r in results),
        "skipped": sum(r["verdict"] in _SKIPPED for r in results),
    }
    total = sum(float(r.get("duration") or 0) for r in results)
    attrs = {k: str(v) for k, v in n.items()} | {"time": f"{total:.3f}"}
    root = ET.Element("testsuites", {"name": "conformance", **attrs})
    suite = ET.SubElement(
        root, "testsuite", {"name": f"conformance.{doc['profile']}", **attrs, "timestamp": _x(doc.get("created", ""))}
    )
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", doc["target"]),
        ("profile", doc["profile"]),
        ("anthropic_version", doc["anthropic_version"]),
        ("model", doc.get("model") or ""),
        ("seed", doc["seed"]),
        ("harness_version", doc["harness"]["version"]),
        ("clients", clients_line(doc)),
        ("gate", doc["gate"]["verdict"]),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _x(value)})
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"conformance.{r['family']}",
                "name": _x(r["id"]),
                "time": f"{float(r.get('duration') or 0):.3f}",
            },
        )
        cprops = ET.SubElement(case, "properties")
        for name in ("level", "ref", "verdict", "requirement"):
            ET.SubElement(cprops, "property", {"name": name, "value": _x(r.get(name, ""))})
        if r.get("capability"):
            ET.SubElement(cprops, "property", {"name": "capability", "value": _x(r["capability"])})
        verdict = r["verdict"]
        if verdict == "failed":
            el = ET.SubElement(case, "failure", {"message": _x(r["message"]), "type": _x(r["level"])})
            el.text = _x(_details(r))
        elif verdict == "error":
            el = ET.SubElement(case, "error", {"message": _x(r["message"]), "type": "harness error"})
            el.text = _x(_details(r))
        elif verdict in _SKIPPED:
            why = under_line(r) or verdict
            ET.SubElement(case, "skipped", {"message": _x(f"{why}: {r['message'] or r.get('note', '')}")})
        elif verdict == "unexpected pass":
            ET.SubElement(case, "system-out").text = _x(f"unexpected pass: {r.get('note', '')}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
