"""Loading rule packs and deciding single sources: the facade's first half."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from policyengine import bundled
from policyengine.diagnostics import PolicyEngineError
from policyengine.evaluate.decision import Decision
from policyengine.evaluate.engine import decide
from policyengine.evaluate.selftest import CaseResult, run_pack_tests, uncovered
from policyengine.facts import Facts
from policyengine.rules.loader import load_rules
from policyengine.rules.ruleset import RuleSet

BUNDLED_RULES = bundled.RULES
"""The packs shipped beside the package in a checkout."""


def require_rules(
    paths: Sequence[str | Path] = (BUNDLED_RULES,), *, cache: Path | None = None
) -> RuleSet:
    """Load rules, raising :class:`PolicyEngineError` with every diagnostic when any is an error.

    ``cache`` is a folder where parsed rule files are kept between runs (none by default).
    """
    ruleset, diagnostics = load_rules(paths, cache=cache)
    if ruleset is None:
        raise PolicyEngineError(diagnostics)
    return ruleset


def check_facts(ruleset: RuleSet, facts: Facts | Mapping[str, object]) -> Decision:
    """Decide one source's facts (a :class:`Facts` or plain ``{"fact.name": value}`` data)."""
    parsed = facts if isinstance(facts, Facts) else Facts.parse(facts)
    return decide(ruleset, parsed)


def run_tests(ruleset: RuleSet, *, run: str | None = None) -> list[CaseResult]:
    """Run the packs' own test cases, those whose name matches the regex ``run`` when given."""
    return run_pack_tests(ruleset, select=re.compile(run) if run else None)


def coverage(ruleset: RuleSet, results: Sequence[CaseResult]) -> tuple[float, list[str]]:
    """Percentage of rules that decide some case, and the ids of those that decide none."""
    missing = uncovered(ruleset, results)
    total = len(ruleset.rules)
    percent = 100.0 if total == 0 else 100.0 * (total - len(missing)) / total
    return percent, missing
