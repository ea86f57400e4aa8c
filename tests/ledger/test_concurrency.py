"""Concurrent writers: appends are serialized, so nothing is lost, duplicated or forked."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from sqlalchemy import Engine, text

from policyengine.ledger.verify import verify

from .workers import append

PROCESSES = 8
APPENDS = 500


def test_eight_processes_appending_at_once_lose_nothing(db_url: str, engine: Engine) -> None:
    """8 processes × 500 appends give exactly 4,000 entries, all distinct, and the chain verifies."""
    # fork starts writers at once (they inherit the imports); spawn where fork does not exist.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    start_at = time.time() + (0.5 if "fork" in methods else 4.0)
    with ProcessPoolExecutor(PROCESSES, mp_context=context) as pool:
        futures = [pool.submit(append, db_url, w, APPENDS, start_at) for w in range(PROCESSES)]
        assert sum(f.result() for f in futures) == PROCESSES * APPENDS
    with engine.connect() as connection:
        result = verify(connection)
        subjects = connection.execute(
            text("SELECT count(DISTINCT subject) FROM ledger_entries")
        ).scalar()
    assert result.ok, result.diagnostics
    assert result.entries == PROCESSES * APPENDS
    assert subjects == PROCESSES * APPENDS
