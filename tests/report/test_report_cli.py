"""`policyengine report`: formats, files, reproducible bytes, gates and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from policyengine.cli.main import cli

from .helpers import DEMO_TARGET

FIXED = ["--as-of", "2025-10-01", "--generated-at", "2025-10-01T12:00:00Z"]


def run_report(runner: CliRunner, db: str, *args: str, target: str = DEMO_TARGET) -> Result:
    return runner.invoke(
        cli, ["report", target, "--use", "distillation", "--db", db, *FIXED, *args]
    )


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("report.html", "<!DOCTYPE html>"),
        ("report.md", "# Legal review: Halcyon-32B-Distill"),
        ("report.json", "{\n"),
        ("report.xml", '<?xml version="1.0" encoding="UTF-8"?>'),
    ],
    ids=["html", "markdown", "json", "junit"],
)
def test_the_output_suffix_picks_the_format(
    runner: CliRunner, demo_db: str, tmp_path: Path, name: str, start: str
) -> None:
    """`-o report.html` writes HTML, `.md` Markdown, `.json` JSON, `.xml` JUnit; exit 0."""
    target = tmp_path / "out" / name
    result = run_report(runner, demo_db, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8").startswith(start)
    assert f"{target}: " in result.stdout
    assert "violation: 6 violation(s)" in result.stdout
    assert sorted(p.name for p in target.parent.iterdir()) == [name]  # no temporary file left


def test_without_output_markdown_goes_to_stdout(runner: CliRunner, demo_db: str) -> None:
    """No `-o` and no `--format`: the Markdown report on stdout, nothing on stderr."""
    result = run_report(runner, demo_db)
    assert result.exit_code == 0
    assert result.stdout.startswith("# Legal review")
    assert result.stderr == ""


def test_the_same_command_writes_the_same_bytes(
    runner: CliRunner, demo_db: str, tmp_path: Path
) -> None:
    """Fixed `--as-of` and `--generated-at` make the report byte-identical run after run."""
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    run_report(runner, demo_db, "-o", str(first))
    run_report(runner, demo_db, "-o", str(second))
    assert first.read_bytes() == second.read_bytes()


def test_json_on_stdout_parses_with_its_schema_version(runner: CliRunner, demo_db: str) -> None:
    """`--format json` prints one JSON document with `schema_version`."""
    result = run_report(runner, demo_db, "--format", "json")
    document = json.loads(result.stdout)
    assert document["schema_version"] == "1"
    assert document["verdict"] == "violation"
    assert document["generated_at"] == "2025-10-01T12:00:00Z"


@pytest.mark.parametrize(
    ("db", "fail_on", "code"),
    [
        ("demo", None, 0),
        ("demo", "violation", 1),
        ("demo", "review", 1),
        ("hostile", None, 0),
        ("hostile", "violation", 0),
        ("hostile", "review", 4),
    ],
    ids=[
        "a violation written is exit 0",
        "violation gate on a violation",
        "review gate on a violation",
        "a review written is exit 0",
        "violation gate lets a review through",
        "review gate on a review",
    ],
)
def test_fail_on_turns_the_report_into_a_gate(
    runner: CliRunner, demo_db: str, hostile_db: str, db: str, fail_on: str | None, code: int
) -> None:
    """Exit 0 whatever the verdict, unless `--fail-on` asks for the gate's codes."""
    url, target = (demo_db, DEMO_TARGET) if db == "demo" else (hostile_db, "hostile@1")
    gate = ["--fail-on", fail_on] if fail_on else []
    result = run_report(runner, url, "--format", "junit", *gate, target=target)
    assert result.exit_code == code, result.output


def test_what_if_flags_reach_the_decision(runner: CliRunner, demo_db: str) -> None:
    """`--competes-with none` replaces the recorded competitors in the report's target facts."""
    result = run_report(runner, demo_db, "--format", "json", "--competes-with", "none")
    facts = {f["name"]: f["value"] for f in json.loads(result.stdout)["target"]["facts"]}
    assert facts["target.competes_with"] == "none"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--generated-at", "yesterday"], "is not an ISO 8601 time"),
        (["--format", "md", "--template", "{template}"], "not both"),
        (["--template", "{missing}"], "does not exist"),
        (["--format", "pdf"], "'pdf' is not one of"),
    ],
    ids=["bad generation time", "format and template", "missing template", "unknown format"],
)
def test_usage_errors_exit_2(
    runner: CliRunner, demo_db: str, tmp_path: Path, args: list[str], words: str
) -> None:
    """Bad options exit 2 with click's message, and write nothing."""
    template = tmp_path / "t.md"
    template.write_text("x", encoding="utf-8")
    filled = [a.format(template=template, missing=tmp_path / "nope.md") for a in args]
    result = run_report(runner, demo_db, *filled)
    assert result.exit_code == 2
    assert words in result.stderr


def test_an_unknown_target_is_a_diagnostic(runner: CliRunner, demo_db: str) -> None:
    """A target the ledger lacks exits 2 with PE407 and a suggestion."""
    result = run_report(runner, demo_db, target="halcyon-32b-distil@1.0")
    assert result.exit_code == 2
    assert "PE407" in result.stderr
    assert "halcyon-32b-distill@1.0" in result.stderr


def test_a_template_escaping_the_sandbox_exits_2_without_traceback(
    runner: CliRunner, demo_db: str, tmp_path: Path
) -> None:
    """A template reaching for Python internals is refused at its file and line, exit 2."""
    template = tmp_path / "mine.html"
    template.write_text(
        "<p>{{ report.verdict }}</p>\n{{ report.__class__.__mro__ }}\n", encoding="utf-8"
    )
    out = tmp_path / "r.html"
    result = run_report(runner, demo_db, "--template", str(template), "-o", str(out))
    assert result.exit_code == 2
    assert f"{template}:2:1: PE702 the template reaches outside the sandbox" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_user_template_renders(runner: CliRunner, demo_db: str, tmp_path: Path) -> None:
    """`--template FILE` renders the user's template with the same view-model."""
    template = tmp_path / "brief.txt"
    template.write_text("{{ report.target.id }}: {{ report.verdict_label }}\n", encoding="utf-8")
    result = run_report(runner, demo_db, "--template", str(template))
    assert result.exit_code == 0
    assert result.stdout == f"{DEMO_TARGET}: Violation\n"
