"""The report's view-model: what it holds for the demo lineage, its JSON shape and schema."""

from __future__ import annotations

import dataclasses
import json

import pytest

from policyengine import report
from policyengine.evaluate.findings import CheckRun
from policyengine.report import view
from policyengine.report.build import build
from policyengine.rules.ruleset import RuleSet

from .helpers import AS_OF, GENERATED, ROOT


@pytest.fixture(scope="module")
def built(demo_run: CheckRun, rules: RuleSet) -> view.Report:
    return build(demo_run, GENERATED, rules=rules)


def test_the_verdict_and_its_reason_are_the_evaluators(
    built: view.Report, demo_run: CheckRun
) -> None:
    """The report's verdict is the lineage decision's, with a one-sentence why."""
    assert built.verdict == demo_run.decision.verdict.value == "violation"
    assert built.verdict_label == "Violation"
    assert built.why.count(".") == 1
    assert built.why.endswith(".")
    assert built.as_of == AS_OF
    assert built.generated_at == GENERATED


def test_every_upstream_source_is_listed_with_the_terms_in_force(
    built: view.Report, demo_run: CheckRun
) -> None:
    """Each path to a source is a row, with provider, model, period and dated terms versions."""
    assert len(built.sources) == len(demo_run.lineage.sources)
    assert built.counts.sources == len({s.ref.id for s in demo_run.lineage.sources})
    gpt = [s for s in built.sources if s.model == "gpt-4o-2024-08-06"]
    terms = {s.id: [(t.document, t.version) for t in s.terms] for s in gpt}
    # The same model, two batches, either side of OpenAI's 31 May 2025 change of terms.
    assert terms == {
        "gen-gpt4o-instructions-2024-11": [("openai.business-terms", "2023-11-14")],
        "gen-gpt4o-reasoning-2025-07": [("openai.services-agreement", "2025-05-31")],
    }
    business = next(s for s in gpt if s.id == "gen-gpt4o-instructions-2024-11").terms[0]
    assert business.title == "OpenAI Business Terms"
    assert str(business.effective_until) == "2025-05-30"
    assert business.url is not None
    assert business.url.startswith("https://")


def test_findings_carry_clause_rationale_and_remediation(built: view.Report) -> None:
    """A rule finding names the clause (quote, section, link) and says why and what to do."""
    rule_findings = [f for f in built.findings if f.kind == "rule" and not f.missing]
    assert rule_findings
    for finding in rule_findings:
        assert finding.quote
        assert finding.section
        assert finding.url
        assert finding.rationale
        assert finding.remediation
        assert finding.severity
        assert finding.sources
        assert finding.decisions


def test_a_finding_shared_by_several_decisions_is_listed_once(built: view.Report) -> None:
    """The same clause broken by two Claude batches is one finding naming both sources."""
    usage = [f for f in built.findings if f.rule_id and "usage-policy" in f.rule_id]
    assert len(usage) == 1
    assert usage[0].sources == ("gen-claude-reasoning-2025-03", "gen-claude-reasoning-2025-07")


def test_waived_findings_and_waivers_are_shown(built: view.Report) -> None:
    """The demo's waiver applies: its finding is marked waived and the waiver lists approver."""
    waived = [f for f in built.findings if f.waived]
    assert [f.waiver for f in waived] == ["waiver-grok-terms-text-2026"]
    assert built.counts.waived == 1
    (waiver,) = built.waivers
    assert (waiver.status, waiver.approver, waiver.ticket) == (
        "applied",
        "maria.okafor@halcyon.example",
        "LEGAL-2207",
    )


def test_obligations_of_outvoted_rules_are_listed_but_not_decisive(built: view.Report) -> None:
    """Llama 3.1's naming duty is checked (unmet) though a review decides those sources first."""
    naming = next(o for o in built.obligations if o.kind == "name_prefix")
    assert (naming.status, naming.decisive) == ("unmet", False)
    assert "Halcyon-32B-Distill" in naming.detail


def test_findings_come_worst_first_and_waived_last(built: view.Report) -> None:
    """Violations, then reviews, then waived findings; ids follow that order."""
    order = [("waived" if f.waived else f.verdict) for f in built.findings]
    assert order == sorted(order, key=["violation", "needs_review", "waived"].index)
    assert [f.id for f in built.findings] == [f"F{n}" for n in range(1, len(order) + 1)]


def test_the_appendix_names_packs_digests_and_the_ledger_head(
    built: view.Report, demo_run: CheckRun
) -> None:
    """Tool version, every pack with its digest, the rules digest and the ledger head."""
    appendix = built.reproducibility
    assert appendix.ledger_head == demo_run.ledger_head
    assert appendix.ledger_head
    assert [p.id for p in appendix.packs] == sorted(p.id for p in demo_run.packs)
    assert all(p.digest.startswith("sha256:") for p in appendix.packs)
    assert appendix.rules_digest == demo_run.rules_digest


def test_without_rules_titles_fall_back_to_ids(demo_run: CheckRun) -> None:
    """Built from the run alone, documents are named by id and links are null."""
    bare = build(demo_run, GENERATED)
    terms = bare.sources[0].terms[0]
    assert terms.title == terms.document
    assert terms.url is None


def test_json_document_is_the_view_model_with_its_schema_version(
    demo_run: CheckRun, rules: RuleSet
) -> None:
    """The JSON format is the view-model dumped as it is, versioned, and reads back equal."""
    document = report.json_document(demo_run, GENERATED, rules=rules)
    assert document["schema_version"] == report.SCHEMA_VERSION == "1"
    assert view.Report.model_validate(document) == build(demo_run, GENERATED, rules=rules)
    text = report.json_text(demo_run, GENERATED, rules=rules)
    assert json.loads(text) == document
    assert text.endswith("}\n")
    assert list(json.loads(text)) == sorted(document)


def test_the_published_json_schema_is_current() -> None:
    """docs/report.schema.json is exactly the schema the view-model generates."""
    published = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    assert published == view.Report.model_json_schema(), (
        "run `python scripts/report_schema.py` to refresh docs/report.schema.json"
    )


def test_every_view_model_field_is_documented() -> None:
    """docs/reports.md names every field a template can read."""
    text = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    models = [m for m in vars(view).values() if isinstance(m, type) and issubclass(m, view.View)]
    for model in models:
        if model is view.View:
            continue
        for name in model.model_fields:
            assert f"`{name}`" in text, (
                f"docs/reports.md does not mention `{model.__name__}.{name}`"
            )


def test_a_lineage_with_no_sources_says_so(demo_run: CheckRun, rules: RuleSet) -> None:
    """An empty lineage reports its gap as a finding about the whole lineage."""
    from policyengine.evaluate.lineage import evaluate
    from policyengine.lineage import Lineage

    empty = Lineage(demo_run.lineage.target, demo_run.lineage.facts)
    decision = evaluate(rules, empty, "distillation", at=AS_OF)
    run = dataclasses.replace(demo_run, decision=decision, lineage=empty)
    built = build(run, GENERATED, rules=rules)
    assert built.verdict == "needs_review"
    (gap,) = built.findings
    assert gap.kind == "gap"
    assert gap.sources == ()
    assert gap.decisions == ()
    assert report.markdown(run, GENERATED, rules=rules).count("the whole lineage") == 1
