"""Reading ahead: the next batch is read in a background thread while the caller judges this one.

The readers spend their time in Arrow (parsing, decompressing, decoding pages), which releases the
GIL, so reading and judging overlap on two cores. The reader starts on the next item only when the
caller has taken the last one it read (up to ``depth`` read and not yet taken), so memory holds the
caller's item and ``depth`` more; whatever the reader raises is raised to the caller where that item
would have come, after the items read before it, and stopping early stops (and closes) the reader.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Final, Generic, TypeVar

T = TypeVar("T")

_WAIT: Final = 0.1
"""Seconds the reader waits for room before looking whether it was told to stop."""


class _Done:
    """The end of the input."""


class _Failed:
    """The reader raised ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Reader(Generic[T]):
    def __init__(self, source: Iterator[T], depth: int) -> None:
        self.source = source
        self.items: queue.SimpleQueue[T | _Done | _Failed] = queue.SimpleQueue()
        self.room = threading.Semaphore(depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="policyengine-read", daemon=True)

    def run(self) -> None:
        try:
            while self.wait_for_room():
                try:
                    item = next(self.source)
                except StopIteration:
                    self.items.put(_Done())
                    return
                self.items.put(item)
        except BaseException as error:  # raised again in the caller, in order
            self.items.put(_Failed(error))
        finally:
            close = getattr(self.source, "close", None)
            if close is not None:
                close()

    def wait_for_room(self) -> bool:
        """Wait until the caller has taken an item; False when told to stop first."""
        while not self.stop.is_set():
            if self.room.acquire(timeout=_WAIT):
                return not self.stop.is_set()
        return False


def prefetched(source: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The items of ``source``, read up to ``depth`` ahead in a background thread."""
    reader = _Reader(source, depth)
    reader.thread.start()
    try:
        while True:
            item = reader.items.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failed):
                raise item.error
            reader.room.release()
            yield item
    finally:
        reader.stop.set()
        reader.room.release()  # a reader waiting for room sees the stop at once
        reader.thread.join()
