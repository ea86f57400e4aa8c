"""Workers: forked processes where the system forks, threads elsewhere; results in input order,
errors and progress passed back to the scanning process."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from policyengine import api, codes
from policyengine.cli.main import cli
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.scan import runner, workers
from policyengine.scan.runner import Shard
from policyengine.scan.workers import Progress, Workers

from .conftest import DEEPSEEK, OPENAI, TARGET, jsonl_bytes, records

FORKING = pytest.mark.skipif(not workers.FORKS, reason="workers are processes only where they fork")


def _where(index: int, progress: Progress | None) -> tuple[int, int, str]:
    """The job's index, process and thread; reports ``index`` bytes read."""
    if progress is not None:
        progress(index)
    return index, os.getpid(), threading.current_thread().name


@FORKING
def test_forked_workers_run_each_job_in_another_process_and_pass_progress_back() -> None:
    read: list[int] = []
    with Workers(2, _where, read.append) as pool:
        futures = [pool.submit(index) for index in range(6)]
        found = [pool.result(future) for future in futures]
    assert [index for index, _, _ in found] == list(range(6))
    assert {pid for _, pid, _ in found} - {os.getpid()}
    assert os.getpid() not in {pid for _, pid, _ in found}
    assert sum(read) == sum(range(6))


def test_thread_workers_run_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "FORKS", False)
    read: list[int] = []
    lock = threading.Lock()

    def count(size: int) -> None:
        with lock:
            read.append(size)

    with Workers(2, _where, count) as pool:
        found = [pool.result(pool.submit(index)) for index in range(4)]
    assert {pid for _, pid, _ in found} == {os.getpid()}
    assert all(name.startswith("policyengine-scan") for _, _, name in found)
    assert sum(read) == sum(range(4))


def _refuse(index: int, progress: Progress | None) -> int:
    if index == 1:
        problem = Diagnostic(codes.SCAN_OUTPUT, "refused", Location("f.jsonl", 3, 4), help="h")
        raise PolicyEngineError([problem])
    return index


def test_a_job_s_error_reaches_the_caller_whole(forks: bool) -> None:
    with Workers(2, _refuse, None) as pool:
        futures = [pool.submit(index) for index in range(3)]
        assert pool.result(futures[0]) == 0
        with pytest.raises(PolicyEngineError) as raised:
            pool.result(futures[1])
    [problem] = raised.value.diagnostics
    assert (problem.code, problem.message) == (codes.SCAN_OUTPUT, "refused")
    assert (problem.location.file, problem.location.line) == ("f.jsonl", 3)


def test_a_scan_on_workers_reports_every_byte_read(tmp_path: Path, forks: bool) -> None:
    """The progress callback hears of every byte of every file, whichever worker read it."""
    shards = []
    for index in range(3):
        shard = tmp_path / f"s{index}.jsonl"
        shard.write_bytes(jsonl_bytes([*records(50 + index, **DEEPSEEK), *records(7, **OPENAI)]))
        shards.append(shard)
    read: list[int] = []
    lock = threading.Lock()

    def progress(size: int) -> None:
        with lock:
            read.append(size)

    report = api.scan(shards, use="distillation", target=TARGET, workers=2, progress=progress)
    assert sum(read) == sum(shard.stat().st_size for shard in shards)
    assert report.records == 3 * 57 + 3


def _die(index: int, progress: Progress | None) -> int:
    if index == 1:
        os._exit(9)  # as the system's out-of-memory killer leaves a process: no result
    return index


@FORKING
def test_a_worker_process_that_ends_without_a_result_is_lost() -> None:
    with Workers(2, _die, None) as pool:
        futures = [pool.submit(index) for index in range(3)]
        with pytest.raises(workers.WorkerLost):
            pool.result(futures[1])


@FORKING
def test_a_scan_whose_worker_is_stopped_exits_5_naming_the_file_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PE607, exit 5 (no input explains it), no output and no part file left behind."""
    shards = []
    for index in range(3):
        shard = tmp_path / f"s{index}.jsonl"
        shard.write_bytes(jsonl_bytes(records(4, **DEEPSEEK)))
        shards.append(shard)
    scan_part = runner._scan_part

    def stopped(shard: Shard, *args: Any) -> Any:
        if shard.path.name == "s1.jsonl":
            os._exit(9)
        return scan_part(shard, *args)

    monkeypatch.setattr(runner, "_scan_part", stopped)
    out = tmp_path / "out"
    out.mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            *map(str, shards),
            "--use",
            "distillation",
            "--competes-with",
            "openai",
            "--workers",
            "2",
            "--allowed",
            str(out / "a.jsonl"),
            "--blocked",
            str(out / "b.jsonl"),
        ],
    )
    assert result.exit_code == 5, result.output
    # The file named is the first unfinished one: s1's, or s0 when it was still being scanned.
    named = [
        s for s in shards[:2] if f"signal) before `{s}` and the files after it" in result.stderr
    ]
    assert len(named) == 1, result.stderr
    assert result.stderr.startswith(f"{named[0]}: PE607 a worker process was stopped by the system")
    assert "Traceback" not in result.output
    assert list(out.iterdir()) == []
