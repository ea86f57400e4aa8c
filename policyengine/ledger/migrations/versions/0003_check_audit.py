"""The audit records of `check` runs: one row per chained `check` entry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_checks",
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("use", sa.String(length=32), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("rules_digest", sa.String(length=80), nullable=False),
        sa.Column("ledger_head", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_seq"],
            ["ledger_entries.seq"],
            name=op.f("fk_ledger_checks_entry_seq_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_ledger_checks_target_id_ledger_artifacts"),
        ),
        sa.PrimaryKeyConstraint("entry_seq", name=op.f("pk_ledger_checks")),
    )
    with op.batch_alter_table("ledger_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_checks_target_id"), ["target_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_checks_target_id"))
    op.drop_table("ledger_checks")
