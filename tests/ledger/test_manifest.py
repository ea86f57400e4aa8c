"""Manifests: one transaction, idempotent by id, conflicts named, bad input at file:line."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
import yaml

from policyengine.diagnostics import Diagnostics, PolicyEngineError
from policyengine.ledger.manifest import Imported, import_manifest
from policyengine.ledger.store import Ledger
from policyengine.rules.source import parse

from .helpers import AT, MANIFEST


def run_import(ledger: Ledger, text: str, name: str = "m.yaml") -> Imported:
    source, diagnostics = parse(textwrap.dedent(text), name)
    assert source is not None, diagnostics
    return import_manifest(ledger, source.data, source, as_of=AT.date(), recorded_at=AT)


def test_the_example_imports_whole(ledger: Ledger) -> None:
    """The shipped example declares 12 entities, all new on an empty ledger."""
    imported = run_import(ledger, MANIFEST.read_text(encoding="utf-8"), str(MANIFEST))
    assert (len(imported.ids), imported.written) == (12, 12)
    assert not imported.diagnostics


def test_reimporting_the_same_manifest_adds_nothing(example: Ledger) -> None:
    """Import is idempotent: the head does not move."""
    before = example.head()
    imported = run_import(example, MANIFEST.read_text(encoding="utf-8"))
    assert imported.written == 0
    assert example.head() == before


def test_a_json_manifest_imports_like_yaml(ledger: Ledger) -> None:
    """The same manifest written as JSON gives the same ids."""
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    text = json.dumps(data, default=str, indent=2)
    imported = run_import(ledger, text, "m.json")
    assert imported.written == 12


def test_a_conflicting_reimport_names_the_field_and_line(example: Ledger, tmp_path: Path) -> None:
    """Changing one value of an imported entry is refused at that value's line."""
    text = MANIFEST.read_text(encoding="utf-8").replace("records: 250000", "records: 250001")
    with pytest.raises(PolicyEngineError) as error:
        run_import(example, text)
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "PE413"
    assert "`records` differs" in diagnostic.message
    line = text.splitlines().index("    records: 250001") + 1
    assert (diagnostic.location.line, diagnostic.location.column) == (line, 14)


HEAD = """\
version: 1
generations:
  - id: g1
    provider: openai
    model: gpt-4o
    channel: api
    generated_from: 2025-01-01
    generated_until: 2025-01-02
    records: 10
"""

BAD = [
    (HEAD + "    colour: red\n", "PE404", 10, "unknown key `colour`"),
    (HEAD.replace("records: 10", "records: -3"), "PE406", 9, "`-3` is not a count"),
    (HEAD.replace("records: 10", "records: 2.5"), "PE406", 9, "`2.5` is not a count"),
    (HEAD.replace("records: 10", "records: lots"), "PE406", 9, "`lots` is not a count"),
    (
        HEAD.replace("generated_until: 2025-01-02", "generated_until: 2024-12-31"),
        "PE409",
        8,
        "is before `generated_from`",
    ),
    (
        HEAD.replace("generated_until: 2025-01-02", "generated_until: 2025-07-01"),
        "PE410",
        8,
        "after the as-of date 2025-06-01",
    ),
    (HEAD + "    agreement: nda-7\n", "PE407", 10, "unknown id `nda-7`"),
    (HEAD + HEAD.split("generations:\n")[1], "PE408", 10, "the id is declared twice"),
    (HEAD.replace("    provider: openai\n", ""), "PE405", 3, "missing key `provider`"),
    (
        HEAD
        + "datasets:\n  - {id: a, name: a, version: '1', inputs: [{dataset: b}]}\n"
        + "  - {id: b, name: b, version: '1', inputs: [{dataset: a}]}\n",
        "PE411",
        11,
        "references go round in a cycle",
    ),
    (HEAD.replace("channel: api", "channel: apl"), "PE406", 6, "invalid value `apl`"),
]


@pytest.mark.parametrize(
    ("text", "code", "line", "message"),
    BAD,
    ids=[
        "unknown key",
        "negative count",
        "non-integer count",
        "text count",
        "end before start",
        "future date",
        "missing referenced id",
        "duplicate id",
        "missing key",
        "cycle",
        "enum typo",
    ],
)
def test_bad_manifests_name_file_and_line_and_write_nothing(
    ledger: Ledger, text: str, code: str, line: int, message: str
) -> None:
    """Each problem comes with its code at the manifest line, and the ledger stays empty."""
    with pytest.raises(PolicyEngineError) as error:
        run_import(ledger, text)
    found = [d for d in error.value.diagnostics if d.code == code]
    assert found, error.value
    assert found[0].location.file == "m.yaml"
    assert found[0].location.line == line, found[0].render()
    assert message in found[0].message
    assert ledger.head()[0] == 0


def test_a_licence_that_is_not_spdx_is_recorded_as_unknown_with_a_warning(ledger: Ledger) -> None:
    """`Apache 2` is not an SPDX id: a warning at its line, and the dataset says unknown."""
    text = HEAD + "datasets:\n  - id: d\n    name: d\n    version: '1'\n    license: Apache 2\n"
    imported = run_import(ledger, text)
    [warning] = imported.diagnostics
    assert (warning.code, warning.location.line) == ("PE412", 14)
    entity, _, _ = ledger.entry("d")
    assert entity.license == "unknown"  # type: ignore[union-attr]


def test_hub_spellings_of_licences_resolve(ledger: Ledger) -> None:
    """`apache-2.0` and `llama3.1` resolve to SPDX forms without a warning."""
    text = HEAD + "datasets:\n  - {id: d, name: d, version: '1', license: apache-2.0}\n"
    text += "models:\n  - {id: m, name: m, license: llama3.1}\n"
    imported = run_import(ledger, text)
    assert not imported.diagnostics
    assert ledger.entry("d")[0].license == "Apache-2.0"  # type: ignore[union-attr]
    assert ledger.entry("m")[0].license == "LicenseRef-llama3.1"  # type: ignore[union-attr]


def test_one_error_anywhere_writes_nothing_at_all(ledger: Ledger) -> None:
    """A valid first half is not written when the second half is wrong."""
    text = HEAD + "runs:\n  - {id: r, datasets: [missing]}\n"
    with pytest.raises(PolicyEngineError):
        run_import(ledger, text)
    assert ledger.head()[0] == 0
    assert ledger.kinds(["g1"]) == {}


def test_as_of_is_the_callers(ledger: Ledger) -> None:
    """A later as-of admits a date the default would refuse."""
    text = HEAD.replace("generated_until: 2025-01-02", "generated_until: 2025-07-01")
    source, _ = parse(text, "m.yaml")
    assert source is not None
    import_manifest(ledger, source.data, source, as_of=dt.date(2025, 8, 1), recorded_at=AT)
    assert ledger.head()[0] == 1


def test_unused_diagnostics_type_is_sorted() -> None:
    """Diagnostics of a manifest sort by line (the order they are printed in)."""
    assert list(Diagnostics()) == []
