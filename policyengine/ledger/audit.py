"""Audit records of `check` runs, chained like every other entry.

A later reviewer can see what was decided about a target, when, for which use, as of which day,
with which rule packs (their digests) and on which state of the ledger (its head hash then). The
payload is plain data the caller assembles; the ledger does not interpret decisions.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from policyengine.ledger import chain
from policyengine.ledger.models import CheckRow, Entry
from policyengine.ledger.project import CHECK
from policyengine.ledger.store import store_rows

REQUIRED = ("use", "as_of", "verdict", "rules_digest", "ledger_head")
"""Payload keys the query table holds; the rest (packs, counts, what-if facts) stays chained."""


@dataclass(frozen=True, slots=True)
class CheckRecord:
    """One recorded `check` run."""

    seq: int
    target: str
    recorded_at: str
    payload: dict[str, Any]


def record_check(
    engine: Engine, target: str, payload: dict[str, Any], *, recorded_at: dt.datetime
) -> int:
    """Chain the audit record of a check of ``target``; returns its entry's seq."""
    missing = [key for key in REQUIRED if key not in payload]
    if missing:
        raise ValueError(f"a check record needs {', '.join(missing)}")
    with chain.writing(engine) as writer:
        link = writer.append(CHECK, target, payload, chain.timestamp(recorded_at))
        store_rows(writer.connection, link)
    return link.seq


def checks(connection: Connection, target: str | None = None) -> list[CheckRecord]:
    """The recorded check runs, oldest first; only those of ``target`` when given."""
    query = (
        select(Entry.seq, Entry.subject, Entry.recorded_at, Entry.payload)
        .join(CheckRow, CheckRow.entry_seq == Entry.seq)
        .order_by(Entry.seq)
    )
    if target is not None:
        query = query.where(CheckRow.target_id == target)
    found = []
    for seq, subject, recorded_at, payload in connection.execute(query):
        found.append(CheckRecord(seq, subject, recorded_at, json.loads(payload)))
    return found
