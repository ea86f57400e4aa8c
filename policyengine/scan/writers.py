"""The allowed and blocked outputs, in the shards' format, written whole or not at all.

Blocked records carry a ``_policy`` field (JSON Lines, see :mod:`.policy_lines`) or struct column
(Parquet): ``verdict``, ``rules``, ``reason``, ``file``, ``line`` and, for records traced by
fingerprint, ``generation``. A record whose text identified itself as another provider's model (or
as the provider it was attributed to) has the phrase appended to its reason.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.scan import parquet
from policyengine.scan.behind import DEPTH, Writes
from policyengine.scan.formats import AtomicOutput, Family, Format
from policyengine.scan.judge import Judged
from policyengine.scan.policy_lines import POLICY, Fragments, allowed_jsonl, blocked_jsonl

POLICY_TYPE: Final = pa.struct(
    [
        ("verdict", pa.string()),
        ("rules", pa.list_(pa.string())),
        ("reason", pa.string()),
        ("file", pa.string()),
        ("line", pa.int64()),
        ("generation", pa.string()),
    ]
)


class Sink:
    """One output file: opened under a temporary name, renamed into place by ``commit``; a JSON
    Lines file's writes are made on a thread of its own (``behind``), in order."""

    def __init__(
        self,
        path: Path,
        fmt: Format,
        *,
        blocked: bool,
        temporary: Path | None = None,
        parts: bool = False,
    ) -> None:
        """``temporary`` names the file to write instead of a fresh hidden one; with ``parts``,
        a JSON Lines output receives finished parts (already compressed) through ``append``."""
        self.path, self.format, self.blocked = path, fmt, blocked
        self.output = AtomicOutput(path, temporary)
        self._stream: pa.NativeFile | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self._first: str | None = None
        self._fragments: Fragments | None = None
        # Parquet is written on the scanning thread: encoding tables beside the scan raised the
        # peak memory of a Parquet split from 340 MB to over 400 MB.
        self._writes = Writes(0 if fmt.family is Family.PARQUET else DEPTH)
        if fmt.family is Family.JSONL:
            with self._writing():
                raw = pa.OSFile(str(self.output.temporary), "wb")
            compress = fmt.codec is not None and not parts
            self._stream = pa.CompressedOutputStream(raw, fmt.codec) if compress else raw

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """PE606 naming the output (and why) when the system refuses a write (a full disk)."""
        try:
            yield
        except OSError as error:
            why = error.strerror or str(error).splitlines()[0] or type(error).__name__
            raise PolicyEngineError(
                [
                    Diagnostic(
                        codes.SCAN_OUTPUT,
                        f"cannot write `{self.path}`: {why[:1].lower() + why[1:]}",
                        Location(str(self.path)),
                        help="free space or choose another folder; the partial output was removed "
                        "and a file already at the path is unchanged",
                    )
                ]
            ) from None

    def prepare(self, schema: pa.Schema, name: str) -> None:
        """Open a Parquet output for records of ``schema`` (the first file's schema rules)."""
        self._open(_with_policy(schema) if self.blocked else schema, name)

    def _open(self, schema: pa.Schema, name: str) -> None:
        if self._schema is None:
            self._schema, self._first = schema, name
            with self._writing():
                self._parquet = pq.ParquetWriter(str(self.output.temporary), schema)
        elif not schema.equals(self._schema):
            raise PolicyEngineError(
                [
                    Diagnostic(
                        codes.SCAN_OUTPUT,
                        f"cannot write `{self.path}`: the columns of `{name}` differ from those "
                        f"of `{self._first}`",
                        Location(name),
                        help="scan shards with different columns into separate outputs",
                    )
                ]
            )

    def append(self, part: Path, name: str) -> None:
        """Append a finished part (another process's output for file ``name``)."""
        with self._writing():
            self._append(part, name)

    def _append(self, part: Path, name: str) -> None:
        if self._stream is not None:
            with part.open("rb") as source:
                while chunk := source.read(1 << 22):
                    self._writes.submit(functools.partial(self._stream.write, chunk))
            return
        # Batch by batch, as the scan reads: a part is as large as the file it came from.
        source = parquet.open_file(part)
        self._open(source.schema_arrow, name)
        assert self._parquet is not None
        for group in range(source.num_row_groups):
            for batch in source.iter_batches(batch_size=parquet.ROWS, row_groups=[group]):
                if batch.num_rows:
                    self._writes.submit(functools.partial(self._parquet.write_batch, batch))

    def write(self, judged: Judged, name: str) -> None:
        """Write the batch's allowed records (or its blocked ones); PE606 when the system refuses."""
        with self._writing():
            self._write(judged, name)

    def _write(self, judged: Judged, name: str) -> None:
        rows = judged.allowed if not self.blocked else pc.invert(judged.allowed)
        if self._stream is not None:
            # The lines are made on the writing thread too: splicing `_policy` into each blocked
            # line costs about as much as reading it, and overlaps the scan there.
            if self.blocked:
                pieces = self._fragments_for(judged, name)
                lines = functools.partial(blocked_jsonl, judged, rows, name, pieces)
            else:
                lines = functools.partial(allowed_jsonl, judged)
            self._writes.submit(functools.partial(_write_lines, self._stream, lines))
        elif self._parquet is not None:
            records = judged.batch.records
            assert records is not None
            chosen = pc.indices_nonzero(rows)
            if self.blocked:
                table = _policy_records(judged, records, chosen, name)
            else:
                table = records.take(chosen)
            if table.num_rows:
                self._writes.submit(functools.partial(self._parquet.write, table))

    def _fragments_for(self, judged: Judged, name: str) -> Fragments:
        found = self._fragments
        if found is None or found.decisions is not judged.decisions or found.name != name:
            found = self._fragments = Fragments(judged.decisions, name)
        return found

    def close(self) -> None:
        """Wait for the writes, flush and close the file (it stays under its temporary name);
        PE606 when a write was refused."""
        with self._writing():
            self._writes.finish(self._close)

    def _close(self) -> None:
        """On the writing thread, after the last write (or the one that failed)."""
        if self._stream is not None and not self._stream.closed:
            self._stream.close()
        if self._parquet is not None:
            writer, self._parquet = self._parquet, None
            writer.close()

    def commit(self) -> None:
        """Close and rename the file over its path."""
        self.close()
        with self._writing():
            if self.format.family is Family.PARQUET and self._schema is None:
                pq.write_table(pa.table({}), str(self.output.temporary))
            self.output.commit()

    def discard(self) -> None:
        """Close and remove the temporary file; the path keeps what it held before."""
        try:
            with suppress(PolicyEngineError):  # already failing: the file goes either way
                self.close()
        finally:
            self.output.discard()


def _write_lines(stream: pa.NativeFile, lines: Callable[[], pa.Buffer]) -> None:
    stream.write(lines())


def _with_policy(schema: pa.Schema) -> pa.Schema:
    if POLICY in schema.names:
        schema = schema.remove(schema.get_field_index(POLICY))
    return schema.append(pa.field(POLICY, POLICY_TYPE))


def _policy_records(judged: Judged, records: Any, chosen: pa.Array, name: str) -> pa.Table:
    """The blocked Parquet records with their ``_policy`` column."""
    table = records.take(chosen)
    if not isinstance(table, pa.Table):
        table = pa.Table.from_batches([table])
    if POLICY in table.column_names:
        table = table.drop_columns([POLICY])
    policy = policy_column(judged, chosen, name)
    return table.append_column(pa.field(POLICY, POLICY_TYPE), policy)


def policy_column(judged: Judged, rows: pa.Array, name: str | None) -> pa.Array:
    """The ``_policy`` struct of the records at ``rows``."""
    count = len(rows)
    names = pa.repeat(pa.scalar(name, pa.string()), count)
    return pa.StructArray.from_arrays(
        [
            judged.take("verdict", rows),
            judged.take("rules", rows),
            judged.reasons(rows),
            names,
            judged.batch.lines(rows),
            judged.generations(rows),
        ],
        fields=list(POLICY_TYPE),
    )
