"""Hugging Face cards: front matter into models, datasets and runs; licences never defaulted."""

from __future__ import annotations

import textwrap

import pytest

from policyengine.diagnostics import PolicyEngineError
from policyengine.ledger import entities as e
from policyengine.ledger.cards import front_matter, read_card
from policyengine.ledger.store import Ledger
from policyengine.lineage import ArtifactKind

from .helpers import AT, MODEL

MODEL_CARD = """\
---
base_model: meta-llama/Llama-3.1-8B-Instruct
base_model_relation: finetune
datasets:
  - HuggingFaceH4/ultrachat_200k
  - acme-synthetic-instruct@2.0
license: llama3.1
model_name: Acme-Chat-8B
tags:
  - llama-3.1
---

# Acme Chat 8B
"""


def card_entities(ledger: Ledger, text: str, **options: object) -> tuple[list[e.Entity], list[str]]:
    data = front_matter(textwrap.dedent(text), "README.md")
    card = read_card(
        data,
        name=str(options.get("name", data.get("model_name") or data.get("pretty_name"))),
        where="README.md",
        version=options.get("version"),  # type: ignore[arg-type]
        kind=options.get("kind"),  # type: ignore[arg-type]
        known=ledger.kinds,
    )
    ledger.record(card.entities, recorded_at=AT)
    return card.entities, [d.code for d in card.diagnostics]


def test_a_model_card_becomes_a_model_its_run_and_stubs(example: Ledger) -> None:
    """Base model and an unknown dataset become stubs; a known dataset is reused as it is."""
    entities, warnings = card_entities(example, MODEL_CARD)
    assert warnings == []
    kinds = {x.id: e.kind_of(x) for x in entities}
    assert kinds == {
        "meta-llama/Llama-3.1-8B-Instruct": ArtifactKind.MODEL,
        "HuggingFaceH4/ultrachat_200k": ArtifactKind.DATASET,
        "Acme-Chat-8B/training": ArtifactKind.RUN,
        "Acme-Chat-8B": ArtifactKind.MODEL,
    }
    model = entities[-1]
    assert isinstance(model, e.Model)
    assert model.license == "LicenseRef-llama3.1"
    assert model.base_model_relation is e.ModelRelation.FINETUNE
    stub = entities[0]
    assert isinstance(stub, e.Model)
    assert stub.provider == "meta"
    assert stub.license == "unknown"
    sources = {s.ref.id for s in example.lineage("Acme-Chat-8B").sources}
    assert "gen-llama405b-instructions-2024-09" in sources


def test_importing_a_card_twice_adds_nothing(example: Ledger) -> None:
    """Stubs are only made for ids the ledger lacks, so a second import is a no-op."""
    card_entities(example, MODEL_CARD)
    before = example.head()
    card_entities(example, MODEL_CARD)
    assert example.head() == before


@pytest.mark.parametrize(
    ("license_lines", "expected", "warned"),
    [
        ("license: mit", "MIT", False),
        (
            "license: other\nlicense_name: qwen-research\nlicense_link: LICENSE",
            "LicenseRef-qwen-research",
            False,
        ),
        ("license: other", "unknown", True),
        ("license: my own terms", "unknown", True),
        ("tags: [license:apache-2.0]", "Apache-2.0", False),
        ("pipeline_tag: text-generation", "unknown", True),
    ],
    ids=["spdx", "named other", "bare other", "free text", "licence tag", "no licence"],
)
def test_a_licence_is_resolved_or_unknown_never_defaulted(
    ledger: Ledger, license_lines: str, expected: str, warned: bool
) -> None:
    """Hub licence names resolve; anything else is `unknown` with PE412."""
    text = "---\nmodel_name: m\n" + license_lines + "\n---\n"
    entities, warnings = card_entities(ledger, text)
    assert entities[-1].license == expected  # type: ignore[union-attr]
    assert warnings == (["PE412"] if warned else [])


def test_a_dataset_card_becomes_a_dataset_with_its_sources(ledger: Ledger) -> None:
    """Dataset cards are recognised by their keys; source datasets become inputs."""
    text = "---\npretty_name: Acme Mix\nlicense: cc-by-4.0\ntask_categories: [text-generation]\nsource_datasets: [original, allenai/tulu-3-sft-mixture]\n---\n"
    entities, _ = card_entities(ledger, text, name="acme/mix")
    dataset = entities[-1]
    assert isinstance(dataset, e.Dataset)
    assert (dataset.id, dataset.name, dataset.license) == ("acme/mix@main", "Acme Mix", "CC-BY-4.0")
    assert [i.dataset for i in dataset.inputs] == ["allenai/tulu-3-sft-mixture"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# just a readme\n", "does not start with a `---` line"),
        ("---\nlicense: mit\n", "no closing `---` line"),
        ("---\n- a\n- b\n---\n", "not a mapping"),
        ("---\nlicense: [mit\n---\n", "not valid YAML"),
    ],
    ids=["no front matter", "unclosed", "a list", "bad yaml"],
)
def test_a_card_without_usable_front_matter_is_pe419(text: str, message: str) -> None:
    """The card's problem is named with its file."""
    with pytest.raises(PolicyEngineError) as error:
        front_matter(text, "README.md")
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "PE419"
    assert diagnostic.location.file == "README.md"
    assert message in diagnostic.message


def test_tags_stand_in_for_missing_keys(ledger: Ledger) -> None:
    """`base_model:quantized:ORG/NAME` tags give the base model and the relation."""
    text = "---\nmodel_name: q\nlicense: apache-2.0\ntags: ['base_model:quantized:mistralai/Mistral-7B-v0.3']\n---\n"
    entities, _ = card_entities(ledger, text)
    model = entities[-1]
    assert isinstance(model, e.Model)
    assert model.base_models == ["mistralai/Mistral-7B-v0.3"]
    assert model.base_model_relation is e.ModelRelation.QUANTIZED
    assert MODEL not in model.base_models
