"""Counts kept while scanning: records (and characters) per provenance tuple, outcomes, traced
and self-identified records, and the first problem examples; :mod:`.summary` builds the report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Final

from policyengine.scan.gate import Key, Outcome
from policyengine.scan.identify import Status
from policyengine.scan.judge import Decisions, Judged
from policyengine.scan.report_model import Example, FileCount

if TYPE_CHECKING:
    import pyarrow as pa

EXAMPLES: Final = 20
"""Problems shown with their line numbers; the rest are counted."""


SETTLE: Final = 1 << 20
"""Records a tally holds as Arrow columns before folding them into its counts."""


@dataclass(slots=True)
class Tally:
    """Counts per provenance tuple (records, and characters of text when ``characters``),
    outcomes, traced records and the first problem examples; self-identified records per detected
    provider and :class:`~.identify.Status`.

    A batch's tuple ids are kept as they come and folded into the counts with one ``group_by``
    every :data:`SETTLE` records (and before the counts are read): a batch of a few thousand
    records holds hundreds of distinct tuples, which Python should not count batch by batch.
    """

    files: list[FileCount] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    traced: int = 0
    self_ids: dict[str, list[int]] = field(default_factory=dict)
    characters: bool = True
    _counts: dict[Key, list[int]] = field(default_factory=dict)
    _outcomes: dict[Key, Outcome] = field(default_factory=dict)
    # Batches not yet counted: their tuple ids (of ``_decisions``) and characters per record, or
    # their records per tuple id where judging counted them.
    _pending: list[tuple[pa.Array, pa.Array | None]] = field(default_factory=list)
    _pending_counts: list[pa.Array] = field(default_factory=list)
    _pending_records: int = 0
    # The rows of ``_counts`` by the scan-wide ids of ``_decisions``, so that settling reaches
    # them without hashing a tuple per id; not pickled (a worker's ids mean nothing here).
    _decisions: Decisions | None = None
    _rows: dict[int, list[int]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[Key, list[int]]:
        """Records and characters (0 when not counted) per provenance tuple."""
        self._settle()
        return self._counts

    @property
    def outcomes(self) -> dict[Key, Outcome]:
        """The outcome of each provenance tuple counted."""
        self._settle()
        return self._outcomes

    def __getstate__(self) -> dict[str, object]:
        self._settle()
        state = {f.name: getattr(self, f.name) for f in fields(self) if f.name[0] != "_"}
        return {**state, "_counts": self._counts, "_outcomes": self._outcomes}

    def __setstate__(self, state: dict[str, object]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._pending, self._pending_counts, self._pending_records = [], [], 0
        self._decisions, self._rows = None, {}

    def add(self, judged: Judged, name: str) -> int:
        """Count one judged batch of file ``name``; returns its number of records."""
        if judged.decisions is not self._decisions:
            self._settle()
            self._decisions, self._rows = judged.decisions, {}
        records = len(judged.batch)
        if judged.counts is not None and not self.characters:
            self._pending_counts.append(judged.counts)
        else:
            self._pending.append((judged.codes, judged.batch.chars() if self.characters else None))
        self._pending_records += records
        if self._pending_records >= SETTLE:
            self._settle()
        self.traced += judged.traced
        self._add_self_ids(judged.self_ids)
        if len(self.examples) < EXAMPLES:
            self._examples(judged, name)
        return records

    def _settle(self) -> None:
        """Fold the pending batches into the counts."""
        if self._pending:
            self._fold(self._grouped())
        if self._pending_counts:
            self._fold(self._summed())
        self._pending, self._pending_counts, self._pending_records = [], [], 0

    def _grouped(self) -> Iterable[tuple[int, int, int]]:
        """(tuple id, records, characters) of the pending batches' codes."""
        import pyarrow as pa
        import pyarrow.compute as pc

        codes = pa.chunked_array([c for c, _ in self._pending], pa.int64())
        if self.characters:
            chars = pa.chunked_array([c for _, c in self._pending], pa.int64())
            table = pa.table({"code": codes, "chars": chars})
            grouped = table.group_by("code").aggregate([("code", "count"), ("chars", "sum")])
            sums = [total or 0 for total in grouped["chars_sum"].to_pylist()]
            return zip(
                grouped["code"].to_pylist(), grouped["code_count"].to_pylist(), sums, strict=True
            )
        counted = pc.value_counts(codes)  # counting values needs no Acero plan
        values = counted.field("values").to_pylist()
        return zip(values, counted.field("counts").to_pylist(), [0] * len(values), strict=True)

    def _summed(self) -> Iterable[tuple[int, int, int]]:
        """(tuple id, records, 0) of the pending batches' records per tuple id."""
        import pyarrow as pa
        import pyarrow.compute as pc

        longest = max(len(counts) for counts in self._pending_counts)
        zeros = pa.repeat(pa.scalar(0, pa.int64()), longest)
        total = zeros
        for counts in self._pending_counts:  # ids only grow: pad the earlier batches' counts
            padded = pa.concat_arrays([counts, zeros.slice(len(counts))])
            total = pc.add(total, padded)
        ids = pc.indices_nonzero(total)
        records = pc.take(total, ids).to_pylist()
        return zip(ids.to_pylist(), records, [0] * len(records), strict=True)

    def _fold(self, found: Iterable[tuple[int, int, int]]) -> None:
        decisions = self._decisions
        assert decisions is not None
        rows = self._rows
        for code, records, chars in found:
            row = rows.get(code)
            if row is None:
                key = decisions.keys[code]
                row = rows[code] = self._counts.setdefault(key, [0, 0])
                self._outcomes[key] = decisions.outcomes[code]
            row[0] += records
            row[1] += chars

    def _add_self_ids(self, counts: Mapping[str, Sequence[int]]) -> None:
        for provider, found in counts.items():
            row = self.self_ids.setdefault(provider, [0] * len(Status))
            for status in Status:
                row[status] += found[status]

    def _examples(self, judged: Judged, name: str) -> None:
        import pyarrow.compute as pc

        flagged = judged.decisions.array("problem")
        rows = pc.indices_nonzero(pc.take(flagged, judged.codes))
        rows = rows.slice(0, EXAMPLES - len(self.examples))
        for line, code, reason in zip(
            judged.batch.lines(rows).to_pylist(),
            pc.take(judged.codes, rows).to_pylist(),
            judged.reasons(rows).to_pylist(),
            strict=True,
        ):
            outcome = judged.outcomes[code]
            assert outcome.problem is not None
            self.examples.append(
                Example(
                    file=name,
                    line=line,
                    code=outcome.problem.code,
                    problem=outcome.problem.value,
                    reason=reason,
                )
            )

    def merge(self, other: Tally) -> None:
        """Add another tally's counts (of later files: its examples come after these)."""
        self._settle()
        for key, (records, chars) in other.counts.items():
            row = self._counts.setdefault(key, [0, 0])
            row[0] += records
            row[1] += chars
        self._outcomes.update(other.outcomes)
        self.characters = self.characters and other.characters
        self.files.extend(other.files)
        self.examples.extend(other.examples[: EXAMPLES - len(self.examples)])
        self.traced += other.traced
        self._add_self_ids(other.self_ids)
