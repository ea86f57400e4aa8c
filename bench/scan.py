"""Benchmark: `scan` over seeded JSON Lines and Parquet shards, against floors measured in the run.

Generates RECORDS records (default 1,000,000) from a fixed seed, each with 200-2,000 characters of
text and a realistic provider mix: mostly OpenAI, Anthropic, Meta, DeepSeek, Alibaba, Mistral and
Google outputs and human-written licensed text, plus records without provenance (no keys, or a JSON
null provider), with a provider but no model, with an empty provider, and from a provider no rule
pack knows. The same records are written as JSON Lines and as Parquet (row groups of 100,000 records,
~110 MB of text each, a usual size; the scanner reads pages through a 1 MiB buffer, so its memory does
not depend on the row groups' size).

Floors, in the same run and the same virtualenv (importing pandas alone slows pyarrow's reads):

(a) every JSON Lines line parsed with ``orjson.loads``;
(b) the provenance columns read from the Parquet file with ``pyarrow.parquet.read_table``.

Then the scan, report only ("decide") and with the allowed and blocked outputs ("split"), each run
RUNS times (default 3) in turn with its floor: the bench prints the medians and the median of the
pairs' ratios (the machine's speed drifts, and alternating exposes both to the same moments). Like ``policyengine scan`` without ``--report`` or
``--max-share``, these count no characters; "decide + characters" is the same scan counting them
(what ``--report`` costs: a Parquet scan then reads the text column). Targets: JSON Lines decide
<= 0.75 x (a), JSON Lines split <= 1.2 x (a), Parquet decide <= 1.2 x (b). A split writes as many
bytes as it reads, so next to it the bench prints how long merely copying the shard into the output
folder takes: on a disk where that alone exceeds the split's budget, the folder is the limit (run
with ``TMPDIR=/dev/shm`` to take the disk out).

Peak memory: each scan runs once more in a fresh process, whose peak resident set is read with
``/usr/bin/time -f %M``; then again on a shard of 4 x RECORDS records. Target: under 400 MB, and the same
(+-10 %) at both sizes. With less than ~6 GB free in the temporary folder, the larger shard's texts
are cut to 200-400 characters (the output says so): memory is bounded by the batch, not the file.

Workers: RECORDS records in four JSON Lines files, scanned (report only) with ``--workers 1`` and
``--workers 2``, in turn; target >= 1.7x. Both scans are handed the same loaded rules; the two
workers are processes forked from the bench's own, so a fork's cost (it grows with the forking
process's memory) is part of the figure. The machine's load average is printed before and after,
since the figures depend on what else runs.

Last, ``--detect-self-id``: the report-only scan with it, against the same scan counting characters
without it (which reads the texts too; one record in a thousand says which model it is, one in a
hundred names a provider without doing so).

    .venv/bin/python bench/scan.py [RECORDS [RUNS]]
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from policyengine import api
from policyengine.scan.fields import PROVENANCE

SOURCES = [  # provider, model, channel, weight
    ("openai", "gpt-4o-2024-08-06", "api", 20),
    ("openai", "gpt-4o-mini-2024-07-18", "api", 8),
    ("anthropic", "claude-3-5-sonnet-20241022", "api", 10),
    ("meta", "llama-3.1-405b-instruct", "open_weights", 9),
    ("deepseek", "deepseek-r1", "open_weights", 8),
    ("deepseek", "deepseek-v3", "open_weights", 4),
    ("alibaba", "qwen2.5-72b-instruct", "open_weights", 6),
    ("mistral", "mistral-large-2407", "api", 4),
    ("google", "gemini-1.5-pro-002", "api", 5),
]
LICENSES = ["CC-BY-4.0", "CC0-1.0", "MIT", "CC-BY-NC-4.0"]
DAYS = [f"2025-{month:02d}-{day:02d}" for month in range(1, 7) for day in range(1, 29, 3)]
WORDS = [
    *("the", "model", "answer", "reasoning", "step", "first", "then", "because", "therefore"),
    *("result", "data", "output", "user", "report", "river", "table", "value", "method", "proof"),
    *("example", "question", "summary", "context", "evidence", "a", "of", "to", "and", "in", "is"),
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
CHUNK = 100_000
RSS_TARGET_MB = 400


def provenance(rng: random.Random) -> dict[str, Any]:
    """One record's provenance fields, from the mix the module docstring describes."""
    roll = rng.random()
    if roll < 0.08:
        return {}  # no provenance at all
    if roll < 0.09:
        return {"provider": None, "model": None}
    if roll < 0.10:
        return {"provider": "", "model": "x"}
    if roll < 0.12:
        return {"provider": "acme-labs", "model": "acme-1", "generated_at": rng.choice(DAYS)}
    if roll < 0.13:
        return {"provider": "openai", "channel": "api"}  # a provider without a model
    if roll < 0.18:
        return {"provider": "human", "license": rng.choice(LICENSES)}
    provider, model, channel, _ = rng.choices(SOURCES, weights=[s[3] for s in SOURCES])[0]
    found = {"provider": provider, "model": model, "channel": channel}
    found["generated_at"] = rng.choice(DAYS)
    return found


def write_shards(jsonl: Path, parquet: Path | None, records: int, short: bool = False) -> None:
    """``records`` seeded records as JSON Lines and (unless None) Parquet, written in chunks."""
    rng = random.Random(7)
    corpus = " ".join(rng.choice(WORDS) for _ in range(400_000))
    low, high = (200, 400) if short else (200, 2_000)
    schema = pa.schema(
        [("id", pa.int64()), ("text", pa.string())] + [(n, pa.string()) for n in PROVENANCE]
    )
    writer = pq.ParquetWriter(str(parquet), schema) if parquet is not None else None
    with jsonl.open("wb") as stream:
        for start in range(0, records, CHUNK):
            rows = []
            for i in range(start, min(start + CHUNK, records)):
                size = rng.randint(low, high)
                at = rng.randrange(len(corpus) - size)
                text = corpus[at : at + size]
                if i % 1000 == 7:
                    text = f"{rng.choice(SELF_ID)} {text}"[:size]
                elif i % 100 == 3:
                    text = f"{text[: size - 60]} {rng.choice(MENTIONS)}"
                rows.append({"id": i, "text": text, **provenance(rng)})
            stream.write(b"".join(orjson.dumps(row) + b"\n" for row in rows))
            if writer is not None:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    if writer is not None:
        writer.close()


def median(
    work: Callable[[], object], runs: int = 3, before: Callable[[], object] | None = None
) -> float:
    """Seconds the median of ``runs`` calls of ``work`` takes (``before`` runs untimed first)."""
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired(
    first: Callable[[], object],
    second: Callable[[], object],
    runs: int,
    before: Callable[[], object] | None = None,
) -> tuple[float, float, float]:
    """Medians of ``runs`` timings of ``first`` and of ``second``, run in turn (``before``, untimed,
    ahead of each), and the median of the ratios second / first of each pair. Taking them in turn
    exposes both to the same moments of a machine whose speed drifts by tens of percent within a
    minute, which a floor measured once at the start would not be."""
    pairs = []
    for _ in range(runs):
        pairs.append(tuple(median(work, runs=1, before=before) for work in (first, second)))
    ones, twos = [a for a, _ in pairs], [b for _, b in pairs]
    ratio = statistics.median(b / a for a, b in pairs)
    return statistics.median(ones), statistics.median(twos), ratio


def orjson_floor(path: Path) -> None:
    """Floor (a): every line parsed with orjson."""
    loads = orjson.loads
    with path.open("rb") as stream:
        for line in stream:
            loads(line)


def parquet_floor(path: Path) -> None:
    """Floor (b): the provenance columns read with pyarrow."""
    names = set(pq.ParquetFile(str(path)).schema_arrow.names)
    pq.read_table(str(path), columns=[n for n in PROVENANCE if n in names])


def write_floor(path: Path, out: Path) -> None:
    """Context for split scans: ``path``'s bytes copied into ``out`` (as many bytes as a split
    writes), 8 MiB at a time, which costs what the output folder's file system costs."""
    with path.open("rb") as source, (out / f"copy{path.suffix}").open("wb") as target:
        while chunk := source.read(8 << 20):
            target.write(chunk)


def scan(paths: list[Path], out: Path | None, suffix: str, **options: Any) -> Any:
    """api.scan for distillation into TARGET; with ``out``, writing allowed and blocked there.
    Characters are counted only when asked (``characters=True``), as the CLI counts them only
    for ``--report`` and ``--max-share``."""
    return api.scan(
        paths,
        use="distillation",
        target=TARGET,
        ruleset=options.pop("ruleset", None),
        allowed=out / f"allowed{suffix}" if out else None,
        blocked=out / f"blocked{suffix}" if out else None,
        characters=options.pop("characters", False),
        **options,
    )


def _clear(folder: Path) -> None:
    """Remove the last run's outputs and wait until the system has written every dirty page: the
    disk's writing-back of one run's gigabyte would otherwise land on the next measurement."""
    for path in folder.iterdir():
        path.unlink()
    os.sync()


def peak_rss_mb(path: Path, split: bool) -> float:
    """Peak resident set (MB) of a fresh process scanning ``path`` (with outputs if ``split``)."""
    here, suffix = str(Path(__file__).parent), "".join(path.suffixes)
    out = str(path.parent) if split else None
    code = (
        f"import sys; from pathlib import Path; sys.path.insert(0, {here!r}); import scan as b; "
        f"out = {out!r}; b.scan([Path({str(path)!r})], Path(out) if out else None, {suffix!r})"
    )
    # /usr/bin/time forks the scan from a small process: a child forked from this one would count
    # this process's pages, shared until exec, in its peak.
    with tempfile.NamedTemporaryFile("r") as measured:
        subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", measured.name, sys.executable, "-c", code],
            check=True,
        )
        return int(measured.read().split()[-1]) / 1024  # kilobytes


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rules = api.require_rules()
    print(f"load average (1/5/15 min) at start: {load()}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        jsonl, parquet = base / "shard.jsonl", base / "shard.parquet"
        write_shards(jsonl, parquet, records)
        out = base / "out"
        out.mkdir()
        floor_of = {
            "a": lambda: orjson_floor(jsonl),
            "b": lambda: parquet_floor(parquet),
        }
        for warm in floor_of.values():
            warm()  # warm the page cache
        mib = jsonl.stat().st_size / 2**20, parquet.stat().st_size / 2**20
        print(
            f"{records:,} records, text 200-2,000 characters: JSON Lines {mib[0]:,.0f} MiB, "
            f"Parquet {mib[1]:,.0f} MiB; each scan run {runs} times in turn with its floor: "
            f"medians, and the median of the pairs' ratios"
        )
        written = {
            suffix: median(
                lambda path=path: write_floor(path, out), runs=runs, before=lambda: _clear(out)
            )
            for suffix, path in [(".jsonl", jsonl), (".parquet", parquet)]
        }
        print(
            f"  (context for split: copying the shard into the output folder takes "
            f"{written['.jsonl']:.2f} s for JSON Lines, {written['.parquet']:.2f} s for Parquet)"
        )
        report = None
        timings: dict[str, float] = {}
        for label, path, suffix, floor, target in [
            ("JSON Lines decide", jsonl, ".jsonl", "a", 0.75),
            ("JSON Lines decide + characters", jsonl, ".jsonl", "a", None),
            ("JSON Lines split", jsonl, ".jsonl", "a", 1.2),
            ("Parquet decide", parquet, ".parquet", "b", 1.2),
            ("Parquet decide + characters", parquet, ".parquet", "b", None),
            ("Parquet split", parquet, ".parquet", "b", None),
        ]:

            def work(path: Path = path, suffix: str = suffix, label: str = label) -> None:
                nonlocal report
                target_out = out if label.endswith("split") else None
                characters = label.endswith("characters")
                report = scan([path], target_out, suffix, ruleset=rules, characters=characters)

            # Each split run writes fresh outputs: replacing the last run's makes the file
            # system discard 1 GB first (0.1 s per 300 MB file on ext4), which is no scan's work.
            floor_took, took, ratio = paired(
                floor_of[floor], work, runs, before=lambda: _clear(out)
            )
            timings[label] = took
            goal = (
                f"target <= {target}x: {'met' if ratio <= target else 'missed'}" if target else ""
            )
            if label.endswith("split"):
                goal += f" (copying alone {written[suffix] / took:.0%} of it)"
            print(
                f"  scan {label:<30} {took:6.2f} s {records / took:>11,.0f} records/s, "
                f"floor ({floor}) {floor_took:5.2f} s: {ratio:5.2f}x {goal}"
            )
        assert report is not None
        print(
            f"  ({len(report.provenance)} distinct provenance tuples, {report.allowed:,} allowed)"
        )

        print(f"peak resident memory of a fresh process (target < {RSS_TARGET_MB} MB):")
        small = {
            (label, split): peak_rss_mb(path, split)
            for label, path in [("JSON Lines", jsonl), ("Parquet", parquet)]
            for split in (False, True)
        }
        big_dir = base / "big"
        big_dir.mkdir()
        need = 4 * (jsonl.stat().st_size + parquet.stat().st_size) * 1.3
        short = shutil.disk_usage(big_dir).free < need
        big_jsonl, big_parquet = big_dir / "shard.jsonl", big_dir / "shard.parquet"
        write_shards(big_jsonl, big_parquet, 4 * records, short=short)
        big = {
            (label, split): peak_rss_mb(path, split)
            for label, path in [("JSON Lines", big_jsonl), ("Parquet", big_parquet)]
            for split in (False, True)
        }
        if short:
            print("  (too little free space: the 4x shard's texts are 200-400 characters)")
        for key, mb in small.items():
            label = f"{key[0]} {'split' if key[1] else 'decide'}"
            change = 100 * (big[key] - mb) / mb
            print(
                f"  {label:<18} {records:>10,}: {mb:5.0f} MB   {4 * records:>10,}: "
                f"{big[key]:5.0f} MB  ({change:+.1f} %)"
            )
        shutil.rmtree(big_dir)

        # Written line by line: a scanning process holding the shard's lines would make each
        # worker's fork copy the page tables of gigabytes it never reads.
        parts = [base / f"part{i}.jsonl" for i in range(4)]
        quarter = -(-records // 4)
        with jsonl.open("rb") as stream:
            for part in parts:
                with part.open("wb") as written:
                    written.writelines(itertools.islice(stream, quarter))
        before = load()
        one, two, ratio = paired(
            lambda: scan(parts, None, ".jsonl", ruleset=rules, workers=2),
            lambda: scan(parts, None, ".jsonl", ruleset=rules, workers=1),
            runs,
            before=os.sync,
        )
        print(
            f"workers, four JSON Lines files of {quarter:,} records, report only, run in turn: "
            f"--workers 1 {two:.2f} s, --workers 2 {one:.2f} s, {ratio:.2f}x (target >= 1.7x); "
            f"load average {before} before, {load()} after"
        )

        for label, path, suffix in [
            ("JSON Lines", jsonl, ".jsonl"),
            ("Parquet", parquet, ".parquet"),
        ]:
            plain = timings[f"{label} decide + characters"]  # it too reads every text
            detected = median(
                lambda path=path, suffix=suffix: scan(
                    [path], None, suffix, ruleset=rules, detect_self_id=True
                ),
                runs=runs,
            )
            found = scan([path], None, suffix, ruleset=rules, detect_self_id=True).self_id.records
            print(
                f"scan --detect-self-id, {label}: {records / detected:,.0f} records/s, "
                f"{detected / plain:.2f}x the scan counting characters without it "
                f"({found:,} self-identified)"
            )
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
