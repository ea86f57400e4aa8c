"""One block of records in Arrow form, as the readers hand it to the gate."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan.fields import PROVENANCE


@dataclass(slots=True)
class Batch:
    """Records of one file: their provenance as string columns, their text, where each sits.

    ``problem`` holds why a record cannot be read (null for the readable ones). Line numbers of
    JSON Lines records are ``first_line + row`` unless blank lines intervene, when ``line_of``
    holds each record's line; Parquet records count rows from 1 the same way. ``raw`` holds each
    JSON Lines record's bytes (with its newline) and ``block`` the whole block when every line
    is a record, so that allowed records are copied, never re-serialised; ``records`` is the
    Parquet batch itself when outputs need whole records. ``char_counts``, when a reader has it,
    holds each record's characters of text (0 without text) counted without building the text,
    which ``text`` may then leave out.
    """

    provenance: dict[str, pa.Array]
    problem: pa.Array
    text: pa.Array
    first_line: int
    line_of: pa.Array | None = None
    raw: pa.Array | None = None
    block: pa.Buffer | None = None
    records: pa.RecordBatch | None = None
    char_counts: pa.Array | None = None

    def __len__(self) -> int:
        return len(self.problem)

    def lines(self, rows: pa.Array) -> pa.Array:
        """The line (or row) numbers of the records at positions ``rows``."""
        if self.line_of is not None:
            return pc.take(self.line_of, rows)
        return pc.add(pc.cast(rows, pa.int64()), self.first_line)

    def chars(self) -> pa.Array:
        """Characters of text per record (0 without text)."""
        if self.char_counts is not None:
            return self.char_counts
        return pc.fill_null(pc.cast(pc.utf8_length(self.text), pa.int64()), 0)


def empty_provenance(rows: int) -> dict[str, pa.Array]:
    """Provenance columns that are null throughout."""
    return {name: pa.nulls(rows, pa.string()) for name in PROVENANCE}
