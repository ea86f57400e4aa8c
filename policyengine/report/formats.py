"""One renderer per report format, each a plain function of a check run and the generation time.

``html``, ``markdown`` and ``junit`` render built-in templates; ``json_document`` is the view-model
itself. ``rules`` (the rule set the run was made with) adds document titles, version links and
rule severities; without it those fields fall back to ids or null. The generation time is an input,
shown in the report, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from policyengine.evaluate.findings import CheckRun
from policyengine.report import graph, view
from policyengine.report.build import build
from policyengine.report.custom import render_template
from policyengine.report.render import render as render_builtin
from policyengine.rules.ruleset import RuleSet

FORMATS = ("html", "md", "json", "junit")
"""The formats `policyengine report --format` takes."""

TEMPLATES = {"html": "report.html.j2", "md": "report.md.j2", "junit": "report.junit.xml.j2"}


def json_document(
    run: CheckRun, generated_at: dt.datetime, *, rules: RuleSet | None = None
) -> dict[str, Any]:
    """The report as plain JSON data, with ``schema_version`` (docs/report.schema.json)."""
    return build(run, generated_at, rules=rules).model_dump(mode="json")


def json_text(run: CheckRun, generated_at: dt.datetime, *, rules: RuleSet | None = None) -> str:
    """The JSON document as text: keys sorted, two-space indents, UTF-8, a final newline."""
    return dumps(json_document(run, generated_at, rules=rules))


def dumps(document: dict[str, Any]) -> str:
    """The one way report JSON is written, so that equal documents are equal bytes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def html(run: CheckRun, generated_at: dt.datetime, *, rules: RuleSet | None = None) -> str:
    """The legal review report: one self-contained HTML page, printable to PDF."""
    return render_view(build(run, generated_at, rules=rules), "html")


def markdown(run: CheckRun, generated_at: dt.datetime, *, rules: RuleSet | None = None) -> str:
    """The report in Markdown, for pull requests and wikis: the HTML's sections minus the graph."""
    return render_view(build(run, generated_at, rules=rules), "md")


def junit(run: CheckRun, generated_at: dt.datetime, *, rules: RuleSet | None = None) -> str:
    """JUnit XML for CI dashboards: a test case per source × rule, failures for violations,
    errors for findings that need review, skipped for waived ones."""
    return render_view(build(run, generated_at, rules=rules), "junit")


def render_view(report: view.Report, fmt: str) -> str:
    """Render a built view-model in one of :data:`FORMATS`."""
    if fmt == "json":
        return dumps(report.model_dump(mode="json"))
    return render_builtin(TEMPLATES[fmt], **context(report, fmt))


def render_custom(report: view.Report, source: str, path: str) -> str:
    """Render the user's template ``source`` (from ``path``) in the sandbox.

    Raises PolicyEngineError (PE701–PE705) when the template is faulty or reaches outside.
    """
    return render_template(source, path, **context(report, "html"))


def context(report: view.Report, fmt: str) -> dict[str, object]:
    """What a template sees: the view-model, and the lineage graph (HTML) or test suites (JUnit)."""
    found: dict[str, object] = {"report": report}
    if fmt == "html":
        drawing = graph.layout(report)
        found["graph_svg"] = Markup(graph.svg(drawing, title=f"lineage of {report.target.id}"))
    if fmt == "junit":
        found["junit"] = junit_view(report)
    return found


@dataclass(frozen=True, slots=True)
class Case:
    """One JUnit test case: a rule for a source, and how it came out."""

    name: str
    status: str  # passed, violation, needs_review, waived
    message: str
    detail: str


@dataclass(frozen=True, slots=True)
class Suite:
    """One JUnit test suite: a source and its cases, with the counts JUnit wants."""

    name: str
    properties: tuple[tuple[str, str], ...]
    cases: tuple[Case, ...]
    failures: int
    errors: int
    skipped: int


@dataclass(frozen=True, slots=True)
class JUnit:
    """Every suite, and the totals the root element carries."""

    suites: tuple[Suite, ...]
    tests: int
    failures: int
    errors: int
    skipped: int


def junit_view(report: view.Report) -> JUnit:
    """The JUnit view of a report: its suites and their totals."""
    found = suites(report)
    return JUnit(
        suites=found,
        tests=sum(len(s.cases) for s in found),
        failures=sum(s.failures for s in found),
        errors=sum(s.errors for s in found),
        skipped=sum(s.skipped for s in found),
    )


def suites(report: view.Report) -> tuple[Suite, ...]:
    """A suite per source with a case per rule of its governing terms (one `terms` case when no
    rule decides, so a source without terms still fails the dashboard)."""
    decisions = {d.id: d for d in report.decisions}
    about: dict[tuple[str, str], list[view.Finding]] = defaultdict(list)
    for finding in report.findings:
        for decision_id in finding.decisions:
            about[(decision_id, finding.rule_id or "")].append(finding)
    repeated = {s.id for s in report.sources if sum(o.id == s.id for o in report.sources) > 1}
    found = []
    for source in report.sources:
        decision = decisions[source.decision]
        cases = [
            _case(rule.rule_id, rule.status, about[(decision.id, rule.rule_id)])
            for rule in decision.rules
        ]
        gaps = about[(decision.id, "")]
        if gaps or not cases:
            status = decision.verdict if decision.verdict != "compliant" else "passed"
            cases.append(_case("terms", status, gaps, default=" ".join(decision.reasons)))
        name = source.id + (f" via {' ← '.join(source.via)}" if source.id in repeated else "")
        found.append(
            Suite(
                name=name,
                properties=_properties(source),
                cases=tuple(cases),
                failures=sum(c.status == "violation" for c in cases),
                errors=sum(c.status == "needs_review" for c in cases),
                skipped=sum(c.status == "waived" for c in cases),
            )
        )
    return tuple(found)


def _case(name: str, status: str, findings: list[view.Finding], default: str = "") -> Case:
    if status == "passed":
        return Case(name, status, "", "")
    lines = []
    for finding in findings:
        lines.append(finding.message)
        if finding.quote:
            lines.append(f"clause ({finding.section}): “{finding.quote}” {finding.url}")
        if finding.remediation:
            lines.append(f"remediation: {finding.remediation}")
        if finding.waiver:
            lines.append(f"waived by {finding.waiver}")
    message = findings[0].message if findings else default
    return Case(name, status, message, "\n".join(lines) or default)


def _properties(source: view.Source) -> tuple[tuple[str, str], ...]:
    pairs = [
        ("provider", source.provider),
        ("model", source.model),
        ("channel", source.channel),
        ("license", source.license),
        ("generated_from", str(source.generated_from) if source.generated_from else None),
        ("activity", source.activity),
        ("decision", source.decision),
        ("terms", ", ".join(f"{t.document}@{t.version}" for t in source.terms)),
    ]
    return tuple((key, value) for key, value in pairs if value)
