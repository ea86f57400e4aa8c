"""Export to JSON Lines and import into an empty ledger: the same hashes, verified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from policyengine.diagnostics import PolicyEngineError
from policyengine.ledger import db, schema
from policyengine.ledger.export import export_lines, import_lines, is_export
from policyengine.ledger.store import Ledger

from .helpers import AT


def filled(example: Ledger) -> list[bytes]:
    example.record_outputs(
        "gen-gpt4o-judge-2025-03",
        [json.dumps({"text": f"v{i}"}).encode() for i in range(30)],
        recorded_at=AT,
    )
    return [line.encode() for line in export_lines(example.engine)]


def test_export_then_import_reproduces_every_hash(example: Ledger, second_engine: Engine) -> None:
    """Importing an export into an empty ledger gives the identical chain and head."""
    exported = filled(example)
    assert is_export(exported[0])
    entries, head = import_lines(second_engine, exported, "export.jsonl")
    assert (entries, head) == example.head()
    assert [line.encode() for line in export_lines(second_engine)] == exported


def test_export_moves_between_backends(example: Ledger, tmp_path: Path) -> None:
    """An export of either backend imports into SQLite with the same head."""
    exported = filled(example)
    target = db.engine_for(f"sqlite:///{tmp_path / 'other.db'}")
    schema.upgrade(target)
    assert import_lines(target, exported, "e.jsonl")[1] == example.head()[1]
    target.dispose()


def test_import_into_a_ledger_with_entries_is_refused(example: Ledger) -> None:
    """An export is a whole history: it goes into an empty ledger only."""
    exported = filled(example)
    with pytest.raises(PolicyEngineError) as error:
        import_lines(example.engine, exported, "e.jsonl")
    assert [d.code for d in error.value.diagnostics] == ["PE420"]
    assert "already holds" in error.value.diagnostics[0].message


def test_an_edited_export_is_refused_at_its_line(example: Ledger, second_engine: Engine) -> None:
    """Changing a payload in the file makes its hash differ: PE420 at that line, nothing kept."""
    exported = filled(example)
    exported[3] = exported[3].replace(b"250000", b"250001")
    with pytest.raises(PolicyEngineError) as error:
        import_lines(second_engine, exported, "e.jsonl")
    [diagnostic] = error.value.diagnostics
    assert (diagnostic.code, diagnostic.location.line) == ("PE420", 4)
    assert Ledger(second_engine).head()[0] == 0


def test_a_fingerprint_of_the_wrong_length_is_refused(
    example: Ledger, second_engine: Engine
) -> None:
    """Each exported digest is 16 bytes; a shorter one is a malformed line, not a shifted row."""
    exported = filled(example)
    last = json.loads(exported[-1])
    last["fingerprints"]["digests"][0] = "00" * 15
    exported[-1] = json.dumps(last).encode()
    with pytest.raises(PolicyEngineError) as error:
        import_lines(second_engine, exported, "e.jsonl")
    [diagnostic] = error.value.diagnostics
    assert (diagnostic.code, diagnostic.location.line) == ("PE420", len(exported))
    assert "malformed" in diagnostic.message
