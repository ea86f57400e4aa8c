"""Parquet shards → :class:`Batch` values, one per record batch, reading only the columns needed.

A provenance column must hold text (``generated_at`` may also be a date or a timestamp); a column of
another type is a field-map error (PE603) for the whole file rather than a problem of each record.
:func:`check_schema` says so from the file's footer, before any record is read; it also refuses a
path given explicitly (``--field``, a profile) that names no column of the file, where a default
path without a column means the provenance is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.scan import columns
from policyengine.scan.batch import Batch
from policyengine.scan.fields import FIELDS, FieldMap, absent, dotted
from policyengine.scan.formats import unreadable

ROWS: Final = 16_384
"""Records per batch copied from one part file to an output."""

TEXT_ROWS: Final = 8_192
"""Records per batch read with their text (with texts of ~1,000 characters, ~8 MB of text): the scan
holds two, the one being judged and the one being read ahead."""

PROVENANCE_ROWS: Final = 65_536
"""Records per batch when only provenance is read (a few bytes each, dictionary-encoded)."""

BUFFER: Final = 1 << 20
"""Bytes read from the file at a time: pages are read through a buffer of this size, never a whole
column chunk, so memory does not grow with the row groups' size (nor with the file's)."""


def open_file(path: Path, dictionaries: list[str] | None = None) -> pq.ParquetFile:
    """The Parquet file (reading the columns at ``dictionaries`` as dictionaries); PE601 when it
    is not one."""
    try:
        return pq.ParquetFile(
            str(path), pre_buffer=False, buffer_size=BUFFER, read_dictionary=dictionaries
        )
    except (OSError, pa.ArrowException) as error:
        raise unreadable(
            path, str(error).splitlines()[0] if str(error) else "not Parquet"
        ) from None


def check_schema(path: Path, fields: FieldMap) -> None:
    """PE603 unless every mapped column of ``path`` holds text, and every explicitly mapped field
    names a column (PE601 when the file is not Parquet)."""
    schema = open_file(path).schema_arrow
    problems: list[Diagnostic] = []
    for field in FIELDS:
        where = fields.path(field)
        try:
            kind = columns.field_type(schema, where)
        except columns.PathConflict as error:
            problems.extend(_misfit(str(path), field, str(error)).diagnostics)
            continue
        if kind is None:
            if field in fields.explicit:
                problems.append(absent(field, where, str(path), "column"))
        elif not columns.is_text(kind, dates=field == "generated_at"):
            problems.extend(
                _misfit(
                    str(path), field, f"`{dotted(where)}` holds {kind} values, not text"
                ).diagnostics
            )
    if problems:
        raise PolicyEngineError(problems)


def read(
    path: Path,
    fields: FieldMap,
    *,
    whole_records: bool,
    text: bool = True,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Batch]:
    """The records of a Parquet file; with ``whole_records`` each batch keeps every column.

    Without ``text`` (nothing needs it) the text column is not read, and the provenance columns
    are read as dictionaries, which the gate maps value by value rather than record by record.
    """
    parquet = open_file(path)
    names = parquet.schema_arrow.names
    needed = [n for n in FIELDS if n != "text" or text]
    wanted = None if whole_records else sorted({fields.path(n)[0] for n in needed} & set(names))
    if not whole_records and not text:
        parquet = open_file(path, dictionaries=_dictionary_columns(parquet, fields))
    rows_at_once = TEXT_ROWS if whole_records or text else PROVENANCE_ROWS
    size, total = path.stat().st_size, max(parquet.metadata.num_rows, 1)
    row = 1
    try:
        for group in range(parquet.num_row_groups):
            # One row group at a time, without pre-buffering: a pre-buffering reader over the
            # whole file keeps the column chunks of every row group it has read until it is
            # done, so its memory grows with the file.
            for record_batch in parquet.iter_batches(
                batch_size=rows_at_once, row_groups=[group], columns=wanted
            ):
                yield from_arrow(
                    record_batch, fields, row, str(path), keep=whole_records, text=text
                )
                row += record_batch.num_rows
                if progress is not None:
                    progress(size * record_batch.num_rows // total)
    except (OSError, pa.ArrowException) as error:
        raise unreadable(path, str(error).splitlines()[0] if str(error) else "corrupt") from None


def _dictionary_columns(parquet: pq.ParquetFile, fields: FieldMap) -> list[str]:
    """The provenance columns stored as text, by dotted path (``read_dictionary`` takes these)."""
    schema = parquet.schema_arrow
    found = []
    for name in FIELDS:
        if name == "text":
            continue
        path = fields.path(name)
        if any(isinstance(part, int) for part in path):
            continue
        try:
            kind = columns.field_type(schema, path)
        except columns.PathConflict:
            continue
        if kind == pa.string():
            found.append(".".join(str(part) for part in path))
    return found


def from_arrow(
    records: pa.RecordBatch | pa.Table,
    fields: FieldMap,
    first_row: int,
    name: str,
    *,
    keep: bool,
    text: bool = True,
) -> Batch:
    """A batch of in-memory Arrow records (a Parquet batch, a Dask or Ray partition); without
    ``text`` its text is left out (null).

    Raises PolicyEngineError (PE603) when a mapped column does not hold text.
    """
    rows = records.num_rows
    values: dict[str, pa.Array] = {}
    for field in FIELDS:
        path = fields.path(field)
        if field == "text" and not text:
            values[field] = pa.nulls(rows, pa.string())
            continue
        try:
            found = columns.extract(records, path)
        except columns.PathConflict as error:
            raise _misfit(name, field, str(error)) from None
        if found is None:
            values[field] = pa.nulls(rows, pa.string())
            continue
        as_text = columns.as_text(found, dates=field == "generated_at")
        if as_text is None:
            raise _misfit(name, field, f"`{dotted(path)}` holds {found.type} values, not text")
        values[field] = as_text
    text_values = values.pop("text")
    return Batch(
        provenance=values,
        problem=pa.nulls(rows, pa.string()),
        text=text_values,
        first_line=first_row,
        records=records if keep else None,
    )


def _misfit(name: str, field: str, why: str) -> PolicyEngineError:
    return PolicyEngineError(
        [
            Diagnostic(
                codes.SCAN_FIELD_MAP,
                f"field `{field}`: {why}",
                Location(name),
                help="point the field at a text column with `--field NAME=PATH` or a profile",
            )
        ]
    )
