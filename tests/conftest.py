"""Shared fixtures: paths to fixture packs, a pack writer for bad-input tests, a CLI runner."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ACME = FIXTURES / "packs" / "acme"
BUNDLED = ROOT / "rules"

PackWriter = Callable[..., Path]


@pytest.fixture
def write_pack(tmp_path: Path) -> PackWriter:
    """Write a pack folder under tmp_path: `write_pack("name", {"rules.yaml": "..."})`.

    Texts are dedented; a `pack.yaml` declaring pack `name` is added unless one is given.
    Returns the pack folder.
    """

    def write(name: str = "demo", files: dict[str, str | bytes] | None = None) -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        files = dict(files or {})
        files.setdefault("pack.yaml", f'pack:\n  id: {name}\n  title: Demo\n  version: "1"\n')
        for relative, content in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content), encoding="utf-8")
        return folder

    return write


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commands under test keep their parse cache in a temporary folder, not the user's."""
    monkeypatch.setenv("POLICYENGINE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def runner() -> CliRunner:
    """A click runner that keeps stdout and stderr apart."""
    return CliRunner()
