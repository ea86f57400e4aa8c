"""Writing through `Ledger(engine)`: ids, idempotence, conflicts, corrections and refusals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import text

from policyengine.diagnostics import PolicyEngineError
from policyengine.ledger import entities as e
from policyengine.ledger.store import Ledger

from .helpers import AT, MODEL

GENERATION: dict[str, Any] = {
    "provider": "openai",
    "model": "gpt-4o-2024-08-06",
    "channel": "api",
    "generated_from": dt.date(2025, 1, 6),
    "generated_until": dt.date(2025, 1, 9),
    "records": 5000,
}


def codes_of(error: pytest.ExceptionInfo[PolicyEngineError]) -> list[str]:
    return [d.code for d in error.value.diagnostics]


def entries(ledger: Ledger) -> int:
    return ledger.head()[0]


def test_record_returns_ids_derived_from_content_or_names(ledger: Ledger) -> None:
    """Without an id, a generation gets one from its content and a dataset `name@version`."""
    generation = ledger.record_generation(recorded_at=AT, **GENERATION)
    assert generation.startswith("generation-")
    dataset = ledger.record_dataset(
        recorded_at=AT, name="mix", version="1", inputs=[{"generation": generation}]
    )
    assert dataset == "mix@1"
    assert entries(ledger) == 2


def test_recording_the_same_entity_again_writes_nothing(ledger: Ledger) -> None:
    """A retried write with the same content returns the same id and adds no entry."""
    first = ledger.record_generation(recorded_at=AT, **GENERATION)
    again = ledger.record_generation(recorded_at=AT + dt.timedelta(hours=1), **GENERATION)
    assert first == again
    assert entries(ledger) == 1


def test_a_conflicting_write_names_the_field_that_differs(ledger: Ledger) -> None:
    """The same id with other content is refused, naming the field and both values."""
    ledger.record_generation(recorded_at=AT, id="gen-1", **GENERATION)
    with pytest.raises(PolicyEngineError) as error:
        ledger.record_generation(recorded_at=AT, id="gen-1", **{**GENERATION, "records": 6000})
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "PE413"
    assert "`records` differs" in diagnostic.message
    assert "`5000`" in diagnostic.message
    assert "`6000`" in diagnostic.message
    assert "supersedes" in diagnostic.help


def test_a_correction_supersedes_and_both_stay(ledger: Ledger) -> None:
    """Superseding records a new entry; the old one is still shown, marked as superseded."""
    ledger.record_generation(recorded_at=AT, id="gen-1", **GENERATION)
    old, _, _ = ledger.entry("gen-1")
    fixed = old.model_copy(update={"id": "gen-1b", "records": 5200})
    assert ledger.supersede("gen-1", fixed, recorded_at=AT) == "gen-1b"
    _, _, superseded_by = ledger.entry("gen-1")
    assert superseded_by == "gen-1b"
    assert entries(ledger) == 2


def test_nothing_is_updated_or_deleted(ledger: Ledger) -> None:
    """After a correction, the first entry's row is exactly as it was written."""
    ledger.record_generation(recorded_at=AT, id="gen-1", **GENERATION)
    with ledger.engine.connect() as connection:
        before = connection.execute(text("SELECT * FROM ledger_entries")).all()
    old, _, _ = ledger.entry("gen-1")
    ledger.supersede("gen-1", old.model_copy(update={"id": "gen-2"}), recorded_at=AT)
    with ledger.engine.connect() as connection:
        after = connection.execute(text("SELECT * FROM ledger_entries ORDER BY seq")).all()
    assert after[: len(before)] == before


def test_an_artifact_is_superseded_only_once(ledger: Ledger) -> None:
    """A second correction of the same entry must correct the correction instead."""
    ledger.record_generation(recorded_at=AT, id="gen-1", **GENERATION)
    ledger.record_generation(recorded_at=AT, id="gen-2", supersedes="gen-1", **GENERATION)
    with pytest.raises(PolicyEngineError) as error:
        ledger.record_generation(recorded_at=AT, id="gen-3", supersedes="gen-1", **GENERATION)
    assert codes_of(error) == ["PE418"]
    assert "supersede `gen-2` instead" in error.value.diagnostics[0].help


REFUSED = [
    ("record_generation", {**GENERATION, "agreement": "nda-9"}, "PE407", "unknown id `nda-9`"),
    ("record_generation", {**GENERATION, "records": -1}, "PE406", "not a count"),
    ("record_generation", {**GENERATION, "records": 2.5}, "PE406", "not a count"),
    (
        "record_generation",
        {**GENERATION, "generated_until": dt.date(2025, 1, 1)},
        "PE409",
        "`generated_until` 2025-01-01 is before `generated_from` 2025-01-06",
    ),
    (
        "record_generation",
        {**GENERATION, "generated_until": dt.date(2025, 7, 1)},
        "PE410",
        "after the as-of date 2025-06-01",
    ),
    ("record_generation", {**GENERATION, "colour": "red"}, "PE404", "unknown key `colour`"),
    (
        "record_dataset",
        {"name": "d", "version": "1", "license": "Apache 2"},
        "PE406",
        "not an SPDX",
    ),
    ("record_run", {"datasets": ["nope"]}, "PE407", "unknown id `nope` in `datasets.0`"),
    (
        "record_waiver",
        {
            "rule": "x.y",
            "scope": MODEL,
            "reason": "because",
            "approver": "a",
            "ticket": "t",
            "expires": "2026-01-01",
        },
        "PE406",
        "invalid value `because`",
    ),
]


@pytest.mark.parametrize(
    ("method", "fields", "code", "message"),
    REFUSED,
    ids=[
        "unknown agreement",
        "negative count",
        "non-integer count",
        "end before start",
        "future date",
        "unknown key",
        "licence not spdx",
        "unknown dataset",
        "reason outside the list",
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    example: Ledger, method: str, fields: dict[str, Any], code: str, message: str
) -> None:
    """Each bad write raises a diagnostic with its code and leaves the chain as it was."""
    before = example.head()
    with pytest.raises(PolicyEngineError) as error:
        getattr(example, method)(recorded_at=AT, **fields)
    assert code in codes_of(error)
    assert any(message in d.message for d in error.value.diagnostics), error.value
    assert example.head() == before


def test_a_reference_of_the_wrong_kind_is_refused(example: Ledger) -> None:
    """A run's dataset must be a dataset, not a generation."""
    with pytest.raises(PolicyEngineError) as error:
        example.record_run(recorded_at=AT, datasets=["gen-deepseek-r1-traces-2025-02"])
    assert codes_of(error) == ["PE417"]


def test_a_use_that_would_close_a_cycle_is_refused(example: Ledger) -> None:
    """Using the model to filter its own base model's training data would make it its own ancestor."""
    before = example.head()
    with pytest.raises(PolicyEngineError) as error:
        example.record_use(
            recorded_at=AT, activity="filtering", source=MODEL, target="acme-preferences@1.0"
        )
    assert codes_of(error) == ["PE411"]
    assert "would become its own ancestor" in error.value.diagnostics[0].message
    assert example.head() == before


def test_a_correction_that_depends_on_what_it_corrects_is_refused(example: Ledger) -> None:
    """A dataset built from v1 cannot also supersede v1: v1 would be its own ancestor."""
    with pytest.raises(PolicyEngineError) as error:
        example.record_dataset(
            recorded_at=AT,
            name="acme-preferences",
            version="1.1",
            supersedes="acme-preferences@1.0",
            inputs=[{"dataset": "acme-preferences@1.0"}],
        )
    assert codes_of(error) == ["PE411"]


def test_a_second_dataset_with_the_same_name_and_version_is_refused(example: Ledger) -> None:
    """Name and version identify a dataset: another id for them is a duplicate."""
    with pytest.raises(PolicyEngineError) as error:
        example.record_dataset(recorded_at=AT, id="other", name="acme-preferences", version="1.0")
    assert codes_of(error) == ["PE408"]
    assert "already recorded as `acme-preferences@1.0`" in error.value.diagnostics[0].message


def test_an_id_is_unique_across_kinds(example: Ledger) -> None:
    """A model id cannot be reused for a run."""
    with pytest.raises(PolicyEngineError) as error:
        example.record_run(recorded_at=AT, id=MODEL)
    assert codes_of(error) == ["PE408"]


def test_entities_round_trip_through_their_payload(example: Ledger) -> None:
    """What `entry` returns is the entity that was recorded."""
    entity, link, superseded_by = example.entry(MODEL)
    assert isinstance(entity, e.Model)
    assert entity.notices == ["Built with Llama"]
    assert link.kind == "model"
    assert superseded_by is None
