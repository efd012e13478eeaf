"""index.html in a real headless Chromium: no console errors, no network, the counts of results.json."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from report_helpers import make_doc

from conformance.report.html import render_html

CHROMIUM = os.environ.get("CONFORMANCE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}: .ci/run installs the Debian package")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Page:
    def __init__(self, browser, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_load_state("load")

    def text(self, selector: str) -> str:
        return self.page.locator(selector).first.text_content().strip()


def test_report_page_shows_the_counts_of_results_json(browser, stub_run, tmp_path):
    doc = stub_run.doc
    page = Page(browser, stub_run.report_dir / "index.html")
    shot = tmp_path / "report.png"
    page.page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # counts as shown in the header, and as counted from the rendered check rows
    shown = {el.get_attribute("data-verdict"): int(el.text_content()) for el in page.page.locator(".count").all()}
    assert shown == doc["counts"]
    assert int(page.text("#count-total")) == len(doc["results"])
    rows = page.page.eval_on_selector_all("details.check", "els => els.map(e => e.dataset.verdict)")
    assert {v: rows.count(v) for v in set(rows)} == doc["counts"]
    assert page.text("#shown") == f"showing {len(doc['results'])} of {len(doc['results'])} checks"
    # header: run metadata and gate verdict
    assert page.text("#meta-profile") == doc["profile"]
    assert page.text("#meta-version") == doc["anthropic_version"]
    assert page.text("#meta-model") == doc["model"]
    assert page.text("#meta-seed") == str(doc["seed"])
    assert page.text("#gate") == doc["gate"]["verdict"]
    # failures first: the first row on the page is a failed check
    assert rows[0] == "failed"

    # filter to failures only
    for box in page.page.locator("#filter-verdict input").all():
        if box.get_attribute("value") != "failed":
            box.uncheck()
    assert page.page.locator("#shown").get_attribute("data-shown") == str(doc["counts"]["failed"])
    assert page.page.locator("details.check:not(.hidden)").count() == doc["counts"]["failed"]
    # a family filter on top
    page.page.select_option("#filter-family", "stream")
    stream_failed = sum(1 for r in doc["results"] if r["family"] == "stream" and r["verdict"] == "failed")
    assert page.page.locator("details.check:not(.hidden)").count() == stream_failed

    # a check expands to its evidence: curl line with the key as a variable, SSE transcript
    check = page.page.locator('details.check[data-id="stream.grammar.no-done-sentinel"]')
    check.locator("summary").click()
    evidence = check.locator(".evidence")
    assert "curl -sS" in evidence.locator("pre.curl").first.text_content()
    assert "$CONFORMANCE_API_KEY" in evidence.text_content()
    assert "[DONE]" in evidence.locator("table.sse").first.text_content()
    assert page.errors == []
    assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests
    page.page.close()


def test_hostile_evidence_is_shown_as_text_never_run(browser, tmp_path):
    doc = make_doc({"response.shape.message-schema": "failed"})
    evil = '</script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    r = doc["results"][0]
    r["message"] = "expected a Message, got " + evil
    r["evidence"] = [
        {
            "request": {
                "method": "POST",
                "url": "http://t.example/v1/messages",
                "headers": [["x-api-key", "[redacted]"]],
                "body": "{}",
                "curl": "curl http://t.example/v1/messages",
            },
            "status": 200,
            "reason": "OK",
            "headers": [["content-type", "text/html"]],
            "body": evil,
            "events": [],
            "transport_error": None,
            "timings": {"elapsed": 0.01, "first_byte_after": 0.005},
        }
    ]
    path = tmp_path / "index.html"
    path.write_text(render_html(doc), encoding="utf-8")
    page = Page(browser, path)
    page.page.locator("details.check summary").first.click()
    assert page.page.evaluate("window.__pwned") is None
    assert evil in page.page.locator("details.check .evidence pre").last.text_content()
    assert evil in page.text("details.check .msg")
    assert page.errors == []
    page.page.close()
