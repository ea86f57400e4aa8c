"""The docs stay true to the code: the schema copy is current and every command is documented."""

from __future__ import annotations

import contextlib
import io
import json
import re

import click
from click.testing import CliRunner
from conftest import ROOT

from policyengine.cli.main import cli


def test_schema_copy_is_current() -> None:
    """docs/rule-pack.schema.json is exactly what `rules schema` writes."""
    result = CliRunner().invoke(cli, ["rules", "schema"])
    assert result.exit_code == 0
    current = json.loads((ROOT / "docs" / "rule-pack.schema.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == current, (
        "run `policyengine rules schema -o docs/rule-pack.schema.json`"
    )


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(commands(command, f"{prefix}{name} "))
        else:
            found.append((f"{prefix}{name}", command))
    return found


def test_every_command_and_option_is_in_cli_md() -> None:
    """docs/cli.md has a section per command and mentions each of its options."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, command in commands(cli):
        heading = re.search(rf"^## `policyengine {name}\b.*$", text, flags=re.MULTILINE)
        assert heading, f"docs/cli.md has no section for `{name}`"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in text, f"docs/cli.md does not mention `{name} {opt}`"


def test_readme_starts_with_the_two_setup_commands() -> None:
    """The first commands a newcomer meets are `make demo` and `make test`, nothing else."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```console\n(.*?)```", text, flags=re.DOTALL)
    assert first_block is not None
    lines = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert [line for line in lines if line] == ["make demo", "make test"]


def test_python_examples_in_the_docs_run() -> None:
    """Every ```python block of docs/index.md runs and prints what its comment says."""
    text = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks
    for block in blocks:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block, "docs/index.md", "exec"), {})
        expected = re.findall(r"^# (.+)$", block, flags=re.MULTILINE)
        for line in expected:
            assert line in buffer.getvalue().replace('"', "'"), buffer.getvalue()


def test_readme_commands_name_real_rules() -> None:
    """Rule ids the README shows exist in the bundled packs."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule_id in re.findall(r"rules show (\S+)", text):
        result = CliRunner().invoke(cli, ["rules", "show", rule_id])
        assert result.exit_code == 0, result.output


def test_generated_pack_pages_are_current() -> None:
    """docs/rules/PACK.md is exactly what `rules docs` writes from the bundled packs."""
    result = CliRunner().invoke(
        cli, ["rules", "docs", "--check", "--output-dir", str(ROOT / "docs" / "rules")]
    )
    assert result.exit_code == 0, result.output + "\nrun `policyengine rules docs`"
