"""Output fingerprints: a 128-bit digest of each record's normalised text, streamed into the ledger.

The digest is :func:`policyengine.textdigest.digest`, shared with the scanner.
Files are read line by line and stored in chunks, so memory does not grow with the file; a batch is
bound into the chain by ``sha256`` over every (line, digest) pair in order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from sqlalchemy import Connection

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.ledger.validation import child_of
from policyengine.textdigest import normalize

CHUNK: Final = 20_000
"""Records per bulk insert: large enough to amortise a round trip, small enough to bound memory."""

FieldPath = tuple[str | int, ...]


def field_path(dotted: str) -> FieldPath:
    """``messages.-1.content`` → ``("messages", -1, "content")`` (integers index lists)."""
    parts: list[str | int] = []
    for part in dotted.split("."):
        parts.append(int(part) if part.lstrip("-").isdigit() else part)
    return tuple(parts)


def read(
    lines: Iterable[bytes], path: FieldPath, name: str, batch: int
) -> Iterator[list[tuple[int, int, bytes]]]:
    """Chunks of (batch, line number, fingerprint) rows, one per JSON record; blank lines skip.

    Raises PolicyEngineError (PE414) at the first line that is not a JSON object holding a string
    at ``path``.
    """
    loads, blake2b = json.loads, hashlib.blake2b
    # The common case, one top-level key, is looked up without walking a path.
    key = path[0] if len(path) == 1 and isinstance(path[0], str) else None
    rows: list[tuple[int, int, bytes]] = []
    for number, raw in enumerate(lines, 1):
        try:
            record = loads(raw)
        except ValueError as error:
            if not raw.strip():
                continue
            raise _bad(name, number, f"not a JSON record: {_reason(error)}") from None
        text = (
            record.get(key) if key is not None and type(record) is dict else _lookup(record, path)
        )
        if type(text) is not str:
            raise _bad(name, number, _missing(path, text))
        rows.append((batch, number, blake2b(normalize(text).encode(), digest_size=16).digest()))
        if len(rows) >= CHUNK:
            yield rows
            rows = []
    if rows:
        yield rows


def insert(connection: Connection, rows: list[tuple[int, int, bytes]]) -> None:
    """Bulk-insert fingerprint rows through the driver (SQLite executemany, PostgreSQL COPY)."""
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY ledger_fingerprints (batch, line, digest) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    raw.executemany("INSERT INTO ledger_fingerprints (batch, line, digest) VALUES (?, ?, ?)", rows)


def bind(hasher: Any, rows: list[tuple[int, int, bytes]]) -> None:
    """Feed rows into a batch's digest: sha256 over each line number (8 bytes) and fingerprint."""
    hasher.update(b"".join(line.to_bytes(8, "big") + value for _, line, value in rows))


def _lookup(record: Any, path: FieldPath) -> Any:
    for part in path:
        found, record = child_of(record, part)
        if not found:
            return None
    return record


def _missing(path: FieldPath, found: Any) -> str:
    dotted = ".".join(str(p) for p in path)
    if found is None:
        return f"the record has no text at `{dotted}`"
    return f"`{dotted}` holds a {type(found).__name__.replace('dict', 'mapping')}, not text"


def _reason(error: ValueError) -> str:
    message = str(error).split(":")[0]
    return message[:1].lower() + message[1:]


def _bad(name: str, line: int, message: str) -> PolicyEngineError:
    return PolicyEngineError(
        [
            Diagnostic(
                codes.LEDGER_BAD_RECORD,
                message,
                Location(name, line, 1),
                help="fix the line (or choose the field with --text-field); nothing was stored",
            )
        ]
    )
