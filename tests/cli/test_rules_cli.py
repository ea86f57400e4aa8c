"""`policyengine rules …` from the outside: streams, exit codes, and no traceback ever."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import ACME, PackWriter

from policyengine.cli.main import cli

UNKNOWN_KEY_RULE = """\
rules:
  - id: demo.terms.no-distill
    document: demo.terms
    versions: ["2024-01"]
    whne: {fact: use.activity, op: equals, value: distillation}
    effect: deny
    severity: high
    citation: {section: "1", quote: "do not distill", url: "https://example.com/terms"}
    rationale: Distilling is forbidden.
    remediation: Do not distill.
"""

# A rule in a document no catalog entry names: valid, but no pack test can ever decide it.
UNCOVERED = """\
documents:
  - id: acme.extra
    title: Acme Extra Terms
    provider: acme
    kind: usage_policy
    versions:
      - version: "1"
        effective_from: 2024-01-01
        url: https://example.com/acme/extra
        retrieved: 2025-01-01
rules:
  - id: acme.extra.never-decided
    document: acme.extra
    versions: ["1"]
    effect: review
    severity: low
    citation: {section: "1", quote: "ask first", url: "https://example.com/acme/extra"}
    rationale: Nothing selects this document.
    remediation: None.
"""

FAILING_CASE = """\
tests:
  - name: judging is wrongly expected to be allowed
    facts: {source.provider: acme, source.model: acme-pro-1, source.channel: consumer_app, source.generated_at: 2024-08-01, use.activity: evaluation}
    expect: {effect: allow, rules: [acme.terms.judge-unclear]}
"""


def invoke(runner: CliRunner, *args: str | Path) -> Result:
    """Run `policyengine ARGS` in-process."""
    return runner.invoke(cli, [str(arg) for arg in args])


def no_crash(result: Result) -> None:
    """The command ended through an exit code, never through an uncaught exception."""
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.fixture
def acme_copy(tmp_path: Path) -> Path:
    """A writable copy of the ACME fixture pack."""
    return Path(shutil.copytree(ACME, tmp_path / "acme"))


# ---------------------------------------------------------------------------------------------
# rules validate


def test_validate_a_valid_pack_exits_0(runner: CliRunner) -> None:
    """A valid pack prints a one-line summary to stdout and exits 0."""
    result = invoke(runner, "rules", "validate", ACME)
    assert result.exit_code == 0, result.output
    assert result.stdout == "1 packs, 3 documents, 6 rules, 8 tests: valid\n"
    assert result.stderr == ""


def test_validate_reads_policyengine_rules_without_paths(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without PATHS the packs come from $POLICYENGINE_RULES."""
    monkeypatch.setenv("POLICYENGINE_RULES", str(ACME))
    result = invoke(runner, "rules", "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("1 packs, 3 documents")


def test_validate_an_invalid_pack_exits_3_with_diagnostics_on_stderr(
    runner: CliRunner, write_pack: PackWriter
) -> None:
    """Diagnostics go to stderr as `file:line:col: CODE message` and an indented help; stdout stays empty."""
    folder = write_pack("demo", {"rules.yaml": UNKNOWN_KEY_RULE})
    result = invoke(runner, "rules", "validate", folder)
    assert result.exit_code == 3
    assert result.stdout == ""
    first, second = result.stderr.splitlines()[:2]
    assert re.fullmatch(r"\S*demo/rules\.yaml:5:5: PE201 unknown key `whne` in `rules\[0\]`", first)
    assert second == "  help: did you mean `when`?"
    assert folder.exists()


@pytest.mark.parametrize(
    "name", ["missing", "empty"], ids=["path that does not exist", "folder without packs"]
)
def test_validate_a_bad_path_exits_2(runner: CliRunner, tmp_path: Path, name: str) -> None:
    """A path that is missing or holds no pack is a usage error (2), not invalid rules (3)."""
    path = tmp_path / name
    if name == "empty":
        path.mkdir()
    result = invoke(runner, "rules", "validate", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert str(path) in result.stderr
    no_crash(result)


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"rules.yaml": 'rules: ["x"\n'}, "PE103"),
        ({"rules.yaml": "rules:\n\t- id: x\n"}, "PE104"),
        ({"rules.yaml": "rules: []\nrules: []\n"}, "PE105"),
        ({"rules.yaml": 'rules: !!python/object/apply:os.system ["true"]\n'}, "PE106"),
        ({"rules.yaml": "# nothing\n"}, "PE107"),
        ({"rules.yaml": b"rules:\n  - id: caf\xe9\n"}, "PE102"),
        ({"rules.yaml": b"# padding\n" * 1_000_000}, "PE108"),
        ({"rules.yaml": UNKNOWN_KEY_RULE}, "PE201"),
        ({"rules.yaml": "rules: [{when: {foo: bar}}]\n"}, "PE207"),
        ({"rules.yaml": "rules: &loop [*loop]\n"}, "PE112"),
    ],
    ids=[
        "unclosed bracket",
        "tab indentation",
        "duplicate key",
        "unsafe tag",
        "comments only",
        "non-UTF-8",
        "10 MB file",
        "unknown key",
        "not a condition",
        "self-referencing alias",
    ],
)
def test_bad_input_never_shows_a_traceback(
    runner: CliRunner, write_pack: PackWriter, files: dict[str, str | bytes], code: str
) -> None:
    """Every bad rule file ends in exit 3 with its diagnostic on stderr, never in a traceback."""
    folder = write_pack("demo", files)
    result = invoke(runner, "rules", "validate", folder)
    no_crash(result)
    assert result.exit_code == 3, result.output
    assert f": {code}" in result.stderr


def test_internal_errors_exit_5_without_a_traceback(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception inside the engine is reported as `internal error` with exit 5, no traceback."""

    def boom(paths: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.delenv("POLICYENGINE_DEBUG", raising=False)
    monkeypatch.setattr("policyengine.rules.loader.load_rules", boom)
    result = invoke(runner, "rules", "validate", ACME)
    assert result.exit_code == 5
    assert "internal error" in result.stderr
    assert "boom" in result.stderr
    assert result.stdout == ""
    no_crash(result)


# ---------------------------------------------------------------------------------------------
# rules test


def test_test_runs_every_case_and_passes(runner: CliRunner) -> None:
    """Each case prints PASS with its file:line; the last line counts passes and failures."""
    result = invoke(runner, "rules", "test", ACME)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS ")
    assert lines[0].endswith("acme/tests.yaml:2:5: competing fine-tune after July 2024 is denied")
    assert sum(line.startswith("PASS ") for line in lines) == 8
    assert lines[-1] == "8 passed, 0 failed"


def test_a_failing_case_prints_fail_with_its_problems_and_exits_1(
    runner: CliRunner, acme_copy: Path
) -> None:
    """A case whose decision differs prints FAIL, then each problem indented, and exit 1."""
    (acme_copy / "tests.yaml").write_text(FAILING_CASE, encoding="utf-8")
    result = invoke(runner, "rules", "test", acme_copy)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("FAIL ")
    assert lines[0].endswith("acme/tests.yaml:2:5: judging is wrongly expected to be allowed")
    assert "     expected effect `allow`, got `review`" in lines
    assert lines[-1] == "0 passed, 1 failed"


@pytest.mark.parametrize(
    ("regex", "names"),
    [
        ("misnamed$", ["open weights derivative misnamed"]),
        ("^judging", ["judging is for counsel"]),
        (
            "open weights",
            ["open weights derivative named correctly", "open weights derivative misnamed"],
        ),
        ("no such case", []),
    ],
    ids=["anchored end", "anchored start", "two matches", "no match"],
)
def test_run_selects_cases_by_regex(runner: CliRunner, regex: str, names: list[str]) -> None:
    """`--run REGEX` runs only the cases whose name the regex finds."""
    result = invoke(runner, "rules", "test", "--run", regex, ACME)
    assert result.exit_code == 0, result.output
    ran = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("PASS")]
    assert ran == names
    assert result.stdout.splitlines()[-1] == f"{len(names)} passed, 0 failed"


def test_an_invalid_run_regex_is_a_usage_error(runner: CliRunner) -> None:
    """`--run` with a broken regex exits 2 naming the option, before any pack is read."""
    result = invoke(runner, "rules", "test", "--run", "(", ACME)
    assert result.exit_code == 2
    assert "--run" in result.stderr
    assert "not a regular expression" in result.stderr
    no_crash(result)


def test_json_results_parse_and_count(runner: CliRunner) -> None:
    """`--format json` prints one JSON document with results, passed, failed and coverage."""
    result = invoke(runner, "rules", "test", "--format", "json", ACME)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["passed"], document["failed"]) == (8, 0)
    assert len(document["results"]) == 8
    assert document["coverage"] == {"percent": 100.0, "rules": 6, "uncovered": []}


def test_coverage_lists_rules_no_case_decides(runner: CliRunner, acme_copy: Path) -> None:
    """`--coverage` prints the percentage and each rule that decides no case, with its position."""
    (acme_copy / "extra.yaml").write_text(UNCOVERED, encoding="utf-8")
    result = invoke(runner, "rules", "test", "--coverage", acme_copy)
    assert result.exit_code == 0, result.output
    assert "coverage: 85.7% of 7 rules decide some case" in result.stdout
    uncovered = [line for line in result.stdout.splitlines() if "not covered" in line]
    assert len(uncovered) == 1
    assert uncovered[0].startswith("  not covered: acme.extra.never-decided (")
    assert uncovered[0].endswith("acme/extra.yaml:12:5)")


@pytest.mark.parametrize(
    ("extra", "exit_code"),
    [(False, 0), (True, 1)],
    ids=["every rule covered", "one rule uncovered"],
)
def test_threshold_fails_when_coverage_is_below(
    runner: CliRunner, acme_copy: Path, extra: bool, exit_code: int
) -> None:
    """`--threshold 100` exits 1 when some rule decides no case, 0 when all do."""
    if extra:
        (acme_copy / "extra.yaml").write_text(UNCOVERED, encoding="utf-8")
    result = invoke(runner, "rules", "test", "--threshold", "100", acme_copy)
    assert result.exit_code == exit_code, result.output
    assert ("below the threshold 100%" in result.stderr) == extra


# ---------------------------------------------------------------------------------------------
# rules list, show, schema


def test_list_prints_one_row_per_document_version(runner: CliRunner) -> None:
    """`rules list` prints a table row for each version of each document, with its rule count."""
    result = invoke(runner, "rules", "list", ACME)
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines()[1:-1]]
    assert rows == [
        ["acme", "acme.terms", "2024-01", "2024-01-01", "2024-06-30", "2"],
        ["acme", "acme.terms", "2024-07", "2024-07-01", "in", "force", "3"],
        ["acme", "acme.open-license", "1.0", "2024-01-01", "in", "force", "1"],
        ["acme", "acme.globex-agreement", "2024", "2024-01-01", "in", "force", "1"],
    ]
    assert result.stdout.splitlines()[-1] == "1 packs, 3 documents, 6 rules"


def test_list_as_json(runner: CliRunner) -> None:
    """`rules list --format json` gives the same rows as objects."""
    result = invoke(runner, "rules", "list", "--format", "json", ACME)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["document"], r["version"]) for r in rows] == [
        ("acme.terms", "2024-01"),
        ("acme.terms", "2024-07"),
        ("acme.open-license", "1.0"),
        ("acme.globex-agreement", "2024"),
    ]
    assert rows[0]["effective_until"] == "2024-06-30"


def test_list_json_counts_are_numbers(runner: CliRunner) -> None:
    """In machine output the rule count of a version is a number."""
    result = invoke(runner, "rules", "list", "--format", "json", ACME)
    assert json.loads(result.stdout)[0]["rules"] == 2


def test_show_prints_the_rule_with_its_citation(runner: CliRunner) -> None:
    """`rules show ID` prints where the rule is and the clause it cites, verbatim."""
    result = invoke(runner, "rules", "show", "acme.terms.no-competing", "--rules", ACME)
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0]
    assert header.startswith("# ")
    assert header.endswith("acme/rules.yaml:2:5 (pack `acme`)")
    assert "quote: do not use output to develop competing models" in result.stdout


def test_show_as_json(runner: CliRunner) -> None:
    """`rules show --format json` gives the rule as an object with its pack and location."""
    result = invoke(
        runner, "rules", "show", "acme.terms.no-competing", "--rules", ACME, "--format", "json"
    )
    assert result.exit_code == 0, result.output
    rule = json.loads(result.stdout)
    assert rule["pack"] == "acme"
    assert rule["citation"]["section"] == "3(b)"


def test_show_an_unknown_rule_suggests_the_nearest(runner: CliRunner) -> None:
    """An unknown rule id exits 2 with a did-you-mean naming the closest id."""
    result = invoke(runner, "rules", "show", "acme.terms.no-compete", "--rules", ACME)
    assert result.exit_code == 2
    assert "did you mean `acme.terms.no-competing`?" in result.stderr
    no_crash(result)


def test_schema_prints_a_json_schema(runner: CliRunner) -> None:
    """`rules schema` prints a JSON Schema whose top level has `rules`."""
    result = invoke(runner, "rules", "schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "rules" in schema["properties"]


def test_schema_writes_a_file(runner: CliRunner, tmp_path: Path) -> None:
    """`rules schema -o FILE` writes the schema to FILE and nothing to stdout."""
    target = tmp_path / "rule-pack.schema.json"
    result = invoke(runner, "rules", "schema", "-o", target)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "rules" in json.loads(target.read_text(encoding="utf-8"))["properties"]


# ---------------------------------------------------------------------------------------------
# the program itself


def test_python_m_policyengine_help(tmp_path: Path) -> None:
    """`python -m policyengine --help` prints the usage and exits 0."""
    done = subprocess.run(
        [sys.executable, "-m", "policyengine", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: policyengine")
    assert "rules" in done.stdout


def test_an_unknown_option_is_a_usage_error(runner: CliRunner) -> None:
    """An option a command does not have exits 2 with click's message."""
    result = invoke(runner, "rules", "validate", "--bogus", ACME)
    assert result.exit_code == 2
    assert "No such option" in result.stderr
    no_crash(result)
