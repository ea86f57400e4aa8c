"""Entries → rows of the query tables: the one function writes and ``verify`` both use.

A write stores the rows :func:`project` returns for its entry; ``verify`` recomputes them from the
chain and compares with what the tables hold. So the query tables can be trusted exactly as far as
the chain can.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from policyengine.facts import Activity
from policyengine.ledger import entities as e
from policyengine.ledger.chain import Link
from policyengine.ledger.models import (
    AgreementRow,
    Artifact,
    Base,
    CheckRow,
    DatasetRow,
    EdgeRow,
    GenerationRow,
    ModelRow,
    OutputsRow,
    RunRow,
    SupersessionRow,
    UseRow,
    WaiverRow,
)
from policyengine.lineage import ArtifactKind, Relation

Rows = dict[type[Base], list[dict[str, Any]]]

OUTPUTS: Final = "outputs"
"""The entry kind of a batch of output fingerprints (its subject is the generation id)."""

CHECK: Final = "check"
"""The entry kind of a `check` run's audit record (its subject is the target's id)."""

_RELATION_ACTIVITY: Final = {
    e.ModelRelation.DISTILLED: Activity.DISTILLATION,
    e.ModelRelation.FINETUNE: Activity.FINE_TUNING,
    e.ModelRelation.ADAPTER: Activity.FINE_TUNING,
}


def project(link: Link) -> Rows:
    """The query-table rows that one chained entry stands for."""
    payload = link.data()
    if link.kind == OUTPUTS:
        return {OutputsRow: [_outputs(link, payload)]}
    if link.kind == CHECK:
        return {CheckRow: [_check(link, payload)]}
    entity = e.from_payload(ArtifactKind(link.kind), link.subject, payload)
    rows: Rows = {Artifact: [{"id": entity.id, "kind": link.kind, "entry_seq": link.seq}]}
    table, row = _typed(entity)
    rows[table] = [row]
    drawn = _edges(entity)
    if entity.supersedes is not None:
        # The corrected artifact's lineage now runs through its correction.
        old = {"downstream_id": entity.supersedes}
        drawn.append(_edge(old, entity.id, Relation.SUPERSEDED_BY, None))
    edges = [
        {"entry_seq": link.seq, "position": i, **_EDGE_DEFAULTS, **edge}
        for i, edge in enumerate(drawn)
    ]
    if edges:
        rows[EdgeRow] = edges
    if entity.supersedes is not None:
        rows[SupersessionRow] = [
            {"old_id": entity.supersedes, "new_id": entity.id, "entry_seq": link.seq}
        ]
    return rows


def _outputs(link: Link, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "entry_seq": link.seq,
        "generation_id": link.subject,
        "records": payload["records"],
        "digest": payload["digest"],
    }


def _check(link: Link, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "entry_seq": link.seq,
        "target_id": link.subject,
        "use": payload["use"],
        "as_of": dt.date.fromisoformat(payload["as_of"]),
        "verdict": payload["verdict"],
        "rules_digest": payload["rules_digest"],
        "ledger_head": payload["ledger_head"],
    }


def _value(member: Any) -> Any:
    return None if member is None else member.value


def _typed(entity: e.Entity) -> tuple[type[Base], dict[str, Any]]:
    """The entity's row in its own table."""
    match entity:
        case e.Agreement():
            return AgreementRow, {
                "id": entity.id,
                "provider": entity.provider,
                "kind": entity.kind.value,
                "title": entity.title,
                "effective_from": entity.effective_from,
                "effective_until": entity.effective_until,
            }
        case e.Generation():
            return GenerationRow, {
                "id": entity.id,
                "provider": entity.provider,
                "model": entity.model,
                "channel": entity.channel.value,
                "agreement_id": entity.agreement,
                "generated_from": entity.generated_from,
                "generated_until": entity.generated_until,
                "records": entity.records,
                "outputs_digest": entity.outputs_digest,
            }
        case e.Dataset():
            return DatasetRow, {
                "id": entity.id,
                "name": entity.name,
                "version": entity.version,
                "license": entity.license,
                "release": _value(entity.release),
            }
        case e.Run():
            return RunRow, {
                "id": entity.id,
                "method": _value(entity.method),
                "started": entity.started,
                "ended": entity.ended,
            }
        case e.Model():
            return ModelRow, _model(entity)
        case e.Use():
            return UseRow, {
                "id": entity.id,
                "activity": entity.activity.value,
                "source_id": entity.source,
                "target_id": entity.target,
                "used_on": entity.used_on,
            }
        case e.Waiver():
            return WaiverRow, {
                "id": entity.id,
                "rule": entity.rule,
                "scope_id": entity.scope,
                "reason": entity.reason.value,
                "approver": entity.approver,
                "ticket": entity.ticket,
                "expires": entity.expires,
            }
    raise AssertionError(f"no table for {type(entity).__name__}")


def _model(entity: e.Model) -> dict[str, Any]:
    return {
        "id": entity.id,
        "name": entity.name,
        "version": entity.version,
        "provider": entity.provider,
        "base_model_relation": _value(entity.base_model_relation),
        "release": _value(entity.release),
        "commercial": entity.commercial,
        "competes_with": entity.competes_with,
        "notices": entity.notices,
        "license": entity.license,
        "license_link": entity.license_link,
    }


_EDGE_DEFAULTS: Final[dict[str, Any]] = {
    "upstream_id": None,
    "external": None,
    "external_provider": None,
    "external_license": None,
    "transform": None,
    "activity": None,
    "records": None,
}


def _edges(entity: e.Entity) -> list[dict[str, Any]]:
    """The lineage edges an entity draws (the entity is always the downstream end)."""
    down = {"downstream_id": entity.id}
    match entity:
        case e.Dataset():
            return [{**down, **_input(item)} for item in entity.inputs]
        case e.Run():
            activity = _value(entity.method)
            found = []
            if entity.base_model is not None:
                found.append(_edge(down, entity.base_model, Relation.BASE_MODEL, activity))
            found += [_edge(down, d, Relation.TRAINING_DATA, activity) for d in entity.datasets]
            return found
        case e.Model():
            found = []
            if entity.run is not None:
                found.append(_edge(down, entity.run, Relation.TRAINED_BY, None))
            relation = entity.base_model_relation
            activity = _value(_RELATION_ACTIVITY.get(relation)) if relation else None
            found += [_edge(down, m, Relation.BASE_MODEL, activity) for m in entity.base_models]
            return found
        case e.Generation():
            if entity.by_model is None:
                return []
            return [_edge(down, entity.by_model, Relation.GENERATED_BY, None)]
        case e.Use():
            return [
                _edge(
                    {"downstream_id": entity.target},
                    entity.source,
                    Relation.USE,
                    entity.activity.value,
                )
            ]
    return []


def _edge(down: dict[str, Any], upstream: str, relation: Relation, activity: Any) -> dict[str, Any]:
    return {**down, "upstream_id": upstream, "relation": relation.value, "activity": activity}


def _input(item: e.DatasetInput) -> dict[str, Any]:
    return {
        "upstream_id": item.generation or item.dataset,
        "external": item.external,
        "external_provider": item.provider,
        "external_license": item.license if item.external is not None else None,
        "relation": Relation.INPUT.value,
        "transform": _value(item.transform),
        "records": item.records,
    }
