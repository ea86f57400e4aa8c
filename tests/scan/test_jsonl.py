"""JSON Lines shards: plain, gzip and zstd; nothing lost, allowed lines copied byte for byte."""

from __future__ import annotations

import errno
import gzip
import os
import random
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.scan import jsonl, jsonl_native, policy_lines
from policyengine.scan.fields import DEFAULT
from policyengine.scan.formats import format_of, open_input
from policyengine.scan.gate import Outcome
from policyengine.scan.judge import Decisions

from .conftest import DEEPSEEK, OPENAI, Scan, jsonl_bytes, read_jsonl, records


def _compress(data: bytes, codec: str | None) -> bytes:
    if codec is None:
        return data
    if codec == "gzip":
        return gzip.compress(data)
    return pa.compress(data, codec="zstd", asbytes=True)  # frame without the size prefix below


def _write(path: Path, data: bytes) -> None:
    fmt = format_of(path)
    assert fmt is not None
    if fmt.codec == "zstd":
        with pa.CompressedOutputStream(str(path), "zstd") as stream:
            stream.write(data)
    else:
        path.write_bytes(_compress(data, fmt.codec))


def _read(path: Path) -> bytes:
    fmt = format_of(path)
    assert fmt is not None
    if fmt.codec is None:
        return path.read_bytes()
    with pa.CompressedInputStream(pa.OSFile(str(path)), fmt.codec) as stream:
        return bytes(stream.read())


@pytest.mark.parametrize(
    "suffix", [".jsonl", ".jsonl.gz", ".jsonl.zst"], ids=["plain", "gzip", "zstd"]
)
def test_round_trip_splits_every_record_and_copies_allowed_lines(
    scan: Scan, tmp_path: Path, suffix: str
) -> None:
    """Allowed + blocked = input, in order; allowed lines are the input's bytes exactly."""
    rows = [*records(3, **DEEPSEEK), *records(2, **OPENAI), *records(2, **DEEPSEEK)]
    # Odd spacing and key order that re-serialising would change.
    data = jsonl_bytes(rows).replace(b'"id": 0,', b'"id":   0 ,')
    shard = tmp_path / f"shard{suffix}"
    _write(shard, data)
    allowed, blocked = tmp_path / f"allowed{suffix}", tmp_path / f"blocked{suffix}"
    report = scan(shard, allowed=allowed, blocked=blocked)
    lines = data.splitlines(keepends=True)
    assert _read(allowed) == b"".join(lines[:3] + lines[5:])
    kept = read_jsonl_bytes(_read(blocked).splitlines())
    assert [r["_policy"]["line"] for r in kept] == [4, 5]
    assert [r["provider"] for r in kept] == ["openai", "openai"]
    assert (report.records, report.allowed, report.blocked) == (7, 5, 2)


def read_jsonl_bytes(lines: list[bytes]) -> list[dict[str, object]]:
    import json

    return [json.loads(line) for line in lines]


def test_blocked_records_carry_policy_with_verdict_rules_reason_and_line(
    scan: Scan, tmp_path: Path
) -> None:
    """A denied record keeps its fields and gains `_policy` naming the rule and its line."""
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes([*records(1, **DEEPSEEK), *records(1, **OPENAI)]))
    scan(shard, blocked=tmp_path / "b.jsonl")
    (record,) = read_jsonl(tmp_path / "b.jsonl")
    policy = record.pop("_policy")
    assert record == {"id": 0, "text": "record 0 text", **OPENAI}
    assert policy["verdict"] == "violation"
    assert policy["rules"] == ["openai.services-agreement.2025-05.no-competing-models"]
    assert policy["reason"] == "`openai.services-agreement.2025-05.no-competing-models` (3.3(e))"
    assert (policy["file"], policy["line"], policy["generation"]) == (str(shard), 2, None)


def test_malformed_lines_are_blocked_with_their_line_numbers(scan: Scan, tmp_path: Path) -> None:
    """Bad JSON, non-objects and wrongly typed provenance are blocked as invalid, never dropped."""
    shard = tmp_path / "s.jsonl"
    rows = [
        *records(1, **DEEPSEEK),
        '{"id": 1, "provider": "deepseek"',
        "[1, 2]",
        {"id": 3, "provider": 7},
        *records(1, **DEEPSEEK),
    ]
    shard.write_bytes(jsonl_bytes(rows))
    report = scan(shard, allowed=tmp_path / "a.jsonl", blocked=tmp_path / "b.jsonl")
    assert report.problems["malformed"] == 3
    assert [(e.line, e.code) for e in report.examples] == [(2, "PE610"), (3, "PE610"), (4, "PE610")]
    blocked = read_jsonl(tmp_path / "b.jsonl")
    assert [b["_policy"]["line"] for b in blocked] == [2, 3, 4]
    assert blocked[0]["_raw"] == '{"id": 1, "provider": "deepseek"'
    assert blocked[1]["_raw"] == "[1, 2]"
    assert blocked[2]["id"] == 3
    assert "holds a number" in blocked[2]["_policy"]["reason"]
    assert {b["_policy"]["verdict"] for b in blocked} == {"invalid"}
    assert len(read_jsonl(tmp_path / "a.jsonl")) == 2
    assert report.verdict == "violation"


@pytest.mark.parametrize(
    ("data", "lines"),
    [
        (b'{"a": 1}\n\n  \n{"a": 2}\n', [1, 4]),
        (b'{"a": 1}\r\n{"a": 2}\r\n', [1, 2]),
        (b'{"a": 1}\n{"a": 2}', [1, 2]),
        (b'{"a": 1} {"a": 2}\n{"a": 3}\n', [1, 2]),
        (b'{"a":\n1}\n', [1, 2]),
        (b'{"provider": "\xe9"}\n{"a": 1}\n', [1, 2]),
    ],
    ids=[
        "blank lines",
        "crlf",
        "no final newline",
        "two objects on a line",
        "object across lines",
        "not utf-8",
    ],
)
def test_line_numbers_stay_true(data: bytes, lines: list[int]) -> None:
    """Each record keeps the number of the line it is on, whatever the block holds."""
    batch, count = jsonl.parse_block(
        data if data.endswith(b"\n") else data + b"\n", 1, DEFAULT, _options()
    )
    assert batch.lines(pa.array(range(len(batch)), pa.int64())).to_pylist() == lines
    assert count == data.count(b"\n") + (not data.endswith(b"\n"))


def _options():  # type: ignore[no-untyped-def]
    import pyarrow.json as pj

    from policyengine.scan.columns import json_schema

    return pj.ParseOptions(explicit_schema=json_schema(DEFAULT), unexpected_field_behavior="ignore")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b'{"a": 1} {"a": 2}', "not JSON"),
        (b'{"a":', "not JSON"),
        (b'{"provider": "\xe9"}', "not UTF-8"),
        (b'"text"', "a string, not a JSON object"),
    ],
    ids=["two objects", "cut off", "latin-1 byte", "a bare string"],
)
def test_unreadable_lines_say_why(line: bytes, problem: str) -> None:
    """A line that is not one JSON object gets a problem naming what is wrong."""
    batch, _ = jsonl.parse_block(line + b"\n", 7, DEFAULT, _options())
    (found,) = batch.problem.to_pylist()
    assert problem in found


def test_blocks_split_on_line_boundaries_keep_every_record(tmp_path: Path) -> None:
    """With a block smaller than a line, every record is read once with its line number."""
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes([*records(5, **DEEPSEEK), "oops", *records(4, **OPENAI)]))
    fmt = format_of(shard)
    assert fmt is not None
    batches = list(jsonl.read(shard, fmt, DEFAULT, block=40))
    lines = [
        line
        for batch in batches
        for line in batch.lines(pa.array(range(len(batch)), pa.int64())).to_pylist()
    ]
    assert lines == list(range(1, 11))
    providers = [p for b in batches for p in b.provenance["provider"].to_pylist()]
    assert providers == ["deepseek"] * 5 + [None] + ["openai"] * 4


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=12),
    terminated=st.booleans(),
    block=st.integers(1, 64),
    compressed=st.booleans(),
    mapped=st.booleans(),
)
def test_blocks_hold_every_byte_once_in_whole_lines(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[bytes],
    terminated: bool,
    block: int,
    compressed: bool,
    mapped: bool,
) -> None:
    """Taken from a plain file (mapped, or read where mapping fails; again from each block's last
    line end) or from a decompressed stream (cut in place), the blocks are the file's bytes in
    order, each ending a line."""
    data = b"\n".join(lines) + (b"\n" if terminated and lines else b"")
    shard = tmp_path_factory.mktemp("blocks") / ("s.jsonl.gz" if compressed else "s.jsonl")
    shard.write_bytes(gzip.compress(data) if compressed else data)
    blocks = _plain_blocks(shard, block, mapped)
    assert all(b.endswith(b"\n") and b for b in blocks)
    expected = data if not data or data.endswith(b"\n") else data + b"\n"
    assert b"".join(blocks) == expected


def _plain_blocks(shard: Path, block: int, mapped: bool = True) -> list[bytes]:
    """The blocks of ``shard``; with ``mapped`` False, a plain file's bytes are read, as where
    the system cannot map it."""
    fmt = format_of(shard)
    assert fmt is not None
    with ExitStack() as stack:
        if not mapped:
            refused = OSError(errno.ENODEV, os.strerror(errno.ENODEV))
            stack.enter_context(mock.patch.object(jsonl.mmap, "mmap", side_effect=refused))
        stream, raw = stack.enter_context(open_input(shard, fmt))
        found = [bytes(memoryview(b)) for b in jsonl._blocks(stream, shard, block)]
        if fmt.codec is None:
            assert raw.tell() == shard.stat().st_size  # what progress is told
    return found


def test_mapped_and_read_blocks_agree_across_mapping_boundaries(tmp_path: Path) -> None:
    """Blocks starting anywhere in a file of a few MiB (mappings start on page boundaries) hold
    the same bytes mapped as read."""
    rng = random.Random(3)
    lines = [b"x" * rng.randrange(0, 9000) for _ in range(1200)]
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(b"\n".join(lines))
    mapped, read = _plain_blocks(shard, 65_537), _plain_blocks(shard, 65_537, mapped=False)
    assert len(mapped) > 50
    assert mapped == read
    assert b"".join(mapped) == shard.read_bytes() + b"\n"


def test_a_file_that_says_it_is_empty_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of /proc and some other file systems report a size of 0: their bytes are read (not
    mapped) until the end, rather than taken for an empty shard."""
    shard = tmp_path / "s.jsonl"
    data = b"".join(b'{"n": %d}\n' % n for n in range(5000))
    shard.write_bytes(data)
    monkeypatch.setattr(jsonl.os, "fstat", lambda fd: os.stat_result((0,) * 10))
    mapped = mock.patch.object(jsonl.mmap, "mmap", side_effect=AssertionError("mapped"))
    with mapped:
        blocks = _plain_blocks(shard, 4096)
    assert len(blocks) > 10
    assert b"".join(blocks) == data


def test_a_newline_far_before_a_blocks_end_is_found(tmp_path: Path) -> None:
    """The last newline is looked for from the end a window at a time: one 200 KiB back too."""
    shard = tmp_path / "s.jsonl"
    first, long = b'{"provider": "meta"}\n', b'{"text": "' + b"x" * (200 << 10) + b'"}\n'
    shard.write_bytes(first + long)
    fmt = format_of(shard)
    assert fmt is not None
    with open_input(shard, fmt) as (stream, _):
        blocks = [bytes(memoryview(b)) for b in jsonl._blocks(stream, shard, 150 << 10)]
    assert blocks == [first, long]


def test_nested_fields_and_list_positions_are_read(scan: Scan, tmp_path: Path) -> None:
    """A field map reaches into objects and lists (`messages.-1.content`)."""
    from policyengine.scan import fields

    shard = tmp_path / "s.jsonl"
    row = {
        "meta": {"source": {"provider": "deepseek", "model": "deepseek-r1"}},
        "channel": "open_weights",
        "generated_at": "2025-02-10",
        "messages": [{"content": "question"}, {"content": "answer text"}],
    }
    shard.write_bytes(jsonl_bytes([row]))
    mapping = fields.from_options(
        ["provider=meta.source.provider", "model=meta.source.model", "text=messages.-1.content"]
    )
    report = scan(shard, fields=mapping)
    assert (report.allowed, report.characters) == (1, len("answer text"))


def test_a_corrupt_compressed_shard_is_an_input_error(scan: Scan, tmp_path: Path) -> None:
    """A gzip file cut short raises PE601, and no output is written."""
    from policyengine.diagnostics import PolicyEngineError

    shard = tmp_path / "s.jsonl.gz"
    shard.write_bytes(gzip.compress(jsonl_bytes(records(50, **DEEPSEEK)))[:40])
    with pytest.raises(PolicyEngineError) as raised:
        scan(shard, allowed=tmp_path / "a.jsonl")
    assert [d.code for d in raised.value.diagnostics] == ["PE601"]
    assert list(tmp_path.iterdir()) == [shard]


ROWS = st.sampled_from(
    [
        {**OPENAI, "text": "a"},
        {**DEEPSEEK, "text": 'b \u00e9 \\ "quoted"'},
        {"provider": "acme", "model": "m1", "text": "c"},
        {"provider": "openai"},
        {},
        "{ }",
        "   ",
        '{"provider": "openai", "model": "gpt-4o", "text": "x"}  ',
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROWS, min_size=1, max_size=12))
def test_blocked_lines_are_spliced_alike_in_c_and_in_arrow(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[dict[str, str] | str]
) -> None:
    """Empty objects, blank lines (line numbers that skip), trailing space, escapes, several
    outcomes in one block: the blocked output's bytes do not depend on the C extension."""
    if jsonl_native.walker is None:
        pytest.skip("the C extension was not built (no C compiler)")
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes(rows))
    outputs = []
    for walker in (jsonl_native.walker, None):
        with monkeypatch.context() as patch:
            patch.setattr(jsonl_native, "walker", walker)
            scan(shard, blocked=tmp_path / "b.jsonl")
        outputs.append((tmp_path / "b.jsonl").read_bytes())
    assert outputs[0] == outputs[1]


def test_fragments_stay_in_step_while_the_judge_adds_a_tuple() -> None:
    """Lines are made on a writing thread while the scan decides: a tuple whose key is in but
    whose outcome is not yet gets no fragments, and arrays asked for together are as long."""
    decisions = Decisions()
    decisions.add(("openai",) + (None,) * 8, Outcome("violation", ("r",), "why"))
    fragments = policy_lines.Fragments(decisions, "s.jsonl")
    assert len(fragments.array("heads")) == 1
    decisions.keys.append(("meta",) + (None,) * 8)  # the judge, between key and outcome
    heads, tails = fragments.arrays("heads", "tails")
    assert (len(heads), len(tails)) == (1, 1)
    decisions.outcomes.append(Outcome("compliant", (), ""))
    assert [len(a) for a in fragments.arrays("heads", "tails", "fronts", "ends")] == [2] * 4


def test_a_record_with_a_policy_already_gets_it_replaced(scan: Scan, tmp_path: Path) -> None:
    """A blocked record that carried a `_policy` of its own has exactly one, the gate's."""
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes([{**OPENAI, "text": "t", "_policy": {"verdict": "compliant"}}]))
    scan(shard, blocked=tmp_path / "b.jsonl")
    line = (tmp_path / "b.jsonl").read_text(encoding="utf-8")
    assert line.count('"_policy"') == 1
    assert read_jsonl(tmp_path / "b.jsonl")[0]["_policy"]["verdict"] == "violation"


def test_only_a_record_with_the_key_itself_is_rewritten(scan: Scan, tmp_path: Path) -> None:
    """`my_policy` or `_policy` inside the text is not a `_policy` key: those lines keep their
    bytes, with the gate's `_policy` added; the one with the key is rewritten."""
    rows = [
        {**OPENAI, "text": "a", "my_policy": 1},
        {**OPENAI, "text": 'says "_policy" in passing'},
        {**OPENAI, "text": "b", "_policy": "theirs"},
        {**OPENAI, "text": "c"},
    ]
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes(rows))
    scan(shard, blocked=tmp_path / "b.jsonl")
    written = (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()
    originals = jsonl_bytes(rows).decode().splitlines()
    for number in (0, 1, 3):
        assert written[number].startswith(originals[number][:-1] + ', "_policy": {')
    assert written[2].count('"_policy"') == 1
    assert [record["_policy"]["line"] for record in read_jsonl(tmp_path / "b.jsonl")] == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize(
    "line",
    ["{}", "{ }", '{"text": "t"}  ', '{"text": "t"}\r'],
    ids=["empty", "spaced", "trailing spaces", "carriage return"],
)
def test_blocked_lines_stay_valid_json(scan: Scan, tmp_path: Path, line: str) -> None:
    """Whatever spacing a blocked object has, its line with `_policy` added is valid JSON."""
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(line.encode() + b"\n")
    scan(shard, blocked=tmp_path / "b.jsonl")
    (record,) = read_jsonl(tmp_path / "b.jsonl")
    assert record["_policy"]["verdict"] == "needs_review"
    assert set(record) - {"_policy"} <= {"text"}
