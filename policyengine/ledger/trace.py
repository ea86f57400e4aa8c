"""Content fingerprints → the generations that produced them, with their source facts.

``origins(connection, digests)`` looks up 16-byte digests of normalised text (as
``ledger record outputs`` stored them) in batches of bounded ``IN`` lists, and returns for each
digest found the generations whose recorded outputs hold it. A corrected generation is reported
as its newest correction, so a scan sees the provenance as it now stands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Final

from sqlalchemy import Connection, select

from policyengine.facts import Facts, Value
from policyengine.ledger.models import FingerprintRow, GenerationRow, OutputsRow, SupersessionRow

CHUNK: Final = 500
"""Digests per query: well under every backend's limit on bound parameters."""


def origins(
    connection: Connection, digests: Sequence[bytes]
) -> dict[bytes, list[tuple[str, Facts]]]:
    """Digest → (generation id, source facts) of every generation whose outputs hold it."""
    found: dict[bytes, set[str]] = defaultdict(set)
    unique = sorted(set(digests))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        rows = connection.execute(
            select(FingerprintRow.digest, OutputsRow.generation_id)
            .join(OutputsRow, OutputsRow.entry_seq == FingerprintRow.batch)
            .where(FingerprintRow.digest.in_(chunk))
            .distinct()
        )
        for digest, generation in rows:
            found[bytes(digest)].add(generation)
    generations = {g for ids in found.values() for g in ids}
    current = _newest(connection, generations)
    facts = _facts(connection, generations | set(current.values()))
    # A correction that is not a generation (a damaged ledger) leaves the recorded one in place.
    current = {g: c if c in facts else g for g, c in current.items()}
    return {
        digest: [(current[g], facts[current[g]]) for g in sorted(ids) if current[g] in facts]
        for digest, ids in found.items()
    }


def _newest(connection: Connection, ids: set[str]) -> dict[str, str]:
    """Each id → the id of its newest correction (itself when never superseded)."""
    newer: dict[str, str] = {}
    frontier = sorted(ids)
    while frontier:
        step: dict[str, str] = {}
        for start in range(0, len(frontier), CHUNK):
            query = select(SupersessionRow.old_id, SupersessionRow.new_id).where(
                SupersessionRow.old_id.in_(frontier[start : start + CHUNK])
            )
            step.update((old, new) for old, new in connection.execute(query))
        newer.update(step)
        frontier = sorted(set(step.values()) - set(newer))
    resolved = {}
    for artifact in ids:
        seen, current = {artifact}, artifact
        while current in newer and newer[current] not in seen:  # a tampered ledger may loop
            current = newer[current]
            seen.add(current)
        resolved[artifact] = current
    return resolved


def _facts(connection: Connection, ids: Iterable[str]) -> dict[str, Facts]:
    found: dict[str, Facts] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), CHUNK):
        query = select(
            GenerationRow.id,
            GenerationRow.provider,
            GenerationRow.model,
            GenerationRow.channel,
            GenerationRow.agreement_id,
            GenerationRow.generated_from,
        ).where(GenerationRow.id.in_(wanted[start : start + CHUNK]))
        for row in connection.execute(query):
            known: dict[str, Value] = {
                "source.provider": row.provider,
                "source.model": row.model,
                "source.channel": row.channel,
                "source.generated_at": row.generated_from,
            }
            if row.agreement_id is not None:
                known["source.agreement"] = row.agreement_id
            found[row.id] = Facts(known)
    return found
