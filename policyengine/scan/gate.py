"""One outcome per distinct provenance tuple: decided by the rules, or a problem the gate names.

A batch of a million records holds a few hundred distinct tuples; each gets its outcome once here and
the outcome is mapped back onto the records by the caller. The tuples differ mostly by day, and the
rules tell days apart only at a few boundaries (:mod:`policyengine.rules.day_classes`), so the rules
decide once per tuple without its day and class of days. Records whose provenance is missing, unknown
to the rules or ambiguous take the ``on_unknown`` outcome (review unless asked otherwise); records
that cannot be read, or whose provenance does not fit the vocabulary, are always blocked. With
self-identification on, a record whose text names another provider's model than its provenance
declares is always blocked for review; one without provenance whose text names a provider is
decided by the rules as that provider's output, model unknown.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

from policyengine import codes
from policyengine.evaluate.decision import Decision, ObligationStatus
from policyengine.evaluate.engine import HUMAN, decide
from policyengine.facts import FactError, Facts, Value
from policyengine.rules.day_classes import DayClasses, catalog_documents, day_classes
from policyengine.rules.operators import Truth
from policyengine.rules.ruleset import RuleSet
from policyengine.scan.fields import FACT_OF, PROVENANCE

Key: TypeAlias = tuple[str | None, ...]
"""A provenance tuple: the PROVENANCE fields, then the tracing generation, the problem and the
self-identification claim (the provider the text identifies, when it is not the one declared)."""

GENERATION: Final = len(PROVENANCE)
PROBLEM: Final = GENERATION + 1
CLAIM: Final = GENERATION + 2
"""Positions in a :data:`Key` after the provenance fields."""

DAY: Final = PROVENANCE.index("generated_at")
"""The position of the day in a :data:`Key`."""

Scope: TypeAlias = tuple[str, str | None]
"""A source's provider and licence: they name every document that can govern it, and so the
days that can change its decision."""

INVALID: Final = "invalid"
"""The verdict of a record that cannot be read or whose provenance does not fit the vocabulary."""

VERDICTS: Final = ("compliant", "violation", "needs_review", INVALID)


class OnUnknown(enum.Enum):
    """What becomes of records whose provenance is missing, ambiguous or unknown to the rules."""

    ALLOW = "allow"
    REVIEW = "review"
    DENY = "deny"


class Problem(enum.Enum):
    """Why a record's provenance could not be decided by the rules; each has a diagnostic code."""

    MALFORMED = "malformed"
    INVALID = "invalid"
    MISSING = "missing"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    CONTRADICTED = "contradicted"

    @property
    def code(self) -> str:
        """The diagnostic code reports show next to examples of the problem."""
        return {
            Problem.MALFORMED: codes.SCAN_MALFORMED,
            Problem.INVALID: codes.SCAN_INVALID_PROVENANCE,
            Problem.MISSING: codes.SCAN_NO_PROVENANCE,
            Problem.UNKNOWN: codes.SCAN_UNKNOWN_PROVENANCE,
            Problem.AMBIGUOUS: codes.SCAN_AMBIGUOUS_TRACE,
            Problem.CONTRADICTED: codes.SCAN_SELF_ID_CONFLICT,
        }[self]

    @property
    def follows_on_unknown(self) -> bool:
        """Whether ``on_unknown`` decides such records (else they are always blocked)."""
        return self in (Problem.MISSING, Problem.UNKNOWN, Problem.AMBIGUOUS)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the gate says of the records with one provenance tuple.

    ``reason`` is short (the rule ids and sections, the facts to record), since every blocked
    record carries it; ``detail`` adds each deciding rule's rationale, for reports.
    """

    verdict: str
    rules: tuple[str, ...]
    reason: str
    problem: Problem | None = None
    detail: str = ""

    @property
    def allowed(self) -> bool:
        """Whether such records go to the allowed output."""
        return self.verdict == "compliant"


@dataclass(frozen=True, slots=True)
class _Refused:
    """A provenance value that does not fit its fact, and why (a FactError's message)."""

    why: str


class Gate:
    """Decides provenance tuples against one rule set, use and target, remembering each answer."""

    def __init__(
        self,
        ruleset: RuleSet,
        target: Mapping[str, Value],
        activity: str,
        *,
        on_unknown: OnUnknown = OnUnknown.REVIEW,
        as_of: dt.date | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.on_unknown = on_unknown
        self.as_of = as_of
        self._base: dict[str, Value] = {**target, "use.activity": activity, "path.hops": 1}
        self._providers = frozenset(e.entry.provider for e in ruleset.catalog)
        self._outcomes: dict[Key, Outcome] = {}
        self._known: dict[tuple[str, str | None], Outcome | None] = {}
        # Walked when the first day of a scope reaches the rules.
        self._classes: dict[Scope, DayClasses] = {}
        self._by_class: dict[tuple[Key, int | None], Outcome] = {}
        self._coerced: dict[tuple[str, str], Value | _Refused] = {}

    def outcome(self, key: Key) -> Outcome:
        """The outcome for one provenance tuple (decided on first sight)."""
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = self._decide(key)
        return found

    def _decide(self, key: Key) -> Outcome:
        values = dict(zip(PROVENANCE, key, strict=False))
        generation, problem = key[GENERATION], key[PROBLEM]
        claim = key[CLAIM] if len(key) > CLAIM else None  # keys without one claim nothing
        # INVARIANT: the tracer sets a problem together with the generations it names (ambiguous
        # text); a reader sets a problem alone (a record that cannot be read).
        if problem is not None:
            kind = Problem.AMBIGUOUS if generation is not None else Problem.MALFORMED
            return self._problem(kind, problem)
        provider, model = values["provider"], values["model"]
        if provider is None:
            return self._problem(Problem.MISSING, "the record names no provider")
        try:
            facts = self._facts(values)
        except FactError as error:
            return self._problem(Problem.INVALID, str(error))
        day = facts.known.get("source.generated_at")
        if self.as_of is not None and isinstance(day, dt.date) and day > self.as_of:
            return self._problem(
                Problem.INVALID, f"generated on {day}, after the as-of day {self.as_of}"
            )
        # INVARIANT: a claim is set only where the text names another provider than the record
        # declares, or where the record declared none and the claim was filled in as its provider.
        if claim is not None and claim != provider:
            return self._problem(
                Problem.CONTRADICTED,
                f"the text identifies a model of `{claim}`, but the record declares provider "
                f"`{provider}`",
            )
        if claim is None and provider != HUMAN:
            unknown = self._unknown(provider, model)
            if unknown is not None:
                return unknown
        return self._ruled(key, facts, claim, (provider, values["license"]))

    def _facts(self, values: Mapping[str, str | None]) -> Facts:
        """``Facts.parse`` of a tuple's provenance values, each value coerced once a scan: the
        tuples of a scan share most of their values (a provider, a model, a day).

        Raises FactError for the first value (in field order) that does not fit its fact.
        """
        known: dict[str, Value] = {}
        for name, value in values.items():
            if value is None:
                continue
            fact = FACT_OF[name]
            found = self._coerced.get((fact, value))
            if found is None:
                try:
                    found = Facts.parse({fact: value}).known[fact]
                except FactError as error:
                    found = _Refused(str(error))
                self._coerced[fact, value] = found
            if isinstance(found, _Refused):
                raise FactError(found.why)
            known[fact] = found
        return Facts(known)

    def _ruled(self, key: Key, facts: Facts, claim: str | None, scope: Scope) -> Outcome:
        """The rules' outcome, shared by the days of the day's class (the tuple otherwise the same).

        An outcome whose texts name its day (no terms in force on it) would be wrong for the other
        days of its class, so such days are decided one by one.
        """
        day = facts.known.get("source.generated_at")
        kin = (key[:DAY] + key[DAY + 1 :], self._class_of(day, scope))
        found = self._by_class.get(kin)
        if found is not None:
            return found
        outcome = self._plain(facts) if claim is None else self._attributed(claim, facts)
        named = str(day)
        if day is None or (named not in outcome.reason and named not in outcome.detail):
            self._by_class[kin] = outcome
        return outcome

    def _class_of(self, day: Value | None, scope: Scope) -> int | None:
        """The class of ``day`` among the days of the documents that can govern a source of the
        ``scope``'s provider and licence; None for an unknown day."""
        if not isinstance(day, dt.date):
            return None
        classes = self._classes.get(scope)
        if classes is None:
            documents = catalog_documents(self.ruleset, *scope)
            classes = self._classes[scope] = day_classes(self.ruleset, documents)
        return classes.class_of(day)

    def _plain(self, facts: Facts) -> Outcome:
        """A record decided by the rules on the provenance it declares."""
        decision = decide(self.ruleset, Facts({**self._base, **facts.known}))
        return Outcome(
            decision.verdict.value,
            decision.deciding,
            brief(decision),
            detail="; ".join(decision.reasons),
        )

    def _attributed(self, provider: str, facts: Facts) -> Outcome:
        """A record without provenance whose text names ``provider``: decided by the rules as that
        provider's output, model unknown (``on_unknown`` does not apply: its source is known)."""
        decision = decide(self.ruleset, Facts({**self._base, **facts.known}))
        said = f"provider `{provider}` attributed by self-identification"
        return Outcome(
            decision.verdict.value,
            decision.deciding,
            f"{said}; {brief(decision)}",
            detail="; ".join((said, *decision.reasons)),
        )

    def _unknown(self, provider: str, model: str | None) -> Outcome | None:
        """The problem outcome when the rules know no terms for ``provider`` and ``model``
        (asked for each of a model's days: remembered)."""
        pair = (provider, model)
        if pair not in self._known:
            self._known[pair] = self._unknown_pair(provider, model)
        return self._known[pair]

    def _unknown_pair(self, provider: str, model: str | None) -> Outcome | None:
        if provider not in self._providers:
            return self._problem(Problem.UNKNOWN, f"no terms known for provider `{provider}`")
        if model is None:
            return self._problem(
                Problem.MISSING, f"the record names provider `{provider}` but no model"
            )
        if not any(entry.matches_model(model) for entry in self.ruleset.entries_of(provider)):
            return self._problem(
                Problem.UNKNOWN, f"no terms known for provider `{provider}`, model `{model}`"
            )
        return None

    def _problem(self, kind: Problem, reason: str) -> Outcome:
        if kind is Problem.CONTRADICTED:
            return Outcome("needs_review", (), reason, kind, reason)
        if not kind.follows_on_unknown:
            return Outcome(INVALID, (), reason, kind, reason)
        verdict = {
            OnUnknown.ALLOW: "compliant",
            OnUnknown.REVIEW: "needs_review",
            OnUnknown.DENY: "violation",
        }[self.on_unknown]
        if self.on_unknown is OnUnknown.ALLOW:
            reason += "; allowed as asked for unknown provenance"
        return Outcome(verdict, (), reason, kind, reason)


def brief(decision: Decision) -> str:
    """The reasons of a decision in short: gaps as they are, each deciding rule by id and section
    (or the facts it lacks), each unmet or unknown obligation by what it needs."""
    gaps = decision.reasons[: len(decision.reasons) - len(decision.deciding)]
    parts = list(gaps) if decision.deciding else list(decision.reasons)
    deciding = set(decision.deciding)
    for outcome in decision.outcomes:
        if outcome.rule_id not in deciding:
            continue
        deciding.discard(outcome.rule_id)
        if outcome.truth is Truth.UNKNOWN:
            facts = ", ".join(f"`{name}`" for name in outcome.missing) or "the facts it names"
            parts.append(f"record {facts} to decide `{outcome.rule_id}`")
        else:
            parts.append(f"`{outcome.rule_id}` ({outcome.citation.section})")
    parts += [
        f"`{check.rule_id}`: {check.detail}"
        for check in decision.obligations
        if check.status in (ObligationStatus.UNMET, ObligationStatus.UNKNOWN)
    ]
    return "; ".join(parts)
