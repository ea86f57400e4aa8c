"""A generation names the ledger model that produced it: lineage runs on through that model."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from policyengine.cli.main import cli
from policyengine.diagnostics import PolicyEngineError
from policyengine.ledger.manifest import Imported, import_manifest
from policyengine.ledger.store import Ledger
from policyengine.ledger.verify import verify
from policyengine.lineage import ArtifactKind, Relation, UpstreamSource
from policyengine.rules.source import parse

from .helpers import AT, EXAMPLES

THREE_HOP = EXAMPLES / "three-hop-llama.yaml"
A = "acme/Llama-3.1-Acme-A@1.0"
B = "acme/Llama-3.1-Acme-B-8B@1.0"
LLAMA_GENERATION = "gen-llama405b-instructions-2024-10"
A_GENERATION = "gen-acme-a-reasoning-2025-01"


def run_import(ledger: Ledger, text: str, name: str = "m.yaml") -> Imported:
    source, diagnostics = parse(text, name)
    assert source is not None, diagnostics
    return import_manifest(ledger, source.data, source, as_of=AT.date(), recorded_at=AT)


@pytest.fixture
def three_hop(ledger: Ledger) -> Ledger:
    """A ledger holding examples/three-hop-llama.yaml."""
    run_import(ledger, THREE_HOP.read_text(encoding="utf-8"), str(THREE_HOP))
    return ledger


def sources_of(ledger: Ledger, target: str, source_id: str) -> list[UpstreamSource]:
    return [s for s in ledger.lineage(target).sources if s.ref.id == source_id]


def test_the_three_hop_example_imports_whole_and_verifies(ledger: Ledger) -> None:
    """The shipped example declares 10 entities, all new, with no warnings; the chain verifies."""
    imported = run_import(ledger, THREE_HOP.read_text(encoding="utf-8"), str(THREE_HOP))
    assert (len(imported.ids), imported.written) == (10, 10)
    assert not imported.diagnostics
    with ledger.engine.connect() as connection:
        assert verify(connection).ok


def test_outputs_of_our_model_lead_to_what_it_was_trained_on(three_hop: Ledger) -> None:
    """B's Llama 3.1 405B source is two model generations away, on a path through A."""
    [found] = sources_of(three_hop, B, LLAMA_GENERATION)
    assert found.hops == 2
    assert [e.upstream.id for e in found.path] == [
        "run-acme-b-distill-2025-02",
        "acme-a-reasoning@1.0",
        A_GENERATION,
        A,
        "run-acme-a-sft-2024-11",
        "acme-llama-instructions@1.0",
        LLAMA_GENERATION,
    ]
    assert found.path[3].relation is Relation.GENERATED_BY
    assert found.facts["source.provider"] == "meta"
    assert found.transforms == ("dedupe", "filter")
    assert found.record_counts == (460_000, 1_600_000)


def test_a_generation_of_a_model_with_a_lineage_is_not_a_source(three_hop: Ledger) -> None:
    """A's outputs stand for what A came from; they are an ancestor of B, not a source."""
    lineage = three_hop.lineage(B)
    assert not sources_of(three_hop, B, A_GENERATION)
    assert {s.ref.id for s in lineage.sources} == {
        LLAMA_GENERATION,
        "meta-llama/Llama-3.1-70B",
        "meta-llama/Llama-3.1-8B",
    }
    ancestors = {ref.id for ref in lineage.ancestors}
    assert {A_GENERATION, A} <= ancestors
    assert lineage.providers == frozenset({"meta"})


def test_each_more_model_is_one_more_hop(three_hop: Ledger) -> None:
    """Model C, trained on outputs of B, is three model generations from the Llama outputs."""
    text = textwrap.dedent(
        f"""\
        version: 1
        generations:
          - {{id: gen-b, provider: acme, model: Llama-3.1-Acme-B-8B, channel: open_weights,
              by_model: "{B}", generated_from: 2025-03-01, generated_until: 2025-03-02,
              records: 1000}}
        datasets:
          - {{id: ds-b, name: ds-b, version: "1", inputs: [{{generation: gen-b}}]}}
        runs:
          - {{id: run-c, method: fine_tuning, datasets: [ds-b]}}
        models:
          - {{id: model-c, name: Llama-3.1-Acme-C, run: run-c}}
        """
    )
    run_import(three_hop, text)
    [found] = sources_of(three_hop, "model-c", LLAMA_GENERATION)
    assert found.hops == 3
    assert [e.upstream.id for e in found.path if e.upstream.kind is ArtifactKind.MODEL] == [B, A]


def test_a_generation_of_a_third_party_model_stays_a_source(three_hop: Ledger) -> None:
    """A model recorded without a lineage (a provider's) adds nothing: its outputs are the source."""
    generation = three_hop.record_generation(
        recorded_at=AT,
        id="gen-llama-70b",
        provider="meta",
        model="llama-3.1-70b-instruct",
        channel="open_weights",
        by_model="meta-llama/Llama-3.1-70B",
        generated_from=AT.date(),
        generated_until=AT.date(),
        records=10,
    )
    dataset = three_hop.record_dataset(
        recorded_at=AT, name="from-70b", version="1", inputs=[{"generation": generation}]
    )
    [found] = three_hop.lineage(dataset).sources
    assert (found.ref.id, found.hops, len(found.path)) == (generation, 1, 1)
    assert found.facts["source.model"] == "llama-3.1-70b-instruct"
    graph = three_hop.graph(dataset)
    assert [e.relation for e in graph.edges] == [Relation.GENERATED_BY, Relation.INPUT]


CYCLE = """\
version: 1
generations:
  - id: gen-a
    provider: acme
    model: model-a
    channel: open_weights
    by_model: model-a
    generated_from: 2025-01-01
    generated_until: 2025-01-02
    records: 10
datasets:
  - {id: ds-a, name: ds-a, version: "1", inputs: [{generation: gen-a}]}
runs:
  - {id: run-a, datasets: [ds-a]}
models:
  - {id: model-a, name: model-a, run: run-a}
"""


def test_a_model_trained_on_its_own_outputs_is_a_cycle(ledger: Ledger) -> None:
    """model A ← run ← dataset ← generation by A: PE411, and nothing is written."""
    with pytest.raises(PolicyEngineError) as error:
        run_import(ledger, CYCLE)
    [diagnostic] = [d for d in error.value.diagnostics if d.code == "PE411"]
    assert "references go round in a cycle" in diagnostic.message
    assert "`model-a`" in diagnostic.message
    assert ledger.head()[0] == 0


def test_a_correction_trained_on_outputs_of_what_it_corrects_is_a_cycle(three_hop: Ledger) -> None:
    """Superseding A by a model trained on A's own outputs would make A its own ancestor."""
    with pytest.raises(PolicyEngineError) as error:
        three_hop.record_model(
            recorded_at=AT,
            id="acme-a-fixed",
            name="Llama-3.1-Acme-A",
            version="1.1",
            run="run-acme-b-distill-2025-02",
            supersedes=A,
        )
    assert [d.code for d in error.value.diagnostics] == ["PE411"]


@pytest.mark.parametrize(
    ("by_model", "code", "text"),
    [
        ("acme/Llama-3.1-Acme-A@1.1", "PE407", f"did you mean `{A}`"),
        ("acme-a-reasoning@1.0", "PE417", "is a dataset, but `by_model` takes a model"),
    ],
    ids=["unknown id", "not a model"],
)
def test_by_model_must_name_a_recorded_model(
    three_hop: Ledger, by_model: str, code: str, text: str
) -> None:
    """An unknown id is PE407 with the nearest model's id; another kind of artifact is PE417."""
    before = three_hop.head()
    with pytest.raises(PolicyEngineError) as error:
        three_hop.record_generation(
            recorded_at=AT,
            provider="acme",
            model="Llama-3.1-Acme-A",
            channel="open_weights",
            by_model=by_model,
            generated_from=AT.date(),
            generated_until=AT.date(),
            records=1,
        )
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == code
    assert text in diagnostic.render()
    assert three_hop.head() == before


def test_record_generation_takes_by_model(db_url: str) -> None:
    """`--by-model` links the generation; a typo is PE407 at the flag with the likely id, exit 2."""
    runner = CliRunner()
    common = f"--db {db_url} --as-of 2025-06-01"
    record = (
        "ledger record generation --provider acme --model Llama-3.1-Acme-A --channel open_weights "
        "--generated-from 2025-05-01 --generated-until 2025-05-02 --records 5 " + common
    )
    imported = runner.invoke(cli, f"ledger import {THREE_HOP} {common}".split())
    assert imported.exit_code == 0, imported.stderr
    good = runner.invoke(cli, f"{record} --id gen-cli --by-model {A}".split())
    assert good.exit_code == 0, good.stderr
    shown = runner.invoke(cli, ["ledger", "lineage", "gen-cli", "--db", db_url])
    assert f"[generated_by] model `{A}`" in shown.stdout
    bad = runner.invoke(cli, f"{record} --by-model acme/Llama-3.1-Acme-a@1.0".split())
    assert bad.exit_code == 2
    assert "--by-model: PE407" in bad.stderr
    assert f"did you mean `{A}`" in bad.stderr
