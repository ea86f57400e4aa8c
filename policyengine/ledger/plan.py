"""Planning a write: which entities are new, which are already recorded, and what is wrong.

Runs inside the write transaction, after the chain lock is taken, so what it reads cannot change
before the write. Problems come back as diagnostics positioned by the caller's ``locate``; the
store writes nothing when any is an error.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location
from policyengine.ledger import checks
from policyengine.ledger import entities as e
from policyengine.ledger.checks import FieldPath, Problem
from policyengine.lineage import ArtifactKind

Locate = Callable[[int, FieldPath], Location]
"""Maps (index of the entity in the batch, field path inside it) to a position."""


def api_location(_index: int, _path: FieldPath) -> Location:
    """Where problems of entities given through the Python API are shown."""
    return Location("ledger")


@dataclass
class Plan:
    """What to write, in reference order, and every problem found."""

    new: list[e.Entity] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def plan(
    connection: Connection,
    batch: Sequence[e.Entity],
    *,
    as_of: dt.date,
    locate: Locate = api_location,
) -> Plan:
    """Decide what of ``batch`` to write and check all of it against the ledger."""
    result = Plan()
    index = {id(entity): i for i, entity in enumerate(batch)}

    def report(entity: e.Entity, problem: Problem) -> None:
        kind = e.kind_of(entity).value
        result.diagnostics.append(
            Diagnostic(
                problem.code,
                f"{kind} `{entity.id}`: {problem.message}",
                locate(index[id(entity)], problem.path),
                help=problem.help,
                severity=problem.severity,
            )
        )

    unique = _duplicates(batch, report)
    refs = {ref for entity in unique for _, ref, _ in entity.references()}
    existing = artifact_kinds(connection, {x.id for x in unique} | refs)
    fresh = [x for x in unique if not _recorded(connection, x, existing, report)]
    known = {**existing, **{x.id: e.kind_of(x) for x in fresh}}
    for entity in fresh:
        for _, ref, kinds in entity.references():
            if ref not in known:  # an error follows: find what it may have meant to name
                known.update(neighbours(connection, ref, kinds))
    for entity in fresh:
        for problem in checks.check(entity, known, as_of=as_of):
            report(entity, problem)
    _supersessions(connection, fresh, report)
    ordered, cycles = checks.order(fresh)
    for cycle in cycles:
        names = " → ".join(f"`{x.id}`" for x in [*cycle, cycle[0]])
        report(cycle[0], Problem(codes.LEDGER_CYCLE, f"references go round in a cycle: {names}"))
    result.new = ordered
    return result


def artifact_kinds(connection: Connection, ids: Iterable[str]) -> dict[str, ArtifactKind]:
    """The kinds of those of ``ids`` the ledger holds."""
    wanted = sorted(ids)
    found: dict[str, ArtifactKind] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        params = {f"p{i}": v for i, v in enumerate(chunk)}
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        sql = f"SELECT id, kind FROM ledger_artifacts WHERE id IN ({marks})"
        for row in connection.execute(text(sql), params):
            found[row.id] = ArtifactKind(row.kind)
    return found


def neighbours(
    connection: Connection, ref: str, kinds: Sequence[ArtifactKind], *, each_side: int = 10
) -> dict[str, ArtifactKind]:
    """Recorded ids of ``kinds`` next to ``ref`` in id order, where a misspelling of an id mostly
    sorts: the candidates for a "did you mean" (the ledger may hold too many ids to rank all)."""
    params: dict[str, Any] = {"ref": ref, "n": each_side}
    params.update({f"k{i}": kind.value for i, kind in enumerate(kinds)})
    marks = ", ".join(f":k{i}" for i in range(len(kinds)))
    found: dict[str, ArtifactKind] = {}
    for side in (">= :ref ORDER BY id", "< :ref ORDER BY id DESC"):
        sql = (
            f"SELECT id, kind FROM ledger_artifacts WHERE kind IN ({marks}) AND id {side} LIMIT :n"
        )
        for row in connection.execute(text(sql), params):
            found[row.id] = ArtifactKind(row.kind)
    return found


def stored_payload(connection: Connection, artifact_id: str) -> dict[str, Any] | None:
    """The payload an artifact was recorded with, or None."""
    row = connection.execute(
        text(
            "SELECT payload FROM ledger_entries WHERE seq = "
            "(SELECT entry_seq FROM ledger_artifacts WHERE id = :id)"
        ),
        {"id": artifact_id},
    ).first()
    return json.loads(row.payload) if row else None


def _duplicates(
    batch: Sequence[e.Entity], report: Callable[[e.Entity, Problem], None]
) -> list[e.Entity]:
    seen: dict[str, e.Entity] = {}
    for entity in batch:
        if entity.id in seen:
            report(entity, Problem(codes.LEDGER_DUPLICATE_ID, "the id is declared twice", ("id",)))
            continue
        seen[entity.id] = entity
    return list(seen.values())


def _recorded(
    connection: Connection,
    entity: e.Entity,
    existing: dict[str, ArtifactKind],
    report: Callable[[e.Entity, Problem], None],
) -> bool:
    """Whether the entity is already in the ledger; reports a conflict when it differs."""
    kind = existing.get(entity.id)
    if kind is None:
        return False
    if kind is not e.kind_of(entity):
        message = f"the id is already used by a {kind.value}"
        report(entity, Problem(codes.LEDGER_DUPLICATE_ID, message, ("id",)))
        return True
    stored = stored_payload(connection, entity.id) or {}
    difference = _difference(stored, entity.payload())
    if difference is not None:
        path, old, new = difference
        dotted = ".".join(str(p) for p in path)
        report(
            entity,
            Problem(
                codes.LEDGER_CONFLICT,
                f"`{dotted}` differs from the recorded entry: the ledger has {_shown(old)}, "
                f"this has {_shown(new)}",
                path,
                help="the ledger is append-only: to correct an entry, record it under a new id "
                f"with `supersedes: {entity.id}`",
            ),
        )
    return True


def _difference(old: Any, new: Any, path: FieldPath = ()) -> tuple[FieldPath, Any, Any] | None:
    """The first path at which two payloads differ, with both values, or None."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            found = _difference(old.get(key), new.get(key), (*path, key))
            if found:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = _difference(a, b, (*path, i))
            if found:
                return found
        return None
    return None if old == new else (path, old, new)


def _shown(value: Any) -> str:
    return "nothing" if value is None else f"`{json.dumps(value, ensure_ascii=False)}`"


def _supersessions(
    connection: Connection,
    fresh: list[e.Entity],
    report: Callable[[e.Entity, Problem], None],
) -> None:
    """An artifact is superseded at most once; the correction of a correction names the latest."""
    claimed: dict[str, e.Entity] = {}
    for entity in fresh:
        old = entity.supersedes
        if old is None:
            continue
        row = connection.execute(
            text("SELECT new_id FROM ledger_supersessions WHERE old_id = :id"), {"id": old}
        ).first()
        taken_by = row.new_id if row else (claimed[old].id if old in claimed else None)
        if taken_by is not None:
            report(
                entity,
                Problem(
                    codes.LEDGER_SUPERSEDED,
                    f"`{old}` is already superseded by `{taken_by}`",
                    ("supersedes",),
                    help=f"supersede `{taken_by}` instead",
                ),
            )
        claimed[old] = entity
