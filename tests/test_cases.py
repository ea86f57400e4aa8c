"""Golden decision cases: every `tests/cases/**/*.yaml` is one case, found automatically.

A case file holds a `note` (what it proves), the `facts`, and the `expect`ed decision; `rules` names
the pack folders to load (relative to the repository), the bundled packs when absent. Unknown keys
are errors, so a typo cannot turn a case into one that always passes.

Cases under `tests/cases/lineage/` decide a whole lineage instead: a ledger manifest (a path
relative to the repository) is imported into a scratch SQLite ledger, and `check` runs on one of
its targets with a use, a day and what-if facts.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BUNDLED, ROOT
from pydantic import BaseModel, ConfigDict

from policyengine import api
from policyengine.evaluate.selftest import compare
from policyengine.evaluate.waivers import WaiverStatus
from policyengine.ledger import db, schema
from policyengine.ledger.manifest import import_manifest
from policyengine.ledger.store import Ledger
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import Expectation, Verdict
from policyengine.rules.source import parse

CASES = Path(__file__).resolve().parent / "cases"
RECORDED = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class GoldenCase(BaseModel):
    """The schema of one case file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str
    facts: dict[str, Any]
    expect: Expectation
    rules: tuple[str, ...] = ()


LINEAGE = CASES / "lineage"


class LineageExpectation(BaseModel):
    """What a lineage case expects: the verdict, the rules behind counted findings, the rules
    whose findings were waived, and how each waiver fared."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verdict: Verdict
    rules: tuple[str, ...] = ()
    waived: tuple[str, ...] = ()
    waivers: dict[str, WaiverStatus] = {}
    messages: tuple[str, ...] = ()


class LineageCase(BaseModel):
    """The schema of one lineage case file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str
    manifest: str
    target: str
    use: str
    at: dt.date
    what_if: dict[str, Any] = {}
    expect: LineageExpectation
    rules: tuple[str, ...] = ()


def case_files() -> list[Path]:
    return sorted(p for p in CASES.rglob("*.yaml") if LINEAGE not in p.parents)


def lineage_files() -> list[Path]:
    return sorted(LINEAGE.glob("*.yaml"))


@cache
def ruleset_for(paths: tuple[str, ...]) -> RuleSet:
    return api.require_rules([ROOT / p for p in paths] if paths else [BUNDLED])


def load_case(path: Path) -> GoldenCase:
    return GoldenCase.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", case_files(), ids=lambda p: str(p.relative_to(CASES)))
def test_golden_case(path: Path) -> None:
    """The decision for the case's facts is the one the case expects."""
    case = load_case(path)
    decision = api.check_facts(ruleset_for(case.rules), case.facts)
    problems = compare(case.expect, decision)
    assert not problems, f"{path.relative_to(ROOT)}: {case.note}\n" + "\n".join(problems)


@pytest.mark.parametrize("path", lineage_files(), ids=lambda p: p.name)
def test_lineage_case(path: Path, tmp_path: Path) -> None:
    """Checking the case's target over its manifest's lineage gives what the case expects."""
    case = LineageCase.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    engine = db.engine_for(str(tmp_path / "ledger.db"))
    schema.upgrade(engine)
    store = Ledger(engine)
    manifest = ROOT / case.manifest
    parsed, _ = parse(manifest.read_text(encoding="utf-8"), str(manifest))
    assert parsed is not None
    import_manifest(store, parsed.data, parsed, as_of=case.at, recorded_at=RECORDED)
    run = api.check(
        ruleset_for(case.rules), store, case.target, case.use, at=case.at, what_if=case.what_if
    )
    engine.dispose()
    decision = run.decision
    waived = {f.rule_id for f in decision.findings if f.waived}
    got = LineageExpectation(
        verdict=decision.verdict,
        rules=tuple(sorted(decision.deciding)),
        waived=tuple(sorted(r for r in waived if r is not None)),
        waivers={c.waiver.id: c.status for c in decision.waivers},
        messages=case.expect.messages,
    )
    want = case.expect.model_copy(
        update={
            "rules": tuple(sorted(case.expect.rules)),
            "waived": tuple(sorted(case.expect.waived)),
        }
    )
    messages = [f.message for f in decision.findings]
    missing = [m for m in case.expect.messages if not any(m in message for message in messages)]
    context = f"{path.relative_to(ROOT)}: {case.note}\n{decision.summary()}\n" + "\n".join(messages)
    assert got == want, context
    assert not missing, f"missing messages {missing}\n{context}"


def test_cases_exist() -> None:
    """The corpus is not empty, so the parametrized tests above cannot pass vacuously."""
    assert len(case_files()) >= 5
    assert len(lineage_files()) >= 3
