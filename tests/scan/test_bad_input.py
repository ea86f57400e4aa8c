"""Bad input fails closed, clearly: a record without usable provenance is never allowed, and a shard,
field map or output the scan cannot use stops it with exit 2 and one diagnostic, writing nothing."""

from __future__ import annotations

import errno
import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from policyengine.cli.main import cli
from policyengine.scan import writers

from .conftest import DEEPSEEK, jsonl_bytes, read_jsonl, records, write_parquet

FLAGS = ["--use", "distillation", "--competes-with", "openai", "--base-model", "llama-3.1-8b"]
NESTED = ["--field", "provider=meta.provider", "--field", "model=meta.model"]
GOOD: dict[str, Any] = {"text": "good", **DEEPSEEK}
"""An allowed record, beside each bad one: the bad one must not join it in the allowed output."""


def run(*args: str | Path) -> Result:
    """`policyengine scan ARGS…`; no invocation may show a traceback."""
    result = CliRunner().invoke(cli, ["scan", *(str(a) for a in args)])
    assert "Traceback" not in result.output + result.stderr
    return result


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    """``rows`` as JSON Lines or Parquet, as the name says."""
    if path.suffix == ".parquet":
        return write_parquet(path, rows)
    path.write_bytes(jsonl_bytes(rows))
    return path


def allowed_rows(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return read_jsonl(path)


RECORD_CASES = [
    # (rows, extra flags, exit code, code in the summary)
    ([GOOD, {"text": "bad", "meta": None}], NESTED, 4, "PE611"),
    ([GOOD, {"text": "bad", "model": "deepseek-r1"}], [], 4, "PE611"),
    ([GOOD, {"text": "bad", "provider": None, "model": "deepseek-r1"}], [], 4, "PE611"),
    ([GOOD, {"text": "bad", **DEEPSEEK, "provider": ""}], [], 1, "PE613"),
    ([GOOD, {"text": "bad", **DEEPSEEK, "model": ""}], [], 1, "PE613"),
    (
        [GOOD, {"text": "bad", "provider": None, "model": None}],
        ["--detect-self-id", "--on-unknown", "deny"],
        1,
        "PE611",
    ),
]
RECORD_IDS = [
    "provenance null",
    "provider key absent",
    "provider null",
    "provider empty string",
    "model empty string",
    "provider null with self-id on",
]


def _nest(rows: list[dict[str, Any]], extra: list[str]) -> list[dict[str, Any]]:
    """Rows as the flags read them: under `meta` when the field map points there."""
    if extra != NESTED:
        return rows
    good = {k: v for k, v in GOOD.items() if k not in ("provider", "model")}
    good["meta"] = {"provider": GOOD["provider"], "model": GOOD["model"]}
    return [good, *rows[1:]]


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize(("rows", "extra", "code", "diagnostic"), RECORD_CASES, ids=RECORD_IDS)
def test_records_without_usable_provenance_are_never_allowed(
    tmp_path: Path,
    suffix: str,
    rows: list[dict[str, Any]],
    extra: list[str],
    code: int,
    diagnostic: str,
) -> None:
    """Null or absent provenance, a null or empty provider: blocked and named, never allowed."""
    shard = write(tmp_path / f"s{suffix}", _nest(rows, extra))
    allowed, blocked = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    result = run(shard, *FLAGS, *extra, "--allowed", allowed, "--blocked", blocked)
    assert result.exit_code == code, result.output
    assert f"{shard}:2: {diagnostic}" in result.stdout
    assert [row["text"] for row in allowed_rows(allowed)] == ["good"]
    assert [row["text"] for row in allowed_rows(blocked)] == ["bad"]


def _truncated(codec: str) -> Callable[[Path], list[Path]]:
    def make(folder: Path) -> list[Path]:
        data = jsonl_bytes(records(200, **DEEPSEEK))
        shard = folder / f"s.jsonl.{'gz' if codec == 'gzip' else 'zst'}"
        if codec == "gzip":
            packed = gzip.compress(data)
        else:
            with pa.CompressedOutputStream(str(shard), "zstd") as stream:
                stream.write(data)
            packed = shard.read_bytes()
        shard.write_bytes(packed[: len(packed) // 2])
        return [shard]

    return make


def _jsonl(folder: Path) -> list[Path]:
    return [write(folder / "s.jsonl", records(3, **DEEPSEEK))]


def _parquet(folder: Path, rows: list[dict[str, Any]] | None = None) -> list[Path]:
    return [write(folder / "s.parquet", rows or records(3, **DEEPSEEK))]


def _mixed(folder: Path) -> list[Path]:
    return [*_jsonl(folder), *_parquet(folder)]


def _config(folder: Path) -> Path:
    config = folder / "scan.yaml"
    config.write_text("profiles:\n  chat:\n    provider: meta.source.provider\n", encoding="utf-8")
    return config


INPUT_CASES: list[tuple[Callable[[Path], list[Path]], list[str], str, str]] = [
    # (shards made in the folder, flags ({tmp}: the folder, {0}: the first shard), code, message)
    (_truncated("gzip"), [], "PE601", "truncated compressed stream"),
    (_truncated("zstd"), [], "PE601", "truncated compressed stream"),
    (
        _parquet,
        ["--field", "provider=source"],
        "PE603",
        "field `provider`: `source` occurs in no column of",
    ),
    (
        lambda folder: _parquet(folder, [{"provider": 7, "model": "m", "text": "t"}]),
        [],
        "PE603",
        "field `provider`: `provider` holds int64 values, not text",
    ),
    (
        lambda folder: _parquet(folder, [{"provider": {"name": "x"}, "text": "t"}]),
        [],
        "PE603",
        "field `provider`: `provider` holds struct<name: string> values, not text",
    ),
    (
        _jsonl,
        ["--field", "provider=meta.provider"],
        "PE603",
        "field `provider`: `meta.provider` occurs in no record of",
    ),
    (
        _jsonl,
        ["--profile", "chat", "--config", "{tmp}/scan.yaml"],
        "PE603",
        "field `provider`: `meta.source.provider` occurs in no record of",
    ),
    (
        lambda folder: [*_jsonl(folder), write(folder / "t.jsonl", records(3, **DEEPSEEK))],
        ["--workers", "2", "--field", "provider=meta.provider"],
        "PE603",
        "occurs in no record of",
    ),
    (_mixed, ["--allowed", "{tmp}/a.jsonl"], "PE606", "the shards mix JSON Lines and Parquet"),
    (_jsonl, ["--allowed", "{0}"], "PE606", "is one of the shards being scanned"),
    (_jsonl, ["--blocked", "{tmp}/./s.jsonl"], "PE606", "is one of the shards being scanned"),
    (_jsonl, ["--allowed", "{tmp}/link.jsonl"], "PE606", "is one of the shards being scanned"),
    (_jsonl, ["--allowed", "{tmp}/hard.jsonl"], "PE606", "is one of the shards being scanned"),
    (
        _jsonl,
        ["--allowed", "{tmp}/o.jsonl", "--blocked", "{tmp}/o.jsonl"],
        "PE606",
        "it is also the allowed output",
    ),
    (
        lambda folder: [write(folder / "s.json", records(3, **DEEPSEEK))],
        ["--report", "{0}"],
        "--report",
        "is also a shard or an output",
    ),
]
INPUT_IDS = [
    "truncated gzip",
    "truncated zstd",
    "parquet column missing for an explicit field",
    "parquet column of the wrong type",
    "parquet struct where text belongs",
    "field that never occurs",
    "profile path that never occurs",
    "field that never occurs, two workers",
    "mixed input formats",
    "output is an input",
    "output resolves to an input",
    "output is a link to an input",
    "output is a hard link to an input",
    "allowed and blocked the same file",
    "report over an input",
]


@pytest.mark.parametrize(("make", "flags", "code", "message"), INPUT_CASES, ids=INPUT_IDS)
def test_bad_input_stops_the_scan_with_exit_2_and_writes_nothing(
    tmp_path: Path,
    make: Callable[[Path], list[Path]],
    flags: list[str],
    code: str,
    message: str,
) -> None:
    """Each is one diagnostic on stderr, exit 2, and no file beside the inputs is created."""
    shards = make(tmp_path)
    _config(tmp_path)
    if shards[0].name == "s.jsonl":
        (tmp_path / "link.jsonl").symlink_to(shards[0])
        os.link(shards[0], tmp_path / "hard.jsonl")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    filled = [flag.format(*shards, tmp=tmp_path) for flag in flags]
    if not {"--allowed", "--blocked"} & set(flags):
        suffix = ".parquet" if shards[0].suffix == ".parquet" else ".jsonl"
        filled += ["--allowed", str(tmp_path / f"a{suffix}")]
    if "--report" not in flags:
        filled += ["--report", str(tmp_path / "r.json")]
    result = run(*shards, *FLAGS, *filled)
    assert result.exit_code == 2, result.output
    assert code in result.stderr
    assert message.lower() in result.stderr.lower()
    assert result.stdout == ""
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_absent_default_fields_mean_missing_provenance_not_an_error(tmp_path: Path) -> None:
    """With the default field map, a shard without provenance keys or columns is reviewed."""
    for shard in [
        write(tmp_path / "s.jsonl", [{"text": "t"}]),
        *_parquet(tmp_path, [{"text": "t"}]),
    ]:
        result = run(shard, *FLAGS)
        assert result.exit_code == 4, result.output
        assert f"{shard}:1: PE611 the record names no provider" in result.stdout


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
def test_a_full_disk_removes_the_partial_output_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """The system refusing a write mid-scan is PE606 naming the output; no temporary file stays."""
    shards = [
        write(tmp_path / f"s{i}{suffix.removesuffix('.gz')}", records(3, **DEEPSEEK))
        for i in range(2)
    ]
    original, calls = writers.Sink._write, []

    def full(self: writers.Sink, judged: Any, name: str) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        original(self, judged, name)

    monkeypatch.setattr(writers.Sink, "_write", full)
    before = sorted(p.name for p in tmp_path.iterdir())
    allowed = tmp_path / f"a{suffix}"
    result = run(*shards, *FLAGS, "--allowed", allowed)
    assert result.exit_code == 2, result.output
    assert f"PE606 cannot write `{allowed}`: no space left on device" in result.stderr
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before
