"""Lineage queries: the sub-graph upstream or downstream of an artifact, in one recursive query.

Edges point from downstream to upstream. A superseded artifact keeps only its ``superseded_by``
edge to the correction, so the correction's lineage is followed while the path still shows the
artifact it replaced. ``UNION`` (not ``UNION ALL``) makes the recursion stop at nodes already seen,
so even a tampered database with a cycle cannot make a query run forever.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Final, Literal

from sqlalchemy import Connection, text

from policyengine.facts import Activity
from policyengine.ledger.construct import edge as new_edge
from policyengine.ledger.construct import ref as new_ref
from policyengine.lineage import ArtifactKind, ArtifactRef, Edge, Relation

Direction = Literal["upstream", "downstream"]

# An edge counts unless its downstream end was superseded (then only `superseded_by` counts). The
# uncorrelated NOT IN is evaluated once per query, not once per edge.
_LIVE: Final = """(e.relation = 'superseded_by'
    OR e.downstream_id NOT IN (SELECT old_id FROM ledger_supersessions))"""

_REACH: Final = {
    "upstream": f"""reach(id) AS (
    SELECT CAST(:root AS VARCHAR(200))
    UNION
    SELECT e.upstream_id FROM ledger_edges e JOIN reach r ON e.downstream_id = r.id
    WHERE e.upstream_id IS NOT NULL AND {_LIVE})""",
    "downstream": f"""reach(id) AS (
    SELECT CAST(:root AS VARCHAR(200))
    UNION
    SELECT e.downstream_id FROM ledger_edges e JOIN reach r ON e.upstream_id = r.id
    WHERE {_LIVE})""",
}

_NEAR: Final = {"upstream": "e.downstream_id", "downstream": "e.upstream_id"}
_FAR: Final = {"upstream": "e.upstream_id", "downstream": "e.downstream_id"}

# Each edge comes with its far end's kind, or, for a generation (the bulk of any lineage), NULL and
# the generation's recorded values as one JSON array: one text per row that is cheap to fetch and to
# look up, since most generations of a large lineage were recorded alike. The near end is the root
# or the far end of another edge. Models and datasets are few; their facts are read by id afterwards.
_SELECT: Final = """
SELECT e.downstream_id, e.upstream_id, e.external, e.external_provider, e.external_license,
       e.relation, e.transform, e.activity, e.records,
       CASE WHEN g.id IS NULL THEN (SELECT a.kind FROM ledger_artifacts a WHERE a.id = {far}) END,
       CASE WHEN g.id IS NOT NULL THEN {values} END,
       e.entry_seq, e.position
FROM ledger_edges e JOIN reach r ON {near} = r.id
LEFT JOIN generations g ON g.id = {far}
WHERE {live}
"""
# No ORDER BY: it would make SQLite scan every edge of the ledger in key order instead of starting
# from the reached nodes; the rows are sorted in Python instead.

# A grouped lineage reads the same rows, but the edges to *leaf* generations (those with nothing
# upstream: the bulk of a large lineage) arrive aggregated, one row per node they hang from and way
# they were recorded, with a count and the members in one text. The recursion does not enter leaf
# generations, which also spares it most of its work.
_REACH_INNER: Final = f"""reach(id) AS (
    SELECT CAST(:root AS VARCHAR(200))
    UNION
    SELECT e.upstream_id FROM ledger_edges e JOIN reach r ON e.downstream_id = r.id
    WHERE e.upstream_id IS NOT NULL AND {_LIVE}
    AND EXISTS (SELECT 1 FROM ledger_edges u WHERE u.downstream_id = e.upstream_id))"""

_GROUPED: Final = """, hit AS (
SELECT e.downstream_id, e.upstream_id, e.external, e.external_provider, e.external_license,
       e.relation, e.transform, e.activity, e.records,
       CASE WHEN g.id IS NULL THEN (SELECT a.kind FROM ledger_artifacts a WHERE a.id = e.upstream_id)
       END AS kind,
       CASE WHEN g.id IS NOT NULL THEN {values} END AS recorded,
       e.entry_seq, e.position,
       CASE WHEN g.id IS NOT NULL AND e.upstream_id NOT IN (SELECT id FROM reach) THEN 1 ELSE 0
       END AS leaf
FROM ledger_edges e JOIN reach r ON e.downstream_id = r.id
LEFT JOIN generations g ON g.id = e.upstream_id
WHERE {live})
SELECT downstream_id, MIN(upstream_id), MIN(external), MIN(external_provider),
       MIN(external_license), relation, transform, activity, MIN(records), MIN(kind), recorded,
       MIN(entry_seq), MIN(position), leaf, COUNT(*), SUM(records), COUNT(records), {members}
FROM hit
GROUP BY downstream_id, leaf, CASE WHEN leaf = 1 THEN NULL ELSE entry_seq END,
         CASE WHEN leaf = 1 THEN NULL ELSE position END, relation, transform, activity, recorded
"""
# A member is its edge's place in recorded order (12 + 8 digits), its record count (20 digits, or
# 20 spaces when unrecorded) and its id: sorting the texts sorts the members.
MEMBER_ID: Final = 40
_MEMBERS: Final = {
    "sqlite": """group_concat(printf('%012d%08d', entry_seq, position)
        || CASE WHEN records IS NULL THEN '                    ' ELSE printf('%020d', records) END
        || upstream_id, char(10))""",
    "postgresql": """string_agg(lpad(CAST(entry_seq AS TEXT), 12, '0')
        || lpad(CAST(position AS TEXT), 8, '0')
        || CASE WHEN records IS NULL THEN repeat(' ', 20) ELSE lpad(CAST(records AS TEXT), 20, '0')
           END
        || upstream_id, chr(10))""",
}

_VALUES: Final = {
    "sqlite": "json_array({columns})",
    "postgresql": "CAST(json_build_array({columns}) AS TEXT)",
}
_COLUMNS: Final = (
    "g.provider, g.model, g.channel, g.agreement_id, g.generated_from, g.generated_until"
)

_RECORDED: Final = itemgetter(11, 12)
_RELATIONS: Final = {r.value: r for r in Relation}
_ACTIVITIES: Final = {a.value: a for a in Activity}
_KINDS: Final = {k.value: k for k in ArtifactKind}


GENERATION_FACTS: Final = (
    "provider",
    "model",
    "channel",
    "agreement",
    "generated_from",
    "generated_until",
)
"""The order of the values in ``Graph.generations``."""


@dataclass(frozen=True, slots=True)
class Leaves:
    """Leaf generations of a grouped graph that hang from one node by like edges, recorded alike.

    ``values`` are their recorded values in :data:`GENERATION_FACTS` order (one tuple shared with
    every generation recorded alike); ``records`` totals their edges' counts, None when one is
    unrecorded; ``members`` are sorted texts whose place in recorded order and record count come
    before the id, which starts at :data:`MEMBER_ID`.
    """

    relation: Relation
    transform: str | None
    activity: Activity | None
    values: tuple[Any, ...]
    count: int
    records: int | None
    members: list[str]


@dataclass(frozen=True, slots=True)
class Graph:
    """The edges reachable from ``root`` in one direction, with what is recorded of each node.

    ``generations`` maps a generation's id to its values in :data:`GENERATION_FACTS` order (dates
    as ``datetime.date``); ``others`` maps a model, dataset or external source to its facts. Most
    of a large lineage is generations, so they are kept as tuples rather than one dict each.
    """

    root: ArtifactRef
    direction: Direction
    edges: tuple[Edge, ...]
    generations: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    others: dict[str, dict[str, Any]] = field(default_factory=dict)
    leaves: dict[str, list[Leaves]] = field(default_factory=dict)
    orders: tuple[str, ...] = ()  # each edge's place in recorded order (grouped graphs only)

    def facts_of(self, node_id: str) -> dict[str, Any]:
        """What is recorded of one node, by name (empty for runs, uses and unknown ids)."""
        values = self.generations.get(node_id)
        if values is not None:
            return dict(zip(GENERATION_FACTS, values, strict=True))
        return self.others.get(node_id, {})


def kind_of(connection: Connection, artifact_id: str) -> ArtifactKind | None:
    """The kind of the artifact with this id, or None when the ledger has no such id."""
    row = connection.execute(
        text("SELECT kind FROM ledger_artifacts WHERE id = :id"), {"id": artifact_id}
    ).first()
    return ArtifactKind(row.kind) if row else None


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic objects.

    A lineage of 100,000 sources allocates a million small objects, none in a reference cycle;
    left on, the collector rescans the growing heap again and again. Reference counting still frees
    everything as usual. On the way out, what was built goes straight to the oldest generation
    (``freeze`` then ``unfreeze``), so that the first young collection afterwards does not walk all
    of it at once; this is skipped when someone else keeps objects frozen, not to thaw them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def graph(connection: Connection, root: ArtifactRef, direction: Direction) -> Graph:
    """Every edge reachable from ``root`` upstream or downstream: one recursive query."""
    with paused_gc():
        return _graph(connection, root, direction)


def grouped_graph(connection: Connection, root: ArtifactRef) -> Graph:
    """The upstream graph of ``root`` with its leaf generations in :class:`Leaves` by the node
    they hang from, rather than one edge each: one recursive query, aggregated in the database."""
    with paused_gc():
        return _graph(connection, root, "upstream", grouped=True)


def _graph(
    connection: Connection, root: ArtifactRef, direction: Direction, *, grouped: bool = False
) -> Graph:
    dialect = connection.dialect.name
    as_json = _VALUES[dialect].format(columns=_COLUMNS)
    if grouped:
        select = _GROUPED.format(live=_LIVE, values=as_json, members=_MEMBERS[dialect])
        sql = "WITH RECURSIVE " + _REACH_INNER + select
    else:
        select = _SELECT.format(
            near=_NEAR[direction], far=_FAR[direction], live=_LIVE, values=as_json
        )
        sql = "WITH RECURSIVE " + _REACH[direction] + select
    result = connection.execute(text(sql), {"root": root.id})
    # The driver's plain tuples: a large lineage is 100,000s of rows, read by position only.
    rows: list[Any] = list(result.cursor.fetchall()) if result.cursor else []
    result.close()
    leaf_rows = [row for row in rows if row[13]] if grouped else []
    if leaf_rows:
        rows = [row for row in rows if not row[13]]
    rows.sort(key=_RECORDED)
    refs: dict[str | None, ArtifactRef] = {root.id: root}
    generations: dict[str, tuple[Any, ...]] = {}
    others: dict[str, dict[str, Any]] = {}
    by_kind: dict[ArtifactKind, list[str]] = {ArtifactKind.MODEL: [], ArtifactKind.DATASET: []}
    if root.kind in by_kind:
        by_kind[root.kind].append(root.id)
    # Generations recorded alike (same provider, model, channel, agreement and days) share one
    # tuple of values, and so one Facts in the snapshot.
    alike: dict[str, tuple[Any, ...]] = {}
    dates: dict[str, dt.date] = {}
    far = 1 if direction == "upstream" else 0
    for row in rows:  # every far end first, so that each near end is known below
        far_id = row[far] or f"external:{row[2]}"
        if far_id in refs:
            continue
        recorded = row[10]
        if recorded is not None:
            refs[far_id] = new_ref(ArtifactKind.GENERATION, far_id)
            values = alike.get(recorded)
            if values is None:
                values = alike[recorded] = _generation(recorded, dates)
            generations[far_id] = values
            continue
        kind = _KINDS[row[9]] if row[9] else ArtifactKind.EXTERNAL
        refs[far_id] = new_ref(kind, far_id)
        if kind is ArtifactKind.EXTERNAL:
            others[far_id] = {"name": row[2], "provider": row[3], "license": row[4]}
        elif kind in by_kind:
            by_kind[kind].append(far_id)
    relations, activities = _RELATIONS, _ACTIVITIES
    edges = tuple(
        [
            new_edge(
                refs[row[0]],
                refs[row[1] or f"external:{row[2]}"],
                relations[row[5]],
                row[6],
                row[8],
                activities[row[7]] if row[7] else None,
            )
            for row in rows
        ]
    )
    _add_facts(connection, others, by_kind)
    leaves: dict[str, list[Leaves]] = {}
    for row in leaf_rows:
        values = alike.get(row[10])
        if values is None:
            values = alike[row[10]] = _generation(row[10], dates)
        members = row[17].split("\n")
        members.sort()
        records = int(row[15]) if row[16] == row[14] else None  # PostgreSQL sums as numeric
        found = Leaves(
            relations[row[5]],
            row[6],
            activities[row[7]] if row[7] else None,
            values,
            row[14],
            records,
            members,
        )
        leaves.setdefault(row[0], []).append(found)
    orders = tuple([f"{row[11]:012d}{row[12]:08d}" for row in rows]) if grouped else ()
    return Graph(root, direction, edges, generations, others, leaves, orders)


def _add_facts(
    connection: Connection,
    others: dict[str, dict[str, Any]],
    by_kind: dict[ArtifactKind, list[str]],
) -> None:
    """Fill in the recorded facts of the models and datasets of a graph (few; read by id)."""
    for kind, sql in _FACTS_OF.items():
        ids = by_kind[kind]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            params = {f"p{n}": v for n, v in enumerate(chunk)}
            marks = ", ".join(f":p{n}" for n in range(len(chunk)))
            for row in connection.execute(text(sql.format(marks=marks)), params):
                others[row[0]] = _FACTS_FROM[kind](row)


_FACTS_OF: Final = {
    ArtifactKind.MODEL: "SELECT id, provider, name, license, release FROM models WHERE id IN ({marks})",
    ArtifactKind.DATASET: "SELECT id, license FROM datasets WHERE id IN ({marks})",
}
_FACTS_FROM: Final = {
    ArtifactKind.MODEL: lambda row: {
        "provider": row[1],
        "model": row[2],
        "license": row[3],
        # A model whose weights its provider published was obtained as open weights.
        "channel": "open_weights" if row[4] == "open_weights" else None,
    },
    ArtifactKind.DATASET: lambda row: {"license": row[1]},
}


def reaches(connection: Connection, start: str, goal: str) -> bool:
    """Whether ``goal`` is ``start`` or lies upstream of it (a new edge goal ← start would cycle)."""
    sql = "WITH RECURSIVE " + _REACH["upstream"] + " SELECT 1 FROM reach WHERE id = :goal"
    return connection.execute(text(sql), {"root": start, "goal": goal}).first() is not None


def current(connection: Connection, artifact_id: str) -> str:
    """The id of the newest correction of an artifact (itself when nothing supersedes it)."""
    sql = """WITH RECURSIVE newer(id, depth) AS (
        SELECT CAST(:root AS VARCHAR(200)), 0
        UNION
        SELECT s.new_id, n.depth + 1 FROM ledger_supersessions s JOIN newer n ON s.old_id = n.id
        WHERE n.depth < 1000)
    SELECT id FROM newer ORDER BY depth DESC LIMIT 1"""
    row = connection.execute(text(sql), {"root": artifact_id}).first()
    return str(row.id) if row else artifact_id


def _generation(recorded: str, dates: dict[str, dt.date]) -> tuple[Any, ...]:
    """A generation's values in :data:`GENERATION_FACTS` order, from the query's JSON array."""
    provider, model, channel, agreement, start, end = json.loads(recorded)
    return (provider, model, channel, agreement, _date(start, dates), _date(end, dates))


def _date(value: str, dates: dict[str, dt.date]) -> dt.date:
    # Both backends render dates in JSON as ISO text; many generations share a day.
    found = dates.get(value)
    if found is None:
        found = dates[value] = dt.date.fromisoformat(value)
    return found
