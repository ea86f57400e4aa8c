"""Scan-wide integer ids for provenance values and tuples, so the gate sees each tuple once a scan.

Each key column has its :class:`Values`: every distinct value met in any batch gets a small id
(0 is null, so a null is never merged with a string, nor ``""`` with null). A batch's values are
mapped through its dictionary (a Parquet column read as one, or ``dictionary_encode``), so Python
touches the few distinct values of a batch, never its records. :class:`Tuples` then numbers the
rows' tuples of ids: the ids are packed into one int64 per record and looked up among the tuples
already known; only tuples never seen before reach Python. A column's ids reach the packing as a
:class:`Lookup` (an index per record into a table of ids), which the C extension
(:mod:`policyengine.scan._keys`, optional like the JSON Lines walker) packs and looks up in one pass
over the records; without it Arrow takes the same steps column by column.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan import columns

try:
    from policyengine.scan import _keys as native
except ImportError:  # installed without a C compiler
    native = None  # type: ignore[assignment]

Normalize = Callable[[pa.Array], pa.Array]
"""Rewrites distinct values (a string array) into the values the gate is to see."""

NULL: Final = 0
"""The id of a null value in every column."""

_DICTIONARIES: Final = 16
"""Dictionaries a column remembers (each file read at once brings its own)."""

_BITS: Final = 62
"""Bits a packed tuple may take: with more, tuples are numbered batch by batch instead."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """One column's value ids: record ``i`` has ``table[indices[i]]``, NULL where the index is
    null; ``table`` (int64) ends with a NULL entry of its own."""

    indices: pa.Array
    table: pa.Array

    def ids(self) -> pa.Array:
        """Each record's id (int64, never null)."""
        # Nulls are filled before the take: a take through null indices is three times slower.
        return pc.take(self.table, _filled(self.indices, len(self.table) - 1))


class Values:
    """Ids of the values of one column across batches: 0 for null, then 1, 2, … by first sight."""

    def __init__(self, normalize: Normalize | None = None) -> None:
        self.values: list[str | None] = [None]
        self._ids: dict[str | None, int] = {None: NULL}
        self._normalize = normalize
        # The values as read (before ``normalize``) and the id of each, to look a batch's
        # strings up with one ``index_in`` rather than encoding them.
        self._raw: list[str] = []
        self._raw_ids: list[int] = []
        self._raw_array = pa.array([], pa.string())
        self._raw_ids_array = pa.array([NULL], pa.int64())
        # Dictionaries met lately and their values' ids, by where their values lie in memory (each
        # held here, so no other array can lie there): a Parquet row group hands every batch the
        # same one, a JSON Lines file one that grows now and then.
        self._dictionaries: dict[tuple[int, ...], tuple[pa.Array, pa.Array]] = {}

    def __len__(self) -> int:
        return len(self.values)

    def ids(self, column: pa.Array) -> pa.Array | None:
        """Each record's id (int64, never null); None when every record's value is null."""
        found = self.lookup(column)
        return None if found is None else found.ids()

    def lookup(self, column: pa.Array) -> Lookup | None:
        """Each record's id as an index into a table of ids; None when every value is null."""
        if column.null_count == len(column):
            return None
        if pa.types.is_dictionary(column.type):
            ids = self._dictionary_ids(column.dictionary, len(column))
            if ids is not None:
                return Lookup(column.indices, ids)
            column = column.dictionary_decode()
        found = pc.index_in(column, value_set=self._raw_array)
        if found.null_count > column.null_count:
            new = pc.filter(column, pc.and_(pc.is_null(found), pc.is_valid(column)))
            self._learn(pc.unique(new))
            found = pc.index_in(column, value_set=self._raw_array)
        return Lookup(found, self._raw_ids_array)

    def _dictionary_ids(self, distinct: pa.Array, rows: int) -> pa.Array | None:
        """The id of each value of a dictionary, then NULL for null indices; None when the
        dictionary is new and longer than the batch (decoding then costs less than mapping it)."""
        found = self._dictionaries.get(_place(distinct))
        if found is not None:
            return found[1]
        for known, ids in self._dictionaries.values():
            if len(known) == len(distinct) and known.equals(distinct):
                self._remember(distinct, ids)
                return ids
        if len(distinct) > rows:
            return None
        seen = self._normalize(distinct) if self._normalize is not None else distinct
        ids = pa.array([self._id(value) for value in seen.to_pylist()] + [NULL], pa.int64())
        self._remember(distinct, ids)
        return ids

    def _remember(self, distinct: pa.Array, ids: pa.Array) -> None:
        if len(self._dictionaries) >= _DICTIONARIES:
            del self._dictionaries[next(iter(self._dictionaries))]  # the oldest
        self._dictionaries[_place(distinct)] = (distinct, ids)

    def _learn(self, raw: pa.Array) -> None:
        """Give ids to values never read before (``raw``: distinct, not null)."""
        normalized = self._normalize(raw) if self._normalize is not None else raw
        for value, as_seen in zip(raw.to_pylist(), normalized.to_pylist(), strict=True):
            self._raw.append(value)
            self._raw_ids.append(self._id(as_seen))
        self._raw_array = pa.array(self._raw, pa.string())
        self._raw_ids_array = pa.array([*self._raw_ids, NULL], pa.int64())

    def _id(self, value: str | None) -> int:
        found = self._ids.get(value)
        if found is None:
            found = self._ids[value] = len(self.values)
            self.values.append(value)
        return found


def _place(array: pa.Array) -> tuple[int, ...]:
    """Where ``array``'s data lies: two arrays at one place (both alive) hold the same values."""
    return (array.offset, len(array), *(0 if b is None else b.address for b in array.buffers()))


def _filled(indices: pa.Array, null_at: int) -> pa.Array:
    """``indices`` with each null replaced by ``null_at`` (where the ids hold NULL)."""
    return pc.fill_null(indices, null_at) if indices.null_count else indices


class Tuples:
    """Ids of tuples of value ids across batches: 0, 1, … by first sight."""

    def __init__(self) -> None:
        self.tuples: list[tuple[int, ...]] = []
        self._ids: dict[tuple[int, ...], int] = {}
        self._shifts: tuple[int, ...] = ()
        self._packed: pa.Array = pa.array([], pa.int64())

    def ids(
        self, parts: Sequence[Lookup | None], sizes: Sequence[int], rows: int
    ) -> tuple[pa.Array, int, pa.Array | None]:
        """Each of ``rows`` rows' tuple id (int64), how many tuples were known before, and the rows
        of each tuple id when they were counted on the way (the C extension counts them).

        ``parts`` are the rows' value ids per column (None: all null), ``sizes`` how many values
        each column has ids for (so that packing reserves enough bits).
        """
        known = len(self.tuples)
        if all(part is None for part in parts):
            only = self._add((NULL,) * len(parts))
            return pa.repeat(pa.scalar(only, pa.int64()), rows), known, None
        bits = [max(size - 1, 0).bit_length() for size in sizes]
        if sum(bits) > _BITS:
            return self._by_batch([None if p is None else p.ids() for p in parts]), known, None
        shifts = tuple(sum(bits[i + 1 :]) for i in range(len(bits)))
        if shifts != self._shifts:
            self._shifts = shifts
            self._packed = pa.array([self._pack(t) for t in self.tuples], pa.int64())
        if native is not None:
            codes, counts = self._native(parts, shifts, bits, rows)
            return codes, known, counts
        packed = self._packed_rows([None if p is None else p.ids() for p in parts], shifts)
        found = pc.index_in(packed, value_set=self._packed)
        if found.null_count:
            new = pc.unique(pc.filter(packed, pc.is_null(found)))
            self._learn(new.to_pylist(), bits)
            found = pc.index_in(packed, value_set=self._packed)
        return pc.cast(found, pa.int64()), known, None

    def _native(
        self, parts: Sequence[Lookup | None], shifts: Sequence[int], bits: Sequence[int], rows: int
    ) -> tuple[pa.Array, pa.Array]:
        """Pack, look up and count every row in one pass (the C extension)."""
        specs = []
        for part, shift in zip(parts, shifts, strict=True):
            if part is None:
                continue
            indices = part.indices
            if indices.type not in (pa.int32(), pa.int64()):
                indices = pc.cast(indices, pa.int32())  # e.g. a pandas category's int8 codes
            validity, values = indices.buffers()
            table = pc.shift_left(part.table, pa.scalar(shift, pa.int64())) if shift else part.table
            width = indices.type.bit_width // 8
            specs.append((values, validity, indices.offset, width, columns.int64_values(table)))
        known = self._packed.buffers()[1] if len(self._packed) else b""
        codes, new, counts = native.pack(tuple(specs), rows, known)
        if new:
            self._learn(list(struct.unpack(f"<{len(new) // 8}q", new)), bits)
        return (
            pa.Array.from_buffers(pa.int64(), rows, [None, pa.py_buffer(codes)]),
            pa.Array.from_buffers(pa.int64(), len(counts) // 8, [None, pa.py_buffer(counts)]),
        )

    def _learn(self, packed: Sequence[int], bits: Sequence[int]) -> None:
        """Number the tuples of ``packed`` keys never seen before, in order."""
        for value in packed:
            self._add(self._unpack(value, bits))
        self._packed = pa.array([self._pack(t) for t in self.tuples], pa.int64())

    def _packed_rows(self, parts: Sequence[pa.Array | None], shifts: Sequence[int]) -> pa.Array:
        packed: pa.Array | None = None
        for part, shift in zip(parts, shifts, strict=True):
            if part is None:
                continue
            value = pc.multiply(part, pa.scalar(1 << shift, pa.int64())) if shift else part
            packed = value if packed is None else pc.add(packed, value)
        assert packed is not None
        return packed

    def _pack(self, ids: tuple[int, ...]) -> int:
        return sum(value << shift for value, shift in zip(ids, self._shifts, strict=True))

    @staticmethod
    def _unpack(value: int, bits: Sequence[int]) -> tuple[int, ...]:
        found = []
        for width in reversed(bits):
            found.append(value & ((1 << width) - 1))
            value >>= width
        return tuple(reversed(found))

    def _by_batch(self, parts: Sequence[pa.Array | None]) -> pa.Array:
        """Too many distinct values to pack: number the batch's tuples, then look each up."""
        codes, first_rows = columns.distinct([p for p in parts if p is not None])
        firsts = [
            [NULL] * len(first_rows) if p is None else p.take(first_rows).to_pylist() for p in parts
        ]
        mapped = [self._add(tuple(ids)) for ids in zip(*firsts, strict=True)]
        return pc.take(pa.array(mapped, pa.int64()), codes)

    def _add(self, ids: tuple[int, ...]) -> int:
        found = self._ids.get(ids)
        if found is None:
            found = self._ids[ids] = len(self.tuples)
            self.tuples.append(ids)
        return found
