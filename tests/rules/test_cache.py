"""The parse cache: unchanged files skip parsing, anything doubtful is read afresh."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import ACME

from policyengine.rules import loader
from policyengine.rules.loader import load_rules


def refuse_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(text: str, name: str) -> object:
        raise AssertionError(f"{name} was parsed again")

    monkeypatch.setattr(loader, "parse", fail)


def test_a_second_load_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the cache warm, loading the same files parses nothing and gives the same rule set."""
    first, _ = load_rules([ACME], cache=tmp_path)
    refuse_parsing(monkeypatch)
    second, diagnostics = load_rules([ACME], cache=tmp_path)
    assert first is not None
    assert second is not None
    assert list(diagnostics) == []
    assert [r.id for r in second.rules] == [r.id for r in first.rules]
    assert (
        second.rule("acme.terms.no-competing").location
        == first.rule(  # type: ignore[union-attr]
            "acme.terms.no-competing"
        ).location
    )


def test_an_edited_file_is_read_afresh(tmp_path: Path, write_pack: object) -> None:
    """Entries are keyed by the file's bytes: an edit, even to a comment, misses the cache."""
    pack = tmp_path / "pack"
    pack.mkdir()
    for source in ACME.iterdir():
        (pack / source.name).write_bytes(source.read_bytes())
    cache = tmp_path / "cache"
    load_rules([pack], cache=cache)
    rules = pack / "rules.yaml"
    rules.write_text(rules.read_text().replace("severity: high", "severity: hihg"))
    ruleset, diagnostics = load_rules([pack], cache=cache)
    assert ruleset is None
    assert [d.code for d in diagnostics] == ["PE204"]


def test_a_folder_others_may_write_is_never_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries are pickles, so a group- or world-writable cache folder is ignored."""
    load_rules([ACME], cache=tmp_path)
    os.chmod(tmp_path, 0o777)
    calls: list[str] = []
    real_parse = loader.parse
    monkeypatch.setattr(
        loader, "parse", lambda text, name: calls.append(name) or real_parse(text, name)
    )
    ruleset, _ = load_rules([ACME], cache=tmp_path)
    assert ruleset is not None
    assert calls, "a writable-by-others cache was trusted"


def test_a_corrupt_entry_is_ignored(tmp_path: Path) -> None:
    """A truncated or garbled entry is a miss, not an error."""
    load_rules([ACME], cache=tmp_path)
    for entry in tmp_path.glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    ruleset, diagnostics = load_rules([ACME], cache=tmp_path)
    assert ruleset is not None
    assert list(diagnostics) == []
