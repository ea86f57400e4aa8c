"""Lineage: what the ledger hands the evaluator, as frozen types.

The ledger builds these from its rows (:mod:`policyengine.ledger.snapshot`,
:mod:`policyengine.ledger.bundles`); the evaluator reads them. Neither knows the other.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Final

from policyengine.facts import Activity, Facts, Value


class ArtifactKind(enum.Enum):
    """What a node of the lineage graph is."""

    AGREEMENT = "agreement"
    GENERATION = "generation"
    DATASET = "dataset"
    RUN = "run"
    MODEL = "model"
    USE = "use"
    WAIVER = "waiver"
    EXTERNAL = "external"


class Relation(enum.Enum):
    """How a downstream artifact came from an upstream one (the label of an edge)."""

    INPUT = (
        "input"  # a dataset holds records of a generation, another dataset or an external source
    )
    TRAINING_DATA = "training_data"  # a run trained on a dataset
    BASE_MODEL = "base_model"  # a run or a model started from a model
    TRAINED_BY = "trained_by"  # a model is the result of a run
    USE = "use"  # an artifact was used on another (evaluation, filtering, …)
    SUPERSEDED_BY = "superseded_by"  # a corrected entry replaced this one
    GENERATED_BY = "generated_by"  # a generation's outputs came from a model the ledger records


@dataclass(frozen=True, slots=True, order=True)
class ArtifactRef:
    """One artifact of the ledger, by kind and id (external sources have ``external:NAME`` ids)."""

    kind: ArtifactKind = field(compare=False)
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value} `{self.id}`"


@dataclass(frozen=True, slots=True)
class Edge:
    """One step of lineage: ``downstream`` was made from (or used) ``upstream``.

    ``transform`` and ``records`` describe a dataset input (how the records were changed, how many
    made it in); ``activity`` is what the upstream was used for on this step (a run's method, a use's
    activity, ``distillation`` for a distilled model), when recorded.
    """

    downstream: ArtifactRef
    upstream: ArtifactRef
    relation: Relation
    transform: str | None = None
    records: int | None = None
    activity: Activity | None = None


@dataclass(frozen=True, slots=True)
class UpstreamSource:
    """An origin of the target's content (a generation, external data or a model nothing precedes),
    with its source facts and the path of edges that leads from the target to it.

    ``path[0]`` leaves the target and ``path[-1]`` arrives at the source. ``hops`` counts model
    generations between the two: 1 when the target holds (or was trained on) the source directly,
    one more for each model on the way. ``window`` is the generation's recorded time window.
    """

    ref: ArtifactRef
    facts: Facts
    path: tuple[Edge, ...]
    hops: int
    window: tuple[dt.date, dt.date] | None = None

    @property
    def transforms(self) -> tuple[str, ...]:
        """The transforms applied on the way, nearest the target first."""
        return tuple(edge.transform for edge in self.path if edge.transform is not None)

    @property
    def record_counts(self) -> tuple[int | None, ...]:
        """The recorded record count of each input edge on the path, nearest the target first."""
        return tuple(edge.records for edge in self.path if edge.relation is Relation.INPUT)

    @property
    def activity(self) -> Activity | None:
        """What the target did with this source: the activity nearest the target on the path."""
        return next((edge.activity for edge in self.path if edge.activity is not None), None)

    @property
    def superseded(self) -> tuple[ArtifactRef, ...]:
        """Artifacts on the path that a correction replaced (the lineage shows both)."""
        return tuple(e.downstream for e in self.path if e.relation is Relation.SUPERSEDED_BY)


EXAMPLES: Final = 3
"""How many sources a :class:`SourceBundle` keeps with their paths (what `--explain` shows)."""


@dataclass(frozen=True, slots=True)
class SourceBundle:
    """Sources of a grouped lineage that share facts, hops, activity and the way from the target
    up to the node they hang from: how many (source, path) pairs, and the first few of them.

    ``examples`` are the first :data:`EXAMPLES` sources in lineage order (depth first, in recorded
    order) and ``ranks`` their places in that order, comparable across bundles. ``records`` totals
    the records that reached the target from these sources (the input edge nearest the target of
    each path); None when some path records no count.
    """

    examples: tuple[UpstreamSource, ...]
    ranks: tuple[tuple[str, ...], ...]
    count: int
    records: int | None


@dataclass(frozen=True, slots=True)
class Lineage:
    """A target (dataset or model) with its own facts and every upstream source.

    The closure (every ancestor, the providers they come from) is computed once, when the value is
    built, so that "derived from outputs of provider X" is a set lookup. A source reached along two
    paths appears once per path: each path may carry a different activity or hop count.

    A *grouped* lineage holds ``bundles`` instead of ``sources``: sources recorded alike counted
    rather than listed, with ``distinct`` the number of distinct sources. Its ``ancestors`` name
    every node on the way and the sources in ``apart`` (each kept in a bundle of its own), not the
    sources inside larger bundles.
    """

    target: ArtifactRef
    facts: Facts
    sources: tuple[UpstreamSource, ...] = ()
    bundles: tuple[SourceBundle, ...] = ()
    distinct: int | None = None
    apart: frozenset[str] = frozenset()
    ancestors: frozenset[ArtifactRef] = field(init=False)
    providers: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        every = (*self.sources, *(s for bundle in self.bundles for s in bundle.examples))
        ancestors = {edge.upstream for source in every for edge in source.path}
        # INVARIANT: lineage is acyclic; the ledger refuses writes that would close a cycle.
        if self.target in ancestors:
            raise ValueError(f"{self.target} is its own ancestor")
        providers = {s.facts["source.provider"] for s in every}
        object.__setattr__(self, "ancestors", frozenset(ancestors))
        object.__setattr__(self, "providers", frozenset(p for p in providers if isinstance(p, str)))

    def facts_for(self, source: UpstreamSource) -> Facts:
        """The facts of one (source, use, target): target facts, source facts, hops and activity."""
        known: dict[str, Value] = dict(self.facts.known)
        known.update(source.facts.known)
        known["path.hops"] = source.hops
        if source.activity is not None:
            known["use.activity"] = source.activity.value
        return Facts(known)

    def from_provider(self, provider: str) -> tuple[UpstreamSource, ...]:
        """The sources whose provider is ``provider``."""
        return tuple(s for s in self.sources if s.facts["source.provider"] == provider)
