"""Catalog entries keyed by licence: shape, references and conflicts."""

from __future__ import annotations

from pathlib import Path

from conftest import PackWriter

from policyengine.rules.loader import load_rules

DOCUMENTS = """\
documents:
  - id: demo.cc-by
    title: CC BY
    provider: creativecommons
    kind: dataset_license
    versions:
      - {version: "4.0", effective_from: 2013-11-25, url: "https://example.com/by", retrieved: 2025-01-01}
  - id: demo.cc-by-again
    title: CC BY (copy)
    provider: creativecommons
    kind: dataset_license
    versions:
      - {version: "4.0", effective_from: 2013-11-25, url: "https://example.com/by", retrieved: 2025-01-01}
"""


def codes_of(folder: Path) -> list[tuple[str, int, int]]:
    _, diagnostics = load_rules([folder])
    return [(d.code, d.location.line, d.location.column) for d in diagnostics]


def test_two_entries_claiming_one_licence_conflict(write_pack: PackWriter) -> None:
    """The same licence claimed twice on overlapping dates, without precedence, is PE307."""
    folder = write_pack(
        "demo",
        {
            "documents.yaml": DOCUMENTS
            + "catalog:\n  - {licenses: [CC-BY-4.0], documents: [demo.cc-by]}\n"
            + "  - {licenses: [cc-by-4.0], documents: [demo.cc-by-again]}\n",
        },
    )
    assert codes_of(folder) == [("PE307", 16, 17)]


def test_precedence_settles_a_licence_claimed_twice(write_pack: PackWriter) -> None:
    """Different precedences make two claims on one licence legal."""
    folder = write_pack(
        "demo",
        {
            "documents.yaml": DOCUMENTS
            + "catalog:\n  - {licenses: [CC-BY-4.0], documents: [demo.cc-by], precedence: 1}\n"
            + "  - {licenses: [CC-BY-4.0], documents: [demo.cc-by-again]}\n",
        },
    )
    assert codes_of(folder) == []


def test_a_licence_entry_naming_a_missing_document(write_pack: PackWriter) -> None:
    """A licence entry's documents are checked like a model entry's (PE310)."""
    folder = write_pack(
        "demo",
        {"documents.yaml": DOCUMENTS + "catalog:\n  - {licenses: [MIT], documents: [demo.mit]}\n"},
    )
    assert codes_of(folder) == [("PE310", 15, 35)]


def test_a_licence_entry_with_a_model_key_is_an_unknown_key(write_pack: PackWriter) -> None:
    """Mixing the two entry forms is refused with the licence form's allowed keys."""
    folder = write_pack(
        "demo",
        {
            "documents.yaml": DOCUMENTS
            + "catalog:\n  - {licenses: [MIT], documents: [demo.cc-by], models: [x]}\n"
        },
    )
    _, diagnostics = load_rules([folder])
    assert [(d.code, d.message) for d in diagnostics] == [
        ("PE201", "unknown key `models` in `catalog[0]`")
    ]
