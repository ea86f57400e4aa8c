"""A scan leaves the objects older than itself out of the garbage collector's passes while it runs,
and the collector as it found it afterwards."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from policyengine import api
from policyengine.scan import runner

from .conftest import DEEPSEEK, TARGET, jsonl_bytes, records


@pytest.fixture
def shard(tmp_path: Path) -> Path:
    path = tmp_path / "s.jsonl"
    path.write_bytes(jsonl_bytes(records(5, **DEEPSEEK)))
    return path


def test_older_objects_are_frozen_during_a_scan_and_thawed_after(
    shard: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen_while_scanning = []
    scan_file = runner.scan_file

    def watched(*args: object, **kwargs: object) -> None:
        frozen_while_scanning.append(gc.get_freeze_count())
        scan_file(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "scan_file", watched)
    assert gc.get_freeze_count() == 0
    report = api.scan([shard], use="distillation", target=TARGET)
    assert report.records == 5
    assert len(frozen_while_scanning) == 1
    assert frozen_while_scanning[0] > 1000
    assert gc.get_freeze_count() == 0


def test_objects_the_caller_froze_stay_frozen(shard: Path) -> None:
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        api.scan([shard], use="distillation", target=TARGET)
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
