"""Lineage: one recursive query up or down, and the facts snapshot the evaluator takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event

from policyengine.diagnostics import PolicyEngineError
from policyengine.facts import UNKNOWN, Activity
from policyengine.ledger.store import Ledger
from policyengine.lineage import ArtifactKind, Relation

from .helpers import AT, MODEL


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def log(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", log)


def test_upstream_is_one_recursive_query(example: Ledger) -> None:
    """The whole upstream graph comes from a single WITH RECURSIVE statement."""
    with statements(example.engine) as seen:
        found = example.graph(MODEL, "upstream")
    recursive = [s for s in seen if "WITH RECURSIVE" in s]
    assert len(recursive) == 1
    assert len([s for s in seen if "ledger_edges" in s]) == 1
    assert len(found.edges) == 10


def test_every_source_of_the_example_model_with_its_path(example: Ledger) -> None:
    """The model's sources: three generations, one external set, the base model (twice), the judge."""
    lineage = example.lineage(MODEL)
    ids = sorted(s.ref.id for s in lineage.sources)
    assert ids == [
        "external:OpenAssistant/oasst2",
        "gen-deepseek-r1-traces-2025-02",
        "gen-gpt4o-judge-2025-03",
        "gen-gpt4o-preferences-2024-10",
        "gen-llama405b-instructions-2024-09",
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.1-8B",
    ]


def source(example: Ledger, source_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in example.lineage(MODEL).sources if s.ref.id == source_id)


def test_a_generation_source_carries_its_facts_path_and_counts(example: Ledger) -> None:
    """DeepSeek-R1 traces: source facts, the path run → dataset → generation, transform, count."""
    found = source(example, "gen-deepseek-r1-traces-2025-02")
    assert found.facts["source.provider"] == "deepseek"
    assert found.facts["source.channel"] == "open_weights"
    assert found.facts["source.generated_at"] == dt.date(2025, 2, 3)
    assert found.facts["source.agreement"] is UNKNOWN
    assert found.window == (dt.date(2025, 2, 3), dt.date(2025, 2, 14))
    assert [e.relation for e in found.path] == [
        Relation.TRAINED_BY,
        Relation.TRAINING_DATA,
        Relation.INPUT,
    ]
    assert (found.hops, found.activity) == (1, Activity.FINE_TUNING)
    assert (found.transforms, found.record_counts) == (("filter",), (210000,))


def test_an_enterprise_generation_names_its_agreement(example: Ledger) -> None:
    """GPT-4o preference labels were obtained under Acme's enterprise agreement."""
    found = source(example, "gen-gpt4o-preferences-2024-10")
    assert found.facts["source.agreement"] == "openai-acme-enterprise-2024"


def test_a_use_is_a_source_with_its_activity(example: Ledger) -> None:
    """The judge outputs reach the model through a use edge with activity evaluation."""
    found = source(example, "gen-gpt4o-judge-2025-03")
    assert [e.relation for e in found.path] == [Relation.USE]
    assert found.activity is Activity.EVALUATION


def test_target_facts_come_from_the_model(example: Ledger) -> None:
    """Name, release, competitors, notices and the base model's name are target facts."""
    lineage = example.lineage(MODEL)
    facts = lineage.facts
    assert facts["target.kind"] == "model"
    assert facts["target.name"] == "Llama-3.1-Acme-8B-Instruct"
    assert facts["target.competes_with"] == frozenset({"openai", "anthropic", "google"})
    assert facts["target.notices"] == ("Built with Llama",)
    assert facts["target.base_model"] == "meta-llama/Llama-3.1-8B"
    assert lineage.providers == frozenset({"meta", "deepseek", "openai", "human"})
    combined = lineage.facts_for(source(example, "gen-gpt4o-preferences-2024-10"))
    assert combined["use.activity"] == "fine_tuning"
    assert combined["path.hops"] == 1


def test_a_model_distilled_from_the_model_is_two_hops_away(example: Ledger) -> None:
    """Outputs behind a model that another model was distilled from are two generations away."""
    student = example.record_model(
        recorded_at=AT,
        name="acme-tiny",
        version="1",
        base_models=[MODEL],
        base_model_relation="distilled",
    )
    lineage = example.lineage(student)
    found = next(s for s in lineage.sources if s.ref.id == "gen-deepseek-r1-traces-2025-02")
    assert found.hops == 2
    assert found.activity is Activity.DISTILLATION
    assert lineage.ancestors >= {s.ref for s in lineage.sources}


def test_a_correction_is_followed_and_both_are_shown(example: Ledger) -> None:
    """After superseding a generation, the path runs through the old one to the correction."""
    old, _, _ = example.entry("gen-deepseek-r1-traces-2025-02")
    example.supersede(
        old.id, old.model_copy(update={"id": "gen-r1-fixed", "records": 260000}), recorded_at=AT
    )
    found = next(
        s
        for s in example.lineage(MODEL).sources
        if s.ref.kind is ArtifactKind.GENERATION and s.ref.id == "gen-r1-fixed"
    )
    assert [e.relation for e in found.path][-1] is Relation.SUPERSEDED_BY
    assert [r.id for r in found.superseded] == ["gen-deepseek-r1-traces-2025-02"]
    assert found.hops == 1
    ids = {s.ref.id for s in example.lineage(MODEL).sources}
    assert "gen-deepseek-r1-traces-2025-02" not in ids


def test_a_superseded_dataset_keeps_only_its_correction_upstream(example: Ledger) -> None:
    """A dataset's old inputs stop counting once a correction replaces it."""
    example.record_dataset(
        recorded_at=AT,
        id="acme-preferences@1.0-fixed",
        name="acme-preferences",
        version="1.0",
        supersedes="acme-preferences@1.0",
        license="CC-BY-4.0",
    )
    ids = {s.ref.id for s in example.lineage(MODEL).sources}
    assert "gen-gpt4o-preferences-2024-10" not in ids
    assert "acme-preferences@1.0-fixed" in ids


def test_downstream_finds_everything_built_on_a_generation(example: Ledger) -> None:
    """From the preference labels down: the dataset, the run and the model."""
    found = example.graph("gen-gpt4o-preferences-2024-10", "downstream")
    assert {e.downstream.id for e in found.edges} == {
        "acme-preferences@1.0",
        "run-acme-8b-sft-2025-02",
        MODEL,
    }


def test_a_dataset_target_has_dataset_facts(example: Ledger) -> None:
    """A dataset's lineage names it as a dataset target with its release."""
    lineage = example.lineage("acme-synthetic-instruct@2.0")
    assert lineage.facts["target.kind"] == "dataset"
    assert lineage.facts["target.release"] == "internal"
    assert len(lineage.sources) == 3


def test_unknown_ids_are_a_diagnostic(example: Ledger) -> None:
    """Asking for the lineage of an id the ledger lacks is PE407, not an empty lineage."""
    with pytest.raises(PolicyEngineError) as error:
        example.lineage("nope")
    assert [d.code for d in error.value.diagnostics] == ["PE407"]


@pytest.mark.parametrize("frozen", [False, True], ids=["nothing frozen", "caller froze objects"])
def test_objects_built_with_the_collector_paused_go_to_the_oldest_generation(frozen: bool) -> None:
    """A large snapshot is not walked by the next young collection; others' frozen objects stay."""
    import gc

    from policyengine.ledger.lineage import paused_gc

    if frozen:
        gc.freeze()
    before = gc.get_freeze_count()
    try:
        with paused_gc():
            built = [object()]
            assert not gc.isenabled()
        assert gc.isenabled()
        assert gc.get_freeze_count() == before
        oldest = gc.get_objects(generation=2)
        assert any(o is built for o in oldest) is not frozen
    finally:
        gc.unfreeze()


def test_fast_constructors_make_the_same_values_as_the_classes() -> None:
    """construct.ref/edge/source give objects equal to (and printed like) the dataclasses' own."""
    import datetime as dt

    from policyengine.facts import Facts
    from policyengine.ledger import construct
    from policyengine.lineage import ArtifactRef, Edge, UpstreamSource

    gen = ArtifactRef(ArtifactKind.GENERATION, "g")
    data = ArtifactRef(ArtifactKind.DATASET, "d")
    edge = Edge(data, gen, Relation.INPUT, "filter", 9, Activity.DISTILLATION)
    facts = Facts({"source.provider": "meta"})
    window = (dt.date(2025, 1, 1), dt.date(2025, 1, 2))
    pairs = [
        (construct.ref(ArtifactKind.GENERATION, "g"), gen),
        (construct.edge(data, gen, Relation.INPUT, "filter", 9, Activity.DISTILLATION), edge),
        (
            construct.source(gen, facts, (edge,), 2, window),
            UpstreamSource(gen, facts, (edge,), 2, window),
        ),
    ]
    for fast, made in pairs:
        assert type(fast) is type(made)
        assert (fast, repr(fast), hash(fast)) == (made, repr(made), hash(made))
