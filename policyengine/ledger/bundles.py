"""Rows → a *grouped* :class:`policyengine.lineage.Lineage`: sources counted, not listed.

A model trained on 100,000 generations of 50 models has about 50 distinct decisions to make, yet a
source-by-source lineage builds 100,000 sources with their paths. Here the database groups the
leaf generations under each node (:func:`policyengine.ledger.lineage.grouped_graph`), and the walk
over the few remaining nodes hands each group over as a :class:`SourceBundle`: the sources under one
node on one path that share their facts and activity, with their count, their records and the
first few of them in lineage order. Whatever a source-by-source lineage would decide, count or
show for these sources, the bundles give the same (tests compare the two on both backends).

Sources named in ``apart`` (the scopes of waivers, which single out one source) are kept in bundles
of their own, so that a waiver reaches exactly the sources it names.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from policyengine.facts import Activity, Facts
from policyengine.ledger import lineage
from policyengine.ledger.construct import edge as new_edge
from policyengine.ledger.construct import ref as new_ref
from policyengine.ledger.construct import source as new_source
from policyengine.ledger.lineage import MEMBER_ID, Leaves
from policyengine.ledger.snapshot import known_facts, root_of, target_facts, walked
from policyengine.lineage import (
    EXAMPLES,
    ArtifactKind,
    ArtifactRef,
    Edge,
    Lineage,
    Relation,
    SourceBundle,
    UpstreamSource,
)

_ORDER = slice(0, 20)  # a member text's place in recorded order
_RECORDS = slice(20, MEMBER_ID)  # its record count, or spaces
_FIRST = itemgetter(0)


def grouped_snapshot(
    connection: Connection, artifact_id: str, apart: frozenset[str] = frozenset()
) -> Lineage:
    """The lineage of one artifact with its sources in bundles (see the module's docstring).

    Raises PolicyEngineError (PE407) when the ledger has no such id.
    """
    root = root_of(connection, artifact_id)
    with lineage.paused_gc():
        found = lineage.grouped_graph(connection, root)
        upstream = walked(found)
        target = target_facts(connection, lineage.current(connection, artifact_id), found, upstream)
        walk = _Walk(found, upstream, apart)
        bundles = tuple(walk.bundles())
        return Lineage(root, target, bundles=bundles, distinct=len(walk.ids), apart=apart)


# One step of the walk: the edges left to follow from a node, the path to it, the hops so far, the
# path's place in lineage order, the activity nearest the target and the input edge nearest it.
_Frame = tuple[Iterator[Edge], tuple[Edge, ...], int, tuple[str, ...], Activity | None, Edge | None]


class _Walk:
    """The depth-first walk of a grouped graph, in recorded order, as the source-by-source one."""

    def __init__(
        self, found: lineage.Graph, upstream: dict[str, list[Edge]], apart: frozenset[str]
    ):
        self.found = found
        self.upstream = upstream
        self.apart = apart
        self.order = {
            id(edge): order for edge, order in zip(found.edges, found.orders, strict=True)
        }
        self.shared: dict[Any, tuple[Facts, Any]] = {}
        self.ids: set[str] = set()  # every distinct source met
        self.counted: set[str] = set()  # nodes whose leaves are in ``ids``

    def bundles(self) -> Iterator[SourceBundle]:
        root = self.found.root
        yield from self._hang(root, (), 1, (), None, None)
        stack: list[_Frame] = [(iter(self.upstream.get(root.id, ())), (), 1, (), None, None)]
        on_path = {root.id}
        leaves = self.found.leaves
        while stack:
            edges, path, hops, rank, activity, nearest = stack[-1]
            for edge in edges:
                node = edge.upstream
                if node.id in on_path:  # a tampered ledger may hold a cycle
                    continue
                step = (*path, edge)
                place = (*rank, self.order[id(edge)])
                used = activity if activity is not None else edge.activity
                near = (
                    nearest if nearest is not None or edge.relation is not Relation.INPUT else edge
                )
                onward = self.upstream.get(node.id)
                hanging = leaves.get(node.id)
                if onward is None and hanging is None:
                    yield self._single(node, step, hops, place, near)
                    continue
                first = onward[0].relation if onward else hanging[0].relation  # type: ignore[index]
                # A model on the way is one more model generation between target and sources.
                model = node.kind is ArtifactKind.MODEL and first is not Relation.SUPERSEDED_BY
                beyond = hops + 1 if model else hops
                yield from self._hang(node, step, beyond, place, used, near)
                on_path.add(node.id)
                stack.append((iter(onward or ()), step, beyond, place, used, near))
                break  # walk the node's edges first; this frame's iterator resumes afterwards
            else:
                stack.pop()
                if path:
                    on_path.discard(path[-1].upstream.id)

    def _single(
        self,
        node: ArtifactRef,
        path: tuple[Edge, ...],
        hops: int,
        rank: tuple[str, ...],
        nearest: Edge | None,
    ) -> SourceBundle:
        """A source the database did not group (an external source, a model, a dataset...)."""
        values = self.found.generations.get(node.id)
        facts, window = self._facts(node.id, values)
        self.ids.add(node.id)
        records = nearest.records if nearest is not None else None
        return SourceBundle((new_source(node, facts, path, hops, window),), (rank,), 1, records)

    def _hang(
        self,
        node: ArtifactRef,
        path: tuple[Edge, ...],
        hops: int,
        rank: tuple[str, ...],
        activity: Activity | None,
        nearest: Edge | None,
    ) -> Iterator[SourceBundle]:
        """The bundles of the leaves under ``node``, reached along ``path``."""
        hanging = self.found.leaves.get(node.id)
        if not hanging:
            return
        if node.id not in self.counted:
            self.counted.add(node.id)
            for leaves in hanging:
                self.ids.update([member[MEMBER_ID:] for member in leaves.members])
        parts = [(leaves, "") for leaves in hanging]
        if self.apart:
            parts = [part for leaves in hanging for part in _split(leaves, self.apart)]
        # Under one node on one path, leaves with the same facts and activity are one bundle.
        alike: dict[tuple[int, Activity | None, str], list[Leaves]] = {}
        for leaves, alone in parts:
            used = activity if activity is not None else leaves.activity
            alike.setdefault((id(leaves.values), used, alone), []).append(leaves)
        for group in alike.values():
            count = sum(leaves.count for leaves in group)
            records: int | None = None
            if nearest is not None:
                records = None if nearest.records is None else nearest.records * count
            elif all(g.relation is Relation.INPUT and g.records is not None for g in group):
                records = sum(g.records or 0 for g in group)
            first = heapq.nsmallest(
                EXAMPLES,
                ((member, leaves) for leaves in group for member in leaves.members[:EXAMPLES]),
                key=_FIRST,
            )
            examples = tuple(self._example(node, m, leaves, path, hops) for m, leaves in first)
            ranks = tuple((*rank, member[_ORDER]) for member, _ in first)
            yield SourceBundle(examples, ranks, count, records)

    def _example(
        self, node: ArtifactRef, member: str, leaves: Leaves, path: tuple[Edge, ...], hops: int
    ) -> UpstreamSource:
        generation = new_ref(ArtifactKind.GENERATION, member[MEMBER_ID:])
        edge = new_edge(
            node,
            generation,
            leaves.relation,
            leaves.transform,
            _records(member),
            leaves.activity,
        )
        facts, window = self._facts(generation.id, leaves.values)
        return new_source(generation, facts, (*path, edge), hops, window)

    def _facts(self, node_id: str, values: tuple[Any, ...] | None) -> tuple[Facts, Any]:
        known = self.shared.get(node_id if values is None else values)
        if known is None:
            known = known_facts(self.found, node_id, values, self.shared)
        return known


def _records(member: str) -> int | None:
    count = member[_RECORDS]
    return None if count[0] == " " else int(count)


def _split(leaves: Leaves, apart: frozenset[str]) -> list[tuple[Leaves, str]]:
    """``leaves`` with each member named in ``apart`` taken out into leaves of its own, each with
    the id it stands alone for ("" for the rest)."""
    kept = [m for m in leaves.members if m[MEMBER_ID:] in apart]
    if not kept:
        return [(leaves, "")]
    rest = [m for m in leaves.members if m[MEMBER_ID:] not in apart]
    parts = [(_part(leaves, [member]), member[MEMBER_ID:]) for member in kept]
    if rest:
        parts.append((_part(leaves, rest), ""))
    return parts


def _part(leaves: Leaves, members: list[str]) -> Leaves:
    counts = [_records(member) for member in members]
    records = None if None in counts else sum(c or 0 for c in counts)
    return Leaves(
        leaves.relation,
        leaves.transform,
        leaves.activity,
        leaves.values,
        len(members),
        records,
        members,
    )
