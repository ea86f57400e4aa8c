"""Code the concurrency test runs in separate processes (importable by a spawned interpreter)."""

from __future__ import annotations

import datetime as dt
import time

from policyengine.ledger import db
from policyengine.ledger.store import Ledger


def append(url: str, worker: int, count: int, start_at: float) -> int:
    """Record ``count`` generations as one writer, starting at the same moment as the others."""
    engine = db.engine_for(url)
    ledger = Ledger(engine)
    with engine.connect():
        pass  # connect before the start so that every writer is ready at once
    time.sleep(max(0.0, start_at - time.time()))
    recorded_at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    for i in range(count):
        ledger.record_generation(
            recorded_at=recorded_at,
            id=f"w{worker}-g{i}",
            provider="openai",
            model="gpt-4o-mini",
            channel="api",
            generated_from="2025-05-01",
            generated_until="2025-05-02",
            records=i,
        )
    engine.dispose()
    return count
