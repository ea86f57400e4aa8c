"""Output fingerprints: a 128-bit digest of each record's normalised text, streamed into the ledger.

The digest is :func:`policyengine.textdigest.digest`, shared with the scanner.
Files are read line by line and stored in chunks, so memory does not grow with the file; a batch is
bound into the chain by ``sha256`` over every (line, digest) pair in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final

import orjson
from sqlalchemy import Connection

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.ledger.validation import child_of
from policyengine.textdigest import DIGEST_SIZE, digest

CHUNK: Final = 50_000
"""Records per bulk insert: large enough to amortise a statement and to sort the digests into long
runs for the index, small enough to bound memory (a few MiB)."""

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Chunk:
    """Fingerprints of consecutive records: line numbers and their 16-byte digests, in file order."""

    lines: list[int]
    digests: list[bytes]


def field_path(dotted: str) -> FieldPath:
    """``messages.-1.content`` → ``("messages", -1, "content")`` (integers index lists)."""
    parts: list[str | int] = []
    for part in dotted.split("."):
        parts.append(int(part) if part.lstrip("-").isdigit() else part)
    return tuple(parts)


def read(lines: Iterable[bytes], path: FieldPath, name: str) -> Iterator[Chunk]:
    """Chunks of fingerprints, one per JSON record; blank lines are skipped.

    Raises PolicyEngineError (PE414) at the first line that is not a JSON object holding a string
    at ``path``.
    """
    loads, fingerprint = orjson.loads, digest
    # The common case, one top-level key, is looked up without walking a path.
    key = path[0] if len(path) == 1 and isinstance(path[0], str) else None
    numbers: list[int] = []
    digests: list[bytes] = []
    for number, raw in enumerate(lines, 1):
        try:
            record = loads(raw)
        except orjson.JSONDecodeError as error:
            record = _retry(raw, number, error, name)
            if record is _BLANK:
                continue
        text = (
            record.get(key) if key is not None and type(record) is dict else _lookup(record, path)
        )
        if type(text) is not str:
            raise _bad(name, number, _missing(path, text))
        numbers.append(number)
        digests.append(fingerprint(text))
        if len(numbers) >= CHUNK:
            yield Chunk(numbers, digests)
            numbers, digests = [], []
    if numbers:
        yield Chunk(numbers, digests)


_BLANK: Final = object()
_BOM: Final = b"\xef\xbb\xbf"


def _retry(raw: bytes, number: int, error: ValueError, name: str) -> Any:
    """A line the parser refused: blank (skipped), a first line after a byte order mark, or PE414."""
    if not raw.strip():
        return _BLANK
    if number == 1 and raw.startswith(_BOM):
        try:
            return orjson.loads(raw[len(_BOM) :])
        except orjson.JSONDecodeError as again:
            error = again
    raise _bad(name, number, f"not a JSON record: {_reason(error)}")


# SQLite: one statement per chunk. The line numbers travel as a JSON array and the digests as one
# blob, so no Python code runs per row; ORDER BY inserts the digests in key order, which keeps the
# primary-key B-tree's pages hot (random order costs about twice as much).
# (json_each is built into SQLite since 3.38, and into Python's own builds of it long before.)
_SQLITE_INSERT: Final = f"""INSERT INTO ledger_fingerprints (batch, line, digest)
SELECT :batch, j.value, substr(:digests, {DIGEST_SIZE} * j.key + 1, {DIGEST_SIZE})
FROM json_each(:lines) j ORDER BY 3"""


def insert(connection: Connection, batch: int, chunk: Chunk) -> None:
    """Bulk-insert a chunk's fingerprints for a batch (SQLite: one statement; PostgreSQL: COPY)."""
    blob = b"".join(chunk.digests)
    if len(blob) != DIGEST_SIZE * len(chunk.lines):
        raise ValueError("a chunk holds one 16-byte fingerprint per line")
    raw: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        with (
            raw.cursor() as cursor,
            cursor.copy("COPY ledger_fingerprints (batch, line, digest) FROM STDIN") as copy,
        ):
            for line, value in sorted(zip(chunk.lines, chunk.digests, strict=True), key=_DIGEST):
                copy.write_row((batch, line, value))
        return
    raw.execute(
        _SQLITE_INSERT, {"batch": batch, "lines": orjson.dumps(chunk.lines), "digests": blob}
    )


_DIGEST: Final = itemgetter(1)


def bind(hasher: Any, chunk: Chunk) -> None:
    """Feed a chunk into its batch's digest: sha256 over each line number (8 bytes) and fingerprint."""
    hasher.update(
        b"".join(
            line.to_bytes(8, "big") + value
            for line, value in zip(chunk.lines, chunk.digests, strict=True)
        )
    )


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
