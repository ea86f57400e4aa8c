"""Fingerprints keyed by (digest, batch, line) in one B-tree instead of a rowid table plus an index.

Every insert used to update two B-trees, one of them (the digest index) in random order; now there is
one, and a lookup by digest is a prefix search of the key. On SQLite the table is ``WITHOUT ROWID``.
The rows are copied over unchanged.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OLD = "ledger_fingerprints_0001"
_NEW = "ledger_fingerprints_0002"


def _set_aside(table: str, aside: str, constraint: str) -> None:
    """Rename a table, and on PostgreSQL its primary key (a name must be unique per schema)."""
    op.rename_table(table, aside)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {aside} RENAME CONSTRAINT {constraint} TO pk_{aside}")


def upgrade() -> None:
    op.drop_index("ix_ledger_fingerprints_digest", table_name="ledger_fingerprints")
    _set_aside("ledger_fingerprints", _OLD, "pk_ledger_fingerprints")
    op.create_table(
        "ledger_fingerprints",
        sa.Column("batch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.PrimaryKeyConstraint("digest", "batch", "line", name=op.f("pk_ledger_fingerprints")),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO ledger_fingerprints (batch, line, digest) "
        f"SELECT batch, line, digest FROM {_OLD}"
    )
    op.drop_table(_OLD)


def downgrade() -> None:
    _set_aside("ledger_fingerprints", _NEW, "pk_ledger_fingerprints")
    op.create_table(
        "ledger_fingerprints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_fingerprints")),
    )
    op.execute(
        f"INSERT INTO ledger_fingerprints (batch, line, digest) "
        f"SELECT batch, line, digest FROM {_NEW} ORDER BY batch, line"
    )
    op.drop_table(_NEW)
    op.create_index(
        "ix_ledger_fingerprints_digest", "ledger_fingerprints", ["digest"], unique=False
    )
