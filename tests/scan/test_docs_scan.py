"""docs/scan.md stays true: its console examples run with the exit codes and lines they show, and
its first Python example prints what its comment says."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from policyengine.cli.main import cli

from .conftest import ROOT

DOC = ROOT / "docs" / "scan.md"


def _examples() -> list[tuple[str, list[str], int | None]]:
    """Each `$ policyengine scan …` on the example shard: the command, the lines shown, the exit."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL):
        lines = block.splitlines()
        if not lines[0].startswith("$ policyengine scan examples/"):
            continue
        shown = [line for line in lines[1:] if not line.startswith(("$", "…"))]
        code = int(shown.pop()) if "$ echo $?" in lines else None
        found.append((lines[0].removeprefix("$ policyengine "), shown, code))
    return found


@pytest.mark.parametrize("example", _examples(), ids=lambda e: e[0][:60])
def test_console_examples_run_as_shown(
    example: tuple[str, list[str], int | None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command exits as shown, and prints every line shown, in order."""
    command, shown, code = example
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, shlex.split(command))
    if code is not None:
        assert result.exit_code == code, result.output
    printed = result.stdout.splitlines()
    positions = [printed.index(line) for line in shown]
    assert positions == sorted(positions)


def test_the_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The `From Python` example prints the counts its comment shows."""
    section = DOC.read_text(encoding="utf-8").split("## From Python", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert block is not None
    monkeypatch.chdir(ROOT)
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(compile(block.group(1), str(DOC), "exec"), {})
    expected = re.findall(r"^# (.+)$", block.group(1), flags=re.MULTILINE)
    assert expected
    for line in expected:
        assert line in buffer.getvalue()
