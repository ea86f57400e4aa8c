"""The decision for one source: terms selection, three-valued rules, combining, obligations."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import ACME, BUNDLED

from policyengine import api
from policyengine.evaluate.decision import ObligationStatus
from policyengine.rules.operators import Truth
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import Effect, Verdict

BASE: dict[str, Any] = {
    "source.provider": "acme",
    "source.model": "acme-chat-2",
    "source.channel": "api",
    "source.generated_at": "2024-08-01",
    "use.activity": "fine_tuning",
    "target.competes_with": [],
}


@pytest.fixture(scope="module")
def acme() -> RuleSet:
    return api.require_rules([ACME])


def decide(ruleset: RuleSet, **changes: Any) -> Any:
    facts = {**BASE, **{k.replace("__", "."): v for k, v in changes.items()}}
    return api.check_facts(ruleset, {k: v for k, v in facts.items() if v is not ...})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"source__provider": ...}, "record `source.provider`"),
        ({"source__provider": "initech"}, "no terms known for provider `initech`"),
        ({"source__model": ...}, "record `source.model`"),
        (
            {"source__model": "acme-vision"},
            "no terms known for provider `acme`, model `acme-vision`",
        ),
        ({"source__channel": "cloud_marketplace"}, "channel `cloud_marketplace`"),
        ({"source__generated_at": ...}, "record `source.generated_at`"),
        ({"source__generated_at": "2023-12-31"}, "was in force on 2023-12-31"),
        (
            {"use__activity": "redistribution"},
            "no rule of `acme.terms@2024-07` decides `redistribution`",
        ),
    ],
    ids=[
        "provider unknown",
        "provider without terms",
        "model unknown",
        "model outside the catalog",
        "channel outside the catalog",
        "date unknown",
        "before any version",
        "no rule decides",
    ],
)
def test_never_allows_by_default(acme: RuleSet, changes: dict[str, Any], reason: str) -> None:
    """Whatever the engine cannot decide from cited rules comes out as review, with the reason."""
    decision = decide(acme, **changes)
    assert decision.effect is Effect.REVIEW
    assert decision.verdict is Verdict.NEEDS_REVIEW
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_an_unknown_fact_names_itself(acme: RuleSet) -> None:
    """A rule undecidable for want of a fact yields review naming the fact to record."""
    decision = decide(acme, target__competes_with=...)
    assert decision.effect is Effect.REVIEW
    assert set(decision.deciding) == {"acme.terms.no-competing", "acme.terms.training-allowed"}
    assert "record `target.competes_with` to decide `acme.terms.no-competing`" in decision.reasons
    unknown = [o for o in decision.outcomes if o.truth is Truth.UNKNOWN]
    assert {o.missing for o in unknown} == {("target.competes_with",)}


def test_deny_beats_everything_and_cites_the_clause(acme: RuleSet) -> None:
    """A firing deny decides, and its reason carries the section and rationale."""
    decision = decide(acme, target__competes_with=["acme"])
    assert (decision.effect, decision.verdict) == (Effect.DENY, Verdict.VIOLATION)
    assert decision.deciding == ("acme.terms.no-competing",)
    assert decision.reasons[0].startswith("`acme.terms.no-competing` (3(b)):")


@pytest.mark.parametrize(
    ("day", "version", "effect"),
    [("2024-06-30", "2024-01", Effect.ALLOW), ("2024-07-01", "2024-07", Effect.DENY)],
    ids=["last day of the old terms", "first day of the new terms"],
)
def test_terms_in_force_on_the_generation_day(
    acme: RuleSet, day: str, version: str, effect: Effect
) -> None:
    """The version in force when the output was generated governs, both ends inclusive."""
    decision = decide(acme, source__generated_at=day, target__competes_with=["acme"])
    assert [s.version for s in decision.selections] == [version]
    assert decision.effect is effect


def test_an_agreement_overlay_replaces_the_public_terms(acme: RuleSet) -> None:
    """Outputs obtained under an agreement with its own catalog entry are judged by it alone."""
    decision = decide(acme, source__agreement="globex", target__competes_with=["acme"])
    assert decision.effect is Effect.ALLOW
    assert [s.document for s in decision.selections] == ["acme.globex-agreement"]
    assert "agreement `globex` replaces the public terms" in decision.selections[0].why


def test_an_agreement_without_overlay_falls_back_to_public_terms(acme: RuleSet) -> None:
    """An agreement id the packs do not know leaves the public terms in force."""
    decision = decide(acme, source__agreement="hooli", target__competes_with=["acme"])
    assert decision.effect is Effect.DENY


@pytest.mark.parametrize(
    ("name", "notices", "verdict", "statuses"),
    [
        ("Acme-Tuned", ["Built with Acme"], Verdict.COMPLIANT, ["met", "met", "carried"]),
        ("Tuned", ["Built with Acme"], Verdict.VIOLATION, ["unmet", "met", "carried"]),
        ("Acme-Tuned", [], Verdict.VIOLATION, ["met", "unmet", "carried"]),
        (..., ["Built with Acme"], Verdict.NEEDS_REVIEW, ["unknown", "met", "carried"]),
    ],
    ids=["all met", "name lacks prefix", "notice missing", "name not recorded"],
)
def test_obligations_are_checked_against_the_target(
    acme: RuleSet, name: Any, notices: list[str], verdict: Verdict, statuses: list[str]
) -> None:
    """Oblige rules pass only when the target's facts show every checkable obligation met."""
    decision = decide(
        acme,
        source__model="acme-open-7b",
        source__channel="open_weights",
        target__name=name,
        target__notices=notices,
    )
    assert decision.effect is Effect.OBLIGE
    assert decision.verdict is verdict
    assert [c.status.value for c in decision.obligations] == statuses
    assert decision.obligations[2].status is ObligationStatus.CARRIED


def test_the_trace_lists_every_rule_of_the_chosen_version(acme: RuleSet) -> None:
    """Outcomes cover every rule of the governing version, fired or not, with its citation."""
    decision = decide(acme)
    ids = [o.rule_id for o in decision.outcomes]
    assert ids == [
        "acme.terms.no-competing",
        "acme.terms.training-allowed",
        "acme.terms.judge-unclear",
    ]
    assert all(o.citation.url.startswith("https://") for o in decision.outcomes)


@pytest.fixture(scope="module")
def licences() -> RuleSet:
    return api.require_rules([BUNDLED / "licenses"])


def test_human_data_is_governed_by_its_licence_alone(licences: RuleSet) -> None:
    """Provider `human` needs no model terms; the licence it carries decides."""
    decision = api.check_facts(
        licences,
        {"source.provider": "human", "source.license": "MIT", "use.activity": "pretraining"},
    )
    assert decision.effect is Effect.ALLOW
    assert [s.document for s in decision.selections] == ["licenses.mit"]


def test_human_data_without_a_licence_asks_for_one(licences: RuleSet) -> None:
    """Human-written data with no licence recorded is a review naming `source.license`."""
    decision = api.check_facts(licences, {"source.provider": "human", "use.activity": "evaluation"})
    assert decision.effect is Effect.REVIEW
    assert any("record `source.license`" in r for r in decision.reasons)


def test_a_single_version_document_needs_no_date(licences: RuleSet) -> None:
    """An unknown generation date still decides when the document never changed."""
    decision = api.check_facts(
        licences,
        {"source.provider": "human", "source.license": "CC0-1.0", "use.activity": "redistribution"},
    )
    assert decision.effect is Effect.ALLOW
    assert decision.selections[0].why.startswith("the only version")


def test_a_gap_in_model_terms_is_not_hidden_by_a_permissive_licence(acme: RuleSet) -> None:
    """Unknown provider terms plus an allowing licence still need review (fail closed)."""
    rules = api.require_rules([ACME, BUNDLED / "licenses"])
    decision = api.check_facts(
        rules,
        {**BASE, "source.model": "acme-vision", "source.license": "MIT"},
    )
    assert decision.effect is Effect.REVIEW
    assert "no terms known for provider `acme`, model `acme-vision`" in decision.reasons
