"""Benchmark: `scan` over a JSON Lines shard and a Parquet shard, against reading them.

Generates RECORDS records (default 1,000,000) with ~300 characters of text each and a few hundred
distinct provenance tuples (providers, models, channels, days), a tenth of them without provenance.
The floor, measured in the same run, is reading the file with pyarrow and nothing else
(``pyarrow.json.read_json`` / ``pyarrow.parquet.read_table``). The scan is timed twice: deciding
every record with the report only, and also writing the allowed and blocked outputs; the second is
also compared with a copy floor, reading the file and writing its records once (the bytes for JSON
Lines, ``write_table`` for Parquet), since the outputs hold every record again. A third figure is
the report-only scan with ``--detect-self-id``, against the same scan without it: one record in a
thousand says which model it is ("I'm Claude, made by Anthropic"), one in a hundred mentions a
provider without doing so. Each figure is the best of three runs, since the machine may be shared.
Target: within 2-3x of the floor.

    .venv/bin/python bench/scan.py [RECORDS]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.json as pj
import pyarrow.parquet as pq

from policyengine import api

SOURCES = [
    ("openai", "gpt-4o-2024-08-06", "api"),
    ("openai", "gpt-4o-mini-2024-07-18", "api"),
    ("anthropic", "claude-3-5-sonnet-20241022", "api"),
    ("deepseek", "deepseek-r1", "open_weights"),
    ("deepseek", "deepseek-v3", "open_weights"),
    ("meta", "llama-3.1-405b-instruct", "open_weights"),
    ("alibaba", "qwen2.5-72b-instruct", "open_weights"),
    ("mistral", "mistral-large-2407", "api"),
]
DAYS = [f"2025-{month:02d}-{day:02d}" for month in range(1, 7) for day in range(1, 29, 4)]
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
]
TARGET = {"target.competes_with": ["openai"], "target.base_model": "llama-3.1-8b"}
SELF_ID = [
    "As an AI language model trained by OpenAI, I cannot browse the internet.",
    "I'm Claude, made by Anthropic, and I can help with that.",
    "我是通义千问，由阿里云开发的大语言模型。",
]
MENTIONS = [
    "We compared ChatGPT and Claude on this task.",
    "The Gemini results from Google are in the table.",
]


def write_shard(path: Path, records: int) -> None:
    """A JSON Lines shard; ~10% of its records carry no provenance."""
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as stream:
        for i in range(records):
            text = " ".join(rng.choice(WORDS) for _ in range(45))[:300]
            if i % 1000 == 7:
                text = f"{rng.choice(SELF_ID)} {text}"[:300]
            elif i % 100 == 3:
                text = f"{text[:240]} {rng.choice(MENTIONS)}"
            record: dict[str, object] = {"id": i, "text": text}
            if rng.random() > 0.1:
                provider, model, channel = rng.choice(SOURCES)
                record |= {
                    "provider": provider,
                    "model": model,
                    "channel": channel,
                    "generated_at": rng.choice(DAYS),
                }
            stream.write(json.dumps(record) + "\n")


def timed(work: object, runs: int = 3) -> float:
    """Seconds the fastest of ``runs`` calls of ``work`` takes."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rules = api.require_rules()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        shard = base / "shard.jsonl"
        write_shard(shard, records)
        parquet = base / "shard.parquet"
        pq.write_table(pj.read_json(shard), parquet)
        report = None
        for name, path, suffix, read, copy in [
            (
                "JSON Lines",
                shard,
                ".jsonl",
                lambda p: pj.read_json(p),
                lambda p: (base / "copy.jsonl").write_bytes(p.read_bytes()),
            ),
            (
                "Parquet",
                parquet,
                ".parquet",
                lambda p: pq.read_table(p),
                lambda p: pq.write_table(pq.read_table(p), base / "copy.parquet"),
            ),
        ]:
            read(path)  # warm the page cache so both runs read from memory
            floor = timed(lambda path=path, read=read: read(path))
            copied = timed(lambda path=path, read=read, copy=copy: (read(path), copy(path)))

            def scan(
                path: Path = path, suffix: str = suffix, outputs: bool = True, selfid: bool = False
            ) -> None:
                nonlocal report
                report = api.scan(
                    [path],
                    use="distillation",
                    target=TARGET,
                    ruleset=rules,
                    allowed=base / f"allowed{suffix}" if outputs else None,
                    blocked=base / f"blocked{suffix}" if outputs else None,
                    detect_self_id=selfid,
                )

            decided = timed(lambda scan=scan: scan(outputs=False))
            split = timed(scan)
            detected = timed(lambda scan=scan: scan(outputs=False, selfid=True))
            assert report is not None
            assert report.self_id is not None
            found = report.self_id.records
            size = path.stat().st_size / 2**20
            assert report is not None
            print(
                f"{name}: {records:,} records, {size:.0f} MiB, {len(report.provenance)} distinct tuples"
            )
            print(f"  read with pyarrow (floor):   {records / floor:>12,.0f} records/s")
            print(f"  read + write once (copy):    {records / copied:>12,.0f} records/s")
            for label, took in [
                ("scan, report only:", decided),
                ("scan + allowed/blocked:", split),
            ]:
                print(
                    f"  {label:<27}{records / took:>12,.0f} records/s  "
                    f"({took / floor:.2f}x floor; target <= 3x)"
                )
            print(f"  scan + outputs against the copy floor: {split / copied:.2f}x")
            print(
                f"  {'scan --detect-self-id:':<27}{records / detected:>12,.0f} records/s  "
                f"({detected / floor:.2f}x floor, {detected / decided:.2f}x the scan without it; "
                f"{found:,} self-identified)"
            )


if __name__ == "__main__":
    main()
