"""`policyengine ledger …` end to end: output, diagnostics on stderr, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from policyengine.cli.main import cli
from policyengine.ledger import schema

from .helpers import MANIFEST, MODEL, Raw


@pytest.fixture
def run(db_url: str) -> object:
    """Invoke `policyengine ledger ARGS… --db URL` and return click's result."""
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(cli, ["ledger", *args, "--db", db_url])
        assert "Traceback" not in result.output + result.stderr
        return result

    return invoke


@pytest.fixture
def imported(run) -> object:  # type: ignore[no-untyped-def]
    """The example manifest imported through the CLI."""
    result = run("import", str(MANIFEST))
    assert result.exit_code == 0, result.stderr
    return run


def test_init_creates_then_reports_up_to_date(empty_url: str) -> None:
    """`init` creates the schema once and is a no-op after."""
    runner = CliRunner()
    first = runner.invoke(cli, ["ledger", "init", "--db", empty_url])
    assert first.exit_code == 0
    assert "created the ledger" in first.stdout
    second = runner.invoke(cli, ["ledger", "init", "--db", empty_url])
    assert f"up to date (schema {schema.head()})" in second.stdout


def test_commands_before_init_exit_2_saying_to_init(empty_url: str) -> None:
    """Without a ledger, commands refuse with PE402 and exit 2."""
    result = CliRunner().invoke(cli, ["ledger", "verify", "--db", empty_url])
    assert result.exit_code == 2
    assert "PE402" in result.stderr
    assert "ledger init" in result.stderr


def test_import_verify_show_and_reimport(imported) -> None:  # type: ignore[no-untyped-def]
    """The example imports, verifies with its head, shows an entry, and re-imports as a no-op."""
    verified = imported("verify")
    assert verified.exit_code == 0
    assert verified.stdout.startswith("ok: 12 entries, head ")
    shown = imported("show", MODEL, "--format", "json")
    assert json.loads(shown.stdout)["notices"] == ["Built with Llama"]
    again = imported("import", str(MANIFEST))
    assert "0 new, 12 already recorded" in again.stdout


def test_lineage_in_three_formats(imported) -> None:  # type: ignore[no-untyped-def]
    """Tree, JSON (with sources) and Graphviz views of the same lineage."""
    tree = imported("lineage", MODEL)
    assert (
        "[input, filter, 210,000 records] generation `gen-deepseek-r1-traces-2025-02`"
        in tree.stdout
    )
    data = json.loads(imported("lineage", MODEL, "--format", "json").stdout)
    assert len(data["sources"]) == 7
    assert {s["hops"] for s in data["sources"]} == {1}
    dot = imported(
        "lineage", "gen-gpt4o-preferences-2024-10", "--downstream", "--format", "dot"
    ).stdout
    assert dot.startswith("digraph lineage {")
    assert f'"{MODEL}"' in dot


def test_record_commands_print_ids(imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each record command prints the id it recorded."""
    steps = [
        ("agreement", "--id", "nda-2", "--provider", "anthropic", "--effective-from", "2025-01-01"),
        (
            "generation",
            "--id",
            "g-cli",
            "--provider",
            "anthropic",
            "--model",
            "claude-3-5-sonnet-20241022",
            "--channel",
            "api",
            "--agreement",
            "nda-2",
            "--generated-from",
            "2025-02-01",
            "--generated-until",
            "2025-02-03",
            "--records",
            "10",
        ),
        (
            "dataset",
            "--name",
            "cli-set",
            "--version",
            "1",
            "--license",
            "cc-by-nc-4.0",
            "--input",
            "generation=g-cli,transform=rewrite,records=9",
            "--input",
            "external=wiki,license=CC-BY-SA-4.0",
        ),
        (
            "run",
            "--id",
            "r-cli",
            "--method",
            "distillation",
            "--dataset",
            "cli-set@1",
            "--base-model",
            "meta-llama/Llama-3.1-8B",
        ),
        (
            "model",
            "--name",
            "cli-model",
            "--version",
            "2",
            "--run",
            "r-cli",
            "--not-commercial",
            "--competes-with",
            "none",
            "--notice",
            "Built with Llama",
        ),
        (
            "use",
            "--id",
            "u-cli",
            "--activity",
            "benchmarking",
            "--source",
            "cli-model@2",
            "--target",
            MODEL,
        ),
        (
            "waiver",
            "--id",
            "w-cli",
            "--rule",
            "anthropic.terms.no-competing",
            "--scope",
            "cli-model@2",
            "--reason",
            "legal_review",
            "--approver",
            "legal@acme.example",
            "--ticket",
            "LEGAL-9",
            "--expires",
            "2026-01-31",
        ),
    ]
    printed = []
    for step in steps:
        result = imported("record", *step)
        assert result.exit_code == 0, result.stderr
        printed.append(result.stdout.strip())
    assert printed[2] == "cli-set@1"
    assert printed[4] == "cli-model@2"
    outputs = tmp_path / "out.jsonl"
    outputs.write_text("".join(json.dumps({"text": f"r{i}"}) + "\n" for i in range(10)))
    result = imported("record", "outputs", "--generation", "g-cli", str(outputs))
    assert result.stdout.startswith("10 fingerprints for g-cli")
    assert imported("verify").exit_code == 0


BAD = [
    (
        (
            "record",
            "generation",
            "--provider",
            "openai",
            "--model",
            "m",
            "--channel",
            "api",
            "--generated-from",
            "2025-01-02",
            "--generated-until",
            "2025-01-01",
            "--records",
            "1",
        ),
        "--generated-until: PE409",
    ),
    (
        (
            "record",
            "generation",
            "--provider",
            "openai",
            "--model",
            "m",
            "--channel",
            "api",
            "--generated-from",
            "2025-01-01",
            "--generated-until",
            "2025-01-01",
            "--records",
            "-4",
        ),
        "--records: PE406",
    ),
    (("record", "run", "--dataset", "missing"), "--dataset: PE407"),
    (
        ("record", "dataset", "--name", "x", "--version", "1", "--input", "generation"),
        "not KEY=VALUE",
    ),
    (("show", "missing"), "PE407"),
    (("lineage", "missing"), "PE407"),
]


@pytest.mark.parametrize(
    ("args", "expected"),
    BAD,
    ids=["window", "negative", "unknown id", "bad input", "show", "lineage"],
)
def test_bad_input_exits_2_with_the_flag_and_code(
    imported, args: tuple[str, ...], expected: str
) -> None:  # type: ignore[no-untyped-def]
    """Bad input is a diagnostic on stderr with exit 2, and nothing is written."""
    before = imported("verify").stdout
    result = imported(*args)
    assert result.exit_code == 2
    assert expected in result.stderr
    assert imported("verify").stdout == before


def test_a_bad_manifest_exits_2_at_its_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A manifest error prints file:line:col and writes nothing."""
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        MANIFEST.read_text(encoding="utf-8").replace(
            "    records: 180000\n", "    records: many\n", 1
        )
    )
    result = run("import", str(manifest))
    assert result.exit_code == 2
    line = manifest.read_text().splitlines().index("    records: many") + 1
    assert f"{manifest}:{line}:14: PE406" in result.stderr
    assert run("verify").stdout.startswith("ok: 0 entries")


def test_a_malformed_outputs_line_exits_2_naming_it(imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """PE414 at the file's line number, nothing stored."""
    outputs = tmp_path / "out.jsonl"
    outputs.write_text('{"text": "a"}\n{"text": \n')
    result = imported("record", "outputs", "--generation", "gen-gpt4o-judge-2025-03", str(outputs))
    assert result.exit_code == 2
    assert f"{outputs}:2:1: PE414" in result.stderr


def test_verify_exits_1_naming_the_broken_entry(imported, raw_sql: Raw) -> None:  # type: ignore[no-untyped-def]
    """A tampered ledger fails verify with exit 1 and PE415."""
    raw_sql("UPDATE ledger_entries SET payload = REPLACE(payload, 'jane', 'john') WHERE seq = 12")
    result = imported("verify")
    assert result.exit_code == 1
    assert "PE415 entry 12 (waiver `waiver-gpt4o-preferences-2025`" in result.stderr


def test_export_and_import_reproduce_the_head(imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`export -o` then `import` into a fresh SQLite ledger prints the same head."""
    exported = tmp_path / "ledger.jsonl"
    assert imported("export", "-o", str(exported)).exit_code == 0
    head = imported("verify").stdout.split("head ")[1].strip()
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    runner = CliRunner()
    runner.invoke(cli, ["ledger", "init", "--db", fresh])
    result = runner.invoke(cli, ["ledger", "import", str(exported), "--db", fresh])
    assert result.stdout.strip() == f"imported 12 entries, head {head}"
    assert runner.invoke(cli, ["ledger", "verify", "--db", fresh, "--expect", head]).exit_code == 0


def test_import_card_prints_the_model_id(imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A card with an unresolvable licence imports with a PE412 warning."""
    card = tmp_path / "README.md"
    card.write_text("---\nbase_model: meta-llama/Llama-3.1-8B\nlicense: acme-terms\n---\n# card\n")
    result = imported("import-card", str(card), "--name", "acme/tiny", "--version", "3")
    assert result.exit_code == 0
    assert result.stdout.strip() == "acme/tiny@3"
    assert "PE412" in result.stderr


def test_an_unreachable_database_exits_2_without_the_password() -> None:
    """PE401 names host and port; the password never appears."""
    url = "postgresql+psycopg://bob:hunter2@127.0.0.1:1/x?connect_timeout=2"
    result = CliRunner().invoke(cli, ["ledger", "verify", "--db", url])
    assert result.exit_code == 2
    assert "127.0.0.1:1" in result.stderr
    assert "hunter2" not in result.stderr
