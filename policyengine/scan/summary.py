"""What a scan found: the report (:class:`~.report_model.ScanReport`, the stable machine format)
built from the counts kept while scanning (:class:`~.tally.Tally`), and the composition limits it
checks."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.facts import Value, plain
from policyengine.scan.fields import PROVENANCE
from policyengine.scan.gate import CLAIM, GENERATION, INVALID, VERDICTS, Key, Outcome, Problem
from policyengine.scan.identify import Status
from policyengine.scan.report_model import (
    Limit,
    Provenance,
    RuleCount,
    ScanReport,
    SelfIdCount,
    SelfIdentification,
    Share,
)
from policyengine.scan.tally import Tally


@dataclass(frozen=True, slots=True)
class ShareLimit:
    """At most ``max_share`` of the records (and of their characters) may have ``field == value``."""

    field: str
    value: str
    max_share: float

    @classmethod
    def parse(cls, text: str) -> ShareLimit:
        """``provider=openai:0.05`` → a limit; PE605 when the text is not of that form."""
        name, sep, rest = text.partition("=")
        value, colon, number = rest.rpartition(":")
        problem = None
        if not sep or not colon or not value:
            problem = "it is not FIELD=VALUE:FRACTION"
        elif name not in PROVENANCE:
            problem = f"`{name}` is not a provenance field ({', '.join(PROVENANCE)})"
        else:
            try:
                share = float(number)
            except ValueError:
                share = -1.0
            if not 0.0 <= share <= 1.0:
                problem = f"`{number}` is not a fraction between 0 and 1"
        if problem:
            raise PolicyEngineError(
                [
                    Diagnostic(
                        codes.SCAN_SHARE_LIMIT,
                        f"bad share limit `{text}`: {problem}",
                        Location("--max-share"),
                        help="write e.g. `--max-share provider=openai:0.05` (at most 5% of records)",
                    )
                ]
            )
        return cls(name, value, float(number))


@dataclass(frozen=True, slots=True)
class Context:
    """What the scan was asked: the use, the target, the field map, outputs and limits."""

    use: str
    target: Mapping[str, Value]
    fields: Mapping[str, str]
    on_unknown: str
    as_of: dt.date | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    limits: Sequence[ShareLimit] = ()
    signatures: str | None = None
    """The signature file self-identification was detected with (None: not detected)."""


def report(tally: Tally, context: Context) -> ScanReport:
    """The report of a finished scan."""
    counts, outcomes = tally.counts, tally.outcomes  # each settles the tally first
    items = sorted(counts.items(), key=lambda item: (-item[1][0], _sortable(item[0])))
    records = sum(count for count, _ in counts.values())
    chars = sum(c for _, c in counts.values()) if tally.characters else None
    allowed = sum(n for key, (n, _) in items if outcomes[key].allowed)
    verdicts = dict.fromkeys(VERDICTS, 0)
    problems = {p.value: 0 for p in Problem}
    rules: dict[str, int] = defaultdict(int)
    for key, (count, _) in items:
        outcome = outcomes[key]
        verdicts[outcome.verdict] += count
        if outcome.problem is not None:
            problems[outcome.problem.value] += count
        for rule in outcome.rules:
            rules[rule] += count
    limits = [_limit(limit, tally, records, chars) for limit in context.limits]
    return ScanReport(
        use=context.use,
        as_of=context.as_of.isoformat() if context.as_of else None,
        target={name: plain(value) for name, value in sorted(context.target.items())},
        fields=dict(context.fields),
        on_unknown=context.on_unknown,
        files=tally.files,
        records=records,
        allowed=allowed,
        blocked=records - allowed,
        characters=chars,
        traced=tally.traced,
        verdicts=verdicts,
        problems=problems,
        providers=_shares(tally, 0, records, chars),
        models=_shares(tally, 1, records, chars),
        rules=[
            RuleCount(rule=r, records=n)
            for r, n in sorted(rules.items(), key=lambda x: (-x[1], x[0]))
        ],
        provenance=[_provenance(key, count, outcomes[key]) for key, (count, _) in items],
        examples=tally.examples,
        limits=limits,
        self_id=None if context.signatures is None else _self_id(tally, context.signatures),
        outputs=dict(context.outputs),
        verdict=_verdict(verdicts, limits),
    )


def _self_id(tally: Tally, signatures: str) -> SelfIdentification:
    rows = [
        SelfIdCount(
            provider=provider,
            records=sum(found),
            consistent=found[Status.CONSISTENT],
            contradicting=found[Status.CONTRADICTING],
            attributed=found[Status.ATTRIBUTED],
        )
        for provider, found in tally.self_ids.items()
    ]
    rows.sort(key=lambda row: (-row.records, row.provider))
    return SelfIdentification(
        signatures=signatures,
        records=sum(row.records for row in rows),
        consistent=sum(row.consistent for row in rows),
        contradicting=sum(row.contradicting for row in rows),
        attributed=sum(row.attributed for row in rows),
        providers=rows,
    )


def _sortable(key: Key) -> tuple[str, ...]:
    return tuple(part or "" for part in key)


def _shares(tally: Tally, index: int, records: int, chars: int | None) -> list[Share]:
    grouped: dict[str | None, list[int]] = defaultdict(lambda: [0, 0, 0])
    outcomes = tally.outcomes
    for key, (count, characters) in tally.counts.items():
        row = grouped[key[index]]
        row[0] += count
        row[1] += characters
        row[2] += count if outcomes[key].allowed else 0
    return [
        Share(
            name=name,
            records=count,
            characters=None if chars is None else characters,
            record_share=_ratio(count, records),
            character_share=None if chars is None else _ratio(characters, chars),
            allowed=passed,
            blocked=count - passed,
        )
        for name, (count, characters, passed) in sorted(
            grouped.items(), key=lambda item: (-item[1][0], item[0] or "")
        )
    ]


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def _limit(limit: ShareLimit, tally: Tally, records: int, chars: int | None) -> Limit:
    index = PROVENANCE.index(limit.field)
    matching = [counts for key, counts in tally.counts.items() if key[index] == limit.value]
    record_share = _ratio(sum(c for c, _ in matching), records)
    character_share = None if chars is None else _ratio(sum(c for _, c in matching), chars)
    return Limit(
        field=limit.field,
        value=limit.value,
        max_share=limit.max_share,
        record_share=record_share,
        character_share=character_share,
        exceeded=max(record_share, character_share or 0.0) > limit.max_share,
    )


def _provenance(key: Key, count: int, outcome: Outcome) -> Provenance:
    # Built from the scan's own typed values, without validation: a report holds a row per
    # distinct tuple, hundreds of them, and validating each cost about a tenth of a Parquet scan.
    values = dict(zip(PROVENANCE, key, strict=False))
    return Provenance.model_construct(
        None,
        **values,
        generation=key[GENERATION],
        self_id=key[CLAIM],
        records=count,
        verdict=outcome.verdict,
        rules=list(outcome.rules),
        reason=outcome.reason,
        detail=outcome.detail,
        problem=outcome.problem.value if outcome.problem else None,
    )


def _verdict(
    verdicts: Mapping[str, int], limits: Iterable[Limit]
) -> Literal["compliant", "violation", "needs_review"]:
    if verdicts["violation"] or verdicts[INVALID] or any(limit.exceeded for limit in limits):
        return "violation"
    if verdicts["needs_review"]:
        return "needs_review"
    return "compliant"
