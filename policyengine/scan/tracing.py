"""Provenance from content fingerprints, for records that name no provider.

The scanner does not know where fingerprints are kept: it is handed a :data:`Tracer`, a plain
callable from 16-byte digests (:func:`policyengine.textdigest.digest` of each record's text) to the
generations whose recorded outputs have that digest, each with its source facts. The API builds one
over the ledger; tests and pipelines may pass their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.facts import Facts
from policyengine.scan.columns import arange
from policyengine.scan.fields import FACT_OF, PROVENANCE
from policyengine.textdigest import digest

Origins: TypeAlias = Sequence[tuple[str, Facts]]
"""The generations (id, source facts) whose recorded outputs have one digest."""

Tracer: TypeAlias = Callable[[Sequence[bytes]], Mapping[bytes, Origins]]
"""Digests → the origins of each digest found (digests not found are left out)."""


@dataclass(slots=True)
class Traced:
    """Provenance columns after tracing, the generation each record was traced to, and problems."""

    provenance: dict[str, pa.Array]
    generation: pa.Array
    problem: pa.Array
    count: int


def trace(
    provenance: dict[str, pa.Array], text: pa.Array, problem: pa.Array, tracer: Tracer | None
) -> Traced:
    """Fill in the provenance of records that name no provider from the fingerprint of their text.

    A digest whose generations differ in provenance leaves the record untraced with a problem that
    names them; generations with the same provenance trace it like one.
    """
    rows = len(problem)
    nothing = Traced(provenance, pa.nulls(rows, pa.string()), problem, 0)
    if tracer is None:
        return nothing
    candidates = pc.and_(pc.is_null(provenance["provider"]), pc.is_null(problem))
    candidates = pc.and_(candidates, pc.is_valid(text))
    positions = pc.indices_nonzero(candidates)
    if len(positions) == 0:
        return nothing
    digests = [digest(value) for value in pc.take(text, positions).to_pylist()]
    found = tracer(sorted(set(digests)))
    hits: list[int] = []
    rows_of: dict[str, list[str | None]] = {name: [] for name in (*PROVENANCE, "gen", "problem")}
    for position, value in zip(positions.to_pylist(), digests, strict=True):
        origins = found.get(value)
        if not origins:
            continue
        hits.append(position)
        for name, field in zip(rows_of, _origin_row(origins), strict=True):
            rows_of[name].append(field)
    if not hits:
        return nothing
    mask = pc.is_in(arange(rows), value_set=pa.array(hits, pa.uint64()))
    filled = {
        name: pc.replace_with_mask(column, mask, pa.array(rows_of[name], pa.string()))
        for name, column in provenance.items()
    }
    generation = pc.replace_with_mask(
        nothing.generation, mask, pa.array(rows_of["gen"], pa.string())
    )
    problems = pc.replace_with_mask(problem, mask, pa.array(rows_of["problem"], pa.string()))
    return Traced(filled, generation, problems, len(hits))


def _origin_row(origins: Origins) -> tuple[str | None, ...]:
    """The provenance fields, generation ids and problem one digest's origins give a record."""
    ids = ",".join(sorted({generation for generation, _ in origins}))
    distinct = {_fields(facts) for _, facts in origins}
    if len(distinct) > 1:
        names = ", ".join(f"`{i}`" for i in ids.split(","))
        reason = f"the text matches outputs of generations {names}, which differ in provenance"
        return (*(None for _ in PROVENANCE), ids, reason)
    return (*distinct.pop(), ids, None)


def _fields(facts: Facts) -> tuple[str | None, ...]:
    values = []
    for name in PROVENANCE:
        value = facts.known.get(FACT_OF[name])
        values.append(value.isoformat() if isinstance(value, dt.date) else _text(value))
    return tuple(values)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
