"""Text, JSON and Graphviz views of ledger entries and lineage graphs, for `ledger show|lineage`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policyengine.ledger.chain import Link
    from policyengine.ledger.entities import Entity
    from policyengine.ledger.lineage import Graph
    from policyengine.ledger.store import OutputsBatch
    from policyengine.lineage import ArtifactRef, Edge, UpstreamSource


def describe(
    entity: Entity, link: Link, superseded_by: str | None, outputs: Sequence[OutputsBatch]
) -> dict[str, Any]:
    """An artifact as plain data: id, kind, fields, its chained entry, corrections, outputs."""
    shown: dict[str, Any] = {"id": entity.id, "kind": link.kind}
    shown.update(link.data())
    shown["entry"] = {"seq": link.seq, "recorded_at": link.recorded_at, "hash": link.hash}
    if superseded_by:
        shown["superseded_by"] = superseded_by
    if outputs:
        shown["outputs"] = [
            {"entry": o.seq, "records": o.records, "digest": o.digest} for o in outputs
        ]
    return shown


def _label(edge: Edge) -> str:
    details = [edge.relation.value]
    if edge.activity is not None:
        details.append(edge.activity.value)
    if edge.transform:
        details.append(edge.transform)
    if edge.records is not None:
        details.append(f"{edge.records:,} records")
    return ", ".join(details)


def _node(ref: ArtifactRef, found: Graph) -> str:
    facts = {k: v for k, v in found.facts_of(ref.id).items() if v is not None}
    shown = " ".join(str(v) for k, v in facts.items() if k not in ("name", "generated_until"))
    return f"{ref.kind.value} `{ref.id.removeprefix('external:')}`" + (
        f"  {shown}" if shown else ""
    )


def tree(found: Graph) -> str:
    """An indented tree from the root; a node reached twice is expanded once."""
    upstream = found.direction == "upstream"
    children: dict[str, list[Edge]] = defaultdict(list)
    for edge in found.edges:
        children[(edge.downstream if upstream else edge.upstream).id].append(edge)
    lines = [_node(found.root, found)]
    expanded: set[str] = {found.root.id}
    stack: list[tuple[Edge, str, bool]] = [
        (edge, "", i == len(children[found.root.id]) - 1)
        for i, edge in reversed(list(enumerate(children[found.root.id])))
    ]
    while stack:
        edge, prefix, last = stack.pop()
        node = edge.upstream if upstream else edge.downstream
        seen = node.id in expanded
        mark = "  (see above)" if seen and children.get(node.id) else ""
        lines.append(
            f"{prefix}{'└── ' if last else '├── '}[{_label(edge)}] {_node(node, found)}{mark}"
        )
        if seen:
            continue
        expanded.add(node.id)
        inner = prefix + ("    " if last else "│   ")
        below = children.get(node.id, [])
        stack.extend(
            (child, inner, i == len(below) - 1) for i, child in reversed(list(enumerate(below)))
        )
    return "\n".join(lines)


def dot(found: Graph) -> str:
    """A Graphviz digraph, edges drawn from upstream to downstream (the direction data flows)."""
    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box];"]
    nodes = {found.root, *(e.upstream for e in found.edges), *(e.downstream for e in found.edges)}
    for ref in sorted(nodes, key=lambda r: r.id):
        lines.append(f"  {_quote(ref.id)} [label={_quote(ref.kind.value + chr(10) + ref.id)}];")
    for edge in found.edges:
        lines.append(
            f"  {_quote(edge.upstream.id)} -> {_quote(edge.downstream.id)} [label={_quote(_label(edge))}];"
        )
    lines.append("}")
    return "\n".join(lines)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def graph_json(found: Graph, sources: Sequence[UpstreamSource]) -> dict[str, Any]:
    """The graph (and, upstream, every source with its path and facts) as plain data."""
    return {
        "root": {"kind": found.root.kind.value, "id": found.root.id},
        "direction": found.direction,
        "edges": [_edge(e) for e in found.edges],
        "nodes": {
            ref.id: found.facts_of(ref.id)
            for ref in {*(e.upstream for e in found.edges), *(e.downstream for e in found.edges)}
            if found.facts_of(ref.id)
        },
        "sources": [
            {
                "kind": s.ref.kind.value,
                "id": s.ref.id,
                "facts": {k: _plain(v) for k, v in s.facts.known.items()},
                "hops": s.hops,
                "activity": s.activity.value if s.activity else None,
                "transforms": list(s.transforms),
                "records": list(s.record_counts),
                "path": [e.upstream.id for e in s.path],
            }
            for s in sources
        ],
    }


def _edge(edge: Edge) -> dict[str, Any]:
    return {
        "downstream": edge.downstream.id,
        "upstream": edge.upstream.id,
        "relation": edge.relation.value,
        "transform": edge.transform,
        "records": edge.records,
        "activity": edge.activity.value if edge.activity else None,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple):
        return list(value)
    return value
