"""A grouped lineage decides, counts and explains exactly as the source-by-source one.

`check` reads sources recorded alike as counted bundles (`policyengine.ledger.bundles`); every
test here runs the same check both ways, on SQLite and PostgreSQL, and compares what a reviewer
would see: verdict, counts, summary, findings, waivers, the `--explain` text with its paths, SARIF
and GitHub output, and each group's facts, size, records and example sources.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from policyengine import api
from policyengine.evaluate.findings import CheckRun
from policyengine.ledger import entities as e
from policyengine.ledger.manifest import import_manifest
from policyengine.ledger.store import Ledger
from policyengine.lineage import EXAMPLES
from policyengine.report.check_text import text
from policyengine.report.github import workflow_commands
from policyengine.report.sarif import sarif
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.source import parse

from .helpers import AT, ROOT

CASES = sorted((ROOT / "tests" / "cases" / "lineage").glob("*.yaml"))


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return api.require_rules()


def seen(run: CheckRun) -> dict[str, Any]:
    """Everything a reviewer sees of one run."""
    decision = run.decision
    return {
        "verdict": decision.verdict,
        "summary": decision.summary(),
        "counts": decision.counts(),
        "deciding": decision.deciding,
        "findings": [(f.kind, f.verdict, f.message, f.waived) for f in decision.findings],
        "waivers": decision.waivers,
        "text": text(run, explain=True),
        "sarif": sarif(run),
        "github": workflow_commands(run),
        "groups": [
            (g.facts, g.count, g.records, g.verdict, g.sources[:EXAMPLES]) for g in decision.groups
        ],
    }


def both(ledger: Ledger, rules: RuleSet, target: str, use: str, at: dt.date, **what_if: Any):
    """The run source by source and the grouped run; what a reviewer sees of each."""
    flat = api.check(rules, ledger, target, use, at=at, what_if=what_if)
    grouped = api.check(rules, ledger, target, use, at=at, what_if=what_if, grouped=True)
    assert grouped.lineage.bundles or not flat.lineage.sources
    return seen(flat), seen(grouped)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_lineage_cases_grouped(path: Path, ledger: Ledger, ruleset: RuleSet) -> None:
    """The golden lineage cases come out the same, to the character, when grouped."""
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    at = dt.date.fromisoformat(str(case["at"]))
    manifest = ROOT / case["manifest"]
    parsed, _ = parse(manifest.read_text(encoding="utf-8"), str(manifest))
    assert parsed is not None
    import_manifest(ledger, parsed.data, parsed, as_of=at, recorded_at=AT)
    flat, grouped = both(
        ledger, ruleset, case["target"], case["use"], at, **case.get("what_if", {})
    )
    assert grouped == flat


MODELS = [
    ("openai", "gpt-4o", "api"),
    ("meta", "llama-3.1-8b-instruct", "open_weights"),
    ("deepseek", "deepseek-r1", "api"),
    ("google", "gemma-2-9b", "open_weights"),
    ("anthropic", "claude-3-5-sonnet", "api"),
]


def random_ledger(ledger: Ledger, seed: int) -> list[str]:
    """A ledger of a few hundred generations in nested datasets, shared inputs, external data,
    a corrected generation, a use, a model whose own outputs feed the target; returns the ids
    of the generations and datasets (candidate waiver scopes)."""
    rng = random.Random(seed)
    days = [dt.date(2024, 7, 1), dt.date(2024, 9, 1), dt.date(2025, 2, 1)]
    gens: list[e.Entity] = []
    for n in range(240):
        provider, model, channel = rng.choice(MODELS)
        start = rng.choice(days)
        gens.append(
            e.Generation(
                id=f"g{n}",
                provider=provider,
                model=model,
                channel=channel,
                generated_from=start,
                generated_until=start + dt.timedelta(days=rng.choice([0, 3])),
                records=100,
            )
        )
    ledger.record(gens, recorded_at=AT)
    ledger.record(
        e.Generation(
            id="g0-fixed",
            supersedes="g0",
            provider="openai",
            model="gpt-4o",
            channel="api",
            generated_from=days[1],
            generated_until=days[1],
            records=100,
        ),
        recorded_at=AT,
    )
    datasets: list[str] = []
    for d in range(6):
        inputs = [
            e.DatasetInput(
                generation=f"g{i}",
                transform=rng.choice([None, e.Transform.FILTER]),
                records=rng.choice([None, 50, 90, 90]),
            )
            for i in rng.sample(range(240), 70)  # datasets share generations
        ]
        if datasets and rng.random() < 0.6:
            inputs.insert(rng.randrange(len(inputs)), e.DatasetInput(dataset=rng.choice(datasets)))
        if rng.random() < 0.5:
            inputs.append(
                e.DatasetInput(external="web-crawl", provider="commoncrawl", license="CC-BY-4.0")
            )
        ledger.record(
            e.Dataset(id=f"d{d}", name=f"d{d}", version="1", inputs=inputs), recorded_at=AT
        )
        datasets.append(f"d{d}")
    ledger.record(
        [
            e.Run(id="run-a", method=e.RunMethod.FINE_TUNING, datasets=["d0", "d1"]),
            e.Model(id="model-a", name="Llama-a", run="run-a", notices=["Built with Llama"]),
        ],
        recorded_at=AT,
    )
    by_a = [
        e.Generation(
            id=f"a{n}",
            provider="acme",
            model="model-a",
            channel="api",
            by_model="model-a",
            generated_from=days[2],
            generated_until=days[2],
            records=10,
        )
        for n in range(30)
    ]
    by_a.append(
        e.Dataset(
            id="d-a",
            name="d-a",
            version="1",
            inputs=[e.DatasetInput(generation=g.id, records=10) for g in by_a],
        )
    )
    ledger.record(by_a, recorded_at=AT)
    ledger.record(
        [
            e.Run(id="run-t", method=e.RunMethod.DISTILLATION, datasets=["d-a", *datasets[2:]]),
            e.Model(
                id="target",
                name="Acme-Distilled",
                run="run-t",
                release=e.Release.OPEN_WEIGHTS,
                competes_with=["openai", "google"],
            ),
            e.Use(id="use-1", activity="evaluation", source="g7", target="target"),
        ],
        recorded_at=AT,
    )
    return [f"g{n}" for n in range(240)] + datasets


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_ledger_grouped(seed: int, ledger: Ledger, ruleset: RuleSet) -> None:
    """A random ledger decides the same grouped, without waivers and with waivers scoped to a
    generation, a dataset and the target."""
    scopes = random_ledger(ledger, seed)
    at = dt.date(2025, 6, 1)
    flat, grouped = both(ledger, ruleset, "target", "distillation", at)
    assert grouped == flat
    rng = random.Random(seed)
    rules = list(flat["deciding"]) or ["none"]
    waivers = [
        e.Waiver(
            id=f"w{n}",
            rule=rng.choice(rules),
            scope=scope,
            reason=e.WaiverReason.LEGAL_REVIEW,
            approver="legal@acme.example",
            ticket=f"LEGAL-{n}",
            expires=dt.date(2026, 1, 1),
        )
        for n, scope in enumerate([*rng.sample(scopes, 3), "target"])
    ]
    ledger.record(waivers, recorded_at=AT)
    flat, grouped = both(ledger, ruleset, "target", "distillation", at, **{"target.name": "x"})
    assert grouped == flat
    assert flat["counts"]["sources"] > 200


def test_grouped_lineage_refuses_unseparated_scopes(ledger: Ledger, ruleset: RuleSet) -> None:
    """Evaluating a grouped lineage with a waiver whose scope it did not keep apart is a bug
    caught loudly, not a waiver silently applied to the wrong sources."""
    from policyengine.evaluate.lineage import evaluate
    from policyengine.evaluate.waivers import Waiver

    random_ledger(ledger, 4)
    lineage = ledger.lineage("target", grouped=True)
    waiver = Waiver("w", "any", "g5", "legal_review", "a", "t", dt.date(2026, 1, 1))
    with pytest.raises(ValueError, match="keep every waiver's scope apart"):
        evaluate(ruleset, lineage, "distillation", at=dt.date(2025, 6, 1), waivers=[waiver])
