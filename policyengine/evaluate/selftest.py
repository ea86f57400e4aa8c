"""Run the test cases packs carry, like `opa test`: facts in, expected decision out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from policyengine.evaluate.decision import Decision
from policyengine.evaluate.engine import decide
from policyengine.rules.ruleset import PackTest, RuleSet
from policyengine.rules.schema import Expectation


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One pack test and how it came out; ``problems`` is empty when it passed."""

    test: PackTest
    decision: Decision
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether the decision met every expectation."""
        return not self.problems


def compare(expect: Expectation, decision: Decision) -> tuple[str, ...]:
    """The ways ``decision`` differs from ``expect``, as sentences; empty when it matches."""
    problems = []
    if decision.effect is not expect.effect:
        problems.append(f"expected effect `{expect.effect.value}`, got `{decision.effect.value}`")
    if set(decision.deciding) != set(expect.rules):
        got = ", ".join(f"`{r}`" for r in decision.deciding) or "none"
        want = ", ".join(f"`{r}`" for r in expect.rules) or "none"
        problems.append(f"expected deciding rules {want}, got {got}")
    if expect.verdict is not None and decision.verdict is not expect.verdict:
        problems.append(
            f"expected verdict `{expect.verdict.value}`, got `{decision.verdict.value}`"
        )
    if problems:
        problems.extend(f"reason: {reason}" for reason in decision.reasons)
    return tuple(problems)


def run_pack_tests(ruleset: RuleSet, *, select: re.Pattern[str] | None = None) -> list[CaseResult]:
    """Decide every pack test whose name matches ``select`` (all when None), in file order."""
    results = []
    for test in ruleset.tests:
        if select is not None and not select.search(test.case.name):
            continue
        decision = decide(ruleset, test.facts)
        results.append(CaseResult(test, decision, compare(test.case.expect, decision)))
    return results


def uncovered(ruleset: RuleSet, results: Iterable[CaseResult]) -> list[str]:
    """Ids of rules that decide no case among ``results``, in pack order."""
    decided = {rule_id for result in results for rule_id in result.decision.deciding}
    return [rule.id for rule in ruleset.rules if rule.id not in decided]
