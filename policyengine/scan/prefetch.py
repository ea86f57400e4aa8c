"""Reading ahead: the next batches are read in a background thread while the caller judges this one.

The readers spend their time in Arrow (parsing, decompressing, decoding pages), which releases the
GIL, so reading and judging overlap on two cores. The queue holds at most ``depth`` batches, so
memory stays bounded; whatever the reader raises is raised to the caller where that batch would
have come, after the batches read before it, and stopping early stops (and closes) the reader.
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
        self.items: queue.Queue[T | _Done | _Failed] = queue.Queue(maxsize=depth)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="policyengine-read", daemon=True)

    def run(self) -> None:
        try:
            for item in self.source:
                if not self.put(item):
                    return
            self.put(_Done())
        except BaseException as error:  # raised again in the caller, in order
            self.put(_Failed(error))
        finally:
            close = getattr(self.source, "close", None)
            if close is not None:
                close()

    def put(self, item: T | _Done | _Failed) -> bool:
        """Queue ``item`` once there is room; False when told to stop first."""
        while not self.stop.is_set():
            try:
                self.items.put(item, timeout=_WAIT)
                return True
            except queue.Full:
                continue
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
            yield item
    finally:
        reader.stop.set()
        reader.thread.join()
