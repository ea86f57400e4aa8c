"""scan_files and scan_dataframe on a Dask cluster decide as `policyengine scan` does.

Each comparison runs the CLI on the same shards, with the same rules, use, target, field map and
as-of day. Only what names a place may differ: the report's `outputs` (each run writes its own
files), and for a DataFrame the partitions that stand where file paths are (in `files`, in the
examples and in each blocked record's `_policy.file`). Everything else must be equal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from policyengine.cli.main import cli
from policyengine.diagnostics import PolicyEngineError
from policyengine.integrations import dask as pe_dask
from policyengine.scan import fields

dd = pytest.importorskip("dask.dataframe")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shards" / "mixed.jsonl"
RULES = ROOT / "rules"
AS_OF = dt.date(2025, 10, 1)
TARGET = {"target.competes_with": ["openai"], "target.base_model": "llama-3.1-8b"}
CLI_TARGET = ["--competes-with", "openai", "--base-model", "llama-3.1-8b"]
PROVENANCE = ("provider", "model", "channel", "generated_at", "license")
NESTED = [f"{name}=meta.{name}" for name in PROVENANCE]
"""The Parquet shards keep provenance in a `meta` struct column."""
META = pa.struct([(name, pa.string()) for name in PROVENANCE])
LIMIT = "provider=openai:0.05"


def cli_scan(shards: list[Path], out: Path, suffix: str, *options: str) -> dict[str, Any]:
    """Run `policyengine scan` into `out`; its JSON report."""
    out.mkdir()
    arguments = [
        "scan",
        *map(str, shards),
        "--use",
        "distillation",
        *CLI_TARGET,
        "--as-of",
        AS_OF.isoformat(),
        "--rules",
        str(RULES),
        "--no-fingerprints",
        "--allowed",
        str(out / f"allowed{suffix}"),
        "--blocked",
        str(out / f"blocked{suffix}"),
        "--report",
        str(out / "report.json"),
        *options,
    ]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code in (1, 4), result.output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert all(limit["exceeded"] for limit in report["limits"])
    assert report["allowed"], "nothing would be compared"
    assert report["blocked"], "nothing would be compared"
    assert report["examples"], "nothing would be compared"
    return report


def without(report: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The report without the keys that name places."""
    return {key: value for key, value in report.items() if key not in keys}


@pytest.fixture(scope="module")
def jsonl_shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The example shard (blank, cut-off and unknown-provenance lines) and a gzip copy of it."""
    folder = tmp_path_factory.mktemp("jsonl")
    plain = folder / "mixed.jsonl"
    shutil.copy(EXAMPLE, plain)
    packed = folder / "mixed-again.jsonl.gz"
    packed.write_bytes(gzip.compress(EXAMPLE.read_bytes()))
    return [plain, packed]


@pytest.fixture(scope="module")
def parquet_shards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The example shard's readable records as three Parquet shards, provenance in a struct."""
    folder = tmp_path_factory.mktemp("parquet")
    rows = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # blank and cut-off lines: a Parquet file has no such records
        meta = {name: record.pop(name, None) for name in META.names}
        rows.append({"id": record["id"], "text": record["text"], "meta": meta})
    schema = pa.schema([("id", pa.string()), ("text", pa.string()), ("meta", META)])
    paths = []
    for number, start in enumerate(range(0, len(rows), 3)):
        path = folder / f"part-{number}.parquet"
        pq.write_table(pa.Table.from_pylist(rows[start : start + 3], schema), path)
        paths.append(path)
    return paths


def test_scan_files_writes_what_the_cli_writes(
    client: Any, jsonl_shards: list[Path], tmp_path: Path
) -> None:
    """JSON Lines shards, one task each: the same output bytes and the same report."""
    cli_report = cli_scan(jsonl_shards, tmp_path / "cli", ".jsonl", "--max-share", LIMIT)
    out = tmp_path / "dask"
    out.mkdir()
    result = pe_dask.scan_files(
        jsonl_shards,
        client=client,
        use="distillation",
        target=TARGET,
        rules=[RULES],
        as_of=AS_OF,
        max_shares=[LIMIT],
        allowed=out / "allowed.jsonl",
        blocked=out / "blocked.jsonl",
    )
    for name in ("allowed.jsonl", "blocked.jsonl"):
        assert (out / name).read_bytes() == (tmp_path / "cli" / name).read_bytes()
    mine = result.summary.model_dump(mode="json")
    assert without(mine, "outputs") == without(cli_report, "outputs")
    assert mine["outputs"] == {
        "allowed": str(out / "allowed.jsonl"),
        "blocked": str(out / "blocked.jsonl"),
    }
    assert [each.files[0].path for each in result.files] == list(map(str, jsonl_shards))
    assert sum(each.records for each in result.files) == result.summary.records
    assert sorted(p.name for p in out.iterdir()) == ["allowed.jsonl", "blocked.jsonl"]


def test_scan_files_on_parquet_keeps_struct_columns(
    client: Any, parquet_shards: list[Path], tmp_path: Path
) -> None:
    """Parquet shards with a struct column: the same records in each output, the same report."""
    cli_report = cli_scan(parquet_shards, tmp_path / "cli", ".parquet", *_field_options())
    out = tmp_path / "dask"
    out.mkdir()
    result = pe_dask.scan_files(
        parquet_shards,
        client=client,
        use="distillation",
        target=TARGET,
        rules=[RULES],
        fields=fields.from_options(NESTED),
        as_of=AS_OF,
        allowed=out / "allowed.parquet",
        blocked=out / "blocked.parquet",
    )
    for name in ("allowed.parquet", "blocked.parquet"):
        mine, theirs = pq.read_table(out / name), pq.read_table(tmp_path / "cli" / name)
        assert mine.schema.equals(theirs.schema)
        assert mine.to_pylist() == theirs.to_pylist()
    assert without(result.summary.model_dump(mode="json"), "outputs") == without(
        cli_report, "outputs"
    )


def test_scan_dataframe_splits_records_as_the_cli_does(
    client: Any, parquet_shards: list[Path], tmp_path: Path
) -> None:
    """A DataFrame read from the shards: the CLI's allowed and blocked records, its counts."""
    options = [*_field_options(), "--max-share", LIMIT]
    cli_report = cli_scan(parquet_shards, tmp_path / "cli", ".parquet", *options)
    frame = dd.read_parquet(list(map(str, parquet_shards)), dtype_backend="pyarrow")
    assert frame.npartitions == len(parquet_shards), "one partition per shard, to map names"
    result = pe_dask.scan_dataframe(
        frame,
        [RULES],
        "distillation",
        TARGET,
        fields=fields.from_options(NESTED),
        as_of=AS_OF,
        max_shares=[LIMIT],
    )
    place = {f"<partition {n}>": str(path) for n, path in enumerate(parquet_shards)}
    blocked = result.blocked.compute()
    assert str(blocked.dtypes["meta"]).startswith("struct<")  # still Arrow, not Python dicts
    assert str(blocked.dtypes["_policy"]).startswith("struct<")
    blocked_rows = _rows(blocked)
    for row in blocked_rows:
        row["_policy"]["file"] = place[row["_policy"]["file"]]
    assert blocked_rows == pq.read_table(tmp_path / "cli" / "blocked.parquet").to_pylist()
    allowed_rows = _rows(result.allowed.compute())
    assert allowed_rows == pq.read_table(tmp_path / "cli" / "allowed.parquet").to_pylist()

    mine = result.summary.model_dump(mode="json")
    for example in mine["examples"]:
        example["file"] = place[example["file"]]
    assert without(mine, "outputs", "files") == without(cli_report, "outputs", "files")
    assert [f["records"] for f in mine["files"]] == [f["records"] for f in cli_report["files"]]


def test_a_shard_a_worker_cannot_read_fails_the_scan_and_leaves_nothing(
    client: Any, parquet_shards: list[Path], tmp_path: Path
) -> None:
    """PE601 from a worker reaches the caller as PolicyEngineError; no output, no part file."""
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 this is not a Parquet file")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(PolicyEngineError) as raised:
        pe_dask.scan_files(
            [*parquet_shards, broken],
            client=client,
            use="distillation",
            target=TARGET,
            rules=[RULES],
            allowed=out / "allowed.parquet",
            blocked=out / "blocked.parquet",
        )
    assert [d.code for d in raised.value.diagnostics] == ["PE601"]
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    ("columns", "code"),
    [
        ({"text": ["a", "b"], "provider": [1, 2]}, "PE603"),
        ({"text": ["a", "b"], "provider": ["openai", 2]}, "PE601"),
    ],
    ids=["a provider column of numbers", "a column of text and numbers"],
)
def test_a_frame_the_gate_cannot_read_is_an_error(
    client: Any, columns: dict[str, list[Any]], code: str
) -> None:
    """A partition task's bad input reaches the caller as PolicyEngineError with its code."""
    import dask
    import pandas as pd

    with dask.config.set({"dataframe.convert-string": False}):  # keep the values as they are
        frame = dd.from_pandas(pd.DataFrame(columns, dtype=object), npartitions=1)
    with pytest.raises(PolicyEngineError) as raised:
        pe_dask.scan_dataframe(frame, [RULES], "distillation", TARGET)
    assert [d.code for d in raised.value.diagnostics] == [code]


def test_an_empty_partition_counts_as_an_empty_file(client: Any) -> None:
    """A partition with no records is listed with 0 records and adds nothing to either side."""
    import pandas as pd

    rows = pd.DataFrame({"id": ["1", "2"], "text": ["a", "b"], "provider": ["human", "human"]})
    frame = dd.from_pandas(rows, npartitions=2)
    frame = frame[frame["id"] != "2"]  # the second partition is now empty
    result = pe_dask.scan_dataframe(frame, [RULES], "distillation", TARGET)
    assert [f.records for f in result.summary.files] == [1, 0]
    assert len(result.allowed.compute()) + len(result.blocked.compute()) == 1


def _field_options() -> list[str]:
    return [option for spec in NESTED for option in ("--field", spec)]


def _rows(frame: Any) -> list[dict[str, Any]]:
    """A computed partition's records as plain data, in order."""
    rows: list[dict[str, Any]] = pa.Table.from_pandas(frame, preserve_index=False).to_pylist()
    return rows


def test_nothing_but_the_integration_loads_dask_or_pandas() -> None:
    """The CLI, the API and the scanner import neither Dask, distributed nor pandas."""
    modules = ", ".join(
        f"{name!r}"
        for name in (
            "policyengine.cli.main",
            "policyengine.cli.scan_cmd",
            "policyengine.api",
            "policyengine.scan.arrow",
            "policyengine.scan.runner",
            "policyengine.integrations.tasks",
        )
    )
    code = (
        f"import importlib, sys\nfor m in ({modules}):\n    importlib.import_module(m)\n"
        "print(sorted(m for m in ('dask', 'distributed', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_dask_examples_in_scale_md_run(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/scale.md's Dask examples run on the cluster and print what their comments show."""
    text = (ROOT / "docs" / "scale.md").read_text(encoding="utf-8")
    section = text.split("\n## Dask\n", 1)[1].split("\n## Ray Data\n", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    runnable = [block for block in blocks if "LocalCluster(" not in block]  # the fixture's client
    assert len(runnable) == len(blocks) - 1
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        namespace: dict[str, Any] = {"client": client}
        for block in runnable:
            exec(compile(block, "docs/scale.md", "exec"), namespace)
    printed = buffer.getvalue().splitlines()
    expected = [line for block in runnable for line in re.findall(r"^# (.+)$", block, re.M)]
    assert printed == expected
    # The workers' working directory is not this one: relative paths still land here.
    assert len((tmp_path / "allowed.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert len((tmp_path / "blocked.jsonl").read_text(encoding="utf-8").splitlines()) == 8
    assert list((tmp_path / "allowed").glob("*.parquet"))
