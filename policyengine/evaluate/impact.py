"""What a change of terms does to recorded decisions: the same lineage decided under two rule
sets, compared verdict by verdict and rule by rule.

``without_version`` builds the "before" rule set for one new document version: that version never
happened and the version before it stayed in force in its place (a first version leaves the days
uncovered, so sources from then have no terms, which is what was true before it existed).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from policyengine.evaluate.findings import VERDICT_ORDER, LineageDecision
from policyengine.lineage import ArtifactRef
from policyengine.rules.ruleset import RuleSet


@dataclass(frozen=True, slots=True)
class Change:
    """One target whose decision differs between the old and the new rules, and how."""

    target: ArtifactRef
    old: LineageDecision
    new: LineageDecision
    appeared: tuple[str, ...]  # rules behind findings under the new rules only
    vanished: tuple[str, ...]  # rules behind findings under the old rules only
    shifted: tuple[tuple[str, str, str], ...] = ()  # (rule, old verdict, new verdict)

    @property
    def direction(self) -> str:
        """`worse`, `better` or `same` (the verdict held, the reasons changed)."""
        old, new = VERDICT_ORDER.index(self.old.verdict), VERDICT_ORDER.index(self.new.verdict)
        return "worse" if new < old else "better" if new > old else "same"


def compare(old: LineageDecision, new: LineageDecision) -> Change | None:
    """The change between two decisions of one target, or None when verdict and rules agree."""
    before, after = _verdicts(old), _verdicts(new)
    if old.verdict is new.verdict and before == after:
        return None
    shifted = tuple(
        (rule, before[rule], verdict)
        for rule, verdict in after.items()
        if rule in before and before[rule] != verdict
    )
    return Change(
        new.target,
        old,
        new,
        tuple(r for r in after if r not in before),
        tuple(r for r in before if r not in after),
        shifted,
    )


def _verdicts(decision: LineageDecision) -> dict[str, str]:
    """Each rule behind a counted finding, with the worst verdict it gives anywhere."""
    found: dict[str, str] = {}
    for finding in decision.findings:
        if finding.rule_id is None or finding.waived:
            continue
        seen = found.get(finding.rule_id)
        value = finding.verdict.value
        if seen is None or VERDICT_ORDER.index(finding.verdict) < _rank(seen):
            found[finding.rule_id] = value
    return found


def _rank(value: str) -> int:
    return next(i for i, v in enumerate(VERDICT_ORDER) if v.value == value)


def without_version(ruleset: RuleSet, document: str, version: str) -> RuleSet:
    """``ruleset`` as it was before ``document`` at ``version`` took effect.

    Raises KeyError when the rules hold no such document or version.
    """
    versions = ruleset.documents[document].versions
    index = next((i for i, v in enumerate(versions) if v.version == version), None)
    if index is None:
        raise KeyError(f"{document}@{version}")
    kept = list(versions)
    removed = kept.pop(index)
    if index > 0:
        previous = kept[index - 1]
        kept[index - 1] = previous.model_copy(update={"effective_until": removed.effective_until})
    if not kept:
        return _without_document(ruleset, document)
    documents = dict(ruleset.documents)
    documents[document] = documents[document].model_copy(update={"versions": tuple(kept)})
    return dataclasses.replace(ruleset, documents=documents)


def _without_document(ruleset: RuleSet, document: str) -> RuleSet:
    """The rules with ``document`` taken out of every catalog entry (entries left empty go)."""
    catalog = []
    for compiled in ruleset.catalog:
        kept = tuple(d for d in compiled.entry.documents if d != document)
        if kept:
            entry = compiled.entry.model_copy(update={"documents": kept})
            catalog.append(dataclasses.replace(compiled, entry=entry))
    licenses = []
    for licence in ruleset.licenses:
        kept = tuple(d for d in licence.documents if d != document)
        if kept:
            licenses.append(licence.model_copy(update={"documents": kept}))
    return dataclasses.replace(ruleset, catalog=tuple(catalog), licenses=tuple(licenses))
