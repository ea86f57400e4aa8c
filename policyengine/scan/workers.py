"""Files scanned side by side, each by one of a few workers, its results taken in input order.

Where the system forks (Linux), the workers are processes forked from this one. A forked process
starts with the rules loaded and the tuples decided so far, so it costs milliseconds rather than
the second a fresh interpreter spends importing and loading rules; and it has a GIL of its own.
On threads, the Python part of a scan (judging batches, counting them) ran one thread at a time,
which held two workers to about 1.5x one. Elsewhere (macOS, where forking a process that has
threads is unsafe, and Windows, which cannot fork) the workers are threads.
"""

from __future__ import annotations

import gc
import multiprocessing
import sys
import warnings
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as Pending
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Final, Generic, TypeVar

R = TypeVar("R")

Progress = Callable[[int], None]
"""Called with the number of bytes of input read since the last call."""

Job = Callable[[int, "Progress | None"], R]
"""Scans the input at an index; reports its progress to the callable it is given."""

FORKS: Final = sys.platform.startswith("linux")
"""Whether workers are forked processes (else threads)."""

_POLL: Final = 0.2
"""Seconds between looks at the workers' progress while waiting for a result."""

_job: Any = None
_counter: Any = None


class WorkerLost(Exception):
    """A worker process ended before returning its result (the system stopped it: out of
    memory, a signal)."""


class Workers(Generic[R]):
    """``count`` workers running ``job`` on input indices; see the module docstring."""

    def __init__(self, count: int, job: Job[R], progress: Progress | None) -> None:
        self.progress = progress
        self._reported = 0
        self._counter: Any = None
        self._pool: Executor
        if FORKS:
            context = multiprocessing.get_context("fork")
            self._counter = context.Value("q", 0) if progress is not None else None
            self._pool = ProcessPoolExecutor(
                count, context, initializer=_adopt, initargs=(job, self._counter)
            )
            self._submit: Callable[[int], Future[R]] = lambda index: self._pool.submit(_run, index)
        else:
            self._pool = ThreadPoolExecutor(count, thread_name_prefix="policyengine-scan")
            self._submit = lambda index: self._pool.submit(job, index, progress)

    def submit(self, index: int) -> Future[R]:
        with warnings.catch_warnings():
            # Python 3.12+ warns when a process with threads forks (a progress bar's, Arrow's
            # pools): a lock another thread held stays held in the child. The child takes none
            # of those threads' locks; Arrow and its allocator reset their own at a fork.
            warnings.filterwarnings(
                "ignore", "This process .* is multi-threaded", DeprecationWarning
            )
            return self._submit(index)

    def result(self, future: Future[R]) -> R:
        """The result of ``future``, passing the workers' progress on while it is awaited."""
        while True:
            try:
                found = future.result(timeout=_POLL if self._counter is not None else None)
            except Pending:
                self._report()
                continue
            except BrokenProcessPool:
                raise WorkerLost from None
            self._report()
            return found

    def _report(self) -> None:
        if self._counter is None or self.progress is None:
            return
        total = self._counter.value
        if total > self._reported:
            self.progress(total - self._reported)
            self._reported = total

    def __enter__(self) -> Workers[R]:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """After a failure, cancel what has not started and wait for what has. After success
        every result is in: the workers are left to exit on their own (a process takes ~10 ms
        to unmap its memory) and are reaped in the background."""
        self._pool.shutdown(wait=kind is not None, cancel_futures=True)


def _adopt(job: Job[Any], counter: Any) -> None:
    """In a forked worker: keep the job and the shared progress counter (inherited, not pickled).
    The objects inherited from the parent are frozen out of the garbage collector's passes, which
    would otherwise touch (and so copy) every page they are on."""
    global _job, _counter
    _job, _counter = job, counter
    gc.freeze()


def _run(index: int) -> Any:
    return _job(index, _count if _counter is not None else None)


def _count(read: int) -> None:
    with _counter.get_lock():
        _counter.value += read
