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
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CLI = [sys.executable, "-m", "policyengine"]
# The CLI runs below use the user's cache as a newcomer's second run would; the first run warms it.


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


def load_and_compile(cache: Path | None = None) -> None:
    from policyengine.rules.loader import load_rules

    ruleset, diagnostics = load_rules([RULES], cache=cache)
    assert ruleset is not None, [d.render() for d in diagnostics]


def run(args: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(args, check=True, capture_output=True)


def report(label: str, seconds: float, floor: float, note: str) -> None:
    print(f"{label:<27}{seconds * 1000:7.1f} ms  ({seconds / floor:.1f}x floor{note})")


def main() -> None:
    files = sorted(RULES.rglob("*.yaml"))
    size = sum(p.stat().st_size for p in files)
    load_and_compile()  # warm imports so the figure is the work, not the first import
    floor = best_of(20, parse_only)
    compiled = best_of(20, load_and_compile)
    with tempfile.TemporaryDirectory() as folder:
        load_and_compile(Path(folder))  # fill the cache, as the first CLI run does
        cached = best_of(20, lambda: load_and_compile(Path(folder)))
    print(f"bundled packs: {len(files)} files, {size / 1024:.0f} KiB")
    report("yaml parse only (floor):", floor, floor, "")
    report("load + validate + compile:", compiled, floor, "; no cache")
    report("  with the parse cache:", cached, floor, "; target <= 150 ms")
    python_floor = best_of(5, run([sys.executable, "-c", "pass"]))
    run([*CLI, "rules", "list"])()  # the first run fills the user's parse cache
    report("python -c pass (floor):", python_floor, python_floor, "")
    report(
        "policyengine --help:",
        best_of(5, run([*CLI, "--help"])),
        python_floor,
        "; target <= 300 ms",
    )
    report(
        "policyengine rules list:",
        best_of(5, run([*CLI, "rules", "list"])),
        python_floor,
        "; target <= 300 ms",
    )


if __name__ == "__main__":
    main()
