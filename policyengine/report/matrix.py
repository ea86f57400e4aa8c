"""The provider × use matrix: what each governing document says of each use on a given day.

Each cell decides two targets through the evaluator, so the matrix can never disagree with a
check: a *restrictive* target (competes with the provider, commercial, released as open weights
by an organisation above every user threshold) and a *permissive* one (competes with nobody,
non-commercial, internal, small). A cell shows one effect when both agree, else "restrictive /
permissive". Facts a rule needs beyond these stay unknown, so a cell may say `review`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from policyengine.evaluate.decision import Decision
from policyengine.evaluate.engine import HUMAN, decide
from policyengine.facts import Activity, Facts
from policyengine.rules.ruleset import RuleSet

ACTIVITIES: Final = tuple(a.value for a in Activity)

_RESTRICTIVE: Final[Mapping[str, object]] = {
    "target.kind": "model",
    "target.commercial": True,
    "target.release": "open_weights",
    "target.base_model": "unrelated-base-model",
    "org.monthly_active_users": 1_000_000_000,
}
_PERMISSIVE: Final[Mapping[str, object]] = {
    "target.kind": "model",
    "target.commercial": False,
    "target.release": "internal",
    "target.base_model": "unrelated-base-model",
    "target.competes_with": [],
    "org.monthly_active_users": 1_000,
}


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One catalog entry on one channel: the terms in force and one cell per activity."""

    pack: str
    subject: str
    channel: str
    terms: str
    cells: tuple[str, ...]


def matrix(ruleset: RuleSet, as_of: dt.date) -> list[MatrixRow]:
    """Rows for every public catalog entry and channel, and every licence entry, as of a day."""
    rows = []
    for compiled in ruleset.catalog:
        entry = compiled.entry
        if entry.agreement is not None:
            continue
        model = _example_model(entry.models[0])
        for channel in entry.channels:
            source = {
                "source.provider": entry.provider,
                "source.model": model,
                "source.channel": channel.value,
                "source.generated_at": as_of,
            }
            subject = ", ".join(entry.models[:3]) + (", …" if len(entry.models) > 3 else "")
            row = _row(ruleset, compiled.pack, subject, channel.value, source, entry.documents)
            if row is not None:
                rows.append(row)
    for licence in ruleset.licenses:
        source = {
            "source.provider": HUMAN,
            "source.license": licence.licenses[0],
            "source.generated_at": as_of,
        }
        pack = ruleset.document_pack[licence.documents[0]]
        subject = ", ".join(licence.licenses)
        row = _row(ruleset, pack, subject, "data licence", source, licence.documents)
        if row is not None:
            rows.append(row)
    return list(dict.fromkeys(rows))


def _row(
    ruleset: RuleSet,
    pack: str,
    subject: str,
    channel: str,
    source: Mapping[str, object],
    documents: tuple[str, ...],
) -> MatrixRow | None:
    cells = []
    terms = ""
    for activity in ACTIVITIES:
        strict = _decide(ruleset, source, activity, _RESTRICTIVE, competes=True)
        loose = _decide(ruleset, source, activity, _PERMISSIVE, competes=False)
        governing = {s.document for s in strict.selections}
        if not governing or not governing <= set(documents):
            # Nothing of this entry is in force that day, or an entry of higher precedence governs:
            # that entry has its own row.
            return None
        terms = ", ".join(f"{s.document}@{s.version}" for s in strict.selections)
        same = strict.effect is loose.effect
        cells.append(
            strict.effect.value if same else f"{strict.effect.value} / {loose.effect.value}"
        )
    return MatrixRow(pack, subject, channel, terms, tuple(cells))


def _decide(
    ruleset: RuleSet,
    source: Mapping[str, object],
    activity: str,
    target: Mapping[str, object],
    *,
    competes: bool,
) -> Decision:
    facts = {**source, **target, "use.activity": activity}
    if competes and source["source.provider"] != HUMAN:
        facts["target.competes_with"] = [source["source.provider"]]
    return decide(ruleset, Facts.parse(facts))


def _example_model(glob: str) -> str:
    """A model id the glob matches, for deciding: wildcards dropped, `?` and classes filled."""
    out, i = [], 0
    while i < len(glob):
        char = glob[i]
        if char == "[":
            end = glob.index("]", i)
            members = glob[i + 1 : end]
            out.append("x" if members.startswith(("!", "^")) else members[:1] or "x")
            i = end + 1
            continue
        out.append({"*": "", "?": "x"}.get(char, char))
        i += 1
    return "".join(out) or "model"
