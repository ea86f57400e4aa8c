"""The pure decision for one set of source facts: select the terms in force, evaluate, combine.

``decide(ruleset, facts)`` reads no clock, no environment and no database. It never allows by
default: a source whose terms are unknown, a fact a rule needs but nobody recorded, and a use no
rule decides all come out as ``review`` with a reason that says what to record or check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

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


def decide(ruleset: RuleSet, facts: Facts) -> Decision:
    """Decide whether the source described by ``facts`` may be used as ``use.activity`` says."""
    selected = _select(ruleset, facts)
    if isinstance(selected, _Undecided):
        return _review(facts, selected.reason)
    outcomes = tuple(_outcomes(ruleset, selected, facts))
    return _combine(facts, selected, outcomes)


def _review(facts: Facts, reason: str) -> Decision:
    return Decision(facts, Effect.REVIEW, Verdict.NEEDS_REVIEW, (), (reason,), (), (), ())


def _select(ruleset: RuleSet, facts: Facts) -> tuple[Selection, ...] | _Undecided:
    provider, model = facts["source.provider"], facts["source.model"]
    if provider is UNKNOWN:
        return _Undecided("record `source.provider`: without it no terms can be chosen")
    entries = [e for e in ruleset.catalog if e.entry.provider == provider]
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
    day = facts["source.generated_at"]
    if day is UNKNOWN:
        return _Undecided(
            "record `source.generated_at`: the terms in force depend on when the output was made"
        )
    assert isinstance(day, dt.date)
    return _in_force(ruleset, entries_or_reason, day, overlay)


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
    ruleset: RuleSet, entries: Sequence[CompiledEntry], day: dt.date, overlay: str | None
) -> tuple[Selection, ...] | _Undecided:
    candidates: list[tuple[int, CompiledEntry, list[Selection]]] = []
    for entry in entries:
        chosen = []
        for document in entry.entry.documents:
            version = ruleset.version_in_force(document, day)
            if version is not None:
                why = f"in force on {day}" + (
                    f"; agreement `{overlay}` replaces the public terms" if overlay else ""
                )
                chosen.append(
                    Selection(
                        document,
                        version.version,
                        version.effective_from,
                        version.effective_until,
                        why,
                    )
                )
        if chosen:
            candidates.append((entry.entry.precedence or 0, entry, chosen))
    if not candidates:
        documents = sorted({d for e in entries for d in e.entry.documents})
        return _Undecided(
            "no version of " + ", ".join(f"`{d}`" for d in documents) + f" was in force on {day}"
        )
    top = max(precedence for precedence, _, _ in candidates)
    selections = [s for precedence, _, chosen in candidates if precedence == top for s in chosen]
    return tuple(dict.fromkeys(selections))


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
    facts: Facts, selections: tuple[Selection, ...], outcomes: tuple[RuleOutcome, ...]
) -> Decision:
    effects = {o.effect for o in outcomes if o.effect is not None}
    if not effects:
        governing = ", ".join(f"`{s.document}@{s.version}`" for s in selections)
        reason = f"no rule of {governing} decides `{facts['use.activity']}` for this target"
        return Decision(
            facts, Effect.REVIEW, Verdict.NEEDS_REVIEW, (), (reason,), selections, outcomes, ()
        )
    effect = next(e for e in EFFECT_ORDER if e in effects)
    deciding = tuple(o for o in outcomes if o.effect is effect)
    reasons = tuple(_reason(o) for o in deciding)
    checks: tuple[ObligationCheck, ...] = ()
    verdict = {
        Effect.DENY: Verdict.VIOLATION,
        Effect.REVIEW: Verdict.NEEDS_REVIEW,
        Effect.ALLOW: Verdict.COMPLIANT,
    }.get(effect, Verdict.COMPLIANT)
    if effect is Effect.OBLIGE:
        checks = _check_obligations(deciding, facts)
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
    )


def _reason(outcome: RuleOutcome) -> str:
    if outcome.truth is Truth.UNKNOWN:
        facts = ", ".join(f"`{name}`" for name in outcome.missing) or "the facts it names"
        return f"record {facts} to decide `{outcome.rule_id}`"
    return f"`{outcome.rule_id}` ({outcome.citation.section}): {outcome.rationale}"


def _check_obligations(
    deciding: Sequence[RuleOutcome], facts: Facts
) -> tuple[ObligationCheck, ...]:
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
