"""The Arrow batch function: a batch of records in, one outcome per record out, decided per tuple.

``judge`` finds the distinct provenance tuples of a batch with ``dictionary_encode`` (a few hundred
in a million records), asks the gate once per tuple, and maps the outcomes back onto the records
with ``take``. The same function serves the CLI's readers, Dask partitions, Ray Data's
``map_batches`` and Spark's ``mapInArrow`` (see :mod:`policyengine.scan.arrow`). Given signatures,
it also compares what each text identifies itself as with the provenance (:mod:`.identify`): one
more column in the tuple, only then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan import columns
from policyengine.scan.batch import Batch
from policyengine.scan.fields import PROVENANCE
from policyengine.scan.gate import GENERATION, Gate, Key, Outcome
from policyengine.scan.identify import identify, with_phrases
from policyengine.scan.selfid import Signatures
from policyengine.scan.tracing import Tracer, trace


@dataclass(slots=True)
class Judged:
    """A batch with its outcomes: ``codes[row]`` indexes ``keys`` and ``outcomes``.

    ``evidence`` holds the phrase each contradicting or attributed record identified itself with
    (None when no record did, or self-identification is off); ``self_ids`` counts the records per
    detected provider and :class:`~policyengine.scan.identify.Status`.
    """

    batch: Batch
    codes: pa.Array
    keys: list[Key]
    outcomes: list[Outcome]
    allowed: pa.Array
    traced: int
    evidence: pa.Array | None = None
    self_ids: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)

    def per_key(self) -> dict[int, tuple[int, int]]:
        """Records and characters of text per tuple index."""
        table = pa.table({"code": self.codes, "chars": self.batch.chars()})
        grouped = table.group_by("code").aggregate([("chars", "count"), ("chars", "sum")])
        found = grouped.to_pydict()
        return {
            code: (count, total)
            for code, count, total in zip(
                found["code"], found["chars_count"], found["chars_sum"], strict=True
            )
        }

    def take(self, name: str, rows: pa.Array) -> pa.Array:
        """``verdict``, ``rules`` or ``reason`` of the outcome of the records at ``rows``."""
        values = [getattr(outcome, name) for outcome in self.outcomes]
        kind = pa.list_(pa.string()) if name == "rules" else pa.string()
        return pc.take(pa.array(values, kind), pc.take(self.codes, rows))

    def reasons(self, rows: pa.Array) -> pa.Array:
        """The ``_policy`` reason of each record at ``rows``: its outcome's, and the phrase its
        text identified itself with when that contradicts or supplies its provenance."""
        reasons = self.take("reason", rows)
        return reasons if self.evidence is None else with_phrases(reasons, self.phrases(rows))

    def phrases(self, rows: pa.Array) -> pa.Array:
        """The self-identifying phrase of each record at ``rows`` (null for most)."""
        if self.evidence is None:
            return pa.nulls(len(rows), pa.string())
        return pc.take(self.evidence, rows)

    def generations(self, rows: pa.Array) -> pa.Array:
        """The generations the records at ``rows`` were traced to (null when not traced)."""
        ids = pa.array([key[GENERATION] for key in self.keys], pa.string())
        return pc.take(ids, pc.take(self.codes, rows))


def judge(
    batch: Batch, gate: Gate, tracer: Tracer | None = None, signatures: Signatures | None = None
) -> Judged:
    """Decide every record of ``batch``: once per distinct provenance tuple."""
    provenance = dict(batch.provenance)
    provenance["generated_at"] = columns.day_of(provenance["generated_at"])
    traced = trace(provenance, batch.text, batch.problem, tracer)
    found = None
    if signatures is not None:
        found = identify(signatures, batch.text, traced.provenance["provider"], traced.problem)
    decided = traced.provenance
    if found is not None:
        decided = {**decided, "provider": found.provider}
    key_columns = [decided[name] for name in PROVENANCE]
    key_columns += [traced.generation, traced.problem]
    if found is not None:
        key_columns.append(found.claim)
    codes, first_rows = columns.distinct(key_columns)
    firsts = [column.take(first_rows).to_pylist() for column in key_columns]
    if found is None:
        firsts.append([None] * len(first_rows))
    keys: list[Key] = list(zip(*firsts, strict=True)) if firsts[0] else []
    outcomes = [gate.outcome(key) for key in keys]
    allowed = pc.take(pa.array([o.allowed for o in outcomes], pa.bool_()), codes)
    return Judged(
        batch,
        codes,
        keys,
        outcomes,
        allowed,
        traced.count,
        evidence=None if found is None else found.evidence,
        self_ids={} if found is None else found.counts,
    )
