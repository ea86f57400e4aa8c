"""Workers: forked processes where the system forks, threads elsewhere; results in input order,
errors and progress passed back to the scanning process."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from policyengine import api, codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.scan import workers
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


@pytest.mark.parametrize("forks", [True, False], ids=["processes", "threads"])
def test_a_job_s_error_reaches_the_caller_whole(
    monkeypatch: pytest.MonkeyPatch, forks: bool
) -> None:
    if forks and not workers.FORKS:
        pytest.skip("this system does not fork")
    monkeypatch.setattr(workers, "FORKS", forks)
    with Workers(2, _refuse, None) as pool:
        futures = [pool.submit(index) for index in range(3)]
        assert pool.result(futures[0]) == 0
        with pytest.raises(PolicyEngineError) as raised:
            pool.result(futures[1])
    [problem] = raised.value.diagnostics
    assert (problem.code, problem.message) == (codes.SCAN_OUTPUT, "refused")
    assert (problem.location.file, problem.location.line) == ("f.jsonl", 3)


@pytest.mark.parametrize("forks", [True, False], ids=["processes", "threads"])
def test_a_scan_on_workers_reports_every_byte_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, forks: bool
) -> None:
    """The progress callback hears of every byte of every file, whichever worker read it."""
    if forks and not workers.FORKS:
        pytest.skip("this system does not fork")
    monkeypatch.setattr(workers, "FORKS", forks)
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
