"""JSON Lines export of a whole ledger, and its import into an empty one with identical hashes.

The file starts with a header line, then one ``{"entry": …}`` line per chained entry in order, then
``{"fingerprints": …}`` lines carrying each batch's (line, digest) pairs in chunks. Import replays the
entries through the same append and projection code as any write, checks that every recomputed
hash equals the exported one, verifies the result, and commits only if all of it holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from sqlalchemy import Engine, select

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.ledger import chain, fingerprints
from policyengine.ledger.models import FingerprintRow
from policyengine.ledger.store import store_rows
from policyengine.ledger.verify import verify
from policyengine.textdigest import DIGEST_SIZE

FORMAT: Final = "policyengine-ledger-export"
HEADER: Final = {"format": FORMAT, "version": 1}
_CHUNK: Final = 10_000


def export_lines(engine: Engine) -> Iterator[str]:
    """The export, one JSON text per line (without newlines), streamed."""
    yield chain.canonical(HEADER)
    with engine.connect() as connection:
        for link in chain.links(connection):
            yield chain.canonical({"entry": link.export()})
        rows = connection.execute(
            select(FingerprintRow.batch, FingerprintRow.line, FingerprintRow.digest)
            .order_by(FingerprintRow.batch, FingerprintRow.line)
            .execution_options(yield_per=50_000)
        )
        batch: int | None = None
        lines: list[int] = []
        digests: list[str] = []
        for row_batch, line, value in rows:
            if (row_batch != batch or len(lines) >= _CHUNK) and lines:
                yield _fingerprints(batch, lines, digests)
                lines, digests = [], []
            batch = row_batch
            lines.append(line)
            digests.append(bytes(value).hex())
        if lines:
            yield _fingerprints(batch, lines, digests)


def is_export(first_line: bytes) -> bool:
    """Whether a file's first line is an export header."""
    try:
        value = json.loads(first_line)
    except ValueError:
        return False
    return isinstance(value, dict) and value.get("format") == FORMAT


def import_lines(engine: Engine, lines: Iterable[bytes], name: str) -> tuple[int, str]:
    """Import an export into an empty ledger; returns (entries, head hash).

    Raises PolicyEngineError (PE420 at the offending line) and writes nothing when the ledger is
    not empty, a line is malformed, or a hash does not come out identical.
    """
    with chain.writing(engine) as writer:
        if writer.seq:
            raise _bad(
                name, 1, f"the ledger already holds {writer.seq} entries; import into an empty one"
            )
        for number, raw in enumerate(lines, 1):
            record = _record(raw, name, number)
            if number == 1:
                if record != HEADER:
                    raise _bad(name, 1, "the first line is not a policyengine ledger export header")
            elif "entry" in record:
                _entry(writer, record["entry"], name, number)
            elif "fingerprints" in record:
                _batch(writer, record["fingerprints"], name, number)
            else:
                raise _bad(name, number, "a line holds neither `entry` nor `fingerprints`")
        outcome = verify(writer.connection)
        if not outcome.ok:
            raise PolicyEngineError(outcome.diagnostics)
        return outcome.entries, outcome.head


def _fingerprints(batch: Any, lines: list[int], digests: list[str]) -> str:
    return chain.canonical({"fingerprints": {"batch": batch, "lines": lines, "digests": digests}})


def _record(raw: bytes, name: str, number: int) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        raise _bad(name, number, "not a JSON line") from None
    if not isinstance(value, dict):
        raise _bad(name, number, "not a JSON object")
    return value


def _entry(writer: chain.Writer, entry: Any, name: str, number: int) -> None:
    try:
        kind, subject, stamp = entry["kind"], entry["subject"], entry["recorded_at"]
        payload, digest, seq = entry["payload"], entry["hash"], entry["seq"]
    except (KeyError, TypeError):
        raise _bad(name, number, "an entry lacks one of its fields") from None
    if seq != writer.next_seq:
        raise _bad(name, number, f"entry {seq} comes where entry {writer.next_seq} belongs")
    link = writer.append(kind, subject, payload, stamp)
    if link.hash != digest:
        raise _bad(name, number, f"entry {seq} hashes to {link.hash}, not the exported {digest}")
    try:
        store_rows(writer.connection, link)
    except (ValueError, KeyError) as error:
        raise _bad(name, number, f"entry {seq} is not a ledger entry: {error}") from None


def _batch(writer: chain.Writer, data: Any, name: str, number: int) -> None:
    try:
        batch = int(data["batch"])
        lines = [int(line) for line in data["lines"]]
        digests = [bytes.fromhex(value) for value in data["digests"]]
        if len(lines) != len(digests) or any(len(d) != DIGEST_SIZE for d in digests):
            raise ValueError("one 16-byte digest per line")
        fingerprints.insert(writer.connection, batch, fingerprints.Chunk(lines, digests))
    except (KeyError, TypeError, ValueError):
        raise _bad(name, number, "a fingerprints line is malformed") from None


def _bad(name: str, line: int, message: str) -> PolicyEngineError:
    return PolicyEngineError(
        [
            Diagnostic(
                codes.LEDGER_BAD_EXPORT,
                message,
                Location(name, line, 1),
                help="import an unmodified `policyengine ledger export` into an empty ledger",
            )
        ]
    )
