"""Outputs appear whole or not at all, and are checked before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyengine.diagnostics import PolicyEngineError
from policyengine.scan import runner

from .conftest import DEEPSEEK, Scan, jsonl_bytes, records, write_parquet


class Boom(Exception):
    """The failure injected in the middle of a scan."""


def test_a_failure_mid_scan_leaves_no_partial_output(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the second file fails after the first was written, no output file exists after."""
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first.write_bytes(jsonl_bytes(records(10, **DEEPSEEK)))
    second.write_bytes(jsonl_bytes(records(10, **DEEPSEEK)))
    original, seen = runner.Judge.__call__, []

    def failing(self, batch):  # type: ignore[no-untyped-def]
        seen.append(batch)
        if len(seen) == 2:
            raise Boom("disk full")
        return original(self, batch)

    monkeypatch.setattr(runner.Judge, "__call__", failing)
    with pytest.raises(Boom):
        scan(first, second, allowed=tmp_path / "a.jsonl", blocked=tmp_path / "b.jsonl")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.jsonl", "two.jsonl"]


def test_a_failed_scan_keeps_the_previous_output(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older allowed file at the path is left exactly as it was."""
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes(records(3, **DEEPSEEK)))
    allowed = tmp_path / "a.jsonl"
    allowed.write_bytes(b"previous\n")

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise Boom("crash")

    monkeypatch.setattr(runner.Judge, "__call__", failing)
    with pytest.raises(Boom):
        scan(shard, allowed=allowed)
    assert allowed.read_bytes() == b"previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "s.jsonl"]


@pytest.mark.parametrize(
    ("output", "code"),
    [
        ("allowed.txt", "PE602"),
        ("allowed.parquet", "PE606"),
        ("missing/allowed.jsonl", "PE606"),
        ("s.jsonl", "PE606"),
    ],
    ids=["unknown suffix", "other format", "no such folder", "an input"],
)
def test_outputs_are_checked_before_reading(
    scan: Scan, tmp_path: Path, output: str, code: str
) -> None:
    """An output of the wrong format, in a missing folder or over an input is refused first."""
    shard = tmp_path / "s.jsonl"
    shard.write_bytes(jsonl_bytes(records(2, **DEEPSEEK)))
    with pytest.raises(PolicyEngineError) as raised:
        scan(shard, allowed=tmp_path / output)
    assert [d.code for d in raised.value.diagnostics] == [code]
    assert shard.read_bytes() == jsonl_bytes(records(2, **DEEPSEEK))


def test_mixed_formats_cannot_share_outputs(scan: Scan, tmp_path: Path) -> None:
    """JSON Lines and Parquet shards together have no single output format: PE606."""
    one = tmp_path / "s.jsonl"
    one.write_bytes(jsonl_bytes(records(2, **DEEPSEEK)))
    two = write_parquet(tmp_path / "s.parquet", records(2, **DEEPSEEK))
    assert scan(one, two).records == 4
    with pytest.raises(PolicyEngineError) as raised:
        scan(one, two, allowed=tmp_path / "a.jsonl")
    assert [d.code for d in raised.value.diagnostics] == ["PE606"]


def test_every_record_blocked_still_writes_an_empty_allowed_file(
    scan: Scan, tmp_path: Path
) -> None:
    """Nothing allowed: the allowed output exists and is empty (JSON Lines) or has no rows (Parquet)."""
    import pyarrow.parquet as pq

    shard = write_parquet(tmp_path / "s.parquet", [{"text": "anon"}])
    scan(shard, allowed=tmp_path / "a.parquet")
    table = pq.read_table(tmp_path / "a.parquet")
    assert (table.num_rows, table.column_names) == (0, ["text"])
