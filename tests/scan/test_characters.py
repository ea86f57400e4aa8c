"""Characters of text are counted when asked: by default from Python, for --report and
--max-share from the CLI; otherwise the report says they were not counted (null, a dash)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from policyengine.cli.main import cli
from policyengine.scan import runner
from policyengine.scan.batch import Batch

from .conftest import DEEPSEEK, OPENAI, Scan, jsonl_bytes, records, write_parquet

ROWS = [*records(3, **DEEPSEEK), *records(2, **OPENAI), {"id": 9, "text": "no provenance here"}]
TEXT = sum(len(row["text"]) for row in ROWS)
FLAGS = ["--use", "distillation", "--competes-with", "openai", "--base-model", "llama-3.1-8b"]


def _shard(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"s{suffix}"
    if suffix == ".parquet":
        return write_parquet(path, ROWS)
    path.write_bytes(jsonl_bytes(ROWS))
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_without_characters_the_counts_stay_and_characters_are_null(
    scan: Scan, tmp_path: Path, suffix: str
) -> None:
    """Records, verdicts and record shares are those of a scan counting characters."""
    shard = _shard(tmp_path, suffix)
    counted = scan(shard)
    uncounted = scan(shard, characters=False)
    assert counted.characters == TEXT
    assert sum(share.characters or 0 for share in counted.providers) == TEXT
    assert uncounted.characters is None
    assert all(s.characters is None and s.character_share is None for s in uncounted.providers)
    assert all(s.characters is None for s in uncounted.models)
    assert uncounted.model_dump(mode="json")["characters"] is None
    same = ("records", "allowed", "blocked", "verdicts", "problems", "provenance", "rules")
    for name in same:
        assert getattr(uncounted, name) == getattr(counted, name), name
    assert [s.record_share for s in uncounted.providers] == [
        s.record_share for s in counted.providers
    ]


def test_a_parquet_scan_without_characters_reads_no_text(
    scan: Scan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing needs the text, so the batches judged carry none (and provenance as
    dictionaries); counting characters reads it."""
    shard = _shard(tmp_path, ".parquet")
    seen: list[Batch] = []
    original = runner.Judge.__call__

    def spy(self: Any, batch: Batch) -> Any:
        seen.append(batch)
        return original(self, batch)

    monkeypatch.setattr(runner.Judge, "__call__", spy)
    scan(shard, characters=False)
    assert seen
    assert all(batch.text.null_count == len(batch) for batch in seen)
    assert all(str(batch.provenance["provider"].type).startswith("dictionary") for batch in seen)
    seen.clear()
    scan(shard)
    assert sum(len(batch) - batch.text.null_count for batch in seen) == len(ROWS)


def test_a_share_limit_without_characters_is_decided_by_records(scan: Scan, tmp_path: Path) -> None:
    """The character share is null and the limit is judged on the record share alone."""
    report = scan(_shard(tmp_path, ".jsonl"), characters=False, max_shares=["provider=openai:0.3"])
    (limit,) = report.limits
    assert limit.character_share is None
    assert limit.record_share == round(2 / 6, 6)
    assert limit.exceeded
    assert report.verdict == "violation"


def test_the_cli_counts_characters_only_for_a_report_or_a_share_limit(tmp_path: Path) -> None:
    """Without --report or --max-share the summary shows no characters (a dash in CHARS);
    with --report the JSON holds them, with --max-share the limit line gives their share."""
    shard = _shard(tmp_path, ".jsonl")
    plain = CliRunner().invoke(cli, ["scan", str(shard), *FLAGS])
    lines = plain.stdout.splitlines()
    assert lines[0] == "scanned 1 file: 6 records"
    row = next(line for line in lines if line.startswith("deepseek"))
    assert row.split()[3] == "–"

    report = tmp_path / "r.json"
    reported = CliRunner().invoke(cli, ["scan", str(shard), *FLAGS, "--report", str(report)])
    assert (
        reported.stdout.splitlines()[0] == f"scanned 1 file: 6 records, {TEXT:,} characters of text"
    )
    assert json.loads(report.read_text(encoding="utf-8"))["characters"] == TEXT

    limited = CliRunner().invoke(cli, ["scan", str(shard), *FLAGS, "--max-share", "provider=x:0.5"])
    limit_line = next(line for line in limited.stdout.splitlines() if "share limit" in line)
    assert "0.0% of records, 0.0% of characters: ok" in limit_line


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_reports_rendered_without_characters_say_so(scan: Scan, tmp_path: Path, fmt: str) -> None:
    """A report from `api.scan(characters=False)` renders; its character figures read as not
    counted rather than as zero."""
    from policyengine.report.render import render

    counted = render(
        f"scan.{fmt}.j2", report=scan(_shard(tmp_path, ".jsonl")).model_dump(mode="json")
    )
    report = scan(_shard(tmp_path, ".jsonl"), characters=False)
    text = render(f"scan.{fmt}.j2", report=report.model_dump(mode="json"))
    assert "not counted" in text
    assert "not counted" not in counted
    assert "–" in text
