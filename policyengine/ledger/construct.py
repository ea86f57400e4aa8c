"""Fast constructors for the lineage values a snapshot makes by the hundred thousand.

``lineage.ArtifactRef``, ``Edge`` and ``UpstreamSource`` are frozen dataclasses with slots: their
generated ``__init__`` sets every field through ``object.__setattr__``, which is about half of the
time it takes to build a 100,000-source lineage out of them. These functions make the very same
objects (equal, hashable, printable alike) by setting each slot directly. They are correct only
while the classes validate nothing on construction and have exactly these fields, so both are
checked when this module is imported, and a test compares their results with the classes' own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Final

from policyengine.facts import Activity, Facts
from policyengine.lineage import ArtifactKind, ArtifactRef, Edge, Relation, UpstreamSource

_FIELDS: Final = {
    ArtifactRef: ("kind", "id"),
    Edge: ("downstream", "upstream", "relation", "transform", "records", "activity"),
    UpstreamSource: ("ref", "facts", "path", "hops", "window"),
}

for _cls, _names in _FIELDS.items():
    if tuple(f.name for f in fields(_cls)) != _names or hasattr(_cls, "__post_init__"):
        raise ImportError(f"policyengine.ledger.construct does not fit {_cls.__name__} any more")

_new = object.__new__
_ref_kind, _ref_id = (getattr(ArtifactRef, name).__set__ for name in _FIELDS[ArtifactRef])
_down, _up, _relation, _transform, _records, _activity = (
    getattr(Edge, name).__set__ for name in _FIELDS[Edge]
)
_source, _facts, _path, _hops, _window = (
    getattr(UpstreamSource, name).__set__ for name in _FIELDS[UpstreamSource]
)


def ref(kind: ArtifactKind, artifact_id: str) -> ArtifactRef:
    """``ArtifactRef(kind, artifact_id)``."""
    made = _new(ArtifactRef)
    _ref_kind(made, kind)
    _ref_id(made, artifact_id)
    return made


def edge(
    downstream: ArtifactRef,
    upstream: ArtifactRef,
    relation: Relation,
    transform: str | None,
    records: int | None,
    activity: Activity | None,
) -> Edge:
    """``Edge(downstream, upstream, relation, transform, records, activity)``."""
    made = _new(Edge)
    _down(made, downstream)
    _up(made, upstream)
    _relation(made, relation)
    _transform(made, transform)
    _records(made, records)
    _activity(made, activity)
    return made


def source(
    artifact: ArtifactRef,
    facts: Facts,
    path: tuple[Edge, ...],
    hops: int,
    window: tuple[dt.date, dt.date] | None,
) -> UpstreamSource:
    """``UpstreamSource(artifact, facts, path, hops, window)``."""
    made = _new(UpstreamSource)
    _source(made, artifact)
    _facts(made, facts)
    _path(made, path)
    _hops(made, hops)
    _window(made, window)
    return made
