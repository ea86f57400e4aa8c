"""The native walker reads exactly what the parsers read, or leaves the block to them.

Every property compares a block read by the walker with the same block parsed line by line in
Python (``jsonl.by_line``, which uses the standard library's json): the mapped values, the texts,
their characters, the lines and their numbers. Where json refuses a line, the walker must refuse
the block; it may leave a readable block to the parsers, but the records these tests build are
plain enough that it must read them itself.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyengine.scan import jsonl, jsonl_native
from policyengine.scan.batch import Batch
from policyengine.scan.fields import DEFAULT, FIELDS, PROVENANCE, FieldMap
from policyengine.scan.formats import format_of

from .conftest import Scan

pytestmark = pytest.mark.skipif(
    jsonl_native.walker is None, reason="the native walker was not built (no C compiler)"
)

NESTED = DEFAULT.with_paths({"provider": ("meta", "source", "provider"), "text": ("body",)})
KEYS = ["provider", "model", "channel", "text", "meta", "source", "body", "x", "é", "provider "]
STRINGS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
) | st.sampled_from(["", "\\", '"', "\n\t\r\x00\x1f", "😀 emoji", "\u2028", "{}", '"provider":'])


def _values(depth: int) -> st.SearchStrategy[Any]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | STRINGS
    )
    if depth == 0:
        return scalars
    inner = _values(depth - 1)
    return scalars | st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner)


RECORDS = st.dictionaries(st.sampled_from(KEYS), _values(3), max_size=6)


def _dump(record: dict[str, Any], style: int) -> bytes:
    """Writers differ: ASCII escapes or raw UTF-8, compact or spaced."""
    if style == 0:
        return json.dumps(record, ensure_ascii=True).encode()
    if style == 1:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    return json.dumps(record, ensure_ascii=False, separators=(" , ", " : ")).encode()


def _walked(
    data: bytes, fields: FieldMap, seen: jsonl_native.Seen | None = None
) -> tuple[Batch, int] | None:
    plan = jsonl_native.Plan.of(fields, text=True)
    assert plan is not None
    found = jsonl_native.read_block(data, 7, plan, seen)
    return None if found is None else found[:2]


def _parsed(data: bytes, fields: FieldMap) -> Batch:
    return jsonl.by_line(jsonl.split_lines(data), 7, fields)


def _columns(batch: Batch) -> dict[str, list[Any]]:
    found = {name: batch.provenance[name].to_pylist() for name in PROVENANCE}
    found["text"] = batch.text.to_pylist()
    found["chars"] = batch.chars().to_pylist()
    found["problem"] = batch.problem.to_pylist()
    found["line"] = batch.lines(pa.array(range(len(batch)), pa.int64())).to_pylist()
    assert batch.raw is not None
    found["raw"] = batch.raw.to_pylist()
    return found


def _plain(record: dict[str, Any], fields: FieldMap) -> bool:
    """Whether the walker must read a record itself: every mapped value is text or absent."""
    for name in FIELDS:
        value: Any = record
        for key in fields.path(name):
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None and not isinstance(value, str) and name != "text":
            return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(RECORDS, st.integers(0, 2)), min_size=1, max_size=8),
    nested=st.booleans(),
    blank=st.booleans(),
)
def test_walker_reads_what_the_parser_reads(
    rows: list[tuple[dict[str, Any], int]], nested: bool, blank: bool
) -> None:
    fields = NESTED if nested else DEFAULT
    lines = [_dump(record, style) for record, style in rows]
    if blank:
        lines.insert(len(lines) // 2, b"  \t")
    data = b"\n".join(lines) + b"\n"
    walked = _walked(data, fields)
    expected = _parsed(data, fields)
    if all(_plain(record, fields) for record, _ in rows):
        assert walked is not None, data
    if walked is not None:
        batch, count = walked
        assert count == len(lines)
        assert _columns(batch) == _columns(expected)
        # Dictionary-encoded, in a file's first block and in a later one that met them all.
        seen = jsonl_native.Seen()
        for _ in range(2):
            encoded = _walked(data, fields, seen)
            assert encoded is not None
            assert _columns(encoded[0]) == _columns(expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=RECORDS, style=st.integers(0, 2), seed=st.integers(0, 2**32))
def test_walker_never_reads_a_line_json_refuses(
    record: dict[str, Any], style: int, seed: int
) -> None:
    """Damage a line (cut, drop, insert or replace a byte): json's verdict binds the walker."""
    line = bytearray(_dump(record, style))
    rng = random.Random(seed)
    at = rng.randrange(len(line) + 1)
    action = rng.randrange(4)
    if action == 0:
        del line[at:]
    elif action == 1 and at < len(line):
        del line[at]
    elif action == 2:
        line.insert(at, rng.choice(b'{}[]",:\\ntfu0-.eE \x01\x7f\xff'))
    elif at < len(line):
        line[at] = rng.randrange(256)
    if b"\n" in line or not line.strip(b" \t\r"):
        return  # a blank line is no record, for either
    try:
        value = json.loads(bytes(line))
    except (ValueError, UnicodeDecodeError):
        value = None
    walked = _walked(bytes(line) + b"\n", DEFAULT)
    if not isinstance(value, dict):
        assert walked is None, bytes(line)
    elif walked is not None:
        assert _columns(walked[0]) == _columns(_parsed(bytes(line) + b"\n", DEFAULT))


@pytest.mark.parametrize(
    ("line", "why"),
    [
        (b'{"provider": "openai", "provider": "meta"}', "a key twice: json keeps the last"),
        (b'{"provider": "\\ud800"}', "a lone surrogate: no character"),
        (b'{"provider": "openai", "text": "a \\udc00"}', "a lone surrogate in the text"),
        (b'{"provider": 7}', "a number where text is wanted"),
        (b'{"provider": "openai"} {"provider": "meta"}', "two objects on a line"),
        (b'["provider", "openai"]', "not an object"),
        (b'{"provider": "open\tai"}', "a raw control character in a string"),
        (b'{"provider": "openai", "text": "caf\xe9"}', "not UTF-8"),
        (b'{"x": ' + b"[" * 70 + b"]" * 70 + b"}", "nested deeper than the walker goes"),
        (b'{"provider": "openai",}', "a trailing comma"),
        (b'{"provider": "openai", "n": 01}', "a number with a leading zero"),
    ],
)
def test_walker_leaves_odd_lines_to_the_parsers(line: bytes, why: str) -> None:
    data = b'{"provider": "meta"}\n' + line + b"\n"
    assert _walked(data, DEFAULT) is None, why
    assert _walked(data, DEFAULT, jsonl_native.Seen()) is None, why


def test_a_value_keeps_its_index_from_block_to_block() -> None:
    seen = jsonl_native.Seen()
    first = _walked(b'{"provider": "meta"}\n{"provider": "openai"}\n{}\n', DEFAULT, seen)
    second = _walked(
        b'{"provider": "open\\u0061i"}\n{"provider": "acme"}\n{"provider": "meta"}\n',
        DEFAULT,
        seen,
    )
    assert first is not None
    assert second is not None
    provider = second[0].provenance["provider"]
    assert pa.types.is_dictionary(provider.type)
    assert provider.indices.to_pylist() == [1, 2, 0]
    assert provider.dictionary.to_pylist() == ["meta", "openai", "acme"]
    assert first[0].provenance["provider"].to_pylist() == ["meta", "openai", None]
    unchanged = _walked(b'{"provider": "acme"}\n', DEFAULT, seen)
    assert unchanged is not None
    kept = unchanged[0].provenance["provider"].dictionary
    assert kept.buffers()[2].address == provider.dictionary.buffers()[2].address


def test_a_dictionary_past_its_limit_starts_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values that differ in every record do not make every block's dictionary longer."""
    monkeypatch.setattr(jsonl_native, "LIMIT", 3)
    seen = jsonl_native.Seen()
    days = [f"2025-01-0{day}T10:00:00Z" for day in range(1, 10)]
    for start in range(0, 9, 2):
        data = b"".join(
            json.dumps({"provider": "meta", "generated_at": day}).encode() + b"\n"
            for day in days[start : start + 2]
        )
        walked = _walked(data, DEFAULT, seen)
        assert walked is not None
        column = walked[0].provenance["generated_at"]
        assert column.to_pylist() == days[start : start + 2]
        assert len(column.dictionary) <= 3 + 2


def test_walker_resolves_escapes_in_keys_and_values() -> None:
    data = b'{"provid\\u0065r": "open\\u0061i", "\\u006dodel": "gpt\\/4o \\"mini\\""}\n'
    walked = _walked(data, DEFAULT)
    assert walked is not None
    assert walked[0].provenance["provider"].to_pylist() == ["openai"]
    assert walked[0].provenance["model"].to_pylist() == ['gpt/4o "mini"']


def test_walker_counts_characters_as_python_does() -> None:
    texts = ["plain", "é and 😀", "tab\tand\nnewline", '\\ and "', "\u2028", "😀" * 3, ""]
    data = b"".join(
        json.dumps({"provider": "meta", "text": text}, ensure_ascii=ascii).encode() + b"\n"
        for text in texts
        for ascii in (True, False)
    )
    walked = _walked(data, DEFAULT)
    assert walked is not None
    expected = [len(text) for text in texts for _ in (True, False)]
    assert walked[0].chars().to_pylist() == expected
    assert walked[0].text.to_pylist() == [text for text in texts for _ in (True, False)]


def test_without_the_text_the_walker_still_counts_its_characters() -> None:
    data = b'{"provider": "meta", "text": "caf\\u00e9 \xf0\x9f\x98\x80"}\n{"provider": "meta"}\n'
    plan = jsonl_native.Plan.of(DEFAULT, text=False)
    assert plan is not None
    found = jsonl_native.read_block(data, 1, plan)
    assert found is not None
    batch, lines, held = found
    assert lines == 2
    assert batch.text.null_count == 2
    assert batch.chars().to_pylist() == [6, 0]
    assert held[FIELDS.index("text")]
    assert not held[FIELDS.index("model")]


def test_a_path_through_a_list_is_left_to_the_parsers() -> None:
    fields = DEFAULT.with_paths({"text": ("messages", -1, "content")})
    assert jsonl_native.Plan.of(fields, text=True) is None


def test_a_scan_without_the_walker_reports_the_same(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example shard (bad lines, blanks, every kind of provenance) both ways."""
    shard = Path(__file__).resolve().parents[2] / "examples" / "shards" / "mixed.jsonl"
    assert format_of(shard) is not None
    walked = scan(shard, allowed=tmp_path / "a.jsonl", blocked=tmp_path / "b.jsonl")
    outputs = [(tmp_path / name).read_bytes() for name in ("a.jsonl", "b.jsonl")]
    monkeypatch.setattr(jsonl_native, "walker", None)
    parsed = scan(shard, allowed=tmp_path / "a.jsonl", blocked=tmp_path / "b.jsonl")
    assert walked.model_dump() == parsed.model_dump()
    assert [(tmp_path / name).read_bytes() for name in ("a.jsonl", "b.jsonl")] == outputs
