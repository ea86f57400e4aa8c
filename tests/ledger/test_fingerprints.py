"""Output fingerprints: normalised text, 128-bit digests, bulk storage, all or nothing."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from policyengine import textdigest
from policyengine.diagnostics import PolicyEngineError
from policyengine.ledger import fingerprints
from policyengine.ledger.store import Ledger
from policyengine.ledger.verify import verify

from .helpers import AT, Raw

GENERATION = "gen-gpt4o-judge-2025-03"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Hello  world", "Hello world"),
        ("  line one\n\tline two  ", "line one line two"),
        ("cafe\u0301", "café"),
        ("a\u00a0b", "a b"),
    ],
    ids=["double space", "newlines and tabs", "decomposed accent", "no-break space"],
)
def test_texts_that_differ_only_in_form_share_a_fingerprint(a: str, b: str) -> None:
    """NFC and collapsed whitespace make re-encoded or re-wrapped text match."""
    assert textdigest.digest(a) == textdigest.digest(b)
    assert len(textdigest.digest(a)) == 16


# ASCII whitespace of every kind, controls that are not whitespace, and a few non-ASCII spaces.
_TRICKY = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x00\x7fab\u00a0\u0085\u2028e\u0301"


@given(st.text(alphabet=_TRICKY) | st.text())
def test_normalize_is_nfc_with_whitespace_runs_collapsed(text: str) -> None:
    """The fast paths give exactly what the definition gives, for any text."""
    assert textdigest.normalize(text) == " ".join(unicodedata.normalize("NFC", text).split())


def test_different_texts_differ() -> None:
    """Case and punctuation are kept: they change the text."""
    assert textdigest.digest("Hello") != textdigest.digest("hello")


def lines(texts: list[object], field: str = "text") -> list[bytes]:
    return [json.dumps({field: t}).encode() + b"\n" for t in texts]


def stored(ledger: Ledger) -> int:
    with ledger.engine.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM ledger_fingerprints")).scalar_one()
        )


def test_outputs_are_stored_and_chained(example: Ledger) -> None:
    """Every record gets a fingerprint; one entry binds them, and the ledger verifies."""
    batch = example.record_outputs(
        GENERATION, lines([f"judge verdict {i}" for i in range(2500)]), recorded_at=AT
    )
    assert batch.records == 2500
    assert stored(example) == 2500
    assert example.outputs(GENERATION) == [batch]
    with example.engine.connect() as connection:
        assert verify(connection).ok


def test_a_nested_text_field_is_followed(example: Ledger) -> None:
    """`messages.-1.content` reads the last message of a chat record."""
    record = {"messages": [{"content": "q"}, {"content": "the answer"}]}
    example.record_outputs(
        GENERATION, [json.dumps(record).encode()], recorded_at=AT, text_field="messages.-1.content"
    )
    with example.engine.connect() as connection:
        digest = connection.execute(text("SELECT digest FROM ledger_fingerprints")).scalar_one()
    assert bytes(digest) == textdigest.digest("the answer")


def test_a_byte_order_mark_before_the_first_record_is_ignored(example: Ledger) -> None:
    """A file saved with a UTF-8 BOM fingerprints its first record like any other."""
    example.record_outputs(GENERATION, [b'\xef\xbb\xbf{"text": "first"}\n'], recorded_at=AT)
    with example.engine.connect() as connection:
        digest = connection.execute(text("SELECT digest FROM ledger_fingerprints")).scalar_one()
    assert bytes(digest) == textdigest.digest("first")


BAD_LINES = [
    (b'{"text": "ok"}\n{"text": "ok"\n', 2, "not a JSON record"),
    (b'{"text": "ok"}\n\n{"txt": "x"}\n', 3, "no text at `text`"),
    (b'{"text": ["a"]}\n', 1, "holds a list, not text"),
    (b"\xff\xfe\n", 1, "not a JSON record"),
    (b'{"text": "a \\ud800 b"}\n', 1, "not a JSON record"),
    (b'{"text": "ok"}\n\xef\xbb\xbf{"text": "ok"}\n', 2, "not a JSON record"),
]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    BAD_LINES,
    ids=["truncated json", "missing field", "not text", "not utf-8", "lone surrogate", "inner bom"],
)
def test_a_malformed_line_names_its_number_and_stores_nothing(
    example: Ledger, content: bytes, line: int, message: str
) -> None:
    """PE414 at the line; no fingerprint and no entry are written."""
    before = example.head()
    with pytest.raises(PolicyEngineError) as error:
        example.record_outputs(
            GENERATION, content.splitlines(keepends=True), recorded_at=AT, name="out.jsonl"
        )
    [diagnostic] = error.value.diagnostics
    assert (diagnostic.code, str(diagnostic.location)) == ("PE414", f"out.jsonl:{line}:1")
    assert message in diagnostic.message
    assert stored(example) == 0
    assert example.head() == before


def test_a_failure_after_the_first_chunk_stores_nothing(example: Ledger) -> None:
    """Chunks already inserted are rolled back with the rest."""
    content = [*lines(["x"] * (fingerprints.CHUNK + 5)), b"oops\n"]
    with pytest.raises(PolicyEngineError):
        example.record_outputs(GENERATION, content, recorded_at=AT)
    assert stored(example) == 0


def test_outputs_only_for_a_generation(example: Ledger) -> None:
    """Fingerprints belong to a generation: another kind or an unknown id is refused."""
    for target, code in (("acme-preferences@1.0", "PE417"), ("nope", "PE407")):
        with pytest.raises(PolicyEngineError) as error:
            example.record_outputs(target, lines(["a"]), recorded_at=AT)
        assert [d.code for d in error.value.diagnostics] == [code]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_fingerprints SET digest = {zero} WHERE line = 7",
        "DELETE FROM ledger_fingerprints WHERE line = 7",
        "INSERT INTO ledger_fingerprints (batch, line, digest) VALUES (13, 99, {zero})",
        "INSERT INTO ledger_fingerprints (batch, line, digest) VALUES (99, 1, {zero})",
    ],
    ids=["changed digest", "deleted fingerprint", "added fingerprint", "batch without entry"],
)
def test_tampered_fingerprints_are_found(example: Ledger, raw_sql: Raw, statement: str) -> None:
    """verify rehashes every batch against the digest its entry chained."""
    example.record_outputs(GENERATION, lines([f"t{i}" for i in range(20)]), recorded_at=AT)
    zero = (
        "X'" + "00" * 16 + "'"
        if example.engine.dialect.name == "sqlite"
        else "'\\x" + "00" * 16 + "'::bytea"
    )
    raw_sql(statement.format(zero=zero))
    with example.engine.connect() as connection:
        result = verify(connection)
    assert [d.code for d in result.diagnostics] == ["PE416"]
    assert "ledger_fingerprints" in result.diagnostics[0].message
