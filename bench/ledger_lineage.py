"""Benchmark: the lineage of a model with 100,000 upstream generations, on SQLite.

Builds a ledger (100 datasets of 1,000 generations each, one run, one model), then times
`Ledger.lineage` (one recursive query plus the facts snapshot) and `Ledger.graph` (the query alone)
against a floor measured in the same run: fetching the same number of edge rows with one flat
`SELECT` and no recursion. Each figure is the median of five runs, wall clock and CPU time.
Target (issue #3): lineage <= 1 s.

    .venv/bin/python bench/ledger_lineage.py [GENERATIONS]
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from policyengine.ledger import db, schema
from policyengine.ledger import entities as e
from policyengine.ledger.store import Ledger

AT = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
PER_DATASET = 1000


def build(ledger: Ledger, generations: int) -> str:
    """Record the generations, datasets, run and model; returns the model's id."""
    datasets = []
    for d in range(generations // PER_DATASET):
        batch: list[e.Entity] = [
            e.Generation(
                id=f"g{d}-{i}",
                provider=("openai", "meta", "deepseek")[i % 3],
                model="some-model",
                channel="api",
                generated_from=dt.date(2025, 1, 1),
                generated_until=dt.date(2025, 1, 2),
                records=100,
            )
            for i in range(PER_DATASET)
        ]
        inputs = [
            e.DatasetInput(generation=g.id, transform=e.Transform.FILTER, records=90) for g in batch
        ]
        batch.append(e.Dataset(id=f"d{d}", name=f"d{d}", version="1", inputs=inputs))
        ledger.record(batch, recorded_at=AT)
        datasets.append(f"d{d}")
    ledger.record(
        e.Run(id="run", method=e.RunMethod.FINE_TUNING, datasets=datasets), recorded_at=AT
    )
    ledger.record(e.Model(id="model", name="model", run="run"), recorded_at=AT)
    return "model"


def median_time(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``work`` (CPU time shows less of a busy machine)."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        kept = work()  # freeing the result is the caller's business, not part of the figure
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        del kept
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    generations = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as folder:
        engine = db.engine_for(str(Path(folder) / "ledger.db"))
        schema.upgrade(engine)
        ledger = Ledger(engine)
        start = time.perf_counter()
        model = build(ledger, generations)
        built = time.perf_counter() - start
        lineage = ledger.lineage(model)
        assert len(lineage.sources) == generations

        def flat() -> object:
            with engine.connect() as connection:
                return connection.execute(text("SELECT * FROM ledger_edges")).all()

        floor, floor_cpu = median_time(5, flat)
        graph, graph_cpu = median_time(5, lambda: ledger.graph(model))
        full, full_cpu = median_time(5, lambda: ledger.lineage(model))
        engine.dispose()
    print(
        f"ledger: {generations:,} generations in {generations // PER_DATASET} datasets (built in {built:.1f} s)"
    )
    print(
        f"flat SELECT of every edge (floor): {floor * 1000:7.0f} ms  (CPU {floor_cpu * 1000:.0f} ms)"
    )
    print(
        f"lineage query (recursive CTE):     {graph * 1000:7.0f} ms  ({graph / floor:.1f}x floor; "
        f"CPU {graph_cpu * 1000:.0f} ms)"
    )
    print(
        f"lineage snapshot (query + facts):  {full * 1000:7.0f} ms  ({full / floor:.1f}x floor; "
        f"CPU {full_cpu * 1000:.0f} ms; target <= 1000 ms)"
    )


if __name__ == "__main__":
    main()
