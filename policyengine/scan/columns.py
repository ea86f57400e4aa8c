"""Arrow helpers: the JSON schema a field map reads, field extraction, distinct provenance tuples.

Everything here works on whole Arrow arrays through ``pyarrow.compute``; no function builds a
Python object per record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan.fields import FIELDS, FieldMap, FieldPath, dotted

TEXT_TYPES = (pa.string(), pa.large_string(), pa.string_view())
DATE_PREFIX = r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$"
"""A date, or a date and time (ISO 8601): the time and zone are dropped, the day is kept."""


class PathConflict(ValueError):
    """Two field paths use the same key as an object and as a list (or as text)."""


def json_schema(fields: FieldMap) -> pa.Schema:
    """The explicit schema that makes ``pyarrow.json`` parse only the mapped fields, as text."""
    tree: dict[Any, Any] = {}
    for name in FIELDS:
        path = fields.path(name)
        node = tree
        for depth, part in enumerate(path):
            leaf = depth == len(path) - 1
            key: Any = "[]" if isinstance(part, int) else part
            as_list = isinstance(part, int)
            if (as_list and any(k != "[]" for k in node)) or (not as_list and "[]" in node):
                raise PathConflict(f"`{dotted(path[: depth + 1])}` is read both as a list and not")
            existing = node.get(key)
            if leaf:
                if existing is not None and existing != "text":
                    raise PathConflict(f"`{dotted(path)}` is read both as text and as an object")
                node[key] = "text"
            else:
                if existing == "text":
                    raise PathConflict(f"`{dotted(path)}` is read both as text and as an object")
                node = node.setdefault(key, {})
    return pa.schema([pa.field(k, _arrow_type(v)) for k, v in tree.items()])


def _arrow_type(node: Any) -> pa.DataType:
    if node == "text":
        return pa.string()
    if "[]" in node:
        return pa.list_(_arrow_type(node["[]"]))
    return pa.struct([pa.field(k, _arrow_type(v)) for k, v in node.items()])


def extract(columns: pa.Table | pa.RecordBatch, path: FieldPath) -> pa.Array | None:
    """The values at ``path`` (nulls where a record lacks them), or None when no column has it.

    Raises PathConflict when a step meets a value of the wrong shape (a key on a non-object).
    """
    first = path[0]
    if first not in columns.schema.names:
        return None
    array = _whole(columns.column(first))
    for depth, part in enumerate(path[1:], 1):
        kind = array.type
        if isinstance(part, int):
            if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
                raise PathConflict(f"`{dotted(path[:depth])}` is not a list")
            array = list_element(array, part)
        else:
            if not pa.types.is_struct(kind):
                raise PathConflict(f"`{dotted(path[:depth])}` is not an object")
            if kind.get_field_index(part) < 0:
                return None
            array = pc.struct_field(array, [part])
    return array


def field_type(schema: pa.Schema, path: FieldPath) -> pa.DataType | None:
    """The type of the values at ``path`` in records of ``schema``, or None when it has no such
    column or field. Raises PathConflict when a step meets a value of the wrong shape."""
    if path[0] not in schema.names:
        return None
    kind = schema.field(path[0]).type
    for depth, part in enumerate(path[1:], 1):
        if isinstance(part, int):
            if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)):
                raise PathConflict(f"`{dotted(path[:depth])}` is not a list")
            kind = kind.value_type
        else:
            if not pa.types.is_struct(kind):
                raise PathConflict(f"`{dotted(path[:depth])}` is not an object")
            index = kind.get_field_index(part)
            if index < 0:
                return None
            kind = kind.field(index).type
    return kind


def is_text(kind: pa.DataType, *, dates: bool = False) -> bool:
    """Whether :func:`as_text` turns values of ``kind`` into text."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_null(kind) or kind in TEXT_TYPES:
        return True
    return dates and (pa.types.is_date(kind) or pa.types.is_timestamp(kind))


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def list_element(lists: pa.Array, index: int) -> pa.Array:
    """The element at ``index`` of each list (negative counts from the end); null when out of range."""
    offsets = pc.cast(lists.offsets, pa.int64())
    starts, ends = offsets.slice(0, len(lists)), offsets.slice(1, len(lists))
    position = pc.add(starts if index >= 0 else ends, index)
    inside = pc.and_(pc.greater_equal(position, starts), pc.less(position, ends))
    inside = pc.and_kleene(inside, lists.is_valid())
    chosen = pc.if_else(inside, position, pa.scalar(None, pa.int64()))
    return pc.take(lists.values, chosen)


def as_text(array: pa.Array, *, dates: bool = False) -> pa.Array | None:
    """A string array of the values, or None when their type is not text (nor a date, with
    ``dates``). Dates and timestamps become ``YYYY-MM-DD``; a dictionary of strings stays one
    (the gate reads its few distinct values, not every record's)."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        if kind.value_type == pa.string():
            return array
        array, kind = array.dictionary_decode(), kind.value_type
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if kind in TEXT_TYPES:
        return array if kind == pa.string() else pc.cast(array, pa.string())
    if dates and (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
        return pc.cast(pc.cast(array, pa.date32()), pa.string())
    return None


def days(distinct_values: pa.Array) -> pa.Array:
    """ISO dates and date-times cut to the day; anything else is kept as it is (and refused later).

    Meant for distinct values (a batch's dictionary): a regular expression runs over each."""
    looks_like = pc.match_substring_regex(distinct_values, DATE_PREFIX)
    return pc.if_else(
        pc.fill_null(looks_like, False),
        pc.utf8_slice_codeunits(distinct_values, 0, 10),
        distinct_values,
    )


def distinct(columns: Sequence[pa.Array]) -> tuple[pa.Array, pa.Array]:
    """Codes numbering the distinct tuples of ``columns`` row-wise (0, 1, … in order of first
    appearance, nulls included), and the row where each tuple first appears."""
    key: pa.Array | None = None
    for column in columns:
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        indices = pc.cast(encoded.indices, pa.int64())
        width = max(len(encoded.dictionary), 1)
        key = indices if key is None else pc.add(pc.multiply(key, width), indices)
        # Re-number after each step so that the combined key stays below rows × width.
        key = pc.cast(pc.dictionary_encode(key).indices, pa.int64())
    assert key is not None
    encoded = pc.dictionary_encode(key)
    first_rows = pc.index_in(encoded.dictionary, value_set=key)
    return pc.cast(encoded.indices, pa.int64()), first_rows


def arange(rows: int) -> pa.Array:
    """0, 1, … rows-1 as uint64, built in Arrow."""
    return pc.indices_nonzero(pc.is_null(pa.nulls(rows, pa.int8())))


def offsets(values: pa.Array) -> pa.Array:
    """The value offsets of a binary or string array (one more than its length), as int64."""
    kind = pa.int64() if pa.types.is_large_binary(values.type) else pa.int32()
    found = pa.Array.from_buffers(
        kind, len(values) + 1, [None, values.buffers()[1]], offset=values.offset
    )
    return found if kind == pa.int64() else pc.cast(found, pa.int64())


def int64_values(values: pa.Array) -> pa.Buffer:
    """The values of an integer array without nulls as int64, from its first one (what the C
    extensions read), without copying when they are int64 already."""
    values = pc.cast(values, pa.int64())
    return values.buffers()[1].slice(values.offset * 8, len(values) * 8)


def concatenated(values: pa.Array) -> pa.Buffer:
    """The bytes of a binary or string array's values laid end to end, without copying."""
    if len(values) == 0:
        return pa.py_buffer(b"")
    bounds = offsets(values)
    start, end = bounds[0].as_py(), bounds[len(values)].as_py()
    return values.buffers()[2].slice(start, end - start)
