"""``Ledger(engine)``: the write and read API over one ledger database.

Every write is one serialized transaction: take the chain lock, plan (check everything against the
ledger as it is), append one chained entry per new entity and store the rows it projects to, then
check what only the whole graph can show (cycles through uses and corrections, duplicate names).
Any error rolls the whole transaction back and raises :class:`PolicyEngineError` with diagnostics;
nothing is ever updated or deleted. The caller passes ``recorded_at``: the ledger reads no clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import pydantic
from sqlalchemy import Connection, Engine, insert, select, text

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.ledger import bundles, chain, fingerprints, plan, snapshot
from policyengine.ledger import entities as e
from policyengine.ledger import lineage as queries
from policyengine.ledger.chain import Link
from policyengine.ledger.lineage import Direction, Graph
from policyengine.ledger.models import OutputsRow
from policyengine.ledger.project import OUTPUTS, project
from policyengine.ledger.validation import from_pydantic
from policyengine.lineage import ArtifactKind, ArtifactRef, Lineage

T = TypeVar("T", bound=e.Entity)


@dataclass(frozen=True, slots=True)
class OutputsBatch:
    """What ``record_outputs`` stored: the chained entry's seq, the record count, their digest."""

    seq: int
    records: int
    digest: str


class Ledger:
    """The usage ledger in one database (SQLite or PostgreSQL), append-only and hash-chained."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Writing ---------------------------------------------------------------------------------

    def record(
        self,
        entities: e.Entity | Sequence[e.Entity],
        *,
        recorded_at: dt.datetime,
        as_of: dt.date | None = None,
        locate: plan.Locate = plan.api_location,
    ) -> list[str]:
        """Record entities in one transaction; returns their ids (already recorded ones included).

        Recording an entity again with the same content writes nothing; with other content it is a
        conflict (PE413). Dates of events may not lie after ``as_of`` (default: ``recorded_at``).
        """
        batch = [entities] if isinstance(entities, e.Entity) else list(entities)
        stamp = chain.timestamp(recorded_at)
        day = as_of or recorded_at.astimezone(dt.UTC).date()
        with chain.writing(self.engine) as writer:
            planned = plan.plan(writer.connection, batch, as_of=day, locate=locate)
            _raise_errors(planned.diagnostics)
            for entity in planned.new:
                link = writer.append(e.kind_of(entity).value, entity.id, entity.payload(), stamp)
                store_rows(writer.connection, link)
            _check_graph(writer.connection, planned.new, batch, locate)
        return [entity.id for entity in batch]

    def record_agreement(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record an agreement (``id`` is required); returns its id."""
        return self._one(e.Agreement, fields, recorded_at)

    def record_generation(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record a generation job; without ``id`` one is derived from its content."""
        return self._one(e.Generation, fields, recorded_at)

    def record_dataset(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record a dataset and its inputs; without ``id`` it is ``name@version``."""
        return self._one(e.Dataset, fields, recorded_at)

    def record_run(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record a training run; without ``id`` one is derived from its content."""
        return self._one(e.Run, fields, recorded_at)

    def record_model(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record a model; without ``id`` it is ``name@version`` (or ``name``)."""
        return self._one(e.Model, fields, recorded_at)

    def record_use(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record that one artifact was used on another; returns the use's id."""
        return self._one(e.Use, fields, recorded_at)

    def record_waiver(self, *, recorded_at: dt.datetime, **fields: Any) -> str:
        """Record a waiver (``expires`` is required); returns its id."""
        return self._one(e.Waiver, fields, recorded_at)

    def supersede(self, old_id: str, entity: e.Entity, *, recorded_at: dt.datetime) -> str:
        """Record ``entity`` as the correction of ``old_id``; both stay in the ledger."""
        corrected = entity.model_copy(update={"supersedes": old_id})
        return self.record(corrected, recorded_at=recorded_at)[0]

    def record_outputs(
        self,
        generation: str,
        lines: Iterable[bytes],
        *,
        recorded_at: dt.datetime,
        text_field: str = "text",
        name: str = "<outputs>",
    ) -> OutputsBatch:
        """Fingerprint every record of a JSON Lines stream for a generation, in one transaction.

        A malformed line raises PE414 with its line number, and nothing is stored.
        """
        path = fingerprints.field_path(text_field)
        with chain.writing(self.engine) as writer:
            _require(writer.connection, generation, ArtifactKind.GENERATION)
            seq = writer.next_seq
            hasher, count = hashlib.sha256(), 0
            with queries.paused_gc():
                for chunk in fingerprints.read(lines, path, name):
                    fingerprints.bind(hasher, chunk)
                    fingerprints.insert(writer.connection, seq, chunk)
                    count += len(chunk.lines)
            digest = hasher.hexdigest()
            payload = {"records": count, "digest": digest, "text_field": text_field}
            link = writer.append(OUTPUTS, generation, payload, chain.timestamp(recorded_at))
            store_rows(writer.connection, link)
        return OutputsBatch(link.seq, count, digest)

    def _one(self, model: type[T], fields: dict[str, Any], recorded_at: dt.datetime) -> str:
        fields = {k: v for k, v in fields.items() if v is not None}
        fields.setdefault("id", derived_id(model, fields))
        return self.record(build(model, fields), recorded_at=recorded_at)[0]

    # Reading ---------------------------------------------------------------------------------

    def lineage(
        self, artifact_id: str, *, grouped: bool = False, apart: Iterable[str] = ()
    ) -> Lineage:
        """The facts lineage of an artifact: target facts and every upstream source with its path.

        ``grouped`` counts sources recorded alike instead of listing them (see
        :mod:`policyengine.ledger.bundles`), keeping the sources in ``apart`` on their own.
        """
        with self.engine.connect() as connection:
            if grouped:
                return bundles.grouped_snapshot(connection, artifact_id, frozenset(apart))
            return snapshot.snapshot(connection, artifact_id)

    def graph(self, artifact_id: str, direction: Direction = "upstream") -> Graph:
        """The edges upstream or downstream of an artifact (one recursive query)."""
        with self.engine.connect() as connection:
            kind = queries.kind_of(connection, artifact_id)
            if kind is None:
                raise PolicyEngineError([_unknown(artifact_id)])
            return queries.graph(connection, ArtifactRef(kind, artifact_id), direction)

    def entry(self, artifact_id: str) -> tuple[e.Entity, Link, str | None]:
        """An artifact as recorded: the entity, its chained entry, and what supersedes it."""
        with self.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT n.seq, n.kind, n.subject, n.recorded_at, n.payload, n.prev_hash, "
                    "n.hash, s.new_id FROM ledger_artifacts a "
                    "JOIN ledger_entries n ON n.seq = a.entry_seq "
                    "LEFT JOIN ledger_supersessions s ON s.old_id = a.id WHERE a.id = :id"
                ),
                {"id": artifact_id},
            ).first()
        if row is None:
            raise PolicyEngineError([_unknown(artifact_id)])
        link = Link(*row[:7])
        entity = e.from_payload(ArtifactKind(link.kind), link.subject, link.data())
        return entity, link, row.new_id

    def outputs(self, generation: str) -> list[OutputsBatch]:
        """The fingerprint batches recorded for a generation."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(OutputsRow.entry_seq, OutputsRow.records, OutputsRow.digest)
                .where(OutputsRow.generation_id == generation)
                .order_by(OutputsRow.entry_seq)
            )
            return [OutputsBatch(*row) for row in rows]

    def kinds(self, ids: Iterable[str]) -> dict[str, ArtifactKind]:
        """The kinds of those of ``ids`` the ledger holds."""
        with self.engine.connect() as connection:
            return plan.artifact_kinds(connection, ids)

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the newest entry."""
        with self.engine.connect() as connection:
            return chain.head(connection)


def store_rows(connection: Connection, link: Link) -> None:
    """Insert the query-table rows one chained entry projects to."""
    for table, rows in project(link).items():
        connection.execute(insert(table), rows)


def build(model: type[T], fields: dict[str, Any], *, where: str = "ledger") -> T:
    """Validate fields into an entity; raises PolicyEngineError with one diagnostic per problem."""
    try:
        return cast(T, model.model_validate(fields))
    except pydantic.ValidationError as error:
        raise PolicyEngineError(from_pydantic(error, lambda _path: Location(where))) from None


def derived_id(model: type[pydantic.BaseModel], fields: dict[str, Any]) -> str:
    """An id for an entity given without one: ``name@version`` where there is a name, else the
    kind and 12 hex digits of its content (the same content gets the same id, so retries are safe)."""
    if model in (e.Dataset, e.Model) and isinstance(fields.get("name"), str):
        version = fields.get("version")
        name = f"{fields['name']}@{version}" if version else str(fields["name"])
        return "".join(c if c.isalnum() or c in "_.@/+-" else "-" for c in name)
    digest = hashlib.sha256(chain.canonical(_plain(fields)).encode()).hexdigest()[:12]
    kind = e.KIND_OF[model]  # type: ignore[index]
    return f"{kind.value}-{digest}"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(getattr(value, "value", value))


def _require(connection: Connection, artifact_id: str, kind: ArtifactKind) -> None:
    found = queries.kind_of(connection, artifact_id)
    if found is None:
        raise PolicyEngineError([_unknown(artifact_id)])
    if found is not kind:
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.LEDGER_WRONG_KIND,
                    f"`{artifact_id}` is a {found.value}, not a {kind.value}",
                    Location("ledger"),
                )
            ]
        )


def _check_graph(
    connection: Connection,
    new: list[e.Entity],
    batch: list[e.Entity],
    locate: plan.Locate,
) -> None:
    """After the rows are in: no use or correction closes a cycle, names stay unique."""
    problems: list[Diagnostic] = []
    index = {id(x): i for i, x in enumerate(batch)}
    for entity in new:
        edge = _new_edge(entity)
        if edge and queries.reaches(connection, edge[1], edge[0]):
            down, up, field = edge
            problems.append(
                Diagnostic(
                    codes.LEDGER_CYCLE,
                    f"{e.kind_of(entity).value} `{entity.id}`: `{down}` would become its own "
                    f"ancestor (it is upstream of `{up}`)",
                    locate(index[id(entity)], field),
                    help="a use or a correction may only point at artifacts that do not depend on it",
                )
            )
    problems += _duplicate_names(connection, new, index, locate)
    _raise_errors(problems)


def _new_edge(entity: e.Entity) -> tuple[str, str, tuple[str]] | None:
    """(downstream, upstream, field) of the edge a use or a correction adds between old nodes."""
    if isinstance(entity, e.Use):
        return entity.target, entity.source, ("target",)
    if entity.supersedes is not None:
        return entity.supersedes, entity.id, ("supersedes",)
    return None


def _duplicate_names(
    connection: Connection, new: list[e.Entity], index: dict[int, int], locate: plan.Locate
) -> list[Diagnostic]:
    problems = []
    for entity in new:
        if not isinstance(entity, e.Dataset | e.Model):
            continue
        table = "datasets" if isinstance(entity, e.Dataset) else "models"
        rows = connection.execute(
            text(
                f"SELECT t.id FROM {table} t WHERE t.name = :name AND "
                "(t.version = :version OR (t.version IS NULL AND CAST(:version AS VARCHAR(500)) IS NULL)) "
                "AND t.id <> :id AND NOT EXISTS "
                "(SELECT 1 FROM ledger_supersessions s WHERE s.old_id = t.id)"
            ),
            {"name": entity.name, "version": entity.version, "id": entity.id},
        ).all()
        others = [r.id for r in rows if r.id != entity.supersedes]
        if others:
            problems.append(
                Diagnostic(
                    codes.LEDGER_DUPLICATE_ID,
                    f"{e.kind_of(entity).value} `{entity.id}`: `{entity.name}` version "
                    f"`{entity.version}` is already recorded as `{others[0]}`",
                    locate(index[id(entity)], ("name",)),
                    help=f"reuse `{others[0]}`, or record the correction with `supersedes: {others[0]}`",
                )
            )
    return problems


def _raise_errors(diagnostics: list[Diagnostic]) -> None:
    if any(d.severity.value == "error" for d in diagnostics):
        raise PolicyEngineError(diagnostics)


def _unknown(artifact_id: str) -> Diagnostic:
    return Diagnostic(
        codes.LEDGER_UNKNOWN_ID,
        f"the ledger has no artifact `{artifact_id}`",
        Location("ledger"),
        help="check the id; `policyengine ledger export` lists every entry",
    )
