"""Golden decision cases: every `tests/cases/**/*.yaml` is one case, found automatically.

A case file holds a `note` (what it proves), the `facts`, and the `expect`ed decision; `rules` names
the pack folders to load (relative to the repository), the bundled packs when absent. Unknown keys
are errors, so a typo cannot turn a case into one that always passes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BUNDLED, ROOT
from pydantic import BaseModel, ConfigDict

from policyengine import api
from policyengine.evaluate.selftest import compare
from policyengine.rules.ruleset import RuleSet
from policyengine.rules.schema import Expectation

CASES = Path(__file__).resolve().parent / "cases"


class GoldenCase(BaseModel):
    """The schema of one case file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str
    facts: dict[str, Any]
    expect: Expectation
    rules: tuple[str, ...] = ()


def case_files() -> list[Path]:
    return sorted(CASES.rglob("*.yaml"))


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


def test_cases_exist() -> None:
    """The corpus is not empty, so the parametrized test above cannot pass vacuously."""
    assert len(case_files()) >= 5
