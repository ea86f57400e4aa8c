"""The hash chain: canonical entries, linked hashes, and tampering found by `verify`."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from policyengine.ledger import chain
from policyengine.ledger.store import Ledger
from policyengine.ledger.verify import expected_head, verify

from .helpers import AT, Raw


def test_canonical_json_is_sorted_compact_and_utf8() -> None:
    """Keys are sorted, there is no whitespace, and non-ASCII text stays as it is."""
    assert chain.canonical({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'


def test_floats_are_refused_as_not_canonical() -> None:
    """NaN cannot be written canonically, so payloads refuse it."""
    with pytest.raises(ValueError, match="not JSON compliant"):
        chain.canonical({"x": float("nan")})


def test_entry_hash_is_sha256_of_previous_hash_and_canonical_entry() -> None:
    """hash = sha256(prev_hash bytes ‖ canonical JSON of the entry)."""
    body = '{"kind":"use","payload":{"a":1},"recorded_at":"t","seq":1,"subject":"x"}'
    expected = hashlib.sha256(bytes(32) + body.encode()).hexdigest()
    assert chain.entry_hash(chain.GENESIS, 1, "use", "x", "t", {"a": 1}) == expected


def test_naive_recorded_at_is_refused() -> None:
    """A recorded-at time without a timezone would hash differently on other machines."""
    with pytest.raises(ValueError, match="timezone-aware"):
        chain.timestamp(AT.replace(tzinfo=None))


def test_a_fresh_ledger_verifies_with_its_head(example: Ledger) -> None:
    """The example verifies: 12 entries, and the head is the last entry's hash."""
    with example.engine.connect() as connection:
        result = verify(connection)
    assert result.ok, result.diagnostics
    assert (result.entries, result.head) == example.head()


def test_entries_link_to_their_predecessor(example: Ledger) -> None:
    """Each entry's prev_hash is the hash before it, starting from the genesis hash."""
    with example.engine.connect() as connection:
        links = list(chain.links(connection))
    assert links[0].prev_hash == chain.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(links))


TAMPERING = [
    (
        "UPDATE ledger_entries SET payload = REPLACE(payload, '1200000', '1200001') WHERE seq = 2",
        "entry 2 (generation `gen-llama405b-instructions-2024-09`",
        "content does not match its hash",
    ),
    ("DELETE FROM ledger_entries WHERE seq = 4", "entry 5", "entry 4 is missing"),
    (
        "UPDATE ledger_entries SET seq = CASE seq WHEN 3 THEN 1003 WHEN 4 THEN 3 END WHERE seq IN (3, 4);"
        "UPDATE ledger_entries SET seq = 4 WHERE seq = 1003",
        "entry 3",
        "`prev_hash` is not the hash of the entry before it",
    ),
    (
        "INSERT INTO ledger_entries (seq, kind, subject, recorded_at, payload, prev_hash, hash) "
        "SELECT 13, 'use', 'forged', recorded_at, payload, hash, '" + "ab" * 32 + "' "
        "FROM ledger_entries WHERE seq = 12",
        "entry 13 (use `forged`",
        "content does not match its hash",
    ),
    (
        "UPDATE ledger_entries SET payload = ' ' || payload WHERE seq = 1",
        "entry 1",
        "not in canonical form",
    ),
]


@pytest.mark.parametrize(
    ("statement", "entry", "problem"),
    TAMPERING,
    ids=[
        "one byte of a payload",
        "a deleted row",
        "two rows swapped",
        "a forged row",
        "whitespace",
    ],
)
def test_tampering_with_entries_is_found(
    example: Ledger, raw_sql: Raw, statement: str, entry: str, problem: str
) -> None:
    """verify names the first broken entry and what is wrong with it."""
    for part in statement.split(";"):
        raw_sql(part)
    with example.engine.connect() as connection:
        result = verify(connection)
    assert not result.ok
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "PE415"
    assert diagnostic.message.startswith(entry), diagnostic.message
    assert problem in diagnostic.message


def test_a_correctly_hashed_forged_entry_is_found_by_its_missing_rows(
    example: Ledger, raw_sql: Raw
) -> None:
    """An entry appended with a valid hash but no query rows still fails: the tables disagree."""
    seq, head = example.head()
    payload = '{"activity":"evaluation","source":"gen-gpt4o-judge-2025-03","target":"acme-preferences@1.0"}'
    stamp = "2025-06-01T12:00:00.000000Z"
    import json

    digest = chain.entry_hash(head, seq + 1, "use", "forged", stamp, json.loads(payload))
    raw_sql(
        "INSERT INTO ledger_entries (seq, kind, subject, recorded_at, payload, prev_hash, hash) "
        f"VALUES ({seq + 1}, 'use', 'forged', '{stamp}', '{payload}', '{head}', '{digest}')"
    )
    with example.engine.connect() as connection:
        result = verify(connection)
    assert [d.code for d in result.diagnostics] == ["PE416"]
    assert "lacks the row of entry 13" in result.diagnostics[0].message


QUERY_TAMPERING = [
    ("UPDATE datasets SET license = 'MIT' WHERE id = 'acme-preferences@1.0'", "`license` differs"),
    ("DELETE FROM ledger_edges WHERE relation = 'use'", "lacks the row"),
    (
        "INSERT INTO ledger_artifacts (id, kind, entry_seq) VALUES ('ghost', 'model', 1)",
        "has a row no entry accounts for",
    ),
    ("UPDATE models SET competes_with = NULL", "`competes_with` differs"),
]


@pytest.mark.parametrize(
    ("statement", "problem"),
    QUERY_TAMPERING,
    ids=["a changed licence", "a removed edge", "an invented artifact", "a dropped fact"],
)
def test_tampering_with_query_tables_is_found(
    example: Ledger, raw_sql: Raw, statement: str, problem: str
) -> None:
    """The query tables are rebuilt from the chain and compared row by row."""
    raw_sql(statement)
    with example.engine.connect() as connection:
        result = verify(connection)
    [diagnostic] = result.diagnostics
    assert diagnostic.code == "PE416"
    assert problem in diagnostic.message


def test_a_published_head_must_still_be_in_the_chain(example: Ledger) -> None:
    """--expect passes for any earlier head and fails for a hash the chain never held."""
    _, head = example.head()
    with example.engine.connect() as connection:
        assert expected_head(connection, head) == []
        [problem] = expected_head(connection, "0" * 64)
    assert problem.code == "PE415"
