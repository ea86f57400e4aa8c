"""Reading ahead: items in order, the reader's error where its item would have been, bounded
look-ahead, and a reader that stops (and closes its file) when the caller stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.scan.prefetch import prefetched

from .conftest import DEEPSEEK, Scan, jsonl_bytes, records

BAD = Diagnostic("PE601", "cannot read `x.jsonl`: truncated", Location("x.jsonl"), help="fix it")


def test_items_come_in_order_then_the_error_with_its_diagnostics() -> None:
    """Whatever the reader raises reaches the caller after the items read before it."""
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield 1
            yield 2
            raise PolicyEngineError([BAD])
        finally:
            closed.set()

    seen: list[int] = []

    def consume() -> None:
        seen.extend(prefetched(source()))

    with pytest.raises(PolicyEngineError) as raised:
        consume()
    assert seen == [1, 2]
    assert list(raised.value.diagnostics) == [BAD]
    assert closed.is_set()


def test_the_reader_runs_at_most_depth_items_ahead_and_stops_with_the_caller() -> None:
    """Stopping after the first item closes the source, which has read no more than the
    queue holds plus the item in hand."""
    produced: list[int] = []
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            for number in range(1000):
                produced.append(number)
                yield number
        finally:
            closed.set()

    items = prefetched(source(), depth=2)
    assert next(items) == 0
    items.close()
    assert closed.is_set()
    assert len(produced) <= 1 + 2  # the one taken and at most two read ahead


def test_a_failing_caller_leaves_no_reader_running() -> None:
    """An error in the loop body stops the reader thread before it propagates."""
    before = threading.active_count()

    def source() -> Iterator[int]:
        yield from range(100)

    def consume() -> None:
        for item in prefetched(source()):
            _ = 1 // (item - item)

    with pytest.raises(ZeroDivisionError):
        consume()
    assert threading.active_count() == before


def test_a_truncated_shard_fails_the_scan_as_without_reading_ahead(
    scan: Scan, tmp_path: Path
) -> None:
    """A gzip file cut short: PE601 naming it, and no output left behind."""
    import gzip

    whole = gzip.compress(jsonl_bytes(records(2_000, **DEEPSEEK)))
    shard = tmp_path / "cut.jsonl.gz"
    shard.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(PolicyEngineError) as raised:
        scan(shard, allowed=tmp_path / "a.jsonl.gz")
    assert [d.code for d in raised.value.diagnostics] == ["PE601"]
    assert str(shard) in raised.value.diagnostics[0].message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.jsonl.gz"]
