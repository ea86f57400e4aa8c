"""Pack pages and the words rules are shown in."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ACME
from pydantic import TypeAdapter

from policyengine import api
from policyengine.cli.main import cli
from policyengine.report import wording
from policyengine.report.packdoc import render_pack
from policyengine.rules.schema import Condition

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (
            {"fact": "use.activity", "op": "in", "value": ["pretraining", "distillation"]},
            "`use.activity` is one of `pretraining`, `distillation`",
        ),
        ({"fact": "target.base_model", "op": "exists"}, "`target.base_model` is recorded"),
        (
            {"fact": "source.generated_at", "op": "before", "value": "2024-01-31"},
            "`source.generated_at` is before 2024-01-31",
        ),
        (
            {"fact": "target.commercial", "op": "equals", "value": True},
            "`target.commercial` is `true`",
        ),
        (
            {
                "all": [
                    {"fact": "use.activity", "op": "equals", "value": "evaluation"},
                    {"not": {"fact": "target.competes_with", "op": "contains", "value": "acme"}},
                ]
            },
            "`use.activity` is `evaluation` and not (`target.competes_with` contains `acme`)",
        ),
        (
            {
                "any": [
                    {
                        "all": [
                            {"fact": "path.hops", "op": "gte", "value": 2},
                            {"fact": "path.hops", "op": "lte", "value": 3},
                        ]
                    },
                    {"fact": "target.name", "op": "matches", "value": "Llama*"},
                ]
            },
            "(`path.hops` is at least `2` and `path.hops` is at most `3`) or `target.name` matches `Llama*`",
        ),
    ],
    ids=["in", "exists", "before", "bool", "all with not", "any with nested all"],
)
def test_conditions_read_as_words(raw: object, words: str) -> None:
    """Each operator and combinator has one plain wording; nested groups are bracketed."""
    assert wording.condition(CONDITION.validate_python(raw)) == words


def test_a_pack_page_shows_every_rule_with_its_clause() -> None:
    """The page lists each document version and each rule with effect, quote and link."""
    ruleset = api.require_rules([ACME])
    page = render_pack(ruleset, ruleset.packs[0])
    for compiled in ruleset.rules:
        assert f"### `{compiled.id}`: {compiled.rule.effect.value}" in page
        assert compiled.rule.citation.quote in page
    assert "| 2024-07-01 | in force |" in page
    assert "the model's name begins with “Acme”" in page
    assert "under agreement `globex` only" in page


def test_docs_command_writes_then_finds_pages_current(tmp_path: Path) -> None:
    """`rules docs` writes one page per pack; `--check` then exits 0, and 1 once a page is stale."""
    runner = CliRunner()
    out = tmp_path / "pages"
    written = runner.invoke(cli, ["rules", "docs", str(ACME), "-o", str(out)])
    assert written.exit_code == 0
    assert (out / "acme.md").is_file()
    assert (
        runner.invoke(cli, ["rules", "docs", str(ACME), "-o", str(out), "--check"]).exit_code == 0
    )
    (out / "acme.md").write_text("edited by hand\n", encoding="utf-8")
    stale = runner.invoke(cli, ["rules", "docs", str(ACME), "-o", str(out), "--check"])
    assert stale.exit_code == 1
    assert "acme.md: out of date" in stale.stdout
