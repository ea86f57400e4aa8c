"""The decision over a whole lineage: every upstream source, decided once per distinct facts.

``evaluate(ruleset, lineage, use, target, at, waivers)`` is pure: the ledger has already turned its
rows into a :class:`policyengine.lineage.Lineage`, the caller chose the day, and the waivers are
values. Obligations travel along every hop because each source is decided against the *target's*
facts (a model two generations below Llama 3.1 outputs must still be named "Llama…").
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import cast

from policyengine.evaluate.decision import Decision, ObligationCheck, ObligationStatus, RuleOutcome
from policyengine.evaluate.engine import check_obligations, decide, reason, without
from policyengine.evaluate.findings import (
    Finding,
    FindingKind,
    LineageDecision,
    SourceGroup,
)
from policyengine.evaluate.waivers import Waiver, WaiverCheck, WaiverStatus, screen
from policyengine.facts import Activity, Facts, Value
from policyengine.lineage import EXAMPLES, Lineage, Relation, SourceBundle, UpstreamSource
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import Effect, Verdict

_Members = tuple[tuple[UpstreamSource, ...], int, int | None]
_EFFECT_VERDICT = {Effect.DENY: Verdict.VIOLATION, Effect.REVIEW: Verdict.NEEDS_REVIEW}
_STATUS_VERDICT = {
    ObligationStatus.UNMET: Verdict.VIOLATION,
    ObligationStatus.UNKNOWN: Verdict.NEEDS_REVIEW,
}


def evaluate(
    ruleset: RuleSet,
    lineage: Lineage,
    use: str,
    target: Mapping[str, Value] | None = None,
    *,
    at: dt.date,
    waivers: Iterable[Waiver] = (),
) -> LineageDecision:
    """Decide every source of ``lineage`` for the intended ``use`` as of the day ``at``.

    ``target`` holds what-if target facts that replace the recorded ones (``target.release``,
    ``target.competes_with``, …); when it names another ``target.kind`` than the recorded one,
    the recorded target facts are dropped (a dataset checked for the model it will train). A
    source's path may record what it was used for (a run's method, a use's activity); that
    activity is what happened and wins over ``use``, which fills in where none is recorded.
    """
    waivers = tuple(waivers)
    if lineage.bundles and not {w.scope for w in waivers} <= lineage.apart:
        # Inside a bundle a source named by a waiver could not be told from the others.
        raise ValueError("a grouped lineage must keep every waiver's scope apart")
    target_facts = _target_facts(lineage.facts, target or {})
    usable, rejected = screen(
        waivers,
        rule_ids=ruleset.by_id,
        target=lineage.target,
        ancestors=lineage.ancestors,
        at=at,
    )
    groups = _groups(ruleset, lineage, target_facts, use, usable)
    applied = _applied(usable, groups)
    gaps: tuple[Finding, ...] = ()
    if not lineage.sources and not lineage.bundles:
        gaps = (
            Finding(
                FindingKind.GAP,
                Verdict.NEEDS_REVIEW,
                f"the ledger records nothing upstream of {lineage.target}: record the "
                "generations, datasets or runs it came from to decide",
            ),
        )
    return LineageDecision(
        lineage.target, target_facts, use, at, groups, applied + rejected, gaps, lineage.distinct
    )


def _target_facts(recorded: Facts, overrides: Mapping[str, Value]) -> Facts:
    kind = overrides.get("target.kind")
    known = (
        {}
        if kind is not None and kind != recorded.known.get("target.kind")
        else dict(recorded.known)
    )
    known.update(overrides)
    return Facts(known)


_Key = tuple[int, int, Activity | None, frozenset[str]]


def _buckets(
    lineage: Lineage, scopes: set[str]
) -> dict[_Key, list[UpstreamSource]] | dict[_Key, list[SourceBundle]]:
    """Sources (or bundles of a grouped lineage) by (provenance, hops, activity, waivers in reach),
    in lineage order of their first source."""
    if lineage.bundles:
        bundled: dict[_Key, list[SourceBundle]] = {}
        for bundle in sorted(lineage.bundles, key=lambda b: b.ranks[0]):
            bundled.setdefault(_key(lineage, bundle.examples[0], scopes), []).append(bundle)
        return bundled
    buckets: dict[_Key, list[UpstreamSource]] = {}
    for source in lineage.sources:
        key = _key(lineage, source, scopes)
        bucket = buckets.get(key)
        if bucket is None:
            buckets[key] = [source]
        else:
            bucket.append(source)
    return buckets


def _key(lineage: Lineage, source: UpstreamSource, scopes: set[str]) -> _Key:
    in_reach: frozenset[str] = frozenset()
    if scopes:
        on_path = {lineage.target.id, *(edge.upstream.id for edge in source.path)}
        in_reach = frozenset(scopes & on_path)
    # The facts object is shared by every source of one provenance: its id is a cheap key.
    return (id(source.facts), source.hops, source.activity, in_reach)


def _members(members: list[UpstreamSource] | list[SourceBundle]) -> _Members:
    """The sources a group lists, how many (source, path) pairs it holds, and their records."""
    if members and isinstance(members[0], SourceBundle):
        bundles = members  # every member is a bundle when the first is
        ranked = (pair for b in bundles for pair in zip(b.ranks, b.examples, strict=True))
        first = heapq.nsmallest(EXAMPLES, ranked, key=itemgetter(0))
        counts = [b.records for b in bundles]
        records = None if None in counts else sum(c or 0 for c in counts)
        return tuple(s for _, s in first), sum(b.count for b in bundles), records
    sources = tuple(cast(list[UpstreamSource], members))
    return sources, len(sources), _records(sources)


def _records(sources: Sequence[UpstreamSource]) -> int | None:
    """Records that reach the target from these sources, where every path records a count."""
    total = 0
    for source in sources:
        for edge in source.path:  # the input edge nearest the target counts what reached it
            if edge.relation is Relation.INPUT:
                if edge.records is None:
                    return None
                total += edge.records
                break
        else:
            return None
    return total


def _groups(
    ruleset: RuleSet,
    lineage: Lineage,
    target: Facts,
    use: str,
    waivers: Sequence[Waiver],
) -> tuple[SourceGroup, ...]:
    """Group sources by (provenance, hops, activity, waivers in reach); decide each group once."""
    buckets = _buckets(lineage, {w.scope for w in waivers})
    decided: dict[Facts, Decision] = {}
    groups = []
    for key, members in buckets.items():
        in_reach = key[3]
        sources, count, records = _members(members)
        first = sources[0]
        recorded = first.activity
        known = dict(target.known)
        known.update(first.facts.known)
        known["path.hops"] = first.hops
        known["use.activity"] = recorded.value if recorded is not None else use
        facts = Facts(known)
        raw = decided.get(facts)
        if raw is None:
            raw = decided[facts] = decide(ruleset, facts)
        reach = [w for w in waivers if w.scope in in_reach]
        groups.append(_group(facts, (sources, count, records), raw, reach, recorded is not None))
    return tuple(groups)


def _group(
    facts: Facts,
    members: _Members,
    raw: Decision,
    waivers: Sequence[Waiver],
    activity_recorded: bool,
) -> SourceGroup:
    by_rule: dict[str, Waiver] = {}
    for waiver in waivers:
        by_rule.setdefault(waiver.rule, waiver)
    decision = without(raw, frozenset(by_rule)) if by_rule else raw
    findings = _findings(decision) + _waived(raw, decision, by_rule)
    sources, count, records = members
    return SourceGroup(facts, sources, raw, decision, findings, activity_recorded, count, records)


def _findings(decision: Decision) -> tuple[Finding, ...]:
    """The findings that count: what keeps the decision from being plainly compliant."""
    found = [Finding(FindingKind.GAP, Verdict.NEEDS_REVIEW, gap) for gap in decision.gaps]
    deciding = [o for o in decision.outcomes if o.rule_id in decision.deciding]
    if decision.effect is Effect.OBLIGE:
        outcome_of = {o.rule_id: o for o in deciding}
        for check in decision.obligations:
            verdict = _STATUS_VERDICT.get(check.status)
            if verdict is not None:
                outcome = outcome_of[check.rule_id]
                found.append(_obligation_finding(outcome, check, verdict, None))
    elif decision.effect in _EFFECT_VERDICT:
        verdict = _EFFECT_VERDICT[decision.effect]
        found += [_rule_finding(o, verdict, None) for o in deciding]
    return tuple(found)


def _waived(
    raw: Decision, decision: Decision, by_rule: Mapping[str, Waiver]
) -> tuple[Finding, ...]:
    """The findings waivers accepted: what each waived rule would have found."""
    found: list[Finding] = []
    for outcome in raw.outcomes:
        if outcome.rule_id not in decision.waived:
            continue
        waiver = by_rule[outcome.rule_id]
        if outcome.effect is Effect.OBLIGE:
            for check in check_obligations([outcome], raw.facts):
                verdict = _STATUS_VERDICT.get(check.status)
                if verdict is not None:
                    found.append(_obligation_finding(outcome, check, verdict, waiver))
        elif outcome.effect in _EFFECT_VERDICT:
            found.append(_rule_finding(outcome, _EFFECT_VERDICT[outcome.effect], waiver))
    return tuple(found)


def _rule_finding(outcome: RuleOutcome, verdict: Verdict, waiver: Waiver | None) -> Finding:
    return Finding(
        FindingKind.RULE, verdict, reason(outcome), outcome.rule_id, outcome, None, waiver
    )


def _obligation_finding(
    outcome: RuleOutcome, check: ObligationCheck, verdict: Verdict, waiver: Waiver | None
) -> Finding:
    message = f"`{outcome.rule_id}` obliges {check.obligation.kind}: {check.detail}"
    return Finding(
        FindingKind.OBLIGATION, verdict, message, outcome.rule_id, outcome, check, waiver
    )


def _applied(waivers: Sequence[Waiver], groups: Sequence[SourceGroup]) -> tuple[WaiverCheck, ...]:
    checks = []
    for waiver in waivers:
        count = sum(
            1
            for g in groups
            for f in g.findings
            if f.waiver is not None and f.waiver.id == waiver.id
        )
        if count:
            checks.append(
                WaiverCheck(waiver, WaiverStatus.APPLIED, f"waived {count} finding(s)", count)
            )
        else:
            checks.append(
                WaiverCheck(
                    waiver,
                    WaiverStatus.UNUSED,
                    f"rule `{waiver.rule}` found nothing to waive within `{waiver.scope}`",
                )
            )
    return tuple(checks)
