"""The ledger's docs stay true: the manifest schema copy is current and the walkthrough runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine

from policyengine.cli.main import cli
from policyengine.ledger.manifest import json_schema

from .helpers import EXAMPLES, ROOT


def test_manifest_schema_copy_is_current() -> None:
    """docs/ledger-manifest.schema.json is exactly the manifest model's JSON Schema."""
    current = json.loads(
        (ROOT / "docs" / "ledger-manifest.schema.json").read_text(encoding="utf-8")
    )
    assert current == json_schema()


def test_the_walkthrough_runs(empty_url: str, second_engine: Engine, tmp_path: Path) -> None:
    """Every command of docs/ledger.md's walkthrough exits 0; the copy has the same head."""
    text = (ROOT / "docs" / "ledger.md").read_text(encoding="utf-8")
    block = text.split("## Walkthrough", 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    copy = second_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    outputs = []
    for line in block.splitlines():
        command = line.removeprefix("$ policyengine ").replace("--db demo.db", f"--db {empty_url}")
        command = command.replace("--db copy.db", f"--db {copy}").replace(
            "examples/", f"{EXAMPLES}/"
        )
        args = command.replace("demo.jsonl", str(tmp_path / "demo.jsonl")).split()
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, (line, result.stderr)
        outputs.append(result.stdout)
    head = re.search(r"head (\w+)", outputs[-4])
    assert head is not None
    assert outputs[-1].strip().endswith(head.group(1))
