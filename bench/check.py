"""Benchmark: `policyengine check` on a model with 100,000 upstream generations from 50 models.

Builds a SQLite ledger (100 datasets of 1,000 generations, 50 distinct catalogued model ids of five
providers, one run, one model), then times the whole command in a fresh process and its parts in
this one: verifying the ledger, the lineage snapshot (grouped, as `check` reads it, and per source
for comparison), the evaluation, the text rendering. The floor, measured in the same run, is one
flat SELECT of every edge row. Target (issue #5): <= 1.5 s end to end, most of it the query rather
than the rules.

The first run of the command, untimed, warms the rules cache and lets Python write the package's
bytecode even where PYTHONDONTWRITEBYTECODE is set, as an installed package has it; without it
every run compiles some sixty modules from source first (about 0.1 s more).

    .venv/bin/python bench/check.py [GENERATIONS]
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from policyengine import api
from policyengine.evaluate.lineage import evaluate
from policyengine.facts import Release
from policyengine.ledger import db, schema
from policyengine.ledger import entities as e
from policyengine.ledger.store import Ledger
from policyengine.ledger.verify import verify_chain as verify
from policyengine.report.check_text import text as render

AT = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
PER_DATASET = 1000
MODELS = [
    *(("openai", f"gpt-4o-2024-{m:02d}-01") for m in range(1, 11)),
    *(("anthropic", f"claude-3-5-sonnet-2024{m:02d}01") for m in range(1, 11)),
    *(("meta", f"llama-3.1-{n}b-instruct") for n in range(1, 11)),
    *(("deepseek", f"deepseek-r1-{n}") for n in range(1, 11)),
    *(("google", f"gemini-1.5-pro-00{n}") for n in range(10)),
]


def build(ledger: Ledger, generations: int) -> str:
    """Record the generations, datasets, run and model; returns the model's id."""
    datasets = []
    for d in range(generations // PER_DATASET):
        batch: list[e.Entity] = []
        for i in range(PER_DATASET):
            provider, model = MODELS[(d * PER_DATASET + i) % len(MODELS)]
            batch.append(
                e.Generation(
                    id=f"g{d}-{i}",
                    provider=provider,
                    model=model,
                    channel="api" if provider != "meta" else "open_weights",
                    generated_from=dt.date(2025, 1, 2),
                    generated_until=dt.date(2025, 1, 3),
                    records=100,
                )
            )
        inputs = [
            e.DatasetInput(generation=g.id, transform=e.Transform.FILTER, records=90) for g in batch
        ]
        batch.append(e.Dataset(id=f"d{d}", name=f"d{d}", version="1", inputs=inputs))
        ledger.record(batch, recorded_at=AT)
        datasets.append(f"d{d}")
    ledger.record(
        e.Run(id="run", method=e.RunMethod.DISTILLATION, datasets=datasets), recorded_at=AT
    )
    ledger.record(
        e.Model(
            id="model",
            name="Acme-Distilled",
            run="run",
            release=Release.OPEN_WEIGHTS,
            competes_with=["openai", "anthropic", "google"],
        ),
        recorded_at=AT,
    )
    return "model"


def median_time(runs: int, work: Callable[[], object]) -> float:
    return statistics.median(timed(runs, work))


def timed(runs: int, work: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        kept = work()
        times.append(time.perf_counter() - start)
        del kept
    return times


def main() -> None:
    generations = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    ruleset = api.require_rules()
    exe = str(Path(sys.executable).with_name("policyengine"))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.db"
        engine = db.engine_for(str(path))
        schema.upgrade(engine)
        ledger = Ledger(engine)
        start = time.perf_counter()
        model = build(ledger, generations)
        built = time.perf_counter() - start
        command = [exe, "check", model, "--use", "distillation", "--db", str(path)]
        command += ["--as-of", "2025-06-01"]
        warm = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        subprocess.run(command, capture_output=True, check=False, env=warm)

        def flat() -> object:
            with engine.connect() as connection:
                return connection.execute(text("SELECT * FROM ledger_edges")).all()

        def verified() -> object:
            with engine.connect() as connection:
                return verify(connection)

        floor = median_time(3, flat)
        checking = median_time(3, verified)
        # `check` reads the lineage grouped (sources recorded alike counted, not listed); the
        # source-by-source snapshot, which reports use, is timed beside it.
        lineage = ledger.lineage(model, grouped=True)
        snapshot = median_time(3, lambda: ledger.lineage(model, grouped=True))
        per_source = median_time(3, lambda: ledger.lineage(model))
        at = dt.date(2025, 6, 1)
        deciding = median_time(3, lambda: evaluate(ruleset, lineage, "distillation", at=at))
        decision = evaluate(ruleset, lineage, "distillation", at=at)
        runs = timed(3, lambda: subprocess.run(command, capture_output=True, check=False))
        end_to_end = statistics.median(runs)
        result = subprocess.run(command, capture_output=True, check=False, text=True)
        engine.dispose()
    groups = len(decision.groups)
    print(f"ledger: {generations:,} generations of {len(MODELS)} models (built in {built:.0f} s)")
    print(f"flat SELECT of every edge (floor): {floor * 1000:7.0f} ms")
    print(
        f"ledger chain verification  :    {checking * 1000:7.0f} ms  ({checking / floor:.1f}x floor)"
    )
    print(
        f"lineage snapshot, grouped ({len(lineage.bundles)} bundles): {snapshot * 1000:5.0f} ms  "
        f"({snapshot / floor:.1f}x floor)"
    )
    print(
        f"lineage snapshot, per source:      {per_source * 1000:7.0f} ms  "
        f"({per_source / floor:.1f}x floor; reports, `--format json`)"
    )
    print(
        f"evaluate ({groups} groups):             {deciding * 1000:7.0f} ms  ({deciding / floor:.1f}x floor)"
    )
    print(
        f"render text:                       {median_time(3, lambda: render_run(decision, lineage, ruleset)) * 1000:7.0f} ms"
    )
    print(
        f"`policyengine check` end to end:   {end_to_end * 1000:7.0f} ms  "
        f"({end_to_end / floor:.1f}x floor; target <= 1500 ms; exit {result.returncode})"
    )
    print(result.stdout.rstrip().splitlines()[-1])
    print("  runs: " + ", ".join(f"{t * 1000:.0f} ms" for t in runs))
    print("load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def render_run(decision: object, lineage: object, ruleset: object) -> str:
    from policyengine.evaluate.findings import CheckRun

    run = CheckRun(decision, lineage, (), "sha256:" + "0" * 64, None, "bench")  # type: ignore[arg-type]
    return render(run)


if __name__ == "__main__":
    main()
