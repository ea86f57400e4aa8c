"""The bundled packs: they compile cleanly, their own tests pass, and every rule is exercised."""

from __future__ import annotations

import pytest
import yaml
from conftest import BUNDLED
from test_cases import case_files

from policyengine import api
from policyengine.evaluate.selftest import CaseResult
from policyengine.rules.loader import load_rules
from policyengine.rules.ruleset import RuleSet


@pytest.fixture(scope="module")
def bundled() -> RuleSet:
    return api.require_rules([BUNDLED])


@pytest.fixture(scope="module")
def results(bundled: RuleSet) -> list[CaseResult]:
    """Every pack test decided once, shared by the tests below."""
    return api.run_tests(bundled)


def test_bundled_packs_compile_without_any_diagnostic() -> None:
    """Not even a warning: shipped packs are the reference users copy."""
    ruleset, diagnostics = load_rules([BUNDLED])
    assert ruleset is not None
    assert [d.render() for d in diagnostics] == []


def test_bundled_pack_tests_pass(results: list[CaseResult]) -> None:
    """Every case the packs carry decides as it expects."""
    failures = [
        f"{r.test.location}: {r.test.case.name}: {'; '.join(r.problems)}"
        for r in results
        if not r.passed
    ]
    assert failures == []


def test_every_rule_decides_some_pack_test(bundled: RuleSet, results: list[CaseResult]) -> None:
    """Coverage is 100%: each shipped rule is the deciding rule of at least one pack test."""
    percent, missing = api.coverage(bundled, results)
    assert missing == []
    assert percent == 100.0


def test_every_rule_id_appears_in_a_pack_test_or_a_golden_case(bundled: RuleSet) -> None:
    """A shipped rule that no test names is a rule nobody has checked."""
    named = {rule_id for test in bundled.tests for rule_id in test.case.expect.rules}
    for path in case_files():
        named.update(yaml.safe_load(path.read_text(encoding="utf-8"))["expect"].get("rules", []))
    assert sorted(r.id for r in bundled.rules if r.id not in named) == []


def test_every_rule_cites_a_quote_and_url(bundled: RuleSet) -> None:
    """Rules are legal claims: each carries a section, a verbatim quote and an https URL."""
    for compiled in bundled.rules:
        citation = compiled.rule.citation
        assert citation.section.strip(), compiled.id
        assert citation.quote.strip(), compiled.id
        assert citation.url.startswith("https://"), compiled.id


def test_every_rule_also_has_a_case_where_it_does_not_decide(
    bundled: RuleSet, results: list[CaseResult]
) -> None:
    """Each conditional rule is evaluated in some pack test that another rule (or none) decides.

    Rules without `when` apply to every use of their document by design; their other side is a
    case where the document does not govern, which the version-boundary tests give.
    """
    evaluated_not_deciding = {
        outcome.rule_id
        for result in results
        for outcome in result.decision.outcomes
        if outcome.rule_id not in result.decision.deciding
    }
    conditional = [r.id for r in bundled.rules if r.rule.when is not None]
    assert sorted(r for r in conditional if r not in evaluated_not_deciding) == []
