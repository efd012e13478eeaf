"""Baselines: ``conformance report diff BASE.json NEW.json`` lists regressions and fixes.

A *regression* is a check that fails (verdict failed or error) in NEW and did not in BASE,
including a check BASE did not have; a *fix* is the reverse. A blocked or folded check (shown
under the root that fails for its cause) is neither passing nor a red line of its own: moving
between it and failed is a change, not a regression or a fix. Other verdict changes (e.g.
passed -> inconclusive) are listed as changes. The command exits 1 when there is a regression,
so CI can gate on "no new failures".
"""

from __future__ import annotations

import json

from conformance.report import model

LEVELS_FOR = {"must": ("MUST",), "should": ("MUST", "SHOULD"), "all": ("MUST", "SHOULD", "MAY")}


def diff(base: dict, new: dict, gate: str = "all") -> dict:
    """``{regressions, fixes, changes, removed}``; each item ``{id, level, before, after, message}``."""
    levels = LEVELS_FOR[gate]
    before = {r["id"]: r for r in base["results"]}
    after = {r["id"]: r for r in new["results"]}
    out: dict[str, list[dict]] = {"regressions": [], "fixes": [], "changes": [], "removed": []}
    for cid, r in after.items():
        old = before.get(cid)
        was = old["verdict"] if old else None
        item = {"id": cid, "level": r["level"], "before": was, "after": r["verdict"], "message": model.reason(r)}
        bad_now, bad_then = r["verdict"] in model.PROBLEM, was in model.PROBLEM
        # a blocked or folded check is not passing either: shown under a root, it is no fix, and
        # a check that was under a root and now stands alone is no new failure (both: a change)
        under_now, under_then = r["verdict"] in model.SHOWN_UNDER, was in model.SHOWN_UNDER
        if bad_now and not (bad_then or under_then) and r["level"] in levels:
            out["regressions"].append(item)
        elif bad_then and not (bad_now or under_now) and r["level"] in levels:
            out["fixes"].append(item)
        elif was is not None and was != r["verdict"]:
            out["changes"].append(item)
    for cid, r in before.items():
        if cid not in after:
            out["removed"].append(
                {"id": cid, "level": r["level"], "before": r["verdict"], "after": None, "message": ""}
            )
    return out


def _run(doc: dict) -> str:
    return f"{doc['target']} ({doc['profile']}, {doc['anthropic_version']}, {doc['created']})"


def render_text(result: dict, base: dict, new: dict) -> str:
    lines = [f"base: {_run(base)}", f"new:  {_run(new)}"]
    for key, word in (
        ("regressions", "REGRESSION"),
        ("fixes", "FIXED"),
        ("changes", "CHANGED"),
        ("removed", "REMOVED"),
    ):
        for it in result[key]:
            was = it["before"] or "not in base"
            now = it["after"] or "not in new"
            tail = f": {it['message']}" if it["message"] and key != "fixes" else ""
            lines.append(f"{word} {it['id']} [{it['level']}] {was} -> {now}{tail}")
    lines.append(
        f"{len(result['regressions'])} regression(s), {len(result['fixes'])} fix(es), "
        f"{len(result['changes'])} other change(s), {len(result['removed'])} removed"
    )
    return "\n".join(lines) + "\n"


def render_markdown(result: dict, base: dict, new: dict) -> str:
    icon = "❌" if result["regressions"] else "✅"
    out = [
        f"### {icon} Conformance diff: {len(result['regressions'])} regression(s), {len(result['fixes'])} fix(es)",
        "",
        f"Base `{base['target']}` ({base['created']}) → new `{new['target']}` ({new['created']})",
        "",
    ]
    for key, title in (
        ("regressions", "Regressions"),
        ("fixes", "Fixes"),
        ("changes", "Other changes"),
        ("removed", "Removed checks"),
    ):
        if result[key]:
            out += [f"#### {title}", ""]
            for it in result[key]:
                out.append(
                    f"- `{it['id']}` **{it['level']}** {it['before'] or 'not in base'} → {it['after'] or 'not in new'}"
                    + (f": {it['message']}" if it["message"] and key != "fixes" else "")
                )
            out.append("")
    return "\n".join(out)


def render(result: dict, base: dict, new: dict, fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return render_markdown(result, base, new)
    return render_text(result, base, new)
