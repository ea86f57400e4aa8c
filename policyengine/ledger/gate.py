"""What the `check` gate reads from the ledger besides lineage: waivers and names.

Rows come back as plain values; the caller turns them into the evaluator's types, so the ledger
still knows nothing of rules or decisions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select, union_all

from policyengine.ledger.models import (
    Artifact,
    DatasetRow,
    ModelRow,
    SupersessionRow,
    WaiverRow,
)


@dataclass(frozen=True, slots=True)
class WaiverRecord:
    """A waiver as the ledger holds it (its newest correction only)."""

    id: str
    rule: str
    scope: str
    reason: str
    approver: str
    ticket: str
    expires: dt.date


def waivers(connection: Connection) -> list[WaiverRecord]:
    """Every waiver that no correction has replaced, by id."""
    replaced = select(SupersessionRow.old_id)
    rows = connection.execute(
        select(
            WaiverRow.id,
            WaiverRow.rule,
            WaiverRow.scope_id,
            WaiverRow.reason,
            WaiverRow.approver,
            WaiverRow.ticket,
            WaiverRow.expires,
        )
        .where(WaiverRow.id.not_in(replaced))
        .order_by(WaiverRow.id)
    )
    return [WaiverRecord(*row) for row in rows]


def names(connection: Connection) -> list[str]:
    """Ids of every dataset and model, and their names: what a user may mean by a target."""
    query = union_all(
        select(Artifact.id).where(Artifact.kind.in_(("dataset", "model"))),
        select(DatasetRow.name),
        select(ModelRow.name),
    )
    return sorted({row[0] for row in connection.execute(query)})


def ids_named(connection: Connection, name: str) -> list[str]:
    """Ids of the datasets and models recorded under ``name`` (a name may have several versions)."""
    query = union_all(
        select(DatasetRow.id).where(DatasetRow.name == name),
        select(ModelRow.id).where(ModelRow.name == name),
    )
    return sorted(row[0] for row in connection.execute(query))


def targets(connection: Connection) -> list[str]:
    """Ids of every dataset and model that no correction has replaced, sorted."""
    replaced = select(SupersessionRow.old_id)
    rows = connection.execute(
        select(Artifact.id)
        .where(Artifact.kind.in_(("dataset", "model")), Artifact.id.not_in(replaced))
        .order_by(Artifact.id)
    )
    return [row[0] for row in rows]
