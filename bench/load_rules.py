"""Benchmark: loading and compiling the bundled packs, and CLI start-up.

Prints absolute times and ratios against floors measured in the same run:
- load+compile against just reading and YAML-parsing the same files with PyYAML's C loader (the
  cheapest way to get the data at all);
- `policyengine --help` and `rules list` against starting a bare `python -c pass`.
Targets (issue #2): load+compile of every bundled pack <= 150 ms; --help and `rules list` <= 300 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CLI = [sys.executable, "-m", "policyengine"]


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Median wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def parse_only() -> None:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for path in sorted(RULES.rglob("*.yaml")):
        yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


def load_and_compile() -> None:
    from policyengine.rules.loader import load_rules

    ruleset, diagnostics = load_rules([RULES])
    assert ruleset is not None, [d.render() for d in diagnostics]


def run(args: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(args, check=True, capture_output=True)


def main() -> None:
    files = sorted(RULES.rglob("*.yaml"))
    size = sum(p.stat().st_size for p in files)
    load_and_compile()  # warm imports so the figure is the work, not the first import
    floor = best_of(20, parse_only)
    compiled = best_of(20, load_and_compile)
    print(f"bundled packs: {len(files)} files, {size / 1024:.0f} KiB")
    print(f"yaml parse only (floor):  {floor * 1000:7.1f} ms")
    print(
        f"load + validate + compile:{compiled * 1000:7.1f} ms  ({compiled / floor:.1f}x floor; target <= 150 ms)"
    )
    python_floor = best_of(5, run([sys.executable, "-c", "pass"]))
    help_time = best_of(5, run([*CLI, "--help"]))
    list_time = best_of(5, run([*CLI, "rules", "list"]))
    print(f"python -c pass (floor):   {python_floor * 1000:7.1f} ms")
    print(
        f"policyengine --help:      {help_time * 1000:7.1f} ms  ({help_time / python_floor:.1f}x floor; target <= 300 ms)"
    )
    print(
        f"policyengine rules list:  {list_time * 1000:7.1f} ms  ({list_time / python_floor:.1f}x floor; target <= 300 ms)"
    )


if __name__ == "__main__":
    main()
