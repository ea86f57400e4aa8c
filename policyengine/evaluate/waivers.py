"""Waivers: someone accountable accepts one rule's finding for one artifact, until a day.

A waiver names a rule id, a scope (the target, or an artifact on the way to a source: a dataset, a
generation, a model) and an expiry. It applies to that rule's findings for every source whose path
passes through the scope. An expired waiver, one naming a rule no loaded pack has, and one whose
scope lies outside the target's lineage do not apply; each is reported with the reason.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from dataclasses import dataclass

from policyengine.diagnostics import did_you_mean
from policyengine.lineage import ArtifactRef


class WaiverStatus(enum.Enum):
    """How a waiver fared in one evaluation."""

    APPLIED = "applied"  # it turned at least one finding into `waived`
    UNUSED = "unused"  # valid and in scope, but its rule found nothing to waive
    EXPIRED = "expired"  # its expiry is before the as-of day
    MALFORMED = "malformed"  # it names a rule no loaded pack has
    OUT_OF_SCOPE = "out_of_scope"  # its scope is neither the target nor one of its ancestors


@dataclass(frozen=True, slots=True)
class Waiver:
    """A waiver as recorded: the rule, the artifact it is scoped to, why, who, where, until when.

    ``expires`` is the last day it applies.
    """

    id: str
    rule: str
    scope: str
    reason: str
    approver: str
    ticket: str
    expires: dt.date


@dataclass(frozen=True, slots=True)
class WaiverCheck:
    """One waiver and what came of it: its status, why, and how many findings it waived."""

    waiver: Waiver
    status: WaiverStatus
    detail: str
    findings: int = 0


def screen(
    waivers: Iterable[Waiver],
    *,
    rule_ids: Iterable[str],
    target: ArtifactRef,
    ancestors: frozenset[ArtifactRef],
    at: dt.date,
) -> tuple[tuple[Waiver, ...], tuple[WaiverCheck, ...]]:
    """Split ``waivers`` into those that may apply and the checks of those that may not."""
    known = set(rule_ids)
    in_lineage = {target.id} | {ref.id for ref in ancestors}
    usable: list[Waiver] = []
    rejected: list[WaiverCheck] = []
    for waiver in waivers:
        if waiver.scope not in in_lineage:
            rejected.append(
                WaiverCheck(
                    waiver,
                    WaiverStatus.OUT_OF_SCOPE,
                    f"scope `{waiver.scope}` is not `{target.id}` nor anything upstream of it",
                )
            )
        elif waiver.rule not in known:
            hint = did_you_mean(waiver.rule, sorted(known))
            rejected.append(
                WaiverCheck(
                    waiver,
                    WaiverStatus.MALFORMED,
                    f"no loaded pack has rule `{waiver.rule}`" + (f"; {hint}" if hint else ""),
                )
            )
        elif waiver.expires < at:
            rejected.append(
                WaiverCheck(
                    waiver,
                    WaiverStatus.EXPIRED,
                    f"expired on {waiver.expires} (as of {at}); renew it or resolve the finding",
                )
            )
        else:
            usable.append(waiver)
    return tuple(usable), tuple(rejected)
