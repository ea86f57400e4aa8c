"""What the evaluator returns: a decision for one set of source facts, with its whole trace.

Reports and ``--explain`` only render these values; they never recompute them.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from policyengine.facts import Facts
from policyengine.rules.operators import Truth
from policyengine.rules.schema import Citation, Effect, Obligation, Verdict

EFFECT_ORDER: tuple[Effect, ...] = (Effect.DENY, Effect.REVIEW, Effect.OBLIGE, Effect.ALLOW)
"""Strongest first: the combined effect is the first of these that any rule yields."""


class ObligationStatus(enum.Enum):
    """Whether the target meets an obligation, as far as its facts tell."""

    MET = "met"
    UNMET = "unmet"
    UNKNOWN = "unknown"
    CARRIED = "carried"  # travels with the target; nothing in the facts can show it met


@dataclass(frozen=True, slots=True)
class Selection:
    """A document version chosen to govern the source, and why it was chosen."""

    document: str
    version: str
    effective_from: dt.date
    effective_until: dt.date | None
    why: str


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """How one rule came out: its condition's truth, the effect it yields, the facts it lacked."""

    rule_id: str
    document: str
    version: str
    truth: Truth
    effect: Effect | None  # None when the condition is false
    missing: tuple[str, ...]
    citation: Citation
    rationale: str
    remediation: str
    obligations: tuple[Obligation, ...]


@dataclass(frozen=True, slots=True)
class ObligationCheck:
    """One obligation of a firing `oblige` rule, checked against the target's facts."""

    rule_id: str
    obligation: Obligation
    status: ObligationStatus
    detail: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision for one (source, use, target): effect, verdict, reasons and the trace.

    ``gaps`` are the reasons for review that no rule stands behind (terms that could not be
    chosen, no rule deciding the use); ``waived`` the rules a waiver took out of the combination.
    """

    facts: Facts
    effect: Effect
    verdict: Verdict
    deciding: tuple[str, ...]
    reasons: tuple[str, ...]
    selections: tuple[Selection, ...]
    outcomes: tuple[RuleOutcome, ...]
    obligations: tuple[ObligationCheck, ...]
    gaps: tuple[str, ...] = ()
    waived: frozenset[str] = frozenset()
