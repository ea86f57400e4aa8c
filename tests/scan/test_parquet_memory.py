"""Parquet shards are read with bounded memory, whatever the number and size of their row groups."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from policyengine.scan import parquet
from policyengine.scan.fields import FieldMap

TEXT = 400
"""Characters of text per record (random letters: they compress little)."""

RECORDS = 100_000
"""Records per file: ~40 MB of text."""

BOUND = 20_000_000
"""Bytes of Arrow memory a scan may hold at its peak: a few batches' text (a batch holds
``parquet.ROWS`` records, ~6.5 MB of text here), half the file's text."""


@contextlib.contextmanager
def fresh_pool() -> Iterator[pa.MemoryPool]:
    """A fresh default memory pool while the block runs, so its peak is the block's alone."""
    before = pa.default_memory_pool()
    fresh = pa.proxy_memory_pool(before)
    pa.set_memory_pool(fresh)
    try:
        yield fresh
    finally:
        pa.set_memory_pool(before)


def shard(path: Path, row_group: int) -> Path:
    """RECORDS records with ``row_group`` rows per row group."""
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz "
    texts = ["".join(rng.choices(letters, k=TEXT)) for _ in range(1024)]
    table = pa.table(
        {
            "text": [texts[i % len(texts)] + str(i) for i in range(RECORDS)],
            "provider": ["openai"] * RECORDS,
            "model": ["gpt-4o"] * RECORDS,
        }
    )
    pq.write_table(table, path, row_group_size=row_group, use_dictionary=False)
    return path


@pytest.mark.parametrize("whole_records", [False, True], ids=["decide", "split"])
@pytest.mark.parametrize(
    "row_group", [8_192, 32_768, RECORDS], ids=["13-groups", "4-groups", "1-group"]
)
def test_peak_memory_is_bounded(tmp_path: Path, row_group: int, whole_records: bool) -> None:
    """The peak of Arrow memory while reading stays under a few batches, not the file's size."""
    path = shard(tmp_path / "s.parquet", row_group)
    assert path.stat().st_size > 2 * BOUND
    with fresh_pool() as pool:
        rows = sum(len(b) for b in parquet.read(path, FieldMap(), whole_records=whole_records))
        peak = pool.max_memory()
    assert rows == RECORDS
    assert peak < BOUND
