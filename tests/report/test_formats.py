"""The four formats: deterministic bytes, self-contained HTML, Markdown sections, JUnit shape."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from policyengine import report
from policyengine.evaluate.findings import CheckRun
from policyengine.report import filters
from policyengine.report.build import build
from policyengine.rules.ruleset import RuleSet

from .helpers import GENERATED, XSS

Renderer = Callable[..., object]
RENDERERS: dict[str, Renderer] = {
    "html": report.html,
    "md": report.markdown,
    "junit": report.junit,
    "json": report.json_text,
}


@pytest.fixture(scope="module")
def rendered(demo_run: CheckRun, rules: RuleSet) -> dict[str, str]:
    return {fmt: str(render(demo_run, GENERATED, rules=rules)) for fmt, render in RENDERERS.items()}


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_same_inputs_give_the_same_bytes(
    fmt: str, demo_run: CheckRun, rules: RuleSet, rendered: dict[str, str]
) -> None:
    """Rendering twice gives identical bytes; the generation time is shown, not read."""
    again = str(RENDERERS[fmt](demo_run, GENERATED, rules=rules))
    assert again.encode() == rendered[fmt].encode()
    assert "2025-10-01T12:00:00" in again


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_no_absolute_path_or_clock_leaks_into_a_report(fmt: str, rendered: dict[str, str]) -> None:
    """Nothing machine-specific: no home, temp or checkout path in any format."""
    import policyengine

    checkout = str(policyengine.__file__).rsplit("/policyengine/", 1)[0]
    for leak in (checkout, "/tmp/", "/home/", "/root/"):
        assert leak not in rendered[fmt]


def test_the_html_report_is_self_contained(rendered: dict[str, str]) -> None:
    """No script, stylesheet link, font, image or frame is loaded from anywhere."""
    page = rendered["html"]
    for loader in ("<script", "<link", "<iframe", "<img", "@import", "@font-face", "src="):
        assert loader not in page, loader
    assert not re.search(r"url\((?!#)", page), "a CSS url() other than an in-page SVG reference"
    assert "Content-Security-Policy" in page
    assert "@media print" in page


def test_the_html_report_has_every_section(rendered: dict[str, str], demo_run: CheckRun) -> None:
    """Verdict, findings, obligations, waivers, graph, sources, trace, appendix, disclaimer."""
    page = rendered["html"]
    for anchor in ("verdict", "findings", "obligations", "waivers", "lineage", "sources"):
        assert f'id="{anchor}"' in page
    assert "<svg" in page
    assert "Appendix B" in page
    assert "not legal advice" in page.lower()
    assert demo_run.ledger_head is not None
    assert demo_run.ledger_head in page
    for pack in demo_run.packs:
        assert pack.digest in page


def test_markdown_has_the_same_sections_minus_the_graph(rendered: dict[str, str]) -> None:
    """The Markdown report carries the HTML's sections, with no SVG or HTML tags of its own."""
    text = rendered["md"]
    headings = re.findall(r"^## (.+?)(?: \(\d+\))?$", text, flags=re.MULTILINE)
    assert headings == [
        "Verdict: Violation",
        "Findings",
        "Obligations checklist",
        "Waivers",
        "Upstream sources",
        "Appendix A — decisions and their trace",
        "Appendix B — reproducibility",
    ]
    assert "<svg" not in text
    assert "**Not legal advice.**" in text


def test_junit_has_a_case_per_source_and_rule(
    rendered: dict[str, str], demo_run: CheckRun, rules: RuleSet
) -> None:
    """One suite per source path, one case per rule of its terms; failures, errors, skipped."""
    root = ET.fromstring(rendered["junit"].encode())
    built = build(demo_run, GENERATED, rules=rules)
    suites = root.findall("testsuite")
    assert len(suites) == len(built.sources)
    by_decision = {d.id: len(d.rules) for d in built.decisions}
    for suite, source in zip(suites, built.sources, strict=True):
        assert len(suite.findall("testcase")) == max(by_decision[source.decision], 1)
    assert len(root.findall(".//failure")) == int(root.get("failures", "-1")) > 0
    assert len(root.findall(".//error")) == int(root.get("errors", "-1")) > 0
    skipped = root.findall(".//skipped")
    assert len(skipped) == int(root.get("skipped", "-1")) == 1
    assert len(root.findall(".//testcase")) == int(root.get("tests", "-1"))
    failure = root.find(".//failure")
    assert failure is not None
    assert "remediation:" in (failure.text or "")


def test_hostile_names_are_escaped_in_every_format(hostile_run: CheckRun, rules: RuleSet) -> None:
    """A dataset or approver named like markup is text in HTML, JUnit and Markdown."""
    page = report.html(hostile_run, GENERATED, rules=rules)
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    junit = report.junit(hostile_run, GENERATED, rules=rules)
    ET.fromstring(junit.encode())
    assert "<script>" not in report.markdown(hostile_run, GENERATED, rules=rules)


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("plain words", "plain words"),
        ("a|b", "a\\|b"),
        ("<b>bold</b>", "&lt;b>bold&lt;/b>"),
        ("*x* _y_ [z](u)", "\\*x\\* \\_y\\_ \\[z\\](u)"),
        ("two\nlines", "two lines"),
    ],
    ids=["plain", "pipe", "tag", "emphasis and links", "newline"],
)
def test_markdown_escaping(text: str, markdown: str) -> None:
    """User text cannot open tags, tables cells, emphasis or links in Markdown."""
    assert filters.md(text) == markdown


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("record `target.name` to check", "record `target.name` to check"),
        ("`a|b` *c*", "`a\\|b` \\*c\\*"),
        ("span with `` no content", "span with  no content"),
    ],
    ids=["span kept", "pipe in span, emphasis outside", "empty span"],
)
def test_markdown_keeps_code_spans(text: str, markdown: str) -> None:
    """Code spans from the evaluator's messages stay spans; the rest is escaped."""
    assert filters.md_text(text) == markdown


@pytest.mark.parametrize(
    ("value", "code"),
    [("x", "`x`"), ("a`b", "``a`b``"), ("`x", "`` `x ``")],
    ids=["plain", "inner backtick", "leading backtick"],
)
def test_markdown_code_spans_hold_any_text(value: str, code: str) -> None:
    """A code span's fence is longer than any run of backticks inside it."""
    assert filters.md_code(value) == code


def test_html_code_spans_are_escaped_first() -> None:
    """Backticked parts become <code>; markup inside them is still text."""
    assert str(filters.html_text("x `<b>` y")) == "x <code>&lt;b&gt;</code> y"
