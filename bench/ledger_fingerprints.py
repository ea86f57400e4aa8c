"""Benchmark: fingerprinting a JSON Lines outputs file into a SQLite ledger.

Prints records per second and a ratio against a floor measured in the same run: reading the same
file line by line, parsing each line as JSON and hashing its text (the least any fingerprinting must
do), once with the standard library's parser and once with orjson, the one the ledger uses (the
ledger also normalises each text and stores it). Peak memory is measured in fresh processes for two
file sizes, to show it does not grow with the file. Target (issue #3): >= 200,000 records/s into SQLite; peak memory independent of file size.

    .venv/bin/python bench/ledger_fingerprints.py [RECORDS]
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

WORDS = [
    "the",
    "model",
    "answer",
    "reasoning",
    "step",
    "first",
    "then",
    "because",
    "therefore",
    "result",
    "data",
    "output",
    "user",
]


def write_outputs(path: Path, records: int) -> None:
    """A JSONL file of chat-style records with ~400 characters of text each."""
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as stream:
        for i in range(records):
            text = " ".join(rng.choice(WORDS) for _ in range(70))
            stream.write(json.dumps({"id": i, "text": f"{i}: {text}"}) + "\n")


def floor(path: Path, loads: Callable[[bytes], Any] = json.loads) -> float:
    """Read, parse and hash every line: the work any fingerprinting has to do."""
    start = time.perf_counter()
    with path.open("rb") as stream:
        for line in stream:
            hashlib.blake2b(loads(line)["text"].encode(), digest_size=16).digest()
    return time.perf_counter() - start


def fingerprint(path: Path, database: Path) -> float:
    """Record the file's outputs into a fresh SQLite ledger; returns seconds."""
    from policyengine.ledger import db, schema
    from policyengine.ledger.store import Ledger

    engine = db.engine_for(str(database))
    schema.upgrade(engine)
    ledger = Ledger(engine)
    at = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    ledger.record_generation(
        recorded_at=at,
        id="gen-bench",
        provider="openai",
        model="gpt-4o",
        channel="api",
        generated_from=dt.date(2025, 5, 1),
        generated_until=dt.date(2025, 5, 2),
        records=0,
    )
    start = time.perf_counter()
    with path.open("rb") as stream:
        ledger.record_outputs("gen-bench", stream, recorded_at=at)
    elapsed = time.perf_counter() - start
    engine.dispose()
    return elapsed


def peak_rss(records: int) -> int:
    """Peak resident memory (KiB) of a fresh process fingerprinting a file of ``records``."""
    code = f"import bench_child; bench_child({records})"
    code = (
        "import sys, resource, tempfile; from pathlib import Path; "
        f"sys.path.insert(0, {str(Path(__file__).parent)!r}); import ledger_fingerprints as b; "
        "d = Path(tempfile.mkdtemp()); b.write_outputs(d / 'o.jsonl', %d); "
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
        "b.fingerprint(d / 'o.jsonl', d / 'l.db'); "
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    ) % records
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "outputs.jsonl"
        write_outputs(path, records)
        size = path.stat().st_size / 2**20
        base = floor(path)
        fast = floor(path, orjson.loads)
        took = fingerprint(path, Path(folder) / "ledger.db")
    print(f"outputs file: {records:,} records, {size:.0f} MiB")
    print(f"read + parse (json) + hash (floor):    {records / base:>10,.0f} records/s")
    print(f"read + parse (orjson) + hash (floor):  {records / fast:>10,.0f} records/s")
    print(
        f"ledger record outputs:                 {records / took:>10,.0f} records/s  "
        f"({took / base:.2f}x json floor, {took / fast:.2f}x orjson floor; "
        "target >= 200,000 records/s)"
    )
    small, large = peak_rss(records // 5), peak_rss(records)
    print(f"peak memory, {records // 5:,} records: {small / 1024:.0f} MiB")
    print(
        f"peak memory, {records:,} records: {large / 1024:.0f} MiB  ({large / small:.2f}x for 5x the file)"
    )
    _ = resource  # imported for the child processes' measurement code


if __name__ == "__main__":
    main()
