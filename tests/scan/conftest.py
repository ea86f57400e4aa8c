"""Scan fixtures: the bundled rules loaded once, a target, shard writers and a scan runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policyengine import api
from policyengine.rules.ruleset import RuleSet
from policyengine.scan.report_model import ScanReport

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "shards" / "mixed.jsonl"
TARGET = {"target.competes_with": ["openai"], "target.base_model": "llama-3.1-8b"}
"""A model that competes with OpenAI and starts from Llama: OpenAI outputs are denied for it."""

DEEPSEEK = {
    "provider": "deepseek",
    "model": "deepseek-r1",
    "channel": "open_weights",
    "generated_at": "2025-02-10",
}
OPENAI = {
    "provider": "openai",
    "model": "gpt-4o-2024-08-06",
    "channel": "api",
    "generated_at": "2025-06-02",
}
Scan = Callable[..., ScanReport]


@pytest.fixture(scope="session")
def bundled() -> RuleSet:
    """The bundled rule packs, loaded once for the whole session."""
    return api.require_rules()


@pytest.fixture
def scan(bundled: RuleSet) -> Scan:
    """``scan(*shards, **options)``: api.scan for distillation into TARGET, bundled rules."""

    def run(*shards: Path, **options: Any) -> ScanReport:
        options.setdefault("use", "distillation")
        options.setdefault("target", TARGET)
        options.setdefault("ruleset", bundled)
        return api.scan(list(shards), **options)

    return run


def records(count: int, **fields: Any) -> list[dict[str, Any]]:
    """``count`` records with distinct texts and the given provenance fields."""
    return [{"id": i, "text": f"record {i} text", **fields} for i in range(count)]


def jsonl_bytes(rows: Iterable[dict[str, Any] | str]) -> bytes:
    """JSON Lines: dicts are dumped, strings are written as they are (for malformed lines)."""
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def write_parquet(path: Path, rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> Path:
    """A Parquet file of ``rows`` (in two row groups, to cross a boundary)."""
    pq.write_table(
        pa.Table.from_pylist(rows, schema=schema), path, row_group_size=max(len(rows) // 2, 1)
    )
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines output."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(params=[True, False], ids=["processes", "threads"])
def forks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Workers as forked processes, then as threads (processes are skipped where the system does
    not fork)."""
    from policyengine.scan import workers

    if request.param and not workers.FORKS:
        pytest.skip("this system does not fork")
    monkeypatch.setattr(workers, "FORKS", request.param)
    return bool(request.param)
