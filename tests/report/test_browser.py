"""The HTML report in a real browser: Debian's Chromium, driven by Playwright.

Playwright is launched on `/usr/bin/chromium` (it never downloads a browser); `.ci/run` installs
Chromium when it is missing, so CI always runs these. Elsewhere they skip, saying why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policyengine import report
from policyengine.evaluate.findings import CheckRun
from policyengine.report import graph
from policyengine.report.build import build
from policyengine.rules.ruleset import RuleSet

from .helpers import GENERATED, XSS

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no browser at /usr/bin/chromium (apt-get install chromium; .ci/run installs it)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page, 1400 px wide, that records every dialog a script opens."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.dialogs = []
    opened.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()


def open_report(page: Any, html: str, path: Path) -> None:
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    page.wait_for_load_state("load")


def test_verdict_findings_and_graph_are_visible(
    page: Any, demo_run: CheckRun, rules: RuleSet, tmp_path: Path
) -> None:
    """The verdict, every finding with its rule, and the lineage graph show on the page."""
    built = build(demo_run, GENERATED, rules=rules)
    open_report(page, report.render_view(built, "html"), tmp_path / "report.html")
    verdict = page.locator("#verdict")
    assert verdict.is_visible()
    assert "verdict: violation" in verdict.inner_text().lower()
    for finding in built.findings:
        card = page.locator(f"article#{finding.id}")
        assert card.is_visible(), finding.id
        assert finding.rule_id is None or finding.rule_id in card.inner_text()
    svg = page.locator("#lineage svg")
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 300
    nodes = page.locator("#lineage svg g.node")
    assert nodes.count() == len(graph.layout(built).nodes)
    assert all(nodes.nth(i).is_visible() for i in range(nodes.count()))
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000


def test_hostile_names_render_as_text_and_run_nothing(
    page: Any, hostile_run: CheckRun, rules: RuleSet, tmp_path: Path
) -> None:
    """A dataset named like a script is shown as text; no dialog opens, no element is made."""
    open_report(page, report.html(hostile_run, GENERATED, rules=rules), tmp_path / "hostile.html")
    page.wait_for_timeout(200)
    assert page.dialogs == []
    assert XSS in page.locator("h1").inner_text()
    assert XSS in page.locator("#waivers").inner_text()
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    assert page.title().endswith("for fine_tuning")
    assert XSS in page.title()


def test_printing_to_pdf_keeps_the_findings(
    page: Any, demo_run: CheckRun, rules: RuleSet, tmp_path: Path
) -> None:
    """Chromium prints the report to PDF (print stylesheet, A4) and the PDF holds each finding."""
    from pypdf import PdfReader

    built = build(demo_run, GENERATED, rules=rules)
    open_report(page, report.render_view(built, "html"), tmp_path / "report.html")
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    reader = PdfReader(pdf)
    assert len(reader.pages) > 3
    text = re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in reader.pages))
    for finding in built.findings:
        assert f"{finding.id}" in text
        if finding.rule_id:
            assert finding.rule_id in text, finding.rule_id
    assert "Notlegaladvice" in text
