"""Rows → :class:`policyengine.facts.Lineage`: the only place ledger rows become facts.

A source is any node with nothing upstream of it: a generation, an external source, a model of a
third party, a dataset or run recorded without inputs. A node with unrecorded origins is still a
source, with the facts it has, so that missing provenance reaches the evaluator as unknown facts
rather than vanishing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.facts import (
    ArtifactKind,
    ArtifactRef,
    Edge,
    Facts,
    Lineage,
    Relation,
    UpstreamSource,
    Value,
)
from policyengine.ledger import lineage
from policyengine.ledger.licenses import UNKNOWN_LICENSE
from policyengine.ledger.models import DatasetRow, ModelRow

_SOURCE_FACTS = {
    "provider": "source.provider",
    "model": "source.model",
    "channel": "source.channel",
    "agreement": "source.agreement",
    "generated_from": "source.generated_at",
    "license": "source.license",
}


def snapshot(connection: Connection, artifact_id: str) -> Lineage:
    """The lineage of one artifact: its target facts and every upstream source with its path.

    Raises PolicyEngineError (PE407) when the ledger has no such id.
    """
    kind = lineage.kind_of(connection, artifact_id)
    if kind is None:
        raise PolicyEngineError([_unknown(artifact_id)])
    root = ArtifactRef(kind, artifact_id)
    with lineage.paused_gc():
        found = lineage.graph(connection, root, "upstream")
        target = _target_facts(connection, lineage.current(connection, artifact_id), found)
        return Lineage(root, target, tuple(sources(found)))


def sources(found: lineage.Graph) -> Iterator[UpstreamSource]:
    """Each (source, path) pair of an upstream graph, depth first, in recorded order."""
    upstream: dict[str, list[Edge]] = defaultdict(list)
    for edge in found.edges:
        upstream[edge.downstream.id].append(edge)
    facts_of: dict[Any, Facts] = {}
    # Iterative depth-first walk; each frame is (node, path so far, models passed on the way).
    stack: list[tuple[ArtifactRef, tuple[Edge, ...], int]] = [(found.root, (), 0)]
    while stack:
        node, path, models = stack.pop()
        edges = upstream.get(node.id)
        if not edges:
            if path:
                yield _source(node, path, models + 1, found, facts_of)
            continue
        on_path = {found.root.id, *(e.upstream.id for e in path)}
        if path and node.kind is ArtifactKind.MODEL:
            models += 0 if edges[0].relation is Relation.SUPERSEDED_BY else 1
        stack.extend(
            (edge.upstream, (*path, edge), models)
            for edge in reversed(edges)
            if edge.upstream.id not in on_path  # a tampered ledger may hold a cycle
        )


def _source(
    node: ArtifactRef,
    path: tuple[Edge, ...],
    hops: int,
    found: lineage.Graph,
    facts_of: dict[Any, Facts],
) -> UpstreamSource:
    values = found.generations.get(node.id)
    if values is not None:
        # Many generations share provider, model, channel, agreement and day: one Facts each.
        key = values[:5]
        facts = facts_of.get(key)
        if facts is None:
            facts = facts_of[key] = _facts(dict(zip(lineage.GENERATION_FACTS, values, strict=True)))
        return UpstreamSource(node, facts, path, hops, values[4:6])
    facts = facts_of.get(node.id)
    if facts is None:
        facts = facts_of[node.id] = _facts(found.others.get(node.id, {}))
    return UpstreamSource(node, facts, path, hops)


def _facts(attributes: dict[str, Any]) -> Facts:
    known: dict[str, Value] = {}
    for name, fact in _SOURCE_FACTS.items():
        value = attributes.get(name)
        if value is not None and value != UNKNOWN_LICENSE:
            known[fact] = value
    return Facts(known)


def _target_facts(connection: Connection, artifact_id: str, found: lineage.Graph) -> Facts:
    """Facts of the target itself (its newest correction when it was superseded)."""
    model = connection.execute(select(ModelRow.__table__).where(ModelRow.id == artifact_id)).first()
    if model is not None:
        return Facts(_model_facts(model, _base_model(found)))
    dataset = connection.execute(
        select(DatasetRow.__table__).where(DatasetRow.id == artifact_id)
    ).first()
    if dataset is not None:
        known: dict[str, Value] = {"target.kind": "dataset", "target.name": dataset.name}
        if dataset.release is not None:
            known["target.release"] = dataset.release
        return Facts(known)
    return Facts()


def _model_facts(model: Any, base_model: str | None) -> dict[str, Value]:
    known: dict[str, Value] = {"target.kind": "model", "target.name": model.name}
    optional: dict[str, Value | None] = {
        "target.release": model.release,
        "target.commercial": model.commercial,
        "target.competes_with": None
        if model.competes_with is None
        else frozenset(model.competes_with),
        "target.notices": None if model.notices is None else tuple(model.notices),
        "target.base_model": base_model,
    }
    known.update({name: value for name, value in optional.items() if value is not None})
    return known


def _base_model(found: lineage.Graph) -> str | None:
    """The name of the model the target started from: its own base model, else its run's."""
    via_run = {
        e.upstream.id
        for e in found.edges
        if e.downstream == found.root and e.relation is Relation.TRAINED_BY
    }
    for holders in ({found.root.id}, via_run):
        for edge in found.edges:
            if edge.downstream.id in holders and edge.relation is Relation.BASE_MODEL:
                name = found.facts_of(edge.upstream.id).get("model")
                return str(name) if name else edge.upstream.id
    return None


def _unknown(artifact_id: str) -> Diagnostic:
    return Diagnostic(
        codes.LEDGER_UNKNOWN_ID,
        f"the ledger has no artifact `{artifact_id}`",
        Location("ledger"),
        help="`policyengine ledger show` lists nothing for unknown ids; check the spelling",
    )
