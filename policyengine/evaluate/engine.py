"""The pure decision for one set of source facts: select the terms in force, evaluate, combine.

``decide(ruleset, facts)`` reads no clock, no environment and no database. It never allows by
default: a source whose terms are unknown, a fact a rule needs but nobody recorded, and a use no
rule decides all come out as ``review`` with a reason that says what to record or check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

from policyengine.evaluate.decision import (
    EFFECT_ORDER,
    Decision,
    ObligationCheck,
    ObligationStatus,
    RuleOutcome,
    Selection,
)
from policyengine.facts import UNKNOWN, Facts
from policyengine.rules.operators import Truth
from policyengine.rules.ruleset import CompiledEntry, RuleSet
from policyengine.rules.schema import (
    Attribution,
    Effect,
    NamePrefix,
    Notice,
    Obligation,
    Verdict,
)


@dataclass(frozen=True, slots=True)
class _Undecided:
    """Selection stopped before any document was chosen, for this reason."""

    reason: str


HUMAN = "human"
"""The provider id of human-written data: no model terms, only the licence it may carry."""

NO_LICENCE = frozenset({"NOASSERTION", "unknown"})
"""`source.license` values that record that nobody knows the licence: always a review."""


def decide(ruleset: RuleSet, facts: Facts) -> Decision:
    """Decide whether the source described by ``facts`` may be used as ``use.activity`` says."""
    selections: list[Selection] = []
    gaps: list[str] = []
    for selected in (_select(ruleset, facts), _select_licence(ruleset, facts)):
        if isinstance(selected, _Undecided):
            gaps.append(selected.reason)
        else:
            selections.extend(selected)
    if not selections and not gaps:
        gaps.append("record `source.license`: human-written data is governed by its licence")
    # A model's terms and the licence its data carries may name the same document version.
    unique: dict[tuple[str, str], Selection] = {}
    for selection in selections:
        unique.setdefault((selection.document, selection.version), selection)
    chosen = tuple(unique.values())
    outcomes = tuple(_outcomes(ruleset, chosen, facts))
    return _combine(facts, chosen, outcomes, tuple(gaps))


def without(decision: Decision, waived: frozenset[str]) -> Decision:
    """The decision recombined as if the rules in ``waived`` had not fired.

    A waiver accepts one rule's finding; the other rules still decide. When the waived rules were
    all that decided, the result is compliant: the finding was accepted by someone accountable.
    Gaps (terms or facts that are missing) are no rule's finding and stay.
    """
    hit = waived & {o.rule_id for o in decision.outcomes if o.effect is not None}
    if not hit:
        return decision
    kept = tuple(o for o in decision.outcomes if o.rule_id not in hit)
    combined = _combine(decision.facts, decision.selections, kept, decision.gaps, waived=True)
    return replace(combined, outcomes=decision.outcomes, waived=frozenset(hit))


def _select(ruleset: RuleSet, facts: Facts) -> tuple[Selection, ...] | _Undecided:
    """The model terms that govern the source (none for human-written data)."""
    provider, model = facts["source.provider"], facts["source.model"]
    if provider is UNKNOWN:
        return _Undecided("record `source.provider`: without it no terms can be chosen")
    if provider == HUMAN:
        return ()
    entries = ruleset.entries_of(provider)
    if not entries:
        return _Undecided(f"no terms known for provider `{provider}`")
    entries, overlay = _by_agreement(entries, facts["source.agreement"])
    if model is UNKNOWN:
        return _Undecided(f"record `source.model`: terms of `{provider}` differ by model")
    assert isinstance(model, str)
    entries = [e for e in entries if e.matches_model(model)]
    if not entries:
        return _Undecided(f"no terms known for provider `{provider}`, model `{model}`")
    entries_or_reason = _by_channel(entries, facts["source.channel"], provider, model)
    if isinstance(entries_or_reason, _Undecided):
        return entries_or_reason
    groups = [(e.entry.precedence or 0, e.entry.documents) for e in entries_or_reason]
    why = f"; agreement `{overlay}` replaces the public terms" if overlay else ""
    return _in_force(ruleset, groups, facts["source.generated_at"], why)


def _select_licence(ruleset: RuleSet, facts: Facts) -> tuple[Selection, ...] | _Undecided:
    """The licence documents that govern data carrying ``source.license`` (none when unrecorded)."""
    licence = facts["source.license"]
    if licence is UNKNOWN:
        return ()
    assert isinstance(licence, str)
    if licence in NO_LICENCE:
        return _Undecided(
            f"the data's licence is recorded as `{licence}`: find and record its SPDX id to decide"
        )
    groups = [
        (entry.precedence or 0, entry.documents) for entry in ruleset.licence_entries(licence)
    ]
    if not groups:
        return _Undecided(f"no terms known for licence `{licence}`")
    return _in_force(
        ruleset, groups, facts["source.generated_at"], f"; the data carries `{licence}`"
    )


def _by_agreement(
    entries: list[CompiledEntry], agreement: object
) -> tuple[list[CompiledEntry], str | None]:
    overlay = [e for e in entries if agreement is not UNKNOWN and e.entry.agreement == agreement]
    if overlay:
        return overlay, str(agreement)
    return [e for e in entries if e.entry.agreement is None], None


def _by_channel(
    entries: list[CompiledEntry], channel: object, provider: object, model: str
) -> list[CompiledEntry] | _Undecided:
    if channel is UNKNOWN:
        if len({e.entry.documents for e in entries}) > 1:
            return _Undecided(
                f"record `source.channel`: terms of `{provider}` for `{model}` differ by channel"
            )
        return entries
    matching = [e for e in entries if any(c.value == channel for c in e.entry.channels)]
    if not matching:
        return _Undecided(f"no terms known for `{model}` obtained through channel `{channel}`")
    return matching


def _in_force(
    ruleset: RuleSet,
    groups: Sequence[tuple[int, tuple[str, ...]]],
    day: object,
    why: str,
) -> tuple[Selection, ...] | _Undecided:
    """Each group's documents at the version in force on ``day``; the highest precedence wins.

    An unknown day still decides for documents that have a single version (a licence that never
    changed); for the others it is a gap naming `source.generated_at`.
    """
    candidates: list[tuple[int, list[Selection]]] = []
    for precedence, documents in groups:
        chosen = []
        for document in documents:
            selection = _version(ruleset, document, day, why)
            if isinstance(selection, _Undecided):
                return selection
            if selection is not None:
                chosen.append(selection)
        if chosen:
            candidates.append((precedence, chosen))
    if not candidates:
        names = sorted({d for _, documents in groups for d in documents})
        return _Undecided(
            "no version of " + ", ".join(f"`{d}`" for d in names) + f" was in force on {day}"
        )
    top = max(precedence for precedence, _ in candidates)
    return tuple(s for precedence, chosen in candidates if precedence == top for s in chosen)


def _version(
    ruleset: RuleSet, document: str, day: object, why: str
) -> Selection | _Undecided | None:
    versions = ruleset.documents[document].versions
    if day is UNKNOWN:
        if len(versions) > 1:
            return _Undecided(
                f"record `source.generated_at`: `{document}` has {len(versions)} versions and the "
                "one in force depends on when the output was made"
            )
        version, because = versions[0], "the only version" + why
    else:
        assert isinstance(day, dt.date)
        found = ruleset.version_in_force(document, day)
        if found is None:
            return None
        version, because = found, f"in force on {day}" + why
    return Selection(
        document, version.version, version.effective_from, version.effective_until, because
    )


def _outcomes(ruleset: RuleSet, selections: Sequence[Selection], facts: Facts) -> list[RuleOutcome]:
    outcomes = []
    for selection in selections:
        for compiled in ruleset.rules_of(selection.document, selection.version):
            rule = compiled.rule
            truth = compiled.when(facts)
            missing: tuple[str, ...] = ()
            effect: Effect | None = None
            if truth is Truth.TRUE:
                effect = rule.effect
            elif truth is Truth.UNKNOWN:
                effect = Effect.REVIEW
                missing = tuple(sorted(compiled.when.missing(facts)))
            outcomes.append(
                RuleOutcome(
                    rule.id,
                    rule.document,
                    selection.version,
                    truth,
                    effect,
                    missing,
                    rule.citation,
                    rule.rationale,
                    rule.remediation,
                    rule.obligations,
                )
            )
    return outcomes


def _combine(
    facts: Facts,
    selections: tuple[Selection, ...],
    outcomes: tuple[RuleOutcome, ...],
    gaps: tuple[str, ...],
    *,
    waived: bool = False,
) -> Decision:
    effects = {o.effect for o in outcomes if o.effect is not None}
    if gaps:
        # Terms that could not be chosen count as a review of their own (no rule id to cite).
        effects.add(Effect.REVIEW)
    if not effects and waived:
        accepted = "every rule that decided was waived"
        return Decision(
            facts, Effect.ALLOW, Verdict.COMPLIANT, (), (accepted,), selections, outcomes, ()
        )
    if not effects:
        governing = ", ".join(f"`{s.document}@{s.version}`" for s in selections)
        undecided = f"no rule of {governing} decides `{facts['use.activity']}` for this target"
        return Decision(
            facts,
            Effect.REVIEW,
            Verdict.NEEDS_REVIEW,
            (),
            (undecided,),
            selections,
            outcomes,
            (),
            (undecided,),
        )
    effect = next(e for e in EFFECT_ORDER if e in effects)
    deciding = tuple(o for o in outcomes if o.effect is effect)
    reasons = tuple(reason(o) for o in deciding)
    if effect is Effect.REVIEW:
        reasons = gaps + reasons
    checks: tuple[ObligationCheck, ...] = ()
    verdict = {
        Effect.DENY: Verdict.VIOLATION,
        Effect.REVIEW: Verdict.NEEDS_REVIEW,
        Effect.ALLOW: Verdict.COMPLIANT,
    }.get(effect, Verdict.COMPLIANT)
    if effect is Effect.OBLIGE:
        checks = check_obligations(deciding, facts)
        verdict = _obligation_verdict(checks)
    return Decision(
        facts,
        effect,
        verdict,
        tuple(o.rule_id for o in deciding),
        reasons,
        selections,
        outcomes,
        checks,
        gaps if effect is Effect.REVIEW else (),
    )


def reason(outcome: RuleOutcome) -> str:
    """Why an outcome decides, in one line: the missing facts, or the rule, section and rationale."""
    if outcome.truth is Truth.UNKNOWN:
        facts = ", ".join(f"`{name}`" for name in outcome.missing) or "the facts it names"
        return f"record {facts} to decide `{outcome.rule_id}`"
    return f"`{outcome.rule_id}` ({outcome.citation.section}): {outcome.rationale}"


def check_obligations(deciding: Sequence[RuleOutcome], facts: Facts) -> tuple[ObligationCheck, ...]:
    """Each obligation of the ``deciding`` outcomes, checked against the target's facts."""
    return tuple(
        _check(outcome.rule_id, obligation, facts)
        for outcome in deciding
        for obligation in outcome.obligations
    )


def _check(rule_id: str, obligation: Obligation, facts: Facts) -> ObligationCheck:
    if isinstance(obligation, NamePrefix):
        name = facts["target.name"]
        if name is UNKNOWN:
            return ObligationCheck(
                rule_id, obligation, ObligationStatus.UNKNOWN, "record `target.name` to check"
            )
        met = isinstance(name, str) and name.startswith(obligation.prefix)
        detail = f"`{name}` {'begins' if met else 'does not begin'} with `{obligation.prefix}`"
        return ObligationCheck(rule_id, obligation, _status(met), detail)
    if isinstance(obligation, Notice | Attribution):
        notices = facts["target.notices"]
        if notices is UNKNOWN:
            return ObligationCheck(
                rule_id, obligation, ObligationStatus.UNKNOWN, "record `target.notices` to check"
            )
        assert isinstance(notices, tuple)
        met = any(obligation.text.lower() in notice.lower() for notice in notices)
        detail = f"the release {'carries' if met else 'lacks'} `{obligation.text}`"
        return ObligationCheck(rule_id, obligation, _status(met), detail)
    return ObligationCheck(
        rule_id,
        obligation,
        ObligationStatus.CARRIED,
        "travels with the target and what derives from it",
    )


def _status(met: bool) -> ObligationStatus:
    return ObligationStatus.MET if met else ObligationStatus.UNMET


def _obligation_verdict(checks: Sequence[ObligationCheck]) -> Verdict:
    statuses = {check.status for check in checks}
    if ObligationStatus.UNMET in statuses:
        return Verdict.VIOLATION
    if ObligationStatus.UNKNOWN in statuses:
        return Verdict.NEEDS_REVIEW
    return Verdict.COMPLIANT
