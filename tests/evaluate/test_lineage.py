"""The evaluator over a whole lineage: grouping, activities, what-if facts, waivers, gaps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from conftest import ACME

from policyengine import api
from policyengine.evaluate import lineage as lineage_module
from policyengine.evaluate.findings import FindingKind, LineageDecision
from policyengine.evaluate.lineage import evaluate
from policyengine.evaluate.waivers import Waiver, WaiverStatus
from policyengine.facts import Activity, Facts
from policyengine.lineage import ArtifactKind, ArtifactRef, Edge, Lineage, Relation, UpstreamSource
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import Verdict

AT = dt.date(2025, 6, 1)
MODEL = ArtifactRef(ArtifactKind.MODEL, "our-model")
RUN = ArtifactRef(ArtifactKind.RUN, "our-run")
DATASET = ArtifactRef(ArtifactKind.DATASET, "mix")
OTHER = ArtifactRef(ArtifactKind.DATASET, "other-mix")


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return api.require_rules([ACME])


def provenance(**known: Any) -> Facts:
    base: dict[str, Any] = {
        "source.provider": "acme",
        "source.model": "acme-chat-2",
        "source.channel": "api",
        "source.generated_at": "2024-08-01",
    }
    base.update(known)
    return Facts.parse(base)


def source(
    name: str,
    facts: Facts,
    *,
    via: ArtifactRef = DATASET,
    activity: Activity | None = Activity.FINE_TUNING,
    hops: int = 1,
) -> UpstreamSource:
    generation = ArtifactRef(ArtifactKind.GENERATION, name)
    path = (
        Edge(MODEL, RUN, Relation.TRAINED_BY),
        Edge(RUN, via, Relation.TRAINING_DATA, activity=activity),
        Edge(via, generation, Relation.INPUT, transform="filter", records=10),
    )
    return UpstreamSource(generation, facts, path, hops, (dt.date(2024, 8, 1),) * 2)


def model(*sources: UpstreamSource, **target: Any) -> Lineage:
    known: dict[str, Any] = {"target.kind": "model", "target.name": "Acme-Tuned"}
    known.update(target)
    return Lineage(MODEL, Facts.parse(known), sources)


def waiver(rule: str = "acme.terms.no-competing", **fields: Any) -> Waiver:
    values: dict[str, Any] = {
        "id": "w-1",
        "rule": rule,
        "scope": MODEL.id,
        "reason": "legal_review",
        "approver": "counsel@example.com",
        "ticket": "LEGAL-1",
        "expires": dt.date(2025, 12, 31),
    }
    values.update(fields)
    return Waiver(**values)


def run(ruleset: RuleSet, lineage: Lineage, **options: Any) -> LineageDecision:
    use = options.pop("use", "fine_tuning")
    return evaluate(ruleset, lineage, use, options.pop("target", None), at=AT, **options)


def test_the_verdict_is_the_worst_source_verdict(ruleset: RuleSet) -> None:
    """One denied source makes the whole lineage a violation; the allowed one stays compliant."""
    lineage = model(
        source("g-old", provenance(**{"source.generated_at": "2024-06-30"})),
        source("g-new", provenance()),
        **{"target.competes_with": ["acme"]},
    )
    decision = run(ruleset, lineage)
    assert decision.verdict is Verdict.VIOLATION
    assert decision.deciding == ("acme.terms.no-competing",)
    verdicts = sorted(g.verdict.value for g in decision.groups)
    assert verdicts == ["compliant", "violation"]


def test_sources_with_the_same_facts_are_decided_once(
    ruleset: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand generations of one provenance make one group and one call of the rules."""
    calls: list[Facts] = []
    real: Callable[..., Any] = lineage_module.decide

    def counting(rules: RuleSet, facts: Facts) -> Any:
        calls.append(facts)
        return real(rules, facts)

    monkeypatch.setattr(lineage_module, "decide", counting)
    shared = provenance()
    lineage = model(
        *(source(f"g-{i}", shared) for i in range(1000)), **{"target.competes_with": []}
    )
    decision = run(ruleset, lineage)
    assert len(calls) == 1
    assert [len(g.sources) for g in decision.groups] == [1000]
    assert decision.counts()["sources"] == 1000
    assert decision.groups[0].records == 10_000


def test_a_recorded_activity_wins_and_use_fills_in(ruleset: RuleSet) -> None:
    """The path's recorded activity is what happened; `use` decides where none is recorded."""
    lineage = model(
        source("g-judged", provenance(), activity=Activity.EVALUATION),
        source("g-unrecorded", provenance(), via=OTHER, activity=None),
        **{"target.competes_with": ["acme"]},
    )
    decision = run(ruleset, lineage, use="distillation")
    by_activity = {g.facts["use.activity"]: g for g in decision.groups}
    assert set(by_activity) == {"evaluation", "distillation"}
    assert by_activity["evaluation"].activity_recorded
    assert not by_activity["distillation"].activity_recorded
    assert by_activity["evaluation"].decision.deciding == ("acme.terms.judge-unclear",)
    assert by_activity["distillation"].decision.deciding == ("acme.terms.no-competing",)


def test_what_if_facts_replace_the_recorded_ones(ruleset: RuleSet) -> None:
    """`--competes-with acme` turns a recorded non-competitor into a violation, for this run only."""
    lineage = model(source("g", provenance()), **{"target.competes_with": []})
    assert run(ruleset, lineage).verdict is Verdict.COMPLIANT
    what_if = {"target.competes_with": frozenset({"acme"})}
    assert run(ruleset, lineage, target=what_if).verdict is Verdict.VIOLATION
    assert lineage.facts["target.competes_with"] == frozenset()


def test_another_kind_drops_the_recorded_target_facts(ruleset: RuleSet) -> None:
    """A dataset checked for the model it will train keeps none of the dataset's own facts."""
    generation = ArtifactRef(ArtifactKind.GENERATION, "g")
    held = UpstreamSource(generation, provenance(), (Edge(DATASET, generation, Relation.INPUT),), 1)
    lineage = Lineage(
        DATASET, Facts.parse({"target.kind": "dataset", "target.name": "mix"}), (held,)
    )
    decision = run(ruleset, lineage, target={"target.kind": "model", "target.release": "research"})
    assert decision.target_facts.known == {"target.kind": "model", "target.release": "research"}


def test_unknown_competitors_need_review_naming_the_fact(ruleset: RuleSet) -> None:
    """Without `target.competes_with` the deny rule cannot be decided: review, naming it."""
    decision = run(ruleset, model(source("g", provenance())))
    assert decision.verdict is Verdict.NEEDS_REVIEW
    messages = [f.message for f in decision.findings]
    assert "record `target.competes_with` to decide `acme.terms.no-competing`" in messages


def test_an_unmet_obligation_travels_to_a_target_two_hops_down(ruleset: RuleSet) -> None:
    """Outputs of a model trained on Acme open weights still oblige the next model's name."""
    far = source(
        "g-open",
        provenance(**{"source.model": "acme-open-7b", "source.channel": "open_weights"}),
        hops=2,
    )
    decision = run(
        ruleset, model(far, **{"target.name": "Tuned", "target.notices": ["Built with Acme"]})
    )
    (finding,) = decision.findings
    assert finding.kind is FindingKind.OBLIGATION
    assert finding.verdict is Verdict.VIOLATION
    assert "`Tuned` does not begin with `Acme`" in finding.message
    assert decision.groups[0].facts["path.hops"] == 2


def test_nothing_upstream_is_a_review(ruleset: RuleSet) -> None:
    """A target with no recorded origin is never compliant by default."""
    decision = run(ruleset, model())
    assert decision.verdict is Verdict.NEEDS_REVIEW
    assert decision.gaps[0].kind is FindingKind.GAP
    assert "records nothing upstream" in decision.gaps[0].message


COMPETING = {"target.competes_with": ["acme"]}


@pytest.mark.parametrize(
    ("given", "status", "verdict", "waived"),
    [
        pytest.param(waiver(), WaiverStatus.APPLIED, Verdict.COMPLIANT, 1, id="active-applies"),
        pytest.param(
            waiver(expires=dt.date(2025, 5, 31)),
            WaiverStatus.EXPIRED,
            Verdict.VIOLATION,
            0,
            id="expired-does-not-apply",
        ),
        pytest.param(
            waiver(expires=AT), WaiverStatus.APPLIED, Verdict.COMPLIANT, 1, id="last-day-applies"
        ),
        pytest.param(
            waiver("acme.terms.no-competin"),
            WaiverStatus.MALFORMED,
            Verdict.VIOLATION,
            0,
            id="unknown-rule-is-malformed",
        ),
        pytest.param(
            waiver(scope="someone-elses-model"),
            WaiverStatus.OUT_OF_SCOPE,
            Verdict.VIOLATION,
            0,
            id="scope-outside-lineage",
        ),
        pytest.param(
            waiver("acme.terms.judge-unclear"),
            WaiverStatus.UNUSED,
            Verdict.VIOLATION,
            0,
            id="rule-finds-nothing",
        ),
    ],
)
def test_waivers(
    ruleset: RuleSet, given: Waiver, status: WaiverStatus, verdict: Verdict, waived: int
) -> None:
    """A waiver applies while valid and in scope; otherwise it is reported with its status."""
    decision = run(ruleset, model(source("g", provenance()), **COMPETING), waivers=[given])
    (check,) = decision.waivers
    assert check.status is status
    assert decision.verdict is verdict
    assert decision.counts()["waived"] == waived
    assert len(decision.findings) == 1, "a waived finding is shown, never dropped"
    if status is WaiverStatus.MALFORMED:
        assert "did you mean `acme.terms.no-competing`?" in check.detail


def test_a_waiver_scoped_to_a_dataset_covers_only_sources_through_it(ruleset: RuleSet) -> None:
    """Scope is an artifact on the path: the other dataset's finding still counts."""
    lineage = model(
        source("g-1", provenance()),
        source("g-2", provenance(), via=OTHER),
        **COMPETING,
    )
    decision = run(ruleset, lineage, waivers=[waiver(scope=DATASET.id)])
    assert decision.verdict is Verdict.VIOLATION
    waived = {g.sources[0].ref.id: [f.waived for f in g.findings] for g in decision.groups}
    assert waived == {"g-1": [True], "g-2": [False]}
    assert decision.waivers[0].findings == 1


def test_a_waived_obligation_is_listed_as_waived(ruleset: RuleSet) -> None:
    """Waiving the naming rule accepts its unmet obligations; the group becomes compliant."""
    facts = provenance(**{"source.model": "acme-open-7b", "source.channel": "open_weights"})
    lineage = model(source("g", facts), **{"target.name": "Tuned", "target.notices": []})
    decision = run(ruleset, lineage, waivers=[waiver("acme.open-license.naming")])
    assert decision.verdict is Verdict.COMPLIANT
    assert [f.waived for f in decision.findings] == [True, True]
    assert {f.kind for f in decision.findings} == {FindingKind.OBLIGATION}


def test_summary_is_one_line_with_the_counts(ruleset: RuleSet) -> None:
    """The summary names verdict, counts, target, use and day on a single line."""
    decision = run(ruleset, model(source("g", provenance()), **COMPETING))
    summary = decision.summary()
    assert "\n" not in summary
    assert summary.startswith("violation: 1 violation(s), 0 to review, 0 waived over 1 source(s)")
    assert summary.endswith("of model `our-model` for `fine_tuning` as of 2025-06-01")
