"""Rows → :class:`policyengine.lineage.Lineage`: the only place ledger rows become facts.

A source is any node with nothing upstream of it: a generation, an external source, a model of a
third party, a dataset or run recorded without inputs. A node with unrecorded origins is still a
source, with the facts it has, so that missing provenance reaches the evaluator as unknown facts
rather than vanishing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.facts import Facts, Value
from policyengine.ledger import lineage
from policyengine.ledger.construct import source as new_source
from policyengine.ledger.licenses import UNKNOWN_LICENSE
from policyengine.ledger.models import DatasetRow, ModelRow
from policyengine.lineage import ArtifactKind, ArtifactRef, Edge, Lineage, Relation, UpstreamSource

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
    root = root_of(connection, artifact_id)
    with lineage.paused_gc():
        found = lineage.graph(connection, root, "upstream")
        upstream = walked(found)
        target = target_facts(connection, lineage.current(connection, artifact_id), found, upstream)
        return Lineage(root, target, tuple(sources(found, upstream)))


def root_of(connection: Connection, artifact_id: str) -> ArtifactRef:
    """The artifact a lineage is read for; PE407 when the ledger has no such id."""
    kind = lineage.kind_of(connection, artifact_id)
    if kind is None:
        raise PolicyEngineError([unknown(artifact_id)])
    return ArtifactRef(kind, artifact_id)


def walked(found: lineage.Graph) -> dict[str, list[Edge]]:
    """The edges a snapshot walks, by downstream id, in recorded order.

    A generation's ``generated_by`` edge is walked only when the model that generated it has a
    recorded lineage of its own (a run, base models): then the model's sources are the
    generation's sources. A generation of a model recorded without one (a third party's) is a
    source itself, with its own facts.
    """
    upstream: dict[str, list[Edge]] = {}
    for edge in found.edges:
        edges = upstream.get(edge.downstream.id)
        if edges is None:
            upstream[edge.downstream.id] = [edge]
        else:
            edges.append(edge)
    makers = [
        (node, edges)
        for node, edges in upstream.items()
        if edges[0].relation is Relation.GENERATED_BY
    ]
    hanging = found.leaves
    for node, edges in makers:
        if not any(edge.upstream.id in upstream or edge.upstream.id in hanging for edge in edges):
            del upstream[node]
    return upstream


def sources(found: lineage.Graph, upstream: dict[str, list[Edge]]) -> Iterator[UpstreamSource]:
    """Each (source, path) pair of an upstream graph, depth first, in recorded order."""
    root = found.root
    first = upstream.get(root.id)
    if not first:
        return
    generations = found.generations
    # One Facts (and window) per distinct provenance: generations recorded alike share the same
    # tuple of values; any other source is keyed by its id.
    shared: dict[Any, tuple[Facts, Any]] = {}
    on_path = {root.id}
    # Iterative depth-first walk; each frame is (edges left to follow, path so far, hops so far).
    # A leaf is yielded as soon as it is met, so most sources never get a frame of their own.
    stack: list[tuple[Iterator[Edge], tuple[Edge, ...], int]] = [(iter(first), (), 1)]
    while stack:
        edges, path, hops = stack[-1]
        for edge in edges:
            node = edge.upstream
            if node.id in on_path:  # a tampered ledger may hold a cycle
                continue
            onward = upstream.get(node.id)
            if onward is None:
                values = generations.get(node.id)
                known = shared.get(node.id if values is None else values)
                if known is None:
                    known = known_facts(found, node.id, values, shared)
                yield new_source(node, known[0], (*path, edge), hops, known[1])
                continue
            # A model on the way is one more model generation between the target and its sources.
            model = node.kind is ArtifactKind.MODEL
            beyond = (
                hops + 1 if model and onward[0].relation is not Relation.SUPERSEDED_BY else hops
            )
            on_path.add(node.id)
            stack.append((iter(onward), (*path, edge), beyond))
            break  # walk the node's edges first; this frame's iterator resumes afterwards
        else:
            stack.pop()
            if path:
                on_path.discard(path[-1].upstream.id)


def known_facts(
    found: lineage.Graph,
    node_id: str,
    values: tuple[Any, ...] | None,
    shared: dict[Any, tuple[Facts, Any]],
) -> tuple[Facts, Any]:
    """The Facts and window of a source, made once per distinct provenance."""
    known: tuple[Facts, Any]
    if values is None:
        known = shared[node_id] = (_facts(found.others.get(node_id, {})), None)
    else:
        facts = _facts(dict(zip(lineage.GENERATION_FACTS, values, strict=True)))
        known = shared[values] = (facts, values[4:6])
    return known


def _facts(attributes: dict[str, Any]) -> Facts:
    known: dict[str, Value] = {}
    for name, fact in _SOURCE_FACTS.items():
        value = attributes.get(name)
        if value is not None and value != UNKNOWN_LICENSE:
            known[fact] = value
    return Facts(known)


def target_facts(
    connection: Connection,
    artifact_id: str,
    found: lineage.Graph,
    upstream: dict[str, list[Edge]],
) -> Facts:
    """Facts of the target itself (its newest correction when it was superseded)."""
    model = connection.execute(select(ModelRow.__table__).where(ModelRow.id == artifact_id)).first()
    if model is not None:
        return Facts(_model_facts(model, _base_model(found, upstream)))
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


def _base_model(found: lineage.Graph, upstream: dict[str, list[Edge]]) -> str | None:
    """The name of the model the target started from: its own base model, else its run's."""
    own = upstream.get(found.root.id, [])
    via_run = [e.upstream.id for e in own if e.relation is Relation.TRAINED_BY]
    for holder in (found.root.id, *via_run):
        for edge in upstream.get(holder, []):
            if edge.relation is Relation.BASE_MODEL:
                name = found.facts_of(edge.upstream.id).get("model")
                return str(name) if name else edge.upstream.id
    return None


def unknown(artifact_id: str) -> Diagnostic:
    return Diagnostic(
        codes.LEDGER_UNKNOWN_ID,
        f"the ledger has no artifact `{artifact_id}`",
        Location("ledger"),
        help="`policyengine ledger show` lists nothing for unknown ids; check the spelling",
    )
