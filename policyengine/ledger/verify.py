"""``ledger verify``: recompute the chain, then check every query table and fingerprint against it.

Three passes, each stopping at its first problem:
1. the chain: entries numbered 1, 2, 3 … without gaps, each ``prev_hash`` the hash before it, each
   hash recomputed from the entry, each payload stored in canonical form;
2. the query tables: rebuilt from the entries (the same projection writes use) and compared row by
   row, so a row edited, added or removed behind the ledger's back is found;
3. the fingerprints: each batch's lines and digests hashed again and compared with its entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location
from policyengine.ledger import chain
from policyengine.ledger.chain import GENESIS, Link
from policyengine.ledger.models import PROJECTIONS, Base, Entry, FingerprintRow, row_key
from policyengine.ledger.project import OUTPUTS, project


@dataclass
class Verification:
    """The outcome: how many entries, the head hash, and the first problem of each pass."""

    entries: int = 0
    head: str = GENESIS
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether everything verified."""
        return not self.diagnostics


def verify(connection: Connection) -> Verification:
    """Verify the chain, the query tables and the fingerprints of one ledger."""
    result = Verification()
    expected: dict[type[Base], dict[tuple[Any, ...], dict[str, Any]]] = {t: {} for t in PROJECTIONS}
    batches: dict[int, tuple[int, str]] = {}
    for link in _checked(connection, result):
        for table, rows in project(link).items():
            for row in rows:
                expected[table][row_key(table, row)] = row
        if link.kind == OUTPUTS:
            payload = link.data()
            batches[link.seq] = (payload["records"], payload["digest"])
    if result.ok:
        _tables(connection, expected, result)
    if result.ok:
        _fingerprints(connection, batches, result)
    return result


def _checked(connection: Connection, result: Verification) -> Iterator[Link]:
    """The entries in order while they verify; records the first that does not."""
    previous = GENESIS
    with closing(chain.links(connection)) as stored:
        for expected_seq, link in enumerate(stored, 1):
            problem = _problem(link, expected_seq, previous)
            if problem:
                result.diagnostics.append(_broken(link, problem))
                return
            yield link
            previous = link.hash
            result.entries, result.head = link.seq, link.hash


def _problem(link: Link, seq: int, previous: str) -> str | None:
    if link.seq != seq:
        missing = f"entry {seq}" if link.seq > seq else "an entry"
        return f"{missing} is missing: the chain goes from {seq - 1} to {link.seq}"
    if link.prev_hash != previous:
        return "its `prev_hash` is not the hash of the entry before it"
    try:
        payload = link.data()
    except ValueError:
        return "its payload is not JSON"
    if chain.canonical(payload) != link.payload:
        return "its payload is not in canonical form"
    digest = chain.entry_hash(
        previous, link.seq, link.kind, link.subject, link.recorded_at, payload
    )
    if digest != link.hash:
        return "its content does not match its hash"
    return None


def _broken(link: Link, problem: str) -> Diagnostic:
    return Diagnostic(
        codes.LEDGER_CHAIN_BROKEN,
        f"entry {link.seq} ({link.kind} `{link.subject}`, recorded {link.recorded_at}): {problem}",
        Location("ledger"),
        help="the ledger was changed outside policyengine; restore it from a backup or an export",
    )


def _tables(
    connection: Connection,
    expected: dict[type[Base], dict[tuple[Any, ...], dict[str, Any]]],
    result: Verification,
) -> None:
    for table in PROJECTIONS:
        wanted = expected[table]
        columns = table.__table__.columns
        for row in connection.execute(select(table.__table__)):
            actual = dict(row._mapping)
            key = row_key(table, actual)
            should = wanted.pop(key, None)
            if should is None:
                return _tampered(result, table, key, "has a row no entry accounts for")
            for column in columns:
                if should[column.name] != actual[column.name]:
                    message = f"`{column.name}` differs from what entry {_seq(should)} recorded"
                    return _tampered(result, table, key, message)
        if wanted:
            key, missing = next(iter(wanted.items()))
            return _tampered(result, table, key, f"lacks the row of entry {_seq(missing)}")
    return None


def _seq(row: dict[str, Any]) -> Any:
    return row.get("entry_seq", "?")


def _tampered(result: Verification, table: type[Base], key: tuple[Any, ...], message: str) -> None:
    shown = ", ".join(str(k) for k in key)
    result.diagnostics.append(
        Diagnostic(
            codes.LEDGER_TABLE_TAMPERED,
            f"table `{table.__tablename__}` row ({shown}) {message}",
            Location("ledger"),
            help="the table was changed outside policyengine; the chained entries are the record",
        )
    )


def _fingerprints(
    connection: Connection, batches: dict[int, tuple[int, str]], result: Verification
) -> None:
    """Stream every fingerprint in storage order, hashing each batch as :func:`fingerprints.bind` did."""
    rows = connection.execute(
        select(FingerprintRow.batch, FingerprintRow.line, FingerprintRow.digest)
        .order_by(FingerprintRow.batch, FingerprintRow.line)
        .execution_options(yield_per=50_000)
    )
    with rows:
        seen = _hash_batches(rows, batches, result)
    if seen is None:
        return None
    for batch, (records, digest) in sorted(batches.items()):
        if seen.get(batch, (0, _EMPTY)) != (records, digest):
            return _bad_batch(result, batch, "its fingerprints do not match its entry's digest")
    return None


def _hash_batches(
    rows: Any, batches: dict[int, tuple[int, str]], result: Verification
) -> dict[int, tuple[int, str]] | None:
    """(count, digest) per stored batch, or None after reporting a batch out of place."""
    seen: dict[int, tuple[int, str]] = {}
    current, count, hasher = None, 0, hashlib.sha256()
    for batch, line, value in rows:
        if batch != current:
            if batch in seen or batch not in batches:
                why = "stored apart" if batch in seen else "not accounted for by any outputs entry"
                _bad_batch(result, batch, f"its fingerprints are {why}")
                return None
            if current is not None:
                seen[current] = (count, hasher.hexdigest())
            current, count, hasher = batch, 0, hashlib.sha256()
        hasher.update(line.to_bytes(8, "big") + bytes(value))
        count += 1
    if current is not None:
        seen[current] = (count, hasher.hexdigest())
    return seen


_EMPTY = hashlib.sha256().hexdigest()


def _bad_batch(result: Verification, batch: int, message: str) -> None:
    result.diagnostics.append(
        Diagnostic(
            codes.LEDGER_TABLE_TAMPERED,
            f"table `ledger_fingerprints` batch {batch}: {message}",
            Location("ledger"),
            help="the table was changed outside policyengine; re-record the outputs file",
        )
    )


def expected_head(connection: Connection, expected: str) -> list[Diagnostic]:
    """A problem unless ``expected`` (a head hash published earlier) is the hash of some entry."""

    found = connection.execute(select(Entry.seq).where(Entry.hash == expected.lower())).first()
    if found is not None:
        return []
    return [
        Diagnostic(
            codes.LEDGER_CHAIN_BROKEN,
            f"the chain holds no entry with hash `{expected}`",
            Location("ledger"),
            help="the history up to that head was rewritten, or the hash belongs to another ledger",
        )
    ]


def verify_chain(connection: Connection) -> Verification:
    """Verify the hash chain alone (not the query tables): what a gate checks before deciding.

    Each entry's hash is recomputed over its stored payload text as it stands; only an entry whose
    hash does not match is parsed to say exactly what is wrong, so an intact chain costs one
    SHA-256 per entry. (A payload that is not in canonical form cannot match its hash either.)
    """
    result = Verification()
    previous = GENESIS
    sha256, fromhex = hashlib.sha256, bytes.fromhex
    rows = connection.execute(chain.entries())
    with closing(rows):
        for expected_seq, row in enumerate(rows, 1):
            seq, kind, subject, recorded_at, payload, prev_hash, digest = row
            body = (
                '{"kind":' + _string(kind) + ',"payload":' + payload
                + ',"recorded_at":' + _string(recorded_at) + ',"seq":' + str(seq)
                + ',"subject":' + _string(subject) + "}"
            )  # fmt: skip
            if (
                seq != expected_seq
                or prev_hash != previous
                or sha256(fromhex(previous) + body.encode("utf-8")).hexdigest() != digest
            ):
                link = Link(*row)
                problem = (
                    _problem(link, expected_seq, previous) or "its content does not match its hash"
                )
                result.diagnostics.append(_broken(link, problem))
                return result
            previous = digest
        result.entries, result.head = (
            (expected_seq, previous) if previous != GENESIS else (0, GENESIS)
        )
    return result


def _string(text: str) -> str:
    """``text`` as canonical JSON: kinds, ids and timestamps need no escaping, others may."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return json.dumps(text, ensure_ascii=False)
