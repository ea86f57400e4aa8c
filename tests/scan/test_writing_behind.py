"""Outputs are written on threads of their own, and a write refused there still fails the scan."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from policyengine.scan import behind, writers
from policyengine.scan.behind import Work, Writes

from .conftest import DEEPSEEK, records
from .test_bad_input import FLAGS, run, write


def test_writes_are_made_in_order_and_stop_at_the_first_failure() -> None:
    """Writes after a failed one are skipped, the closing work is made anyway, and the error is
    raised at the next submit and again by finish."""
    made: list[str] = []
    writes = Writes(depth=1)
    for name in "abc":
        writes.submit(lambda name=name: made.append(name))

    def refused() -> None:
        made.append("refused")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def submit_until_raised() -> None:
        while True:  # until the thread has made the refused write
            writes.submit(lambda: made.append("after"))

    writes.submit(refused)
    with pytest.raises(OSError, match="No space left on device"):
        submit_until_raised()
    with pytest.raises(OSError, match="No space left on device"):
        writes.finish(lambda: made.append("closed"))
    assert made[:4] == ["a", "b", "c", "refused"]
    assert made[-1] == "closed"
    assert "after" not in made
    with pytest.raises(OSError, match="No space left on device"):
        writes.finish(lambda: made.append("twice"))  # only raises again
    assert made.count("closed") == 1
    assert "twice" not in made


def test_depth_0_makes_each_write_at_once_on_the_callers_thread() -> None:
    made: list[str] = []
    writes = Writes(depth=0)
    writes.submit(lambda: made.append(threading.current_thread().name))
    assert made == [threading.current_thread().name]
    writes.finish(lambda: made.append("closed"))
    assert made[-1] == "closed"


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
@pytest.mark.parametrize(
    ("refused", "options"),
    [(1, []), (2, []), (1, ["--workers", "2"])],
    ids=["first write, raised at the next", "last write, raised at close", "two workers"],
)
def test_a_write_refused_on_the_writing_thread_is_pe606_and_leaves_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    suffix: str,
    refused: int,
    options: list[str],
) -> None:
    """The system refusing a write on a JSON Lines output's own thread is PE606 naming the
    output, exit 2; no output or temporary file stays. With two workers the refused write is made
    in a worker process, whose error the scan reports the same way. (Parquet outputs are written
    on the scanning thread: test_bad_input covers them.)"""
    shards = [
        write(tmp_path / f"s{i}{suffix.removesuffix('.gz')}", records(3, **DEEPSEEK))
        for i in range(2)
    ]
    submitted, threads = [], []
    lock = threading.Lock()

    class Full(behind.Writes):
        def submit(self, work: Work) -> None:
            with lock:
                submitted.append(work)
                count = len(submitted)

            def full() -> None:
                threads.append(threading.current_thread().name)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            super().submit(full if count == refused else work)

    monkeypatch.setattr(writers, "Writes", Full)
    before = sorted(p.name for p in tmp_path.iterdir())
    allowed = tmp_path / f"a{suffix}"
    result = run(*shards, *FLAGS, "--allowed", allowed, *options)
    assert result.exit_code == 2, result.output
    assert f"PE606 cannot write `{allowed}`: no space left on device" in result.stderr
    if not options:  # a worker process's threads are its own
        assert threads == ["policyengine-write"]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
