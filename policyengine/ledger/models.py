"""The ledger's tables, as SQLAlchemy 2.x typed declarative models.

``ledger_entries`` is the record: the hash chain, one row per write, each holding its payload as
canonical JSON. Every other table is a *projection* of those entries, kept for queries (lineage,
lookups by id, fingerprints); each projected row names the entry it came from, and ``ledger verify``
rebuilds the projections from the chain and compares, so that a row edited behind the ledger's back
is found like a broken link.

    ledger_entries ──< ledger_artifacts ──< agreements, generations, datasets, runs, models, uses,
                                            waivers (one typed row per artifact, same id)
                   ──< ledger_edges (lineage: downstream ← upstream, relation, transform, records)
                   ──< ledger_supersessions (old id → the id that corrects it)
                   ──< ledger_outputs ──< ledger_fingerprints (one 128-bit digest per record)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    inspect,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(200)
HASH = String(64)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names fixed, so migrations name them the same way."""

    metadata = MetaData(naming_convention=NAMING)


def _entry() -> Mapped[int]:
    return mapped_column(ForeignKey("ledger_entries.seq"), nullable=False)


def _artifact_id() -> Mapped[str]:
    return mapped_column(ID, ForeignKey("ledger_artifacts.id"), primary_key=True)


class Entry(Base):
    """One link of the hash chain: what was written, when, and the hashes that bind it."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(ID, index=True)
    recorded_at: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(HASH)
    hash: Mapped[str] = mapped_column(HASH, unique=True)


class Artifact(Base):
    """Every id the ledger knows, in one namespace, with its kind and the entry that made it."""

    __tablename__ = "ledger_artifacts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    entry_seq: Mapped[int] = _entry()


class AgreementRow(Base):
    """An agreement's terms: public or enterprise, with its dates."""

    __tablename__ = "agreements"

    id: Mapped[str] = _artifact_id()
    provider: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(500))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    effective_until: Mapped[dt.date | None] = mapped_column(Date)


class GenerationRow(Base):
    """A generation job: whose model, through which channel, under which agreement, when."""

    __tablename__ = "generations"

    id: Mapped[str] = _artifact_id()
    provider: Mapped[str] = mapped_column(String(100), index=True)
    model: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(32))
    agreement_id: Mapped[str | None] = mapped_column(ID, ForeignKey("ledger_artifacts.id"))
    generated_from: Mapped[dt.date] = mapped_column(Date)
    generated_until: Mapped[dt.date] = mapped_column(Date)
    records: Mapped[int] = mapped_column(BigInteger)
    outputs_digest: Mapped[str | None] = mapped_column(HASH)


class DatasetRow(Base):
    """A dataset's name, version, licence and release."""

    __tablename__ = "datasets"

    id: Mapped[str] = _artifact_id()
    name: Mapped[str] = mapped_column(String(500), index=True)
    version: Mapped[str] = mapped_column(String(500))
    license: Mapped[str] = mapped_column(String(200))
    release: Mapped[str | None] = mapped_column(String(32))


class RunRow(Base):
    """A training run's method and dates (its base model and datasets are edges)."""

    __tablename__ = "runs"

    id: Mapped[str] = _artifact_id()
    method: Mapped[str | None] = mapped_column(String(32))
    started: Mapped[dt.date | None] = mapped_column(Date)
    ended: Mapped[dt.date | None] = mapped_column(Date)


class ModelRow(Base):
    """A model's release facts (its run and base models are edges)."""

    __tablename__ = "models"

    id: Mapped[str] = _artifact_id()
    name: Mapped[str] = mapped_column(String(500), index=True)
    version: Mapped[str | None] = mapped_column(String(500))
    provider: Mapped[str | None] = mapped_column(String(100))
    base_model_relation: Mapped[str | None] = mapped_column(String(16))
    release: Mapped[str | None] = mapped_column(String(32))
    commercial: Mapped[bool | None] = mapped_column(Boolean)
    competes_with: Mapped[list[str] | None] = mapped_column(JSON)
    notices: Mapped[list[str] | None] = mapped_column(JSON)
    license: Mapped[str] = mapped_column(String(200))
    license_link: Mapped[str | None] = mapped_column(String(500))


class UseRow(Base):
    """One artifact used on another, for an activity."""

    __tablename__ = "uses"

    id: Mapped[str] = _artifact_id()
    activity: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"))
    target_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"))
    used_on: Mapped[dt.date | None] = mapped_column(Date)


class WaiverRow(Base):
    """A waiver of one rule for one artifact: why, who approved it, the ticket and the expiry."""

    __tablename__ = "waivers"

    id: Mapped[str] = _artifact_id()
    rule: Mapped[str] = mapped_column(String(200), index=True)
    scope_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"))
    reason: Mapped[str] = mapped_column(String(32))
    approver: Mapped[str] = mapped_column(String(500))
    ticket: Mapped[str] = mapped_column(String(500))
    expires: Mapped[dt.date] = mapped_column(Date)


class EdgeRow(Base):
    """One lineage edge: ``downstream`` came from (or used) ``upstream``, or an external source."""

    __tablename__ = "ledger_edges"

    entry_seq: Mapped[int] = mapped_column(ForeignKey("ledger_entries.seq"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    downstream_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"), index=True)
    upstream_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("ledger_artifacts.id"), index=True
    )
    external: Mapped[str | None] = mapped_column(String(500))
    external_provider: Mapped[str | None] = mapped_column(String(100))
    external_license: Mapped[str | None] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(16))
    transform: Mapped[str | None] = mapped_column(String(16))
    activity: Mapped[str | None] = mapped_column(String(32))
    records: Mapped[int | None] = mapped_column(BigInteger)


class SupersessionRow(Base):
    """A correction: ``new_id`` replaces ``old_id``; both stay in the ledger and in lineage."""

    __tablename__ = "ledger_supersessions"

    old_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"), primary_key=True)
    new_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"), unique=True)
    entry_seq: Mapped[int] = _entry()


class OutputsRow(Base):
    """One batch of output fingerprints of a generation: how many, and the digest over them."""

    __tablename__ = "ledger_outputs"

    entry_seq: Mapped[int] = mapped_column(ForeignKey("ledger_entries.seq"), primary_key=True)
    generation_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"), index=True)
    records: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str] = mapped_column(HASH)


class CheckRow(Base):
    """The audit record of one `check` run: what was decided, for what, with which rules."""

    __tablename__ = "ledger_checks"

    entry_seq: Mapped[int] = mapped_column(ForeignKey("ledger_entries.seq"), primary_key=True)
    target_id: Mapped[str] = mapped_column(ID, ForeignKey("ledger_artifacts.id"), index=True)
    use: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[dt.date] = mapped_column(Date)
    verdict: Mapped[str] = mapped_column(String(16))
    rules_digest: Mapped[str] = mapped_column(String(80))
    ledger_head: Mapped[str] = mapped_column(HASH)


class FingerprintRow(Base):
    """The 128-bit digest of one output's normalised text, by batch and line.

    Keyed by (digest, batch, line) in one B-tree (SQLite: ``WITHOUT ROWID``): looking a text up is
    a prefix search of the key, and no separate index has to be kept up to date on every insert.
    ``ledger verify`` and ``ledger export`` read the rows in (batch, line) order.

    No foreign key: the batch's entry is chained after its fingerprints are written (its payload
    holds their digest), and ``ledger verify`` checks every batch against its entry instead.
    """

    __tablename__ = "ledger_fingerprints"

    batch: Mapped[int] = mapped_column(Integer, autoincrement=False)
    line: Mapped[int] = mapped_column(Integer, autoincrement=False)
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))

    __table_args__ = (
        PrimaryKeyConstraint("digest", "batch", "line"),
        {"sqlite_with_rowid": False},
    )


PROJECTIONS: tuple[type[Base], ...] = (
    Artifact,
    AgreementRow,
    GenerationRow,
    DatasetRow,
    RunRow,
    ModelRow,
    UseRow,
    WaiverRow,
    EdgeRow,
    SupersessionRow,
    OutputsRow,
    CheckRow,
)
"""The tables rebuilt from the chain and compared by ``ledger verify``, in insertion order."""


def row_key(table: type[Base], row: Any) -> tuple[Any, ...]:
    """The primary key of a row (a mapping of column names), for comparing projections."""
    return tuple(row[c.name] for c in inspect(table).primary_key)
