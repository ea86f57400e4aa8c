"""Build the report's view-model from a check run and the rules it was made with.

A pure function of its inputs: the generation time is passed in, never read from a clock, and every
collection is sorted, so the same inputs give the same report byte for byte. Nothing is decided
here: verdicts, reasons and findings are the evaluator's; this module only arranges them, merges a
finding that several decisions share into one, and looks up document titles and links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from policyengine.evaluate.decision import ObligationCheck, RuleOutcome, Selection
from policyengine.evaluate.engine import check_obligations
from policyengine.evaluate.findings import VERDICT_ORDER, CheckRun, SourceGroup
from policyengine.evaluate.findings import Finding as Found
from policyengine.evaluate.waivers import WaiverCheck
from policyengine.facts import UNKNOWN, VOCABULARY, Facts, FactValue
from policyengine.lineage import Relation, UpstreamSource
from policyengine.report import view, wording
from policyengine.rules.operators import Truth
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import Effect

DISCLAIMER = (
    "This report records what the encoded terms say about the recorded lineage. "
    "It is not legal advice."
)
LABELS = {"violation": "Violation", "needs_review": "Needs review", "compliant": "Compliant"}
_RANK = {verdict.value: rank for rank, verdict in enumerate(VERDICT_ORDER)}
_STATUS_RANK = {"unmet": 0, "unknown": 1, "carried": 2, "met": 3}


def build(run: CheckRun, generated_at: dt.datetime, *, rules: RuleSet | None = None) -> view.Report:
    """The view-model of ``run``; ``rules`` (the rule set the run used) adds titles and links."""
    decision = run.decision
    groups = sorted(decision.groups, key=_group_key)
    ids = {id(group): f"D{n}" for n, group in enumerate(groups, start=1)}
    sources = sorted(
        (_source(s, g, ids[id(g)], rules) for g in groups for s in g.sources), key=_source_key
    )
    findings = _findings(groups, ids, decision.gaps, rules)
    obligations = _obligations(groups)
    counted = decision.counts()  # the same counts as the summary line of every format
    counts = view.Counts(
        sources=counted["sources"],
        decisions=len(groups),
        violations=counted["violation"],
        needs_review=counted["needs_review"],
        waived=counted["waived"],
        obligations_unmet=sum(o.status == "unmet" for o in obligations),
    )
    verdict = decision.verdict.value
    name = decision.target_facts.known.get("target.name")
    return view.Report(
        title=f"Legal review: {name or decision.target.id} for {decision.use}",
        generated_at=generated_at,
        as_of=decision.at,
        use=decision.use,
        target=view.Target(
            id=decision.target.id,
            kind=decision.target.kind.value,
            name=name if isinstance(name, str) else None,
            facts=_facts(decision.target_facts, prefixes=("target.", "org.")),
        ),
        verdict=verdict,
        verdict_label=LABELS[verdict],
        why=_why(verdict, decision.use, counts, sources),
        summary=decision.summary(),
        counts=counts,
        sources=tuple(sources),
        decisions=tuple(_decision(g, ids[id(g)], rules) for g in groups),
        findings=findings,
        obligations=obligations,
        waivers=tuple(_waiver(check) for check in sorted(decision.waivers, key=_waiver_key)),
        lineage=_edges(run.lineage.sources),
        reproducibility=view.Reproducibility(
            tool_version=run.tool_version,
            rules_digest=run.rules_digest,
            packs=tuple(
                view.Pack(id=p.id, version=p.version, digest=p.digest)
                for p in sorted(run.packs, key=lambda p: p.id)
            ),
            ledger_head=run.ledger_head,
            as_of=decision.at,
            use=decision.use,
            generated_at=generated_at,
        ),
        disclaimer=DISCLAIMER,
    )


def show(value: FactValue) -> str:
    """A fact value in words: `unknown`, `true`/`false`, sorted lists, ISO dates."""
    if value is UNKNOWN:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset):
        return ", ".join(sorted(value)) or "none"
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return str(value)


def _facts(facts: Facts, *, prefixes: tuple[str, ...] = ("",)) -> tuple[view.Fact, ...]:
    return tuple(
        view.Fact(name=name, value=show(facts[name]))
        for name in VOCABULARY
        if name.startswith(prefixes)
    )


def _text(facts: Facts, name: str) -> str | None:
    value = facts[name]
    return None if value is UNKNOWN else show(value)


def _group_key(group: SourceGroup) -> tuple[int, str, str, str]:
    first = min(_source_sort(s) for s in group.sources)
    return (_RANK[group.verdict.value], *first)


def _source_sort(source: UpstreamSource) -> tuple[str, str, str]:
    facts = source.facts
    return (show(facts["source.provider"]), show(facts["source.model"]), source.ref.id)


def _source_key(source: view.Source) -> tuple[str, str, str, str, tuple[str, ...]]:
    started = source.generated_from.isoformat() if source.generated_from else ""
    return (source.provider or "~", source.model or "~", started, source.id, source.via)


def _source(
    source: UpstreamSource, group: SourceGroup, decision_id: str, rules: RuleSet | None
) -> view.Source:
    facts = source.facts
    last = source.path[-1] if source.path else None
    window = source.window
    return view.Source(
        id=source.ref.id,
        kind=source.ref.kind.value,
        provider=_text(facts, "source.provider"),
        model=_text(facts, "source.model"),
        channel=_text(facts, "source.channel"),
        agreement=_text(facts, "source.agreement"),
        license=_text(facts, "source.license"),
        generated_from=window[0] if window else None,
        generated_until=window[1] if window else None,
        records=last.records if last is not None and last.relation is Relation.INPUT else None,
        hops=source.hops,
        activity=show(group.facts["use.activity"]),
        via=tuple(edge.upstream.id for edge in source.path[:-1]),
        transforms=source.transforms,
        decision=decision_id,
        verdict=group.verdict.value,
        terms=tuple(_terms(s, rules) for s in group.decision.selections),
    )


def _terms(selection: Selection, rules: RuleSet | None) -> view.Terms:
    document = rules.documents.get(selection.document) if rules is not None else None
    version = None
    if document is not None:
        version = next((v for v in document.versions if v.version == selection.version), None)
    return view.Terms(
        document=selection.document,
        title=document.title if document is not None else selection.document,
        version=selection.version,
        effective_from=selection.effective_from,
        effective_until=selection.effective_until,
        url=version.url if version is not None else None,
        digest=version.digest if version is not None else None,
        why=selection.why,
    )


def _decision(group: SourceGroup, decision_id: str, rules: RuleSet | None) -> view.Decision:
    raw = group.raw
    return view.Decision(
        id=decision_id,
        verdict=group.verdict.value,
        effect=group.decision.effect.value,
        activity=show(group.facts["use.activity"]),
        activity_recorded=group.activity_recorded,
        hops=group.sources[0].hops,
        reasons=group.decision.reasons,
        terms=tuple(_terms(s, rules) for s in raw.selections),
        rules=tuple(_rule_check(o, group.findings) for o in raw.outcomes),
        facts=_facts(group.facts),
        sources=tuple(sorted({s.ref.id for s in group.sources})),
    )


def _rule_check(outcome: RuleOutcome, findings: Sequence[Found]) -> view.RuleCheck:
    mine = [f for f in findings if f.rule_id == outcome.rule_id]
    counted = [f.verdict.value for f in mine if not f.waived]
    status: view.Status = "passed"
    if counted:
        status = "violation" if "violation" in counted else "needs_review"
    elif mine:
        status = "waived"
    truth = {Truth.TRUE: "true", Truth.FALSE: "false", Truth.UNKNOWN: "unknown"}[outcome.truth]
    return view.RuleCheck(
        rule_id=outcome.rule_id,
        document=outcome.document,
        version=outcome.version,
        section=outcome.citation.section,
        truth=truth,
        effect=outcome.effect.value if outcome.effect is not None else None,
        status=status,
        missing=outcome.missing,
    )


_FindingKey = tuple[str, str, str, str, str]


def _findings(
    groups: Sequence[SourceGroup],
    ids: dict[int, str],
    gaps: Iterable[Found],
    rules: RuleSet | None,
) -> tuple[view.Finding, ...]:
    """One finding per (kind, verdict, rule, message, waiver), with every source it is about."""
    merged: dict[_FindingKey, tuple[Found, set[str], set[str]]] = {}
    located = [(f, frozenset[str](), "") for f in gaps] + [
        (f, frozenset(s.ref.id for s in g.sources), ids[id(g)]) for g in groups for f in g.findings
    ]
    for found, sources, decision_id in located:
        waiver = found.waiver.id if found.waiver is not None else ""
        key = (found.kind.value, found.verdict.value, found.rule_id or "", found.message, waiver)
        _, where, decided = merged.setdefault(key, (found, set(), set()))
        where.update(sources)
        if decision_id:
            decided.add(decision_id)
    ordered = sorted(merged.items(), key=lambda item: _finding_rank(item[0]))
    return tuple(
        _finding(f"F{n}", found, sorted(where), sorted(decided, key=_number), rules)
        for n, (_, (found, where, decided)) in enumerate(ordered, start=1)
    )


def _finding_rank(key: _FindingKey) -> tuple[bool, int, str, str, str, str]:
    kind, verdict, rule_id, message, waiver = key
    return (bool(waiver), _RANK[verdict], rule_id, kind, message, waiver)


def _number(decision_id: str) -> int:
    return int(decision_id[1:])


def _finding(
    finding_id: str,
    found: Found,
    sources: list[str],
    decisions: list[str],
    rules: RuleSet | None,
) -> view.Finding:
    outcome = found.outcome
    compiled = rules.rule(found.rule_id) if rules is not None and found.rule_id else None
    document = rules.documents.get(outcome.document) if rules and outcome else None
    check = found.obligation
    return view.Finding(
        id=finding_id,
        kind=found.kind.value,
        verdict=found.verdict.value,
        waived=found.waived,
        waiver=found.waiver.id if found.waiver is not None else None,
        message=found.message,
        rule_id=found.rule_id,
        severity=compiled.rule.severity.value if compiled is not None else None,
        document=outcome.document if outcome else None,
        document_title=document.title if document is not None else None,
        version=outcome.version if outcome else None,
        section=outcome.citation.section if outcome else None,
        quote=outcome.citation.quote if outcome else None,
        url=outcome.citation.url if outcome else None,
        rationale=outcome.rationale if outcome else None,
        remediation=outcome.remediation if outcome else None,
        obligation=wording.obligation(check.obligation) if check is not None else None,
        missing=outcome.missing if outcome else (),
        sources=tuple(sources),
        decisions=tuple(decisions),
    )


def _obligations(groups: Sequence[SourceGroup]) -> tuple[view.Obligation, ...]:
    """Every obligation of an `oblige` rule that holds for some source, checked on the target.

    Obligations of rules outvoted by a deny or review of the same terms are listed too (not
    decisive): they bind the target once that finding is resolved.
    """
    merged: dict[tuple[str, str, str, str, bool], tuple[RuleOutcome, ObligationCheck, set[str]]]
    merged = {}
    for group in groups:
        obliging = [o for o in group.raw.outcomes if o.effect is Effect.OBLIGE]
        decisive = group.raw.effect is Effect.OBLIGE
        by_rule = {o.rule_id: o for o in obliging}
        for check in check_obligations(obliging, group.facts):
            requirement = wording.obligation(check.obligation)
            key = (check.rule_id, requirement, check.status.value, check.detail, decisive)
            entry = merged.setdefault(key, (by_rule[check.rule_id], check, set()))
            entry[2].update(s.ref.id for s in group.sources)
    items = [
        view.Obligation(
            rule_id=outcome.rule_id,
            document=outcome.document,
            section=outcome.citation.section,
            url=outcome.citation.url,
            kind=check.obligation.kind,
            requirement=requirement,
            status=status,
            detail=detail,
            decisive=decisive,
            remediation=outcome.remediation,
            sources=tuple(sorted(sources)),
        )
        for (_, requirement, status, detail, decisive), (outcome, check, sources) in merged.items()
    ]
    return tuple(
        sorted(items, key=lambda o: (_STATUS_RANK[o.status], o.rule_id, o.requirement, o.detail))
    )


def _waiver_key(check: WaiverCheck) -> str:
    return check.waiver.id


def _waiver(check: WaiverCheck) -> view.Waiver:
    waiver = check.waiver
    return view.Waiver(
        id=waiver.id,
        rule_id=waiver.rule,
        scope=waiver.scope,
        reason=waiver.reason,
        approver=waiver.approver,
        ticket=waiver.ticket,
        expires=waiver.expires,
        status=check.status.value,
        detail=check.detail,
        findings=check.findings,
    )


def _edges(sources: Iterable[UpstreamSource]) -> tuple[view.Edge, ...]:
    seen: dict[tuple[str, str, str], view.Edge] = {}
    for source in sources:
        for edge in source.path:
            key = (edge.downstream.id, edge.upstream.id, edge.relation.value)
            seen.setdefault(
                key,
                view.Edge(
                    downstream=edge.downstream.id,
                    downstream_kind=edge.downstream.kind.value,
                    upstream=edge.upstream.id,
                    upstream_kind=edge.upstream.kind.value,
                    relation=edge.relation.value,
                    transform=edge.transform,
                    records=edge.records,
                    activity=edge.activity.value if edge.activity is not None else None,
                ),
            )
    return tuple(seen[key] for key in sorted(seen))


def _why(verdict: str, use: str, counts: view.Counts, sources: Sequence[view.Source]) -> str:
    """The verdict in one sentence."""
    total = len({s.id for s in sources})
    flagged = len({s.id for s in sources if s.verdict == verdict})
    if verdict == "violation":
        return (
            f"{flagged} of {total} upstream source(s) may not be used for `{use}` under the terms "
            f"in force when their outputs were generated: {counts.violations} finding(s) break a "
            "clause or leave an obligation unmet."
        )
    if verdict == "needs_review":
        return (
            f"No clause forbids using the {total} upstream source(s) for `{use}`, but "
            f"{counts.needs_review} finding(s) on {flagged} source(s) need a reviewer's decision "
            "or a missing fact."
        )
    waived = f"; {counts.waived} finding(s) are waived" if counts.waived else ""
    if not total:
        return f"Nothing upstream is recorded, and nothing stands against `{use}`{waived}."
    return (
        f"All {total} upstream source(s) may be used for `{use}` under the terms in force when "
        f"their outputs were generated{waived}."
    )
