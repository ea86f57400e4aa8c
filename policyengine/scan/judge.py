"""The Arrow batch function: a batch of records in, one outcome per record out, decided per tuple.

A :class:`Judge` lives as long as a scan (or a worker process). It numbers every provenance value
and every provenance tuple it meets with scan-wide ids (:mod:`.keys`), so the gate is asked once per
distinct tuple per scan, and a batch costs a few vectorised passes over its records: value ids by
dictionary, one packed key per record, one ``index_in`` against the tuples already decided, one
``take`` of their outcomes. The same function serves the CLI's readers, Dask partitions, Ray Data's
``map_batches`` and Spark's ``mapInArrow`` (see :mod:`policyengine.scan.arrow`). Given signatures,
it also compares what each text identifies itself as with the provenance (:mod:`.identify`): one
more column in the tuple, only then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan import columns
from policyengine.scan.batch import Batch
from policyengine.scan.fields import PROVENANCE
from policyengine.scan.gate import GENERATION, Gate, Key, Outcome
from policyengine.scan.identify import identify, with_phrases
from policyengine.scan.keys import Tuples, Values
from policyengine.scan.selfid import Signatures
from policyengine.scan.tracing import Tracer, trace

_ARRAYS: dict[str, tuple[Callable[[Key, Outcome], Any], pa.DataType]] = {
    "allowed": (lambda key, outcome: outcome.allowed, pa.bool_()),
    "verdict": (lambda key, outcome: outcome.verdict, pa.string()),
    "rules": (lambda key, outcome: list(outcome.rules), pa.list_(pa.string())),
    "reason": (lambda key, outcome: outcome.reason, pa.string()),
    "generation": (lambda key, outcome: key[GENERATION], pa.string()),
    "problem": (lambda key, outcome: outcome.problem is not None, pa.bool_()),
}
"""What :meth:`Decisions.array` holds per tuple, by name, and its Arrow type."""


class Decisions:
    """Every provenance tuple a judge has met, by scan-wide id, with the gate's outcome for it."""

    def __init__(self) -> None:
        self.keys: list[Key] = []
        self.outcomes: list[Outcome] = []
        self._arrays: dict[str, pa.Array] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.outcomes)

    def add(self, key: Key, outcome: Outcome) -> None:
        """Remember the next tuple and its outcome."""
        self.keys.append(key)
        self.outcomes.append(outcome)

    def array(self, name: str) -> pa.Array:
        """One value per tuple (see ``_ARRAYS``), rebuilt only when tuples were added since."""
        with self._lock:
            found = self._arrays.get(name)
            if found is None or len(found) != len(self.outcomes):
                make, kind = _ARRAYS[name]
                values = [make(k, o) for k, o in zip(self.keys, self.outcomes, strict=True)]
                found = self._arrays[name] = pa.array(values, kind)
            return found


@dataclass(slots=True)
class Judged:
    """A batch with its outcomes: ``codes[row]`` indexes ``decisions`` (scan-wide ids).

    ``evidence`` holds the phrase each contradicting or attributed record identified itself with
    (None when no record did, or self-identification is off); ``self_ids`` counts the records per
    detected provider and :class:`~policyengine.scan.identify.Status`.
    """

    batch: Batch
    codes: pa.Array
    decisions: Decisions
    allowed: pa.Array
    traced: int
    evidence: pa.Array | None = None
    self_ids: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)
    counts: pa.Array | None = None
    """The records of each tuple id in this batch, when judging counted them on the way."""

    @property
    def keys(self) -> list[Key]:
        """The provenance tuple of each id (of this scan: more than this batch's)."""
        return self.decisions.keys

    @property
    def outcomes(self) -> list[Outcome]:
        """The outcome of each id."""
        return self.decisions.outcomes

    def take(self, name: str, rows: pa.Array) -> pa.Array:
        """``verdict``, ``rules`` or ``reason`` of the outcome of the records at ``rows``."""
        return pc.take(self.decisions.array(name), pc.take(self.codes, rows))

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
        return self.take("generation", rows)


class Judge:
    """Decides batches against one gate, remembering every tuple's outcome across batches.

    Safe to call from several threads (a Dask worker's): numbering takes a lock, the rest works
    on the caller's batch.
    """

    def __init__(
        self, gate: Gate, tracer: Tracer | None = None, signatures: Signatures | None = None
    ) -> None:
        self.gate, self.tracer, self.signatures = gate, tracer, signatures
        self.decisions = Decisions()
        # Key order: the provenance fields, the generation, the problem, the claim.
        self._values = [
            Values(columns.days if name == "generated_at" else None) for name in PROVENANCE
        ]
        self._values += [Values(), Values(), Values()]
        self._tuples = Tuples()
        self._lock = threading.Lock()

    @property
    def needs_text(self) -> bool:
        """Whether judging reads the records' text (tracing, self-identification)."""
        return self.tracer is not None or self.signatures is not None

    def __call__(self, batch: Batch) -> Judged:
        """Decide every record of ``batch``: once per provenance tuple never seen before."""
        provenance, generation, problem = batch.provenance, None, batch.problem
        found, traced = None, 0
        if self.needs_text:
            provenance = {name: _plain(values) for name, values in provenance.items()}
            result = trace(provenance, batch.text, problem, self.tracer)
            provenance, problem, traced = result.provenance, result.problem, result.count
            generation = result.generation
            if self.signatures is not None:
                found = identify(self.signatures, batch.text, provenance["provider"], problem)
            if found is not None:
                provenance = {**provenance, "provider": found.provider}
        key_columns = [provenance[name] for name in PROVENANCE]
        key_columns += [generation, problem, None if found is None else found.claim]
        with self._lock:
            codes, counts = self._codes(key_columns, len(batch))
        allowed = pc.take(self.decisions.array("allowed"), codes)
        return Judged(
            batch,
            codes,
            self.decisions,
            allowed,
            traced,
            evidence=None if found is None else found.evidence,
            self_ids={} if found is None else found.counts,
            counts=counts,
        )

    def _codes(
        self, key_columns: list[pa.Array | None], rows: int
    ) -> tuple[pa.Array, pa.Array | None]:
        parts = [
            None if column is None else values.lookup(column)
            for values, column in zip(self._values, key_columns, strict=True)
        ]
        sizes = [len(values) for values in self._values]
        codes, known, counts = self._tuples.ids(parts, sizes, rows)
        for ids in self._tuples.tuples[known:]:
            key = tuple(values.values[i] for values, i in zip(self._values, ids, strict=True))
            self.decisions.add(key, self.gate.outcome(key))
        return codes, counts


def judge(
    batch: Batch, gate: Gate, tracer: Tracer | None = None, signatures: Signatures | None = None
) -> Judged:
    """Decide the records of one batch on their own (a scan keeps one :class:`Judge` instead)."""
    return Judge(gate, tracer, signatures)(batch)


def _plain(values: pa.Array) -> pa.Array:
    """A string column as plain strings (tracing and self-identification compare values)."""
    return values.dictionary_decode() if pa.types.is_dictionary(values.type) else values
