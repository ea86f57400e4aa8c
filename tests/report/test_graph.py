"""The lineage graph: grouped, bounded, never overlapping, readable without colour."""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET

import pytest

from policyengine.evaluate.findings import CheckRun
from policyengine.evaluate.lineage import evaluate
from policyengine.facts import Activity, Facts
from policyengine.lineage import ArtifactKind, ArtifactRef, Edge, Lineage, Relation, UpstreamSource
from policyengine.report import graph, view
from policyengine.report.build import build
from policyengine.rules.ruleset import RuleSet

from .helpers import AS_OF, GENERATED

MODELS = [
    ("openai", "gpt-4o-2024-08-06", "api"),
    ("anthropic", "claude-3-5-sonnet-20241022", "api"),
    ("google", "gemini-1.5-pro-002", "api"),
    ("xai", "grok-2-1212", "api"),
    ("deepseek", "deepseek-r1", "open_weights"),
    ("moonshot", "kimi-k2-instruct", "open_weights"),
    ("minimax", "MiniMax-M1-80k", "open_weights"),
    ("meta", "llama-3.1-405b-instruct", "open_weights"),
]
SVG = "{http://www.w3.org/2000/svg}"


def synthetic_run(
    rules: RuleSet, *, generations: int, datasets: int, models: list[tuple[str, str, str]]
) -> CheckRun:
    """A model trained on ``datasets`` datasets holding ``generations`` generations in all."""
    target = ArtifactRef(ArtifactKind.MODEL, "big-model@1")
    run = ArtifactRef(ArtifactKind.RUN, "run-big")
    mix = ArtifactRef(ArtifactKind.DATASET, "big-mix@1")
    head = (
        Edge(target, run, Relation.TRAINED_BY),
        Edge(run, mix, Relation.TRAINING_DATA, activity=Activity.DISTILLATION),
    )
    sources = []
    for n, (provider, model, channel) in zip(range(generations), itertools.cycle(models)):
        day = dt.date(2024, 6, 1) + dt.timedelta(days=n % 400)
        part = ArtifactRef(ArtifactKind.DATASET, f"part-{n % datasets:03d}@1")
        ref = ArtifactRef(ArtifactKind.GENERATION, f"gen-{n:04d}")
        facts = Facts(
            {
                "source.provider": provider,
                "source.model": model,
                "source.channel": channel,
                "source.generated_at": day,
            }
        )
        path = (
            *head,
            Edge(mix, part, Relation.INPUT, "mix", 1000),
            Edge(part, ref, Relation.INPUT, "filter", 100 + n),
        )
        sources.append(UpstreamSource(ref, facts, path, 1, (day, day)))
    target_facts = Facts(
        {
            "target.kind": "model",
            "target.name": "Big-Model",
            "target.release": "open_weights",
            "target.commercial": True,
            "target.competes_with": frozenset({"openai", "google"}),
        }
    )
    lineage = Lineage(target, target_facts, tuple(sources))
    decision = evaluate(rules, lineage, "distillation", at=AS_OF)
    return CheckRun(decision, lineage, (), "sha256:" + "0" * 64, None, "test")


def overlaps(nodes: tuple[graph.Node, ...]) -> list[tuple[str, str]]:
    """Pairs of boxes whose rectangles intersect."""
    found = []
    for a, b in itertools.combinations(nodes, 2):
        if a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h:
            found.append((a.id, b.id))
    return found


@pytest.fixture(scope="module")
def big(rules: RuleSet) -> view.Report:
    return build(synthetic_run(rules, generations=240, datasets=20, models=MODELS), GENERATED)


def test_hundreds_of_sources_draw_a_bounded_number_of_boxes(big: view.Report) -> None:
    """240 generations in 20 datasets draw one box per provider and model, not per generation."""
    drawing = graph.layout(big)
    clusters = [n for n in drawing.nodes if n.kind == "sources"]
    assert len(big.sources) == 240
    assert len(clusters) == len(MODELS)
    assert len(drawing.nodes) == len(MODELS) + 20 + 3  # clusters, parts, mix, run, target
    assert all(n.lines[1].startswith("30 sources · ") for n in clusters)
    assert not overlaps(drawing.nodes)


@pytest.mark.parametrize(
    ("generations", "datasets", "models", "most"),
    [
        (240, 60, MODELS, 8 + graph.MAX_ROWS + 3),
        (300, 10, [(f"p{n:02d}", f"m-{n}", "api") for n in range(60)], graph.MAX_ROWS + 10 + 3),
    ],
    ids=["too many datasets collapse per kind", "too many providers collapse"],
)
def test_crowded_columns_collapse(
    rules: RuleSet,
    generations: int,
    datasets: int,
    models: list[tuple[str, str, str]],
    most: int,
) -> None:
    """A column over MAX_ROWS boxes collapses, so the drawing stays within a fixed size."""
    built = build(
        synthetic_run(rules, generations=generations, datasets=datasets, models=models), GENERATED
    )
    drawing = graph.layout(built)
    columns: dict[float, int] = {}
    for node in drawing.nodes:
        columns[node.x] = columns.get(node.x, 0) + 1
    assert max(columns.values()) <= graph.MAX_ROWS
    assert len(drawing.nodes) <= most
    assert not overlaps(drawing.nodes)


def test_every_box_says_its_verdict_in_words(big: view.Report) -> None:
    """Colour is not the only cue: each box with sources behind it names its verdict in text."""
    drawing = graph.layout(big)
    for node in drawing.nodes:
        assert graph.WORDS[node.verdict] in node.lines, node.id
    words = {n.lines[-1] for n in drawing.nodes}
    assert "✕ violation" in words


def test_the_svg_is_well_formed_and_matches_the_layout(big: view.Report) -> None:
    """The SVG parses as XML, has one box per node at the laid-out place, and loads nothing."""
    drawing = graph.layout(big)
    text = graph.svg(drawing, title="lineage of <big>")
    root = ET.fromstring(text)
    boxes = root.findall(f".//{SVG}rect[@class='box']")
    assert len(boxes) == len(drawing.nodes)
    assert {(float(b.get("x", "")), float(b.get("y", ""))) for b in boxes} == {
        (round(n.x, 1), round(n.y, 1)) for n in drawing.nodes
    }
    assert "href" not in text
    assert "<image" not in text
    assert "&lt;big&gt;" in text


def test_edges_are_labelled_with_transform_or_activity(big: view.Report) -> None:
    """The arrows leaving a box are labelled beside it: filter, mix, distillation, trained by."""
    drawing = graph.layout(big)
    assert {label.text for label in drawing.labels} == {
        "filter",
        "mix",
        "distillation",
        "trained by",
    }
    assert not overlaps(
        tuple(
            graph.Node(f"label{i}", "label", (), "", "", lb.x, lb.y - 9, len(lb.text) * 6, 11)
            for i, lb in enumerate(drawing.labels)
        )
        + drawing.nodes
    )


def test_the_demo_graph_groups_each_model_and_names_the_judge(
    demo_run: CheckRun, rules: RuleSet
) -> None:
    """Claude's three generations (two batches, one judge) are one box with its count."""
    drawing = graph.layout(build(demo_run, GENERATED, rules=rules))
    claude = next(n for n in drawing.nodes if "claude" in n.lines[0])
    assert claude.lines[1].startswith("3 sources")
    assert not overlaps(drawing.nodes)
    assert any("evaluation" in label.text for label in drawing.labels)
