"""Parquet shards: the split keeps every column, blocked rows gain a `_policy` struct column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policyengine.diagnostics import PolicyEngineError

from .conftest import DEEPSEEK, OPENAI, Scan, records, write_parquet


def test_round_trip_keeps_every_row_and_column(scan: Scan, tmp_path: Path) -> None:
    """Allowed + blocked rows are the input rows; allowed rows are unchanged."""
    rows = [*records(4, **DEEPSEEK), *records(3, **OPENAI), *records(2, **DEEPSEEK)]
    shard = write_parquet(tmp_path / "s.parquet", rows)
    report = scan(shard, allowed=tmp_path / "a.parquet", blocked=tmp_path / "b.parquet")
    allowed = pq.read_table(tmp_path / "a.parquet")
    blocked = pq.read_table(tmp_path / "b.parquet")
    assert allowed.to_pylist() == rows[:4] + rows[7:]
    assert blocked.drop_columns(["_policy"]).to_pylist() == rows[4:7]
    assert (report.records, report.allowed, report.blocked) == (9, 6, 3)


def test_policy_column_holds_verdict_rules_reason_and_row(scan: Scan, tmp_path: Path) -> None:
    """`_policy` is a struct of verdict, rules, reason, file, line (the row) and generation."""
    shard = write_parquet(tmp_path / "s.parquet", [*records(1, **DEEPSEEK), *records(1, **OPENAI)])
    scan(shard, blocked=tmp_path / "b.parquet")
    (policy,) = pq.read_table(tmp_path / "b.parquet").column("_policy").to_pylist()
    assert policy["verdict"] == "violation"
    assert policy["rules"] == ["openai.services-agreement.2025-05.no-competing-models"]
    assert (policy["file"], policy["line"], policy["generation"]) == (str(shard), 2, None)


def test_dates_timestamps_and_dictionary_columns_are_read(scan: Scan, tmp_path: Path) -> None:
    """`generated_at` may be a date or timestamp; text columns may be dictionary-encoded."""
    schema = pa.schema(
        [
            ("text", pa.string()),
            ("provider", pa.dictionary(pa.int32(), pa.string())),
            ("model", pa.large_string()),
            ("channel", pa.string()),
            ("generated_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    moment = dt.datetime(2025, 2, 10, 12, tzinfo=dt.UTC)
    rows = [{**DEEPSEEK, "text": "t", "generated_at": moment}]
    shard = write_parquet(tmp_path / "s.parquet", rows, schema)
    report = scan(shard)
    assert report.allowed == 1
    assert report.provenance[0].generated_at == "2025-02-10"


def test_a_provenance_column_that_is_not_text_is_a_field_map_error(
    scan: Scan, tmp_path: Path
) -> None:
    """An integer `provider` column is PE603 for the file, and nothing is written."""
    shard = write_parquet(tmp_path / "s.parquet", [{"provider": 7, "text": "t"}])
    with pytest.raises(PolicyEngineError) as raised:
        scan(shard, allowed=tmp_path / "a.parquet")
    assert [d.code for d in raised.value.diagnostics] == ["PE603"]
    assert "int64" in raised.value.diagnostics[0].message
    assert not (tmp_path / "a.parquet").exists()


def test_missing_columns_mean_missing_provenance(scan: Scan, tmp_path: Path) -> None:
    """A file without a `provider` column: every record lacks provenance and needs review."""
    shard = write_parquet(tmp_path / "s.parquet", [{"text": "a"}, {"text": "b"}])
    report = scan(shard)
    assert report.problems["missing"] == 2
    assert report.verdict == "needs_review"


def test_files_with_different_columns_cannot_share_an_output(scan: Scan, tmp_path: Path) -> None:
    """Two shards with different columns into one output: PE606, nothing written."""
    first = write_parquet(tmp_path / "one.parquet", records(2, **DEEPSEEK))
    second = write_parquet(
        tmp_path / "two.parquet", [{**r, "extra": 1} for r in records(2, **DEEPSEEK)]
    )
    with pytest.raises(PolicyEngineError) as raised:
        scan(first, second, allowed=tmp_path / "a.parquet")
    assert [d.code for d in raised.value.diagnostics] == ["PE606"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.parquet", "two.parquet"]


def test_a_file_that_is_not_parquet_is_unreadable(scan: Scan, tmp_path: Path) -> None:
    """Bytes that are not Parquet under a .parquet name: PE601."""
    shard = tmp_path / "s.parquet"
    shard.write_bytes(b"not parquet at all")
    with pytest.raises(PolicyEngineError) as raised:
        scan(shard)
    assert [d.code for d in raised.value.diagnostics] == ["PE601"]


def test_two_workers_write_the_same_parquet_as_one(scan: Scan, tmp_path: Path) -> None:
    """Parquet parts from worker processes join into the same outputs, in input order."""
    shards = [
        write_parquet(tmp_path / f"s{i}.parquet", [*records(3, **DEEPSEEK), *records(2, **OPENAI)])
        for i in range(2)
    ]
    tables = []
    for workers in (1, 2):
        allowed, blocked = tmp_path / f"a{workers}.parquet", tmp_path / f"b{workers}.parquet"
        scan(*shards, workers=workers, ruleset=None, allowed=allowed, blocked=blocked)
        tables.append((pq.read_table(allowed), pq.read_table(blocked)))
    assert tables[0][0].equals(tables[1][0])
    assert tables[0][1].equals(tables[1][1])
    assert [p["file"] for p in tables[1][1].column("_policy").to_pylist()] == [
        str(shards[0]),
        str(shards[0]),
        str(shards[1]),
        str(shards[1]),
    ]
