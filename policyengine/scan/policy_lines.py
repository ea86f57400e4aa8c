"""JSON Lines outputs as bytes: allowed lines as read, blocked lines with ``_policy`` spliced in.

Allowed records are copied as the bytes they were read as (a block in which every line is allowed is
written in one piece). A blocked line gets ``"_policy": {…}`` before its closing brace, built from
fragments made once per decided tuple and file; a line that is not a JSON object (or already holds a
``_policy``) is rewritten in Python, a non-object kept as text under ``_raw`` beside its ``_policy``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from policyengine.scan import columns, jsonl_native
from policyengine.scan.gate import GENERATION
from policyengine.scan.identify import SAYS
from policyengine.scan.judge import Decisions, Judged

POLICY: Final = "_policy"
RAW: Final = "_raw"
_BYTES = pa.large_binary()


def allowed_jsonl(judged: Judged) -> pa.Buffer:
    """The allowed records' lines as read, each ending with a newline."""
    batch = judged.batch
    assert batch.raw is not None
    if batch.block is not None and pc.all(judged.allowed).as_py():
        return batch.block
    return columns.concatenated(batch.raw.filter(judged.allowed))


def blocked_jsonl(
    judged: Judged, rows: pa.Array, name: str, pieces_of: Fragments | None = None
) -> pa.Buffer:
    """The blocked records' lines, each with a ``_policy`` field added before its closing brace;
    ``pieces_of`` holds the fragments of earlier batches of the same file and judge."""
    batch = judged.batch
    assert batch.raw is not None
    chosen = pc.indices_nonzero(rows)
    if len(chosen) == 0:
        return pa.py_buffer(b"")
    if pieces_of is None:
        pieces_of = Fragments(judged.decisions, name)
    codes_of = pc.take(judged.codes, chosen)
    closed = pc.all(pc.ends_with(batch.raw, "}\n")).as_py()
    phrases = judged.phrases(chosen)
    unreadable = pc.and_(
        pc.is_valid(pc.take(batch.problem, chosen)), pc.is_null(judged.generations(chosen))
    )
    # A record that already has a `_policy` would end up with two; those few are rewritten.
    rewrite = pc.or_(unreadable, pc.take(_has_policy(batch.raw), chosen))
    plain = closed and phrases.null_count == len(phrases) and not pc.any(rewrite).as_py()
    if plain and jsonl_native.walker is not None:
        return _spliced(batch.raw, chosen, codes_of, batch.lines(chosen), pieces_of)
    if closed:
        # Each line without its closing brace, copied once, straight from the block.
        body = pc.take(_bodies(batch.raw), pc.multiply(chosen, pa.scalar(2, pa.uint64())))
    else:
        # Drop the closing brace: one byte for most, a regex for those with trailing space.
        lines = pc.take(batch.raw, chosen)
        ended = pc.ends_with(lines, "}\n")
        trimmed = pc.replace_substring_regex(lines, pattern=r"\}\s*$", replacement="")
        body = pc.if_else(ended, pc.binary_slice(lines, 0, -2), trimmed)
    # An object with no keys has no quote in it; a non-empty one has one near its start.
    empty = pc.invert(pc.match_substring(body, '"'))
    comma = pc.if_else(empty, pa.scalar(b"", _BYTES), pa.scalar(b", ", _BYTES))
    tail = pc.take(pieces_of.array("tails"), codes_of)
    numbers = pc.cast(pc.cast(batch.lines(chosen), pa.string()), _BYTES)
    nothing = pa.scalar(b"", _BYTES)
    if phrases.null_count == len(phrases):
        head = pc.take(pieces_of.array("heads"), codes_of)
        pieces = pc.binary_join_element_wise(body, comma, head, numbers, tail, nothing)
    else:
        front = pc.take(pieces_of.array("fronts"), codes_of)
        end = pc.take(pieces_of.array("ends"), codes_of)
        said = pc.fill_null(_said_json(phrases), nothing)
        pieces = pc.binary_join_element_wise(body, comma, front, said, end, numbers, tail, nothing)
    if pc.any(rewrite).as_py():
        pieces = _rewrap(judged, chosen, rewrite, pieces, name)
    return columns.concatenated(pieces)


def _spliced(
    raw: pa.Array, chosen: pa.Array, codes: pa.Array, numbers: pa.Array, pieces_of: Fragments
) -> pa.Buffer:
    """The chosen lines (each ending with ``}\\n``) with their ``_policy`` spliced in by the C
    extension, in one copy."""
    walker = jsonl_native.walker
    assert walker is not None
    heads, tails = pieces_of.arrays("heads", "tails")
    return pa.py_buffer(
        walker.splice(
            raw.buffers()[1],
            raw.buffers()[2],
            raw.offset,
            columns.int64_values(chosen),
            columns.int64_values(codes),
            columns.int64_values(numbers),
            *heads.buffers()[1:],
            *tails.buffers()[1:],
        )
    )


def _bodies(raw: pa.Array) -> pa.Array:
    """Lines that each end with ``}\\n`` as an array over their own bytes, twice as long: value
    ``2 * i`` is line ``i`` without its closing brace and newline, value ``2 * i + 1`` those two."""
    bounds = columns.offsets(raw)
    count = len(raw)
    starts, ends = bounds.slice(0, count), bounds.slice(1, count)
    halves = pc.subtract(ends, pa.scalar(2, pa.int64()))
    # Offsets s0, e0 - 2, s1, e1 - 2, …, e(n-1): lines lie end to end, so s(i+1) is e(i).
    step = pc.cast(columns.arange(2 * count), pa.int64())
    line = pc.shift_right(step, pa.scalar(1, pa.int64()))
    odd = pc.bit_wise_and(step, pa.scalar(1, pa.int64()))
    picked = pc.add(line, pc.multiply(odd, pa.scalar(count, pa.int64())))
    ends_last = pa.array([bounds[count].as_py()], pa.int64())
    interleaved = pa.concat_arrays([pc.take(pa.concat_arrays([starts, halves]), picked), ends_last])
    return pa.Array.from_buffers(
        _BYTES, 2 * count, [None, interleaved.buffers()[1], raw.buffers()[2]]
    )


def _has_policy(raw: pa.Array) -> pa.Array:
    """Whether each line holds the text ``"_policy"`` (a record with the key already has it)."""
    # RE2 skips to each `_` (rare outside keys) where it would stop at every `"`; the few lines
    # it finds are checked for the exact text.
    maybe = pc.match_substring_regex(raw, re.escape(f'{POLICY}"'))
    if not pc.any(maybe).as_py():
        return maybe
    exact = pc.match_substring(pc.filter(raw, maybe), f'"{POLICY}"')
    return pc.replace_with_mask(maybe, maybe, exact)


def _policy(
    outcome: Any,
    name: str | None,
    line: int | None,
    generation: str | None,
    reason: str | None = None,
) -> dict[str, Any]:
    """The ``_policy`` value of one record, keys in the order the Parquet struct has them."""
    return {
        "verdict": outcome.verdict,
        "rules": list(outcome.rules),
        "reason": outcome.reason if reason is None else reason,
        "file": name,
        "line": line,
        "generation": generation,
    }


@functools.lru_cache(maxsize=4096)
def _fragments(outcome: Any, generation: str | None, name: str) -> tuple[bytes, bytes, bytes]:
    """The JSON of ``"_policy": {…}`` for one outcome, cut where each record's reason ends (for
    the phrase a self-identifying record adds) and where its line number goes."""
    text = json.dumps({POLICY: _policy(outcome, name, 0, generation)}, ensure_ascii=False)
    head, _, tail = text[1:].partition('"line": 0')
    reason = json.dumps({"reason": outcome.reason}, ensure_ascii=False)[1:-2]  # without `"}`
    front, found, end = head.partition(reason)
    assert found, "the reason is in the `_policy` JSON as `json.dumps` writes it"
    return (front + reason).encode(), (end + '"line": ').encode(), (tail + "\n").encode()


class Fragments:
    """The ``_policy`` JSON fragments of every tuple a judge has met, for records of one file,
    as Arrow arrays by tuple id: built once per tuple, extended as the scan meets new ones."""

    def __init__(self, decisions: Decisions, name: str) -> None:
        self.decisions, self.name = decisions, name
        self._lists: dict[str, list[bytes]] = {k: [] for k in ("fronts", "ends", "tails", "heads")}
        self._arrays: dict[str, pa.Array] = {}

    def array(self, kind: str) -> pa.Array:
        """``fronts`` (up to the reason's end), ``ends`` (to the line number), ``tails`` (after
        it) or ``heads`` (front and end together) of each tuple id."""
        (found,) = self.arrays(kind)
        return found

    def arrays(self, *kinds: str) -> tuple[pa.Array, ...]:
        """The arrays of ``kinds``, of the same tuples (the judge may add one meanwhile)."""
        known = len(self._lists["heads"])
        # The judge may be adding a tuple on another thread: its key comes before its outcome.
        decided = len(self.decisions.outcomes)
        outcomes, keys = self.decisions.outcomes[known:decided], self.decisions.keys[known:decided]
        if outcomes or not self._arrays:
            for outcome, key in zip(outcomes, keys, strict=True):
                front, end, tail = _fragments(outcome, key[GENERATION], self.name)
                for name, value in (("fronts", front), ("ends", end), ("tails", tail)):
                    self._lists[name].append(value)
                self._lists["heads"].append(front + end)
            self._arrays = {k: pa.array(v, _BYTES) for k, v in self._lists.items()}
        return tuple(self._arrays[kind] for kind in kinds)


def _said_json(phrases: pa.Array) -> pa.Array:
    """``; the text says `PHRASE``` for each phrase, escaped for a JSON string (null for none)."""
    rows = pc.indices_nonzero(pc.is_valid(phrases))
    escaped = [
        json.dumps(f"{SAYS}`{phrase}`", ensure_ascii=False)[1:-1].encode()
        for phrase in pc.take(phrases, rows).to_pylist()
    ]
    return pc.replace_with_mask(
        pa.nulls(len(phrases), _BYTES), pc.is_valid(phrases), pa.array(escaped, _BYTES)
    )


def _rewrap(
    judged: Judged, chosen: pa.Array, rewrite: pa.Array, pieces: pa.Array, name: str
) -> pa.Array:
    """Lines that could not be read as records (or hold a ``_policy`` already), re-written in
    Python: a JSON object gets ``_policy`` set as data, anything else is kept as text under
    ``_raw`` beside it."""
    rows = pc.filter(chosen, rewrite)
    raws = pc.take(judged.batch.raw, rows).to_pylist()
    lines = judged.batch.lines(rows).to_pylist()
    generations = judged.generations(rows).to_pylist()
    reasons = judged.reasons(rows).to_pylist()
    outcomes = [judged.outcomes[code] for code in pc.take(judged.codes, rows).to_pylist()]
    replaced = []
    for raw, line, outcome, generation, reason in zip(
        raws, lines, outcomes, generations, reasons, strict=True
    ):
        policy = _policy(outcome, name, line, generation, reason)
        try:
            record = json.loads(raw)
        except ValueError:
            record = None
        if isinstance(record, dict):
            record[POLICY] = policy
        else:
            text = raw.removesuffix(b"\n").decode("utf-8", errors="replace")
            record = {POLICY: policy, RAW: text}
        replaced.append(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return pc.replace_with_mask(pieces, rewrite, pa.array(replaced, _BYTES))
