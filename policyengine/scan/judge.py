"""The Arrow batch function: a batch of records in, one outcome per record out, decided per tuple.

``judge`` finds the distinct provenance tuples of a batch with ``dictionary_encode`` (a few hundred
in a million records), asks the gate once per tuple, and maps the outcomes back onto the records
with ``take``. The same function serves the CLI's readers, Dask partitions, Ray Data's
``map_batches`` and Spark's ``mapInArrow`` (see :mod:`policyengine.scan.arrow`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan import columns
from policyengine.scan.batch import Batch
from policyengine.scan.fields import PROVENANCE
from policyengine.scan.gate import Gate, Key, Outcome
from policyengine.scan.tracing import Tracer, trace


@dataclass(slots=True)
class Judged:
    """A batch with its outcomes: ``codes[row]`` indexes ``keys`` and ``outcomes``."""

    batch: Batch
    codes: pa.Array
    keys: list[Key]
    outcomes: list[Outcome]
    allowed: pa.Array
    traced: int

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

    def generations(self, rows: pa.Array) -> pa.Array:
        """The generations the records at ``rows`` were traced to (null when not traced)."""
        ids = pa.array([key[len(PROVENANCE)] for key in self.keys], pa.string())
        return pc.take(ids, pc.take(self.codes, rows))


def judge(batch: Batch, gate: Gate, tracer: Tracer | None = None) -> Judged:
    """Decide every record of ``batch``: once per distinct provenance tuple."""
    provenance = dict(batch.provenance)
    provenance["generated_at"] = columns.day_of(provenance["generated_at"])
    traced = trace(provenance, batch.text, batch.problem, tracer)
    key_columns = [traced.provenance[name] for name in PROVENANCE]
    key_columns += [traced.generation, traced.problem]
    codes, first_rows = columns.distinct(key_columns)
    firsts = [column.take(first_rows).to_pylist() for column in key_columns]
    keys: list[Key] = list(zip(*firsts, strict=True)) if firsts[0] else []
    outcomes = [gate.outcome(key) for key in keys]
    allowed = pc.take(pa.array([o.allowed for o in outcomes], pa.bool_()), codes)
    return Judged(batch, codes, keys, outcomes, allowed, traced.count)
