"""`policyengine check` for people: one block per group of sources, and the trace on `--explain`.

Plain text, no colour, ending with the one-line summary, so that a pipeline log shows the verdict
last. The trace only renders what the decision carries; nothing is decided here.
"""

from __future__ import annotations

from collections.abc import Iterator

from policyengine.evaluate.decision import Decision, ObligationStatus, RuleOutcome
from policyengine.evaluate.findings import CheckRun, Finding, SourceGroup
from policyengine.evaluate.waivers import WaiverCheck
from policyengine.facts import UNKNOWN, Facts
from policyengine.lineage import EXAMPLES, UpstreamSource
from policyengine.rules.operators import Truth
from policyengine.rules.schema import Verdict

PATHS_SHOWN = EXAMPLES
"""Paths printed per group with `--explain` (as many as a grouped lineage keeps); the rest are
counted."""

_MARK = {Verdict.VIOLATION: "✗", Verdict.NEEDS_REVIEW: "?", Verdict.COMPLIANT: "✓"}
_LABEL = {
    Verdict.VIOLATION: "VIOLATION",
    Verdict.NEEDS_REVIEW: "REVIEW",
    Verdict.COMPLIANT: "COMPLIANT",
}


def text(run: CheckRun, *, explain: bool = False) -> str:
    """The check's outcome as text; with ``explain``, the whole trace of every group."""
    return "\n".join(_lines(run, explain)) + "\n"


def _lines(run: CheckRun, explain: bool) -> Iterator[str]:
    decision = run.decision
    yield f"check {decision.target} for `{decision.use}` as of {decision.at}"
    yield (
        f"  rules {run.rules_digest[:19]}… ({len(run.packs)} packs)"
        + (f", ledger head {run.ledger_head[:12]}…" if run.ledger_head else "")
    )
    target = ", ".join(
        f"{name}={_value(value)}" for name, value in sorted(decision.target_facts.known.items())
    )
    yield f"  target: {target or 'nothing recorded'}"
    for finding in decision.gaps:
        yield ""
        yield f"{_LABEL[finding.verdict]}  {finding.message}"
    for group in _ordered(decision.groups):
        yield ""
        yield from _group(group, explain)
    if decision.waivers:
        yield ""
        yield "waivers:"
        yield from (_waiver(check) for check in decision.waivers)
    yield ""
    yield decision.summary()


def _ordered(groups: tuple[SourceGroup, ...]) -> list[SourceGroup]:
    rank = {Verdict.VIOLATION: 0, Verdict.NEEDS_REVIEW: 1, Verdict.COMPLIANT: 2}
    return sorted(groups, key=lambda g: (rank[g.verdict], _title(g)))


def _title(group: SourceGroup) -> str:
    facts = group.facts
    parts = [_value(facts["source.provider"])]
    if facts["source.model"] is not UNKNOWN:
        parts.append(_value(facts["source.model"]))
    if facts["source.license"] is not UNKNOWN:
        parts.append(f"licence {_value(facts['source.license'])}")
    return " ".join(parts)


def _group(group: SourceGroup, explain: bool) -> Iterator[str]:
    waived = any(f.waived for f in group.findings)
    label = _LABEL[group.verdict] + (" (waived)" if waived and not _counting(group) else "")
    sources = group.count
    records = group.records
    detail = [f"{sources} source{'s' if sources != 1 else ''}"]
    if records is not None:
        detail.append(f"{records:,} records")
    detail.append(f"hops {group.facts['path.hops']}")
    activity = group.facts["use.activity"]
    detail.append(f"use {activity}" + (" (recorded)" if group.activity_recorded else ""))
    yield f"{label}  {_title(group)} — " + ", ".join(detail)
    for selection in group.decision.selections:
        until = selection.effective_until or "now"
        yield (
            f"  terms: {selection.document}@{selection.version} "
            f"({selection.effective_from} to {until}; {selection.why})"
        )
    for finding in group.findings:
        yield from _finding(finding)
    for check in group.decision.obligations:
        if check.status in (ObligationStatus.MET, ObligationStatus.CARRIED):
            yield f"  ✓ {check.rule_id} obliges {check.obligation.kind}: {check.detail}"
    if explain:
        yield from _trace(group)


def _counting(group: SourceGroup) -> bool:
    return any(not f.waived for f in group.findings)


def _finding(finding: Finding) -> Iterator[str]:
    mark = "~" if finding.waived else _MARK[finding.verdict]
    yield f"  {mark} {finding.message}"
    outcome = finding.outcome
    if outcome is not None:
        citation = outcome.citation
        yield f'    {citation.section}: "{citation.quote}"'
        yield f"    {citation.url}"
        if finding.verdict is not Verdict.COMPLIANT and outcome.remediation:
            yield f"    fix: {outcome.remediation}"
    if finding.waiver is not None:
        w = finding.waiver
        yield (
            f"    waived by `{w.id}` ({w.reason}, approved by {w.approver}, {w.ticket}, "
            f"until {w.expires})"
        )


def _waiver(check: WaiverCheck) -> str:
    w = check.waiver
    return (
        f"  {w.id}: {check.status.value} — {check.detail} ({w.reason}, approved by {w.approver}, "
        f"{w.ticket}, until {w.expires})"
    )


def _trace(group: SourceGroup) -> Iterator[str]:
    yield "  facts used:"
    yield from (f"    {name} = {_value(value)}" for name, value in _known(group.facts))
    unknown = group.facts.unknown()
    if unknown:
        yield "    unknown: " + ", ".join(unknown)
    yield "  rules:"
    yield from _outcomes(group.raw)
    yield "  lineage:"
    for source in group.sources[:PATHS_SHOWN]:
        yield "    " + _path(source)
    hidden = group.count - PATHS_SHOWN
    if hidden > 0:
        yield f"    … and {hidden:,} more source{'s' if hidden != 1 else ''} with these facts"


def _known(facts: Facts) -> list[tuple[str, object]]:
    return [(name, facts.known[name]) for name in facts if name in facts.known]


def _outcomes(decision: Decision) -> Iterator[str]:
    if not decision.outcomes:
        yield "    none (no terms chosen)"
    for outcome in decision.outcomes:
        yield "    " + _outcome(outcome, outcome.rule_id in decision.waived)


def _outcome(outcome: RuleOutcome, waived: bool) -> str:
    effect = outcome.effect.value if outcome.effect is not None else "does not apply"
    truth = {Truth.TRUE: "holds", Truth.FALSE: "does not hold", Truth.UNKNOWN: "unknown"}
    line = f"{outcome.rule_id}: condition {truth[outcome.truth]} → {effect}"
    if outcome.missing:
        line += " (missing " + ", ".join(outcome.missing) + ")"
    return line + (" [waived]" if waived else "")


def _path(source: UpstreamSource) -> str:
    steps = [str(source.path[0].downstream)] if source.path else []
    for edge in source.path:
        label = edge.relation.value
        extras = [x for x in (edge.transform, edge.activity and edge.activity.value) if x]
        if extras:
            label += " " + "/".join(str(x) for x in extras)
        steps.append(f"—{label}→ {edge.upstream}")
    return " ".join(steps)


def _value(value: object) -> str:
    if isinstance(value, frozenset):
        return "[" + ", ".join(sorted(value)) + "]"
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    return str(value)
