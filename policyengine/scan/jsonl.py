"""JSON Lines shards → :class:`Batch` values, block by block, with each record's line and bytes.

The file is read in blocks of whole lines. A block becomes an Arrow array of its lines (each a
view into the block's bytes, newline included, so that allowed lines are copied out in one take).
The native walker (:mod:`.jsonl_native`) reads the mapped fields of every line in one pass without
parsing the rest. A block it leaves (it is not built; a path indexes a list; some line is not
plainly one JSON object with text at the mapped paths) goes to ``pyarrow.json``, which parses it
with an explicit schema naming only the mapped fields; and a block where something is off (a line
that is not one JSON object, a value of the wrong type, bytes that are not UTF-8) is parsed again
line by line in Python, to find each bad line and say what is wrong with it.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from policyengine.diagnostics import PolicyEngineError
from policyengine.scan import columns
from policyengine.scan.batch import Batch
from policyengine.scan.fields import FIELDS, PROVENANCE, FieldMap, FieldPath, absent, dotted
from policyengine.scan.formats import Format, open_input, unreadable
from policyengine.scan.jsonl_native import Block, Plan, Seen, as_buffer, read_block

BLOCK: Final = 8 << 20
"""Bytes read at a time; a block holds whole lines, so a longer line makes a longer block."""

_BLANK: Final = b" \t\r\n"


def read(
    path: Path,
    fmt: Format,
    fields: FieldMap,
    *,
    progress: Callable[[int], None] | None = None,
    block: int = BLOCK,
    text: bool = True,
) -> Iterator[Batch]:
    """The records of a JSON Lines file, one batch per block of lines. Without ``text``, batches
    may leave the texts out (as nulls) and carry their characters counted instead.

    Raises PolicyEngineError: PE601 when the file cannot be read or decompressed, PE603 at its end
    when a field mapped explicitly occurs in none of its records (the outputs are not written).
    """
    options = pj.ParseOptions(
        explicit_schema=columns.json_schema(fields), unexpected_field_behavior="ignore"
    )
    plan = Plan.of(fields, text)
    line = 1
    unseen = {name: fields.path(name) for name in sorted(fields.explicit)}
    records = 0
    values = Seen()
    with open_input(path, fmt) as (stream, raw):
        seen = 0
        for data in _blocks(stream, path, block):
            walked = read_block(data, line, plan, values) if plan is not None else None
            if walked is None:
                batch, count = parse_block(data, line, fields, options)
                held = None
            else:
                batch, count, held = walked
            line += count
            records += len(batch)
            if unseen:
                _occurring(unseen, batch, data, held)
            if len(batch):
                yield batch
            if progress is not None:
                progress(raw.tell() - seen)
                seen = raw.tell()
    if unseen and records:
        raise PolicyEngineError([absent(n, p, str(path), "record") for n, p in unseen.items()])


def _occurring(
    unseen: dict[str, FieldPath], batch: Batch, data: Block, held: list[bool] | None
) -> None:
    """Forget the fields of ``unseen`` that some record of the block holds: a value at the path
    (``held`` says so per field where the walker read the block), or (for nulls) every key of the
    path written somewhere in the block."""
    written: bytes | bytearray | None = None  # the block's bytes, taken once if needed
    for name, path in list(unseen.items()):
        values = batch.text if name == "text" else batch.provenance[name]
        if held[FIELDS.index(name)] if held is not None else values.null_count < len(values):
            del unseen[name]
            continue
        if written is None:
            written = data if isinstance(data, bytes | bytearray) else data.to_pybytes()
        if all(json.dumps(key).encode() in written for key in path if isinstance(key, str)):
            del unseen[name]


def _blocks(stream: pa.NativeFile, path: Path, size: int) -> Iterator[Block]:
    """Blocks of whole lines, each ending with a newline (one is added to an unterminated end)."""
    if stream.seekable():
        return _file_blocks(stream, path, size)
    return _stream_blocks(stream, path, size)


def _file_blocks(file: pa.NativeFile, path: Path, size: int) -> Iterator[Block]:
    """The blocks of a plain file, each taken from where the last one's lines ended (the partial
    line at a block's end is taken again with the next one rather than copied)."""
    at, want = 0, size
    try:
        # A file that says it is empty may not be (one of /proc, say): it is read to its end.
        end = os.fstat(file.fileno()).st_size or None
    except (OSError, pa.ArrowException) as error:
        raise unreadable(path, _reason(error)) from None
    while True:
        try:
            chunk = _read_at(
                file, at, want if end is None else min(want, end - at), end is not None
            )
        except (OSError, pa.ArrowException) as error:
            raise unreadable(path, _reason(error)) from None
        if not chunk.size:
            return
        cut = _after_last_newline(chunk)
        if cut == 0 and chunk.size == want:
            want *= 2  # a line longer than a block: read on until it ends
            continue
        if cut == 0:
            yield pa.py_buffer(chunk.to_pybytes() + b"\n")  # the last line, unterminated
            return
        yield chunk if cut == chunk.size else chunk.slice(0, cut)
        at, want = at + cut, size


def _read_at(file: pa.NativeFile, at: int, length: int, mappable: bool = True) -> pa.Buffer:
    """Up to ``length`` bytes of the file from ``at``, leaving the file's position after them.

    The bytes are mapped where the system maps the file (``mappable``: they all lie before the
    file's end): the walker then reads the page cache itself, with no copy into a buffer (a tenth
    of a decide-only scan's time), and the mapping ends when the block's last buffer is
    released, so memory holds the blocks in use, not the file. Otherwise Arrow reads them,
    without holding the GIL.
    """
    if length <= 0:
        return pa.py_buffer(b"")
    if mappable:
        start = at - at % mmap.ALLOCATIONGRANULARITY  # a mapping starts on this boundary
        try:
            mapped = mmap.mmap(
                file.fileno(), length + at - start, offset=start, access=mmap.ACCESS_READ
            )
        except (OSError, ValueError):  # a file system that does not map files
            pass
        else:
            file.seek(at + length)
            return pa.py_buffer(mapped).slice(at - start)
    file.seek(at)
    return file.read_buffer(length)


def _after_last_newline(chunk: pa.Buffer) -> int:
    """Where the bytes after ``chunk``'s last newline begin (0: it holds none)."""
    view, end = memoryview(chunk), len(chunk)
    while end > 0:
        start = max(end - (64 << 10), 0)
        found: int = bytes(view[start:end]).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


def _stream_blocks(stream: pa.NativeFile, path: Path, size: int) -> Iterator[Block]:
    """The blocks of a decompressed stream, which cannot be read again: each block is read into
    a buffer of its own after the partial line the previous one left, and cut at its last newline
    in place, so the bytes are copied once, by the read.
    """
    rest = b""
    while True:
        block = bytearray(len(rest) + size)
        block[: len(rest)] = rest
        try:
            got = stream.readinto(memoryview(block)[len(rest) :])
        except (OSError, pa.ArrowException) as error:
            raise unreadable(path, _reason(error)) from None
        if not got:
            if rest:
                yield bytearray(rest + b"\n")
            return
        end = len(rest) + got
        cut = block.rfind(b"\n", 0, end) + 1
        if cut == 0:
            rest = bytes(block[:end])  # one line longer than a block: keep reading until it ends
            continue
        rest = bytes(block[cut:end])
        del block[cut:]
        yield block


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:1].lower() + text[1:]


def split_lines(data: Block) -> pa.Array:
    """The lines of ``data`` (which ends with a newline) as a large_binary array whose values are
    ``data`` itself: element i is line i with its newline, and no byte is copied."""
    buffer = as_buffer(data)
    whole = pa.Array.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(struct.pack("<qq", 0, len(data))), buffer]
    )
    pieces = pc.split_pattern(whole, b"\n").values  # the lines without newlines, and one empty
    count = len(pieces) - 1
    # Line i starts where piece i starts plus the i newlines before it.
    starts = pc.add(
        columns.offsets(pieces).slice(0, count + 1), pc.cast(columns.arange(count + 1), pa.int64())
    )
    return pa.Array.from_buffers(pa.large_binary(), count, [None, starts.buffers()[1], buffer])


def parse_block(
    data: Block, first_line: int, fields: FieldMap, options: pj.ParseOptions
) -> tuple[Batch, int]:
    """The batch of one block and the number of lines it spans."""
    lines = split_lines(data)
    count = len(lines)
    odd = pc.invert(pc.and_(pc.starts_with(lines, "{"), pc.ends_with(lines, "}\n")))
    blank: list[int] = []
    for row in pc.indices_nonzero(odd).to_pylist():
        stripped = lines[row].as_py().strip(_BLANK)
        if stripped and not (stripped.startswith(b"{") and stripped.endswith(b"}")):
            return by_line(lines, first_line, fields), count
        if not stripped:
            blank.append(row)
    table = _fast(data, options, count - len(blank))
    if table is None:
        return by_line(lines, first_line, fields), count
    batch = Batch(
        provenance={},
        problem=pa.nulls(table.num_rows, pa.string()),
        text=pa.nulls(0, pa.string()),
        first_line=first_line,
        raw=lines,
        block=as_buffer(data),
    )
    if blank:
        keep = pc.invert(pc.is_in(columns.arange(count), value_set=pa.array(blank, pa.uint64())))
        positions = pc.indices_nonzero(keep)
        batch.line_of = pc.add(pc.cast(positions, pa.int64()), first_line)
        batch.raw, batch.block = pc.take(lines, positions), None
    try:
        for name in FIELDS:
            found = columns.extract(table, fields.path(name))
            text = found if found is not None else pa.nulls(table.num_rows, pa.string())
            text.validate(full=True)  # pyarrow.json does not check UTF-8 inside strings
            if name == "text":
                batch.text = text
            else:
                batch.provenance[name] = text
    except pa.ArrowInvalid:
        return by_line(lines, first_line, fields), count
    return batch, count


def _fast(data: Block, options: pj.ParseOptions, expected: int) -> pa.Table | None:
    """The block parsed by pyarrow, or None when it refuses it or finds another number of records
    than there are non-blank lines (two objects on one line, an object across lines)."""
    try:
        table = pj.read_json(
            pa.BufferReader(data),
            read_options=pj.ReadOptions(use_threads=True, block_size=1 << 20),
            parse_options=options,
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # ArrowNotImplementedError is how pyarrow refuses a value it cannot convert to the schema
        # (an object where text belongs): the line-by-line parse says which line and why.
        return None
    return table if table.num_rows == expected else None


def by_line(lines: pa.Array, first_line: int, fields: FieldMap) -> Batch:
    """Parse a block line by line in Python, saying for each bad line what is wrong."""
    paths = {name: fields.path(name) for name in FIELDS}
    values: dict[str, list[str | None]] = {name: [] for name in FIELDS}
    problems: list[str | None] = []
    line_of: list[int] = []
    keep: list[int] = []
    listed = lines.to_pylist()
    for row, raw in enumerate(listed):
        if not raw.strip(_BLANK):
            continue
        keep.append(row)
        line_of.append(first_line + row)
        record, problem = _record(raw.removesuffix(b"\n"))
        found = {name: _field(record, paths[name]) for name in FIELDS} if problem is None else {}
        for name in FIELDS:
            value = found.get(name)
            if value is None or (isinstance(value, str) and _encodable(value)):
                values[name].append(value)
                continue
            values[name].append(None)
            if isinstance(value, str):
                # json reads "\ud800" alone as a surrogate, which is no character of any text.
                problem = problem or (
                    f"`{name}` (at `{dotted(paths[name])}`) holds a lone surrogate escape, "
                    "which stands for no character"
                )
            elif name != "text" and problem is None:
                problem = f"`{name}` (at `{dotted(paths[name])}`) holds {_kind(value)}, not text"
        problems.append(problem)
    return Batch(
        provenance={name: pa.array(values[name], pa.string()) for name in PROVENANCE},
        problem=pa.array(problems, pa.string()),
        text=pa.array(values["text"], pa.string()),
        first_line=first_line,
        line_of=pa.array(line_of, pa.int64()),
        raw=pc.take(lines, pa.array(keep, pa.int64())),
    )


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _record(raw: bytes) -> tuple[Any, str | None]:
    try:
        record = json.loads(raw)
    except UnicodeDecodeError as error:
        return (
            None,
            f"byte {error.object[error.start]:#04x} at column {error.start + 1} is not UTF-8",
        )
    except ValueError as error:
        return None, f"not JSON: {_reason(error)}"
    if not isinstance(record, dict):
        return None, f"the line holds {_kind(record)}, not a JSON object"
    return record, None


def _field(record: Any, path: FieldPath) -> object:
    """The value at ``path``; None where the record lacks it (a JSON null is also None)."""
    for part in path:
        if isinstance(part, int):
            if not isinstance(record, list) or not -len(record) <= part < len(record):
                return None
            record = record[part]
        else:
            if not isinstance(record, dict):
                return None
            record = record.get(part)
    return record


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    return "null"
