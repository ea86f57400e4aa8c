"""What evaluating a whole lineage returns: findings per group of sources, waivers, the verdict.

Sources with the same facts (and the same waivers in reach) share one decision, so a model with
100,000 upstream generations from 50 models carries about 50 groups, each listing its sources.
Reports, `--explain` and the gate only read these values.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from dataclasses import dataclass, field

from policyengine.evaluate.decision import Decision, ObligationCheck, RuleOutcome
from policyengine.evaluate.waivers import Waiver, WaiverCheck
from policyengine.facts import Facts
from policyengine.lineage import ArtifactRef, Lineage, UpstreamSource
from policyengine.rules.schema import Verdict

VERDICT_ORDER: tuple[Verdict, ...] = (Verdict.VIOLATION, Verdict.NEEDS_REVIEW, Verdict.COMPLIANT)
"""Worst first: the verdict over several decisions is the first of these that any has."""


def worst(verdicts: list[Verdict] | set[Verdict]) -> Verdict:
    """The worst of ``verdicts``; compliant for none."""
    return next((v for v in VERDICT_ORDER if v in verdicts), Verdict.COMPLIANT)


class FindingKind(enum.Enum):
    """What stands behind a finding."""

    RULE = "rule"  # a rule denied, or needs review because a fact it names is unknown
    OBLIGATION = "obligation"  # an obligation of a firing rule is unmet, or cannot be checked
    GAP = "gap"  # no rule: terms could not be chosen, or no rule decides the use


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a group of sources is not simply compliant.

    ``waiver`` is set when a waiver accepted the finding: it is shown and counted as waived, and
    does not count towards the verdict.
    """

    kind: FindingKind
    verdict: Verdict
    message: str
    rule_id: str | None = None
    outcome: RuleOutcome | None = None
    obligation: ObligationCheck | None = None
    waiver: Waiver | None = None

    @property
    def waived(self) -> bool:
        """Whether a waiver accepted this finding."""
        return self.waiver is not None


@dataclass(frozen=True, slots=True)
class SourceGroup:
    """Sources that share their facts and waivers, the one decision for them, and its findings.

    ``decision`` is the decision with the waived rules taken out; ``raw`` the one before waivers.
    ``count`` is how many (source, path) pairs the group holds and ``records`` the records that
    reach the target from them, where every path records a count. ``sources`` lists every one of
    them, or, decided from a grouped lineage, the first :data:`policyengine.lineage.EXAMPLES` in
    lineage order.
    """

    facts: Facts
    sources: tuple[UpstreamSource, ...]
    raw: Decision
    decision: Decision
    findings: tuple[Finding, ...]
    activity_recorded: bool
    count: int
    records: int | None = None

    @property
    def verdict(self) -> Verdict:
        """The group's verdict once waived findings are set aside."""
        return self.decision.verdict


@dataclass(frozen=True, slots=True)
class LineageDecision:
    """The decision over a target's whole lineage for one intended use, as of one day."""

    target: ArtifactRef
    target_facts: Facts
    use: str
    at: dt.date
    groups: tuple[SourceGroup, ...]
    waivers: tuple[WaiverCheck, ...]
    gaps: tuple[Finding, ...] = ()
    distinct: int | None = None  # distinct sources, when the groups do not list them all
    verdict: Verdict = field(init=False)

    def __post_init__(self) -> None:
        verdicts = {g.verdict for g in self.groups} | {f.verdict for f in self.gaps}
        object.__setattr__(self, "verdict", worst(verdicts))

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding, waived ones included: the lineage's own gaps, then each group's."""
        return self.gaps + tuple(f for g in self.groups for f in g.findings)

    @property
    def deciding(self) -> tuple[str, ...]:
        """Ids of the rules behind findings that count (not waived), each once, in order."""
        ids = (f.rule_id for f in self.findings if f.rule_id is not None and not f.waived)
        return tuple(dict.fromkeys(ids))

    def counts(self) -> Counter[str]:
        """Distinct findings by verdict (`violation`, `needs_review`) plus `waived`, and distinct
        sources.

        A finding that several groups share (one rule, one message) counts once, and a source
        reached along two paths counts once: the numbers a reviewer sees in every format.
        """
        counted: Counter[str] = Counter()
        seen = set()
        for finding in self.findings:
            waiver = finding.waiver.id if finding.waiver is not None else ""
            key = (finding.kind, finding.verdict, finding.rule_id, finding.message, waiver)
            if key not in seen:
                seen.add(key)
                counted["waived" if finding.waived else finding.verdict.value] += 1
        if self.distinct is not None:
            counted["sources"] = self.distinct
        else:
            counted["sources"] = len({s.ref.id for g in self.groups for s in g.sources})
        return counted

    def summary(self) -> str:
        """One line for the end of the output: verdict, counts, target, use, day."""
        counted = self.counts()
        parts = [
            f"{counted['violation']} violation(s)",
            f"{counted['needs_review']} to review",
            f"{counted['waived']} waived",
        ]
        return (
            f"{self.verdict.value}: " + ", ".join(parts) + f" over {counted['sources']} source(s)"
            f" of {self.target} for `{self.use}` as of {self.at}"
        )


@dataclass(frozen=True, slots=True)
class PackStamp:
    """A rule pack as it was used: id, version and the digest of its files."""

    id: str
    version: str
    digest: str


@dataclass(frozen=True, slots=True)
class CheckRun:
    """A decision with what it was made from, so that a later reviewer can reproduce it."""

    decision: LineageDecision
    lineage: Lineage
    packs: tuple[PackStamp, ...]
    rules_digest: str
    ledger_head: str | None
    tool_version: str
