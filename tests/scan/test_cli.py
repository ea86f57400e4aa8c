"""`policyengine scan` end to end: exit codes, summary, reports, and no traceback on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from policyengine.cli.main import cli

from .conftest import DEEPSEEK, EXAMPLE, OPENAI, jsonl_bytes, records

TARGET_FLAGS = ["--competes-with", "openai", "--base-model", "llama-3.1-8b"]


def run(*args: str | Path) -> Result:
    """Invoke `policyengine scan ARGS…`; no invocation may show a traceback."""
    result = CliRunner().invoke(cli, ["scan", *(str(a) for a in args)])
    assert "Traceback" not in result.output + result.stderr
    return result


@pytest.fixture
def shard(tmp_path: Path) -> Path:
    """A shard of two DeepSeek R1 records (allowed) and one GPT-4o record (denied)."""
    path = tmp_path / "s.jsonl"
    path.write_bytes(jsonl_bytes([*records(2, **DEEPSEEK), *records(1, **OPENAI)]))
    return path


@pytest.mark.parametrize(
    ("rows", "extra", "code", "last"),
    [
        (records(2, **DEEPSEEK), [], 0, "2 records: 2 allowed, 0 blocked; verdict compliant"),
        (
            [*records(1, **DEEPSEEK), *records(1, **OPENAI)],
            [],
            1,
            "(1 violation); verdict violation",
        ),
        (
            [*records(1, **DEEPSEEK), {"text": "anon"}],
            [],
            4,
            "(1 needs review); verdict needs review",
        ),
        (
            [{"text": "anon"}],
            ["--on-unknown", "allow"],
            0,
            "1 allowed, 0 blocked; verdict compliant",
        ),
        ([{"text": "anon"}], ["--on-unknown", "deny"], 1, "verdict violation"),
        (['{"broken'], ["--on-unknown", "allow"], 1, "(1 invalid); verdict violation"),
        (
            records(2, **DEEPSEEK),
            ["--max-share", "provider=deepseek:0.5"],
            1,
            "1 share limit exceeded",
        ),
    ],
    ids=[
        "all allowed",
        "a violation",
        "review only",
        "unknown allowed",
        "unknown denied",
        "malformed",
        "share limit",
    ],
)
def test_exit_codes_follow_the_verdict(
    tmp_path: Path, rows: list[object], extra: list[str], code: int, last: str
) -> None:
    """0 all allowed, 1 any violation/invalid/limit, 4 review only; the last line sums it up."""
    path = tmp_path / "s.jsonl"
    path.write_bytes(jsonl_bytes(rows))  # type: ignore[arg-type]
    result = run(path, "--use", "distillation", *TARGET_FLAGS, *extra)
    assert result.exit_code == code, result.output
    assert last in result.stdout.splitlines()[-1]


def test_the_example_shard_is_split_and_reported(tmp_path: Path) -> None:
    """The shipped example: its problems are listed with line numbers, outputs and report written."""
    result = run(
        EXAMPLE,
        "--use",
        "distillation",
        *TARGET_FLAGS,
        "--allowed",
        tmp_path / "a.jsonl",
        "--blocked",
        tmp_path / "b.jsonl",
        "--report",
        tmp_path / "r.json",
    )
    assert result.exit_code == 1
    assert f"{EXAMPLE}:9: PE610 not JSON" in result.stdout
    assert f"{EXAMPLE}:8: PE612 no terms known for provider `acme`" in result.stdout
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["schema_version"] == 3
    allowed = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    blocked = (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(allowed) + len(blocked) == report["records"] == 10
    assert set(allowed) <= set(EXAMPLE.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize("suffix", [".md", ".html"])
def test_reports_render_from_the_templates(shard: Path, tmp_path: Path, suffix: str) -> None:
    """Markdown and HTML reports name the verdict, the providers and the rules."""
    report = tmp_path / f"report{suffix}"
    result = run(shard, "--use", "distillation", *TARGET_FLAGS, "--report", report)
    assert result.exit_code == 1
    text = report.read_text(encoding="utf-8")
    assert "violation" in text
    assert "deepseek" in text
    assert "openai.services-agreement.2025-05.no-competing-models" in text


def test_html_report_escapes_what_records_say(tmp_path: Path) -> None:
    """A provider named like markup is shown as text, never as HTML."""
    path = tmp_path / "s.jsonl"
    path.write_bytes(jsonl_bytes([{"text": "x", "provider": "<script>alert(1)</script>"}]))
    report = tmp_path / "r.html"
    run(path, "--use", "distillation", "--report", report)
    html = report.read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "PE601 cannot read `missing.jsonl`: no such file"),
        (["{shard}", "--field", "vendor=x"], "PE603 unknown field `vendor`"),
        (["{shard}", "--field", "provider=meta", "--field", "model=meta.model"], "PE603"),
        (["{shard}", "--profile", "chat"], "--profile needs --config"),
        (["{shard}", "--profile", "chta", "--config", "{config}"], "PE604 no profile `chta`"),
        (["{shard}", "--config", "{tmp}/none.yaml", "--profile", "x"], "cannot read"),
        (["{shard}", "--report", "{tmp}/r.pdf"], "does not end in .json, .md or .html"),
        (["{shard}", "--allowed", "{tmp}/a.txt"], "PE602"),
        (["{shard}", "--max-share", "openai"], "PE605"),
        (["{shard}", "--competes-with", "OpenAI"], "`OpenAI` is not an id"),
        (["{shard}", "--workers", "0"], "--workers"),
        (["{shard}", "--target", "nope", "--db", "{tmp}/ledger.db"], "PE402"),
    ],
    ids=[
        "missing file",
        "unknown field",
        "conflicting paths",
        "profile without config",
        "unknown profile",
        "unreadable config",
        "report format",
        "output format",
        "share limit",
        "bad target fact",
        "no workers",
        "no ledger",
    ],
)
def test_bad_input_exits_2_without_a_traceback(
    shard: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    """Every kind of bad input is one message on stderr and exit 2; nothing is written."""
    config = tmp_path / "scan.yaml"
    config.write_text("profiles:\n  chat:\n    provider: meta.provider\n", encoding="utf-8")
    filled = [a.format(shard=shard, config=config, tmp=tmp_path) for a in args]
    result = run(*filled, "--use", "distillation")
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert result.stdout == ""
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "ledger.db")
    assert written == ["s.jsonl", "scan.yaml"]


def test_invalid_rules_exit_3(shard: Path, write_pack) -> None:  # type: ignore[no-untyped-def]
    """A rule pack with an error stops the scan with exit 3."""
    broken = write_pack("broken", {"rules.yaml": "rules:\n  - id: x\n    whne: {}\n"})
    result = run(shard, "--use", "distillation", "--rules", broken)
    assert result.exit_code == 3
    assert "PE2" in result.stderr


def test_a_profile_from_a_config_file_maps_nested_fields(tmp_path: Path) -> None:
    """`--profile NAME --config FILE` reads provenance where the profile says."""
    path = tmp_path / "s.jsonl"
    path.write_bytes(
        jsonl_bytes(
            [
                {
                    "meta": {"provider": "deepseek", "model": "deepseek-r1"},
                    "channel": "open_weights",
                    "generated_at": "2025-02-10",
                    "text": "t",
                }
            ]
        )
    )
    config = tmp_path / "scan.yaml"
    config.write_text(
        "profiles:\n  nested:\n    provider: meta.provider\n    model: meta.model\n",
        encoding="utf-8",
    )
    result = run(path, "--use", "distillation", "--profile", "nested", "--config", config)
    assert result.exit_code == 0, result.output


def test_two_workers_give_the_same_outputs_and_report_as_one(tmp_path: Path, forks: bool) -> None:
    """`--workers 2` writes byte-identical outputs and an equal report, on processes and on
    threads."""
    shards = []
    for index in range(3):
        path = tmp_path / f"s{index}.jsonl.gz"
        import gzip

        rows = [*records(5, **DEEPSEEK), *records(3, **OPENAI), {"text": f"anon {index}"}, "oops"]
        path.write_bytes(gzip.compress(jsonl_bytes(rows)))  # type: ignore[arg-type]
        shards.append(path)
    found = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        out.mkdir()
        result = run(
            *shards,
            "--use",
            "distillation",
            *TARGET_FLAGS,
            "--workers",
            workers,
            "--allowed",
            out / "a.jsonl.gz",
            "--blocked",
            out / "b.jsonl.zst",
            "--report",
            out / "r.json",
        )
        assert result.exit_code == 1, result.output
        found.append(result.stdout.replace(str(out), "OUT"))
    one, two = tmp_path / "1", tmp_path / "2"
    assert _decompressed(one / "a.jsonl.gz") == _decompressed(two / "a.jsonl.gz")
    assert _decompressed(one / "b.jsonl.zst") == _decompressed(two / "b.jsonl.zst")
    reports = [json.loads((d / "r.json").read_text(encoding="utf-8")) for d in (one, two)]
    reports[0]["outputs"] = reports[1]["outputs"] = None
    assert reports[0] == reports[1]
    assert found[0] == found[1]
    assert sorted(p.name for p in two.iterdir()) == ["a.jsonl.gz", "b.jsonl.zst", "r.json"]


def _decompressed(path: Path) -> bytes:
    import pyarrow as pa

    codec = "gzip" if path.suffix == ".gz" else "zstd"
    with pa.CompressedInputStream(pa.OSFile(str(path)), codec) as stream:
        return bytes(stream.read())


def test_target_facts_come_from_the_ledger(tmp_path: Path) -> None:
    """`--target ID --db URL` reads the model's recorded facts; flags override them."""
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    invoke = CliRunner().invoke
    assert invoke(cli, ["ledger", "init", "--db", db]).exit_code == 0
    recorded = invoke(
        cli,
        [
            "ledger",
            "record",
            "model",
            "--name",
            "m",
            "--version",
            "1",
            "--competes-with",
            "openai",
            "--db",
            db,
        ],
    )
    assert recorded.exit_code == 0, recorded.output
    path = tmp_path / "s.jsonl"
    path.write_bytes(jsonl_bytes(records(1, **OPENAI)))
    flags = ["--use", "distillation", "--base-model", "llama-3.1-8b"]
    denied = run(path, *flags, "--target", "m@1", "--db", db)
    assert denied.exit_code == 1, denied.output
    overridden = run(path, *flags, "--target", "m@1", "--db", db, "--competes-with", "none")
    assert overridden.exit_code != 1, overridden.output
    without = run(path, *flags)
    assert without.exit_code != 1, without.output
