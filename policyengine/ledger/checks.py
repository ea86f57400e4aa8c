"""Checks on entities before they are written, as problems with the path of the field at fault.

Pydantic has already checked each entity's shape; these checks need context: which ids exist (in the
ledger or beside the entity in a manifest), the as-of date, the order of references. Callers turn a
problem's path into a position (a manifest's file:line:col, or a CLI flag).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from policyengine import codes
from policyengine.diagnostics import Severity, did_you_mean
from policyengine.ledger import entities as e
from policyengine.ledger.licenses import is_valid
from policyengine.lineage import ArtifactKind

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one entity, at a field path inside it."""

    code: str
    message: str
    path: FieldPath = ()
    help: str = ""
    severity: Severity = Severity.ERROR


def path_of(dotted: str) -> FieldPath:
    """``inputs.0.generation`` → ``("inputs", 0, "generation")``."""
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def check(
    entity: e.Entity,
    known: Mapping[str, ArtifactKind],
    *,
    as_of: dt.date,
) -> list[Problem]:
    """Every problem of one entity: references, time windows, future dates, licences."""
    return [
        *references(entity, known),
        *windows(entity),
        *future(entity, as_of),
        *licences(entity),
    ]


def references(entity: e.Entity, known: Mapping[str, ArtifactKind]) -> Iterable[Problem]:
    """Each reference must name a known id of an allowed kind, and never the entity itself."""
    for dotted, ref, kinds in entity.references():
        path = path_of(dotted)
        kind = known.get(ref)
        if ref == entity.id:
            yield Problem(codes.LEDGER_CYCLE, f"`{entity.id}` refers to itself", path)
        elif kind is None:
            yield Problem(
                codes.LEDGER_UNKNOWN_ID,
                f"unknown id `{ref}` in `{dotted}`",
                path,
                help=did_you_mean(ref, [k for k, v in known.items() if v in kinds])
                or f"record the {kinds[0].value} first, or declare it in the same manifest",
            )
        elif kind not in kinds:
            wanted = " or ".join(k.value for k in kinds)
            yield Problem(
                codes.LEDGER_WRONG_KIND,
                f"`{ref}` is a {kind.value}, but `{dotted}` takes a {wanted}",
                path,
            )


def windows(entity: e.Entity) -> Iterable[Problem]:
    """A window's end may not come before its start."""
    for start_field, start, end_field, end in entity.windows():
        if end is not None and end < start:
            yield Problem(
                codes.LEDGER_DATE_WINDOW,
                f"`{end_field}` {end} is before `{start_field}` {start}",
                (end_field,),
                help="swap the dates, or correct the one that is wrong",
            )


def future(entity: e.Entity, as_of: dt.date) -> Iterable[Problem]:
    """What has happened cannot have happened after the as-of date."""
    for name, day in entity.happened():
        if day > as_of:
            yield Problem(
                codes.LEDGER_FUTURE_DATE,
                f"`{name}` {day} is after the as-of date {as_of}",
                (name,),
                help="record things once they have happened, or pass a later --as-of",
            )


def licences(entity: e.Entity) -> Iterable[Problem]:
    """Licences are SPDX ids or ``unknown`` (importers have resolved free text already)."""
    found: list[tuple[FieldPath, str]] = []
    if isinstance(entity, e.Dataset | e.Model):
        found.append((("license",), entity.license))
    if isinstance(entity, e.Dataset):
        found += [
            (("inputs", i, "license"), item.license)
            for i, item in enumerate(entity.inputs)
            if item.license is not None
        ]
    for path, value in found:
        if not is_valid(value):
            yield Problem(
                codes.LEDGER_BAD_VALUE,
                f"`{value}` is not an SPDX licence id",
                path,
                help="write an SPDX id (`Apache-2.0`), `LicenseRef-NAME`, or `unknown`",
            )


def order(entities: list[e.Entity]) -> tuple[list[e.Entity], list[list[e.Entity]]]:
    """The entities ordered so each comes after those it refers to, and any reference cycles."""
    by_id = {entity.id: entity for entity in entities}
    state: dict[str, int] = {}  # 1: on the current path, 2: placed
    placed: list[e.Entity] = []
    cycles: list[list[e.Entity]] = []

    def visit(entity: e.Entity, stack: list[e.Entity]) -> None:
        state[entity.id] = 1
        stack.append(entity)
        for _, ref, _ in entity.references():
            target = by_id.get(ref)
            if target is None or target is entity or state.get(ref) == 2:
                continue
            if state.get(ref) == 1:
                cycles.append(stack[[s.id for s in stack].index(ref) :])
                continue
            visit(target, stack)
        stack.pop()
        state[entity.id] = 2
        placed.append(entity)

    for entity in entities:
        if entity.id not in state:
            visit(entity, [])
    return placed, cycles
