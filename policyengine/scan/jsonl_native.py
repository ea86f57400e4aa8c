"""JSON Lines blocks read by the native walker (:mod:`policyengine.scan._jsonl_fields`).

The walker checks each line's JSON structure in full but only looks for the end of a string it
does not need, so a record's text costs a scan, not a parse; it hands back each line's span in the
block and the mapped values as Arrow buffers, and counts the text's characters on the way. A block
where some line is not plainly one JSON object with text at the mapped paths (see the C source),
or whose bytes are not UTF-8, is left to :mod:`policyengine.scan.jsonl`'s parsers, which say what
is wrong with each line.

Without a C compiler at install time the walker is not built; the parsers then read every block.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan.batch import Batch
from policyengine.scan.fields import FIELDS, PROVENANCE, FieldMap

try:
    from policyengine.scan import _jsonl_fields
except ImportError:  # installed without a C compiler
    _jsonl_fields = None  # type: ignore[assignment]

walker = _jsonl_fields
"""The C extension (None where it was not built); the blocked outputs' splicing uses it too. (A
name bound here, not by the import, so that other modules may read it under mypy --strict.)"""

Block: TypeAlias = bytes | bytearray | pa.Buffer
"""Whole lines of JSON Lines, the last ending with a newline."""

# A line's status, as the walker writes it: 0 read, 1 left to the parsers, 2 blank.
_ODD: Final = 1
_BLANK: Final = 2


@dataclass(frozen=True, slots=True)
class Plan:
    """What the walker looks for: the key path of each field, and whether the text is copied."""

    paths: tuple[tuple[bytes, ...], ...]
    want: tuple[bool, ...]

    @classmethod
    def of(cls, fields: FieldMap, text: bool) -> Plan | None:
        """The plan for ``fields``; None when the walker is not built or a path indexes a list."""
        if walker is None:
            return None
        paths = []
        for name in FIELDS:
            path = fields.path(name)
            if not all(isinstance(key, str) for key in path):
                return None
            paths.append(tuple(str(key).encode() for key in path))
        return cls(tuple(paths), tuple(name != "text" or text for name in FIELDS))


TEXT: Final = FIELDS.index("text")

LIMIT: Final = 4096
"""Distinct values of one field a file's dictionary holds; past them the next block starts afresh
(values that differ in every record, such as timestamps, would make each block's dictionary as long
as the file so far)."""


class Seen:
    """The provenance values one file's blocks have met, per field: the walker encodes each block's
    values against them, so a value keeps its index from block to block and the judge maps a
    block's dictionary to its ids once, not once a block."""

    def __init__(self) -> None:
        self._values: list[list[bytes]] = [[] for _ in PROVENANCE]
        self._arrays: list[pa.Array] = [pa.array([], pa.string()) for _ in PROVENANCE]

    def lists(self) -> list[list[bytes]]:
        """The values met so far per provenance field, for the walker to extend."""
        for i, values in enumerate(self._values):
            if len(values) > LIMIT:
                self._values[i], self._arrays[i] = [], pa.array([], pa.string())
        return self._values

    def dictionary(self, index: int) -> pa.Array:
        """Provenance field ``index``'s values as a string array (the same object until one is
        added, so the judge knows it)."""
        values, found = self._values[index], self._arrays[index]
        if len(found) != len(values):
            found = self._arrays[index] = pa.array([v.decode() for v in values], pa.string())
        return found


def read_block(
    data: Block, first_line: int, plan: Plan, seen: Seen | None = None
) -> tuple[Batch, int, list[bool]] | None:
    """The batch of one block, the number of lines it spans, and for each field whether some record
    holds a value for it; None when the parsers must read the block. With ``seen`` (kept from block
    to block of a file), the provenance columns come dictionary-encoded against it."""
    assert walker is not None
    if not _utf8(data):
        return None
    want: tuple[bool | list[bytes], ...] = plan.want
    if seen is not None:
        want = (*seen.lists(), *plan.want[len(PROVENANCE) :])
    starts, status, found, chars = walker.extract(data, plan.paths, TEXT, want)
    if _ODD in status:
        return None
    count = len(status)
    block = as_buffer(data)
    lines = pa.Array.from_buffers(pa.large_binary(), count, [None, pa.py_buffer(starts), block])
    values = {}
    held = []
    for index, (name, (valid, offsets, strings)) in enumerate(zip(FIELDS, found, strict=True)):
        if seen is not None and index < len(PROVENANCE):
            assert offsets is not None
            codes = pa.Array.from_buffers(
                pa.int32(), count, [pa.py_buffer(valid), pa.py_buffer(offsets)]
            )
            values[name] = pa.DictionaryArray.from_arrays(codes, seen.dictionary(index))
        elif offsets is None or strings is None:
            values[name] = pa.nulls(count, pa.string())
        else:
            values[name] = pa.Array.from_buffers(
                pa.string(),
                count,
                [pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(strings)],
            )
        held.append(bool(valid.strip(b"\x00")))
    batch = Batch(
        provenance={name: values[name] for name in PROVENANCE},
        problem=pa.nulls(count, pa.string()),
        text=values["text"],
        first_line=first_line,
        raw=lines,
        block=block,
        char_counts=pa.Array.from_buffers(pa.int64(), count, [None, pa.py_buffer(chars)]),
    )
    if status.count(_BLANK):
        _drop_blank(batch, status, first_line)
    return batch, count, held


def _drop_blank(batch: Batch, status: bytes, first_line: int) -> None:
    """Keep the records only: blank lines hold none, though they count for line numbers."""
    codes = pa.Array.from_buffers(pa.uint8(), len(status), [None, pa.py_buffer(status)])
    rows = pc.indices_nonzero(pc.not_equal(codes, _BLANK))
    batch.provenance = {name: pc.take(column, rows) for name, column in batch.provenance.items()}
    batch.problem = pa.nulls(len(rows), pa.string())
    batch.text = pc.take(batch.text, rows)
    batch.char_counts = pc.take(batch.char_counts, rows)
    batch.raw = pc.take(batch.raw, rows)
    batch.block = None
    batch.line_of = pc.add(pc.cast(rows, pa.int64()), first_line)


def as_buffer(data: Block) -> pa.Buffer:
    """The block as an Arrow buffer (itself when it is one), without copying it."""
    return data if isinstance(data, pa.Buffer) else pa.py_buffer(data)


def _utf8(data: Block) -> bool:
    """Whether the block is UTF-8 throughout (checked at once, by Arrow)."""
    offsets = pa.py_buffer(struct.pack("<qq", 0, len(data)))
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, as_buffer(data)])
    try:
        whole.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True
