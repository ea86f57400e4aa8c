"""`policyengine check` against a real ledger (SQLite and PostgreSQL): verdicts, formats, exit
codes, what-if flags, and bad input that exits 2 without deciding or writing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, text

from policyengine.cli.main import cli
from policyengine.report.github import _data, _property

from .helpers import MANIFEST, MODEL, Raw

Check = Callable[..., Result]


@pytest.fixture
def check(db_url: str) -> Check:
    """Import the example manifest, then return `policyengine check MODEL ARGS… --db URL`."""
    runner = CliRunner()
    imported = runner.invoke(
        cli, ["ledger", "import", str(MANIFEST), "--db", db_url, "--as-of", "2025-06-01"]
    )
    assert imported.exit_code == 0, imported.stderr

    def invoke(*args: str, target: str = MODEL) -> Result:
        result = runner.invoke(cli, ["check", target, *args, "--db", db_url])
        assert "Traceback" not in result.output + result.stderr
        return result

    return invoke


def entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM ledger_entries")).scalar_one())


@pytest.mark.parametrize(
    ("args", "code", "verdict"),
    [
        pytest.param(["--as-of", "2025-06-01"], 4, "needs_review", id="reviews-exit-4"),
        pytest.param(
            ["--as-of", "2025-06-01", "--fail-on", "violation"],
            0,
            "needs_review",
            id="fail-on-violation",
        ),
        pytest.param(["--as-of", "2026-01-01"], 1, "violation", id="expired-waiver-violation"),
        pytest.param(
            ["--as-of", "2025-06-01", "--mau", "5000", "--use", "evaluation"],
            4,
            "needs_review",
            id="judge-still-for-counsel",
        ),
        pytest.param(
            ["--as-of", "2026-01-01", "--competes-with", "none", "--mau", "5000"],
            0,
            "compliant",
            id="what-if-no-competitors",
        ),
    ],
)
def test_verdicts_map_to_exit_codes(check: Check, args: list[str], code: int, verdict: str) -> None:
    """The verdict decides the exit code; the last line is the one-line summary."""
    result = check("--use", "fine_tuning", *args)
    assert result.exit_code == code, result.output + result.stderr
    last = result.stdout.rstrip("\n").splitlines()[-1]
    assert last.startswith(f"{verdict}: ")
    assert f"of model `{MODEL}`" in last


def test_text_names_the_clause_and_the_waiver(check: Check) -> None:
    """The text output cites the clause, its URL and the waiver that accepted the finding."""
    result = check("--use", "fine_tuning", "--as-of", "2025-06-01")
    assert "openai.business-terms.2023-11.no-competing-models" in result.output
    assert "https://openai.com/policies/nov-2023-business-terms/" in result.output
    assert "waived by `waiver-gpt4o-preferences-2025`" in result.output
    assert "waiver-gpt4o-preferences-2025: applied" in result.output


def test_explain_prints_facts_rules_and_paths(check: Check) -> None:
    """`--explain` adds the facts used, every rule's outcome and the lineage path."""
    result = check("--use", "fine_tuning", "--as-of", "2025-06-01", "--explain")
    assert "facts used:" in result.output
    assert "meta.llama3_1-license.mau-threshold: condition unknown → review" in result.output
    assert "—trained_by→ run `run-acme-8b-sft-2025-02`" in result.output


def test_a_target_can_be_named(check: Check) -> None:
    """A name recorded once resolves to its id."""
    result = check(
        "--use", "fine_tuning", "--as-of", "2025-06-01", target="Llama-3.1-Acme-8B-Instruct"
    )
    assert result.exit_code == 4
    assert f"check model `{MODEL}`" in result.output


def test_sarif_is_2_1_0_with_help_uris_and_suppressions(check: Check) -> None:
    """SARIF carries one result per finding, the clause URL as helpUri, waivers as suppressions."""
    result = check("--use", "fine_tuning", "--as-of", "2025-06-01", "--format", "sarif")
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]
    rules = {rule["id"]: rule for rule in sarif_run["tool"]["driver"]["rules"]}
    deny = rules["openai.business-terms.2023-11.no-competing-models"]
    assert deny["helpUri"] == "https://openai.com/policies/nov-2023-business-terms/"
    waived = [r for r in sarif_run["results"] if "suppressions" in r]
    assert [r["ruleId"] for r in waived] == ["openai.business-terms.2023-11.no-competing-models"]
    assert waived[0]["suppressions"][0]["status"] == "accepted"
    assert sarif_run["properties"]["verdict"] == "needs_review"


def test_github_annotations(check: Check) -> None:
    """Violations are ::error, reviews ::warning, waived findings ::notice; summary last."""
    result = check("--use", "fine_tuning", "--as-of", "2025-06-01", "--format", "github")
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("::notice title=openai.business-terms.2023-11.no-competing-models::")
        for line in lines
    )
    assert any(
        line.startswith("::warning title=meta.llama3_1-license.mau-threshold::") for line in lines
    )
    assert lines[-1].startswith("needs_review: ")


def test_workflow_command_data_is_escaped() -> None:
    """A newline or `::` in data cannot start a workflow command of its own."""
    assert _data("a\n::error::x%") == "a%0A::error::x%25"
    assert _property("a:b,c") == "a%3Ab%2Cc"


def test_a_planned_manifest_is_decided_without_a_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--manifest` decides a lineage that is not recorded anywhere, writing nothing: no ledger
    appears in the working directory, and no check is recorded."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICYENGINE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(
        cli,
        [
            "check",
            MODEL,
            "--use",
            "fine_tuning",
            "--manifest",
            str(MANIFEST),
            "--as-of",
            "2025-06-01",
        ],
    )
    assert result.exit_code == 4, result.stderr
    assert "recorded this check" not in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(
            ["--use", "fine_tuning"],
            "PE407 the ledger has no dataset or model `acme-llama`",
            id="unknown-target",
        ),
        pytest.param(["--use", "finetuning"], "Invalid value for '--use'", id="unknown-activity"),
        pytest.param(
            ["--use", "fine_tuning", "--as-of", "2025-13-01"],
            "Invalid value for '--as-of'",
            id="malformed-as-of",
        ),
        pytest.param(
            ["--use", "fine_tuning", "--as-of", "2023-01-01"],
            "PE502 as of 2023-01-01 nothing upstream",
            id="as-of-before-lineage",
        ),
        pytest.param(
            ["--use", "fine_tuning", "--kind", "dataset", "--release", "open_weights"],
            "PE504 a dataset is not released as `open_weights`",
            id="contradictory-flags",
        ),
        pytest.param(
            ["--use", "fine_tuning", "--competes-with", "Open AI"],
            "PE501 `Open AI` is not an id",
            id="bad-provider-id",
        ),
        pytest.param(
            ["--use", "fine_tuning", "--competes-with", "openai,,google"],
            "has an empty item",
            id="empty-provider",
        ),
        pytest.param(
            ["--use", "fine_tuning", "--format", "sarif", "--explain"],
            "`--explain` is for the text format",
            id="explain-with-sarif",
        ),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    check: Check, engine: Engine, args: list[str], expected: str
) -> None:
    """Bad input is a clear message on stderr, exit 2, and no change to the ledger."""
    before = entries(engine)
    target = "acme-llama" if "PE407" in expected else MODEL
    result = check(*args, target=target)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert entries(engine) == before


def test_an_unknown_target_suggests_recorded_names(check: Check) -> None:
    """The did-you-mean help lists the closest recorded ids and names."""
    result = check("--use", "fine_tuning", target="acme-llama-3.1-8b-instruct@1.1")
    assert result.exit_code == 2
    assert "did you mean `acme-llama-3.1-8b-instruct@1.0`" in result.stderr


def test_a_tampered_ledger_is_not_decided(check: Check, raw_sql: Raw) -> None:
    """A ledger whose chain fails verification: refuse, exit 2, point at `ledger verify`."""
    raw_sql("UPDATE ledger_entries SET payload = REPLACE(payload, 'jane', 'john') WHERE seq = 12")
    result = check("--use", "fine_tuning", "--as-of", "2025-06-01")
    assert result.exit_code == 2
    assert "PE503 the ledger does not verify" in result.stderr
    assert "policyengine ledger verify" in result.stderr
    assert result.stdout == ""


def test_every_check_run_is_recorded_and_verifies(check: Check, db_url: str) -> None:
    """A check chains an audit record: target, use, as-of, rule digests, head, verdict."""
    result = check("--use", "fine_tuning", "--as-of", "2025-06-01", "--mau", "5")
    assert "recorded this check as ledger entry 13" in result.stderr
    runner = CliRunner()
    listed = runner.invoke(cli, ["ledger", "checks", MODEL, "--format", "json", "--db", db_url])
    (record,) = json.loads(listed.stdout)
    assert record["seq"] == 13
    assert record["target"] == MODEL
    assert record["use"] == "fine_tuning"
    assert record["as_of"] == "2025-06-01"
    assert record["verdict"] == "needs_review"
    assert record["what_if"] == {"org.monthly_active_users": 5}
    assert record["rules_digest"].startswith("sha256:")
    assert {pack["id"] for pack in record["packs"]} >= {"openai", "meta"}
    assert len(record["ledger_head"]) == 64
    text_listing = runner.invoke(cli, ["ledger", "checks", "--db", db_url])
    assert "needs_review" in text_listing.stdout
    verified = runner.invoke(cli, ["ledger", "verify", "--db", db_url])
    assert verified.exit_code == 0, verified.stderr


def test_a_recorded_check_survives_export_and_import(
    check: Check, db_url: str, tmp_path: Path, second_engine: Engine
) -> None:
    """The audit record is an entry like any other: an export re-imports to the same head."""
    check("--use", "fine_tuning", "--as-of", "2025-06-01")
    runner = CliRunner()
    exported = tmp_path / "ledger.jsonl"
    runner.invoke(cli, ["ledger", "export", "-o", str(exported), "--db", db_url])
    head = runner.invoke(cli, ["ledger", "verify", "--db", db_url]).stdout.split()[-1]
    second = second_engine.url.render_as_string(hide_password=False)
    imported = runner.invoke(cli, ["ledger", "import", str(exported), "--db", second])
    assert imported.exit_code == 0, imported.stderr
    assert imported.stdout.strip().endswith(head)


def test_console_script_ends_a_check_like_the_command(
    check: Check, engine: Engine, tmp_path: Path
) -> None:
    """Run as a process, `check` prints all of its output, records the audit entry and exits with
    the verdict's code (the process skips interpreter teardown after a finished check)."""
    before = entries(engine)
    url = engine.url.render_as_string(hide_password=False)
    args = [sys.executable, "-m", "policyengine", "check", MODEL, "--use", "fine_tuning"]
    done = subprocess.run(
        [*args, "--as-of", "2025-06-01", "--db", url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 4, done.stderr
    assert done.stdout.rstrip("\n").splitlines()[-1].startswith("needs_review: ")
    assert done.stderr.startswith("recorded this check as ledger entry")
    assert entries(engine) == before + 1
    expected = check("--use", "fine_tuning", "--as-of", "2025-06-01").stdout
    # The same report but for the ledger head, which the first run's audit entry moved on.
    assert _without_head(done.stdout) == _without_head(expected)
    refused = subprocess.run(
        [*args[:4], "nonesuch", "--use", "fine_tuning", "--db", url],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2
    assert "PE407" in refused.stderr or "no dataset or model" in refused.stderr


def _without_head(output: str) -> str:
    return re.sub(r"ledger head [0-9a-f]+", "ledger head …", output)
