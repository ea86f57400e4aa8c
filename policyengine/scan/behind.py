"""Writing behind the scan: each output's writes run in order on a thread of their own.

Arrow's writes (to a file, through a compressor, or encoding Parquet pages) release the GIL, so
the allowed and blocked outputs are written at the same time as each other and as the next batch
is judged. At most ``depth`` writes are made or waiting at a time (the caller waits for room), so
memory holds a bounded number of batches. With ``depth`` 0 each write is made at once, on the
caller's thread. The first error a write raises is raised to the caller at its next call, or
by ``finish``; the writes queued after it are skipped, never made out of order.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Final

Work = Callable[[], object]

DEPTH: Final = 2
"""Writes made or waiting at a time (each a batch's output, a few megabytes)."""


class _Last:
    """The closing work, made even after a write failed (so the file is closed either way)."""

    def __init__(self, work: Work) -> None:
        self.work = work


class Writes:
    """Writes made in the order given, on a thread of their own (none with ``depth`` 0)."""

    def __init__(self, depth: int = DEPTH) -> None:
        self._depth = depth
        self._queue: queue.SimpleQueue[Work | _Last] = queue.SimpleQueue()
        self._room = threading.Semaphore(depth)
        self._error: BaseException | None = None
        self._finished = False
        self._thread = threading.Thread(target=self._run, name="policyengine-write", daemon=True)
        if depth:
            self._thread.start()

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            last = isinstance(work, _Last)
            if self._error is None or last:
                try:
                    work.work() if isinstance(work, _Last) else work()
                except BaseException as error:  # raised again in the caller
                    if self._error is None:
                        self._error = error
            del work  # its data is freed now, not when the next write arrives
            self._room.release()
            if last:
                return

    def submit(self, work: Work) -> None:
        """Make ``work`` after the writes before it; raises the error an earlier write raised."""
        self._raise()
        if not self._depth:
            work()
            return
        self._room.acquire()
        self._queue.put(work)

    def finish(self, last: Work) -> None:
        """Make ``last`` after every write (even when one failed), wait for it, and raise the
        first error any of them raised; calling again only raises that error again."""
        if not self._finished:
            self._finished = True
            self._queue.put(_Last(last))
            if self._depth:
                self._thread.join()
            else:
                self._run()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error
