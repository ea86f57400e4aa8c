"""The hash chain: canonical JSON, entry hashes, serialized appends.

Each entry's hash is ``sha256(prev_hash ‖ canonical JSON of the entry)``, where the entry is
``{"kind", "payload", "recorded_at", "seq", "subject"}`` and ``prev_hash`` is the previous entry's
hash as 32 raw bytes (32 zero bytes before the first entry). Canonical JSON sorts keys, uses no
insignificant whitespace, keeps non-ASCII text as UTF-8 and refuses floats, so the same entry hashes
the same on every machine and backend.

Appends are serialized: a write transaction first takes the chain's lock (PostgreSQL: ``LOCK TABLE
ledger_entries IN SHARE ROW EXCLUSIVE MODE``, which readers do not wait for; SQLite: ``BEGIN
IMMEDIATE``), then reads the head, so two writers can never chain onto the same entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, Select, insert, select, text

from policyengine.ledger.db import WRITE_OPTION
from policyengine.ledger.models import Entry

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first entry."""


def canonical(value: Any) -> str:
    """The canonical JSON text of plain data (sorted keys, no spaces, UTF-8, no floats)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def timestamp(moment: dt.datetime) -> str:
    """A recorded-at time as chained: UTC, microseconds, ``Z`` (naive times are refused)."""
    if moment.tzinfo is None:
        raise ValueError("recorded_at must be timezone-aware")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Link:
    """One chained entry as stored."""

    seq: int
    kind: str
    subject: str
    recorded_at: str
    payload: str
    prev_hash: str
    hash: str

    def data(self) -> dict[str, Any]:
        """The payload as plain data."""
        value: dict[str, Any] = json.loads(self.payload)
        return value

    def export(self) -> dict[str, Any]:
        """The entry as one JSON Lines record of ``ledger export``."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "subject": self.subject,
            "recorded_at": self.recorded_at,
            "payload": self.data(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def entry_hash(
    prev_hash: str, seq: int, kind: str, subject: str, recorded_at: str, payload: Any
) -> str:
    """The hash that binds an entry to its predecessor."""
    body = canonical(
        {
            "kind": kind,
            "payload": payload,
            "recorded_at": recorded_at,
            "seq": seq,
            "subject": subject,
        }
    )
    return hashlib.sha256(bytes.fromhex(prev_hash) + body.encode("utf-8")).hexdigest()


class Writer:
    """Appends entries inside one locked write transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        row = connection.execute(
            select(Entry.seq, Entry.hash).order_by(Entry.seq.desc()).limit(1)
        ).first()
        self.seq: int = row.seq if row else 0
        self.head: str = row.hash if row else GENESIS

    @property
    def next_seq(self) -> int:
        """The seq the next appended entry will get."""
        return self.seq + 1

    def append(self, kind: str, subject: str, payload: Any, recorded_at: str) -> Link:
        """Chain one entry onto the head and store it."""
        seq = self.seq + 1
        body = canonical(payload)
        digest = entry_hash(self.head, seq, kind, subject, recorded_at, payload)
        link = Link(seq, kind, subject, recorded_at, body, self.head, digest)
        self.connection.execute(
            insert(Entry).values(
                seq=seq,
                kind=kind,
                subject=subject,
                recorded_at=recorded_at,
                payload=body,
                prev_hash=self.head,
                hash=digest,
            )
        )
        self.seq, self.head = seq, digest
        return link


@contextmanager
def writing(engine: Engine) -> Iterator[Writer]:
    """One serialized write transaction: commits when the block ends, rolls back on an error."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE ledger_entries IN SHARE ROW EXCLUSIVE MODE"))
            yield Writer(connection)


def entries(batch: int = 5000) -> Select[int, str, str, str, str, str, str]:
    """Every stored entry in chain order, in the field order of :class:`Link`, streamed."""
    return (
        select(
            Entry.seq,
            Entry.kind,
            Entry.subject,
            Entry.recorded_at,
            Entry.payload,
            Entry.prev_hash,
            Entry.hash,
        )
        .order_by(Entry.seq)
        .execution_options(yield_per=batch)
    )


def links(connection: Connection, *, batch: int = 5000) -> Generator[Link, None, None]:
    """Every stored entry in chain order, streamed."""
    result = connection.execute(entries(batch))
    try:
        for row in result:
            yield Link(*row)
    finally:
        result.close()  # a caller that stops early must not leave a server-side cursor open


def head(connection: Connection) -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, GENESIS) for an empty ledger."""
    row = connection.execute(
        select(Entry.seq, Entry.hash).order_by(Entry.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)
