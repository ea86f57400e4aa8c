"""The ledger's first schema: the hash chain and the query tables projected from it.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 19:04:00.935973
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_ledger_entries_hash")),
    )
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entries_subject"), ["subject"], unique=False)

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
    with op.batch_alter_table("ledger_fingerprints", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_fingerprints_digest", ["digest"], unique=False)

    op.create_table(
        "ledger_artifacts",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_seq"],
            ["ledger_entries.seq"],
            name=op.f("fk_ledger_artifacts_entry_seq_ledger_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_artifacts")),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_agreements_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    op.create_table(
        "datasets",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=500), nullable=False),
        sa.Column("license", sa.String(length=200), nullable=False),
        sa.Column("release", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_datasets_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_datasets_name"), ["name"], unique=False)

    op.create_table(
        "generations",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("agreement_id", sa.String(length=200), nullable=True),
        sa.Column("generated_from", sa.Date(), nullable=False),
        sa.Column("generated_until", sa.Date(), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("outputs_digest", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_generations_agreement_id_ledger_artifacts"),
        ),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_generations_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
    )
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_generations_provider"), ["provider"], unique=False)

    op.create_table(
        "ledger_edges",
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("downstream_id", sa.String(length=200), nullable=False),
        sa.Column("upstream_id", sa.String(length=200), nullable=True),
        sa.Column("external", sa.String(length=500), nullable=True),
        sa.Column("external_provider", sa.String(length=100), nullable=True),
        sa.Column("external_license", sa.String(length=200), nullable=True),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("transform", sa.String(length=16), nullable=True),
        sa.Column("activity", sa.String(length=32), nullable=True),
        sa.Column("records", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["downstream_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_ledger_edges_downstream_id_ledger_artifacts"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_seq"],
            ["ledger_entries.seq"],
            name=op.f("fk_ledger_edges_entry_seq_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["upstream_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_ledger_edges_upstream_id_ledger_artifacts"),
        ),
        sa.PrimaryKeyConstraint("entry_seq", "position", name=op.f("pk_ledger_edges")),
    )
    with op.batch_alter_table("ledger_edges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_edges_downstream_id"), ["downstream_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_edges_upstream_id"), ["upstream_id"], unique=False
        )

    op.create_table(
        "ledger_outputs",
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("generation_id", sa.String(length=200), nullable=False),
        sa.Column("records", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_seq"],
            ["ledger_entries.seq"],
            name=op.f("fk_ledger_outputs_entry_seq_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_ledger_outputs_generation_id_ledger_artifacts"),
        ),
        sa.PrimaryKeyConstraint("entry_seq", name=op.f("pk_ledger_outputs")),
    )
    with op.batch_alter_table("ledger_outputs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_outputs_generation_id"), ["generation_id"], unique=False
        )

    op.create_table(
        "ledger_supersessions",
        sa.Column("old_id", sa.String(length=200), nullable=False),
        sa.Column("new_id", sa.String(length=200), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_seq"],
            ["ledger_entries.seq"],
            name=op.f("fk_ledger_supersessions_entry_seq_ledger_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["new_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_ledger_supersessions_new_id_ledger_artifacts"),
        ),
        sa.ForeignKeyConstraint(
            ["old_id"],
            ["ledger_artifacts.id"],
            name=op.f("fk_ledger_supersessions_old_id_ledger_artifacts"),
        ),
        sa.PrimaryKeyConstraint("old_id", name=op.f("pk_ledger_supersessions")),
        sa.UniqueConstraint("new_id", name=op.f("uq_ledger_supersessions_new_id")),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("version", sa.String(length=500), nullable=True),
        sa.Column("provider", sa.String(length=100), nullable=True),
        sa.Column("base_model_relation", sa.String(length=16), nullable=True),
        sa.Column("release", sa.String(length=32), nullable=True),
        sa.Column("commercial", sa.Boolean(), nullable=True),
        sa.Column("competes_with", sa.JSON(), nullable=True),
        sa.Column("notices", sa.JSON(), nullable=True),
        sa.Column("license", sa.String(length=200), nullable=False),
        sa.Column("license_link", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_models_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_name"), ["name"], unique=False)

    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("started", sa.Date(), nullable=True),
        sa.Column("ended", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_runs_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_table(
        "uses",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("activity", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("used_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_uses_id_ledger_artifacts")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["ledger_artifacts.id"], name=op.f("fk_uses_source_id_ledger_artifacts")
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["ledger_artifacts.id"], name=op.f("fk_uses_target_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uses")),
    )
    op.create_table(
        "waivers",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=False),
        sa.Column("scope_id", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("approver", sa.String(length=500), nullable=False),
        sa.Column("ticket", sa.String(length=500), nullable=False),
        sa.Column("expires", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id"], ["ledger_artifacts.id"], name=op.f("fk_waivers_id_ledger_artifacts")
        ),
        sa.ForeignKeyConstraint(
            ["scope_id"], ["ledger_artifacts.id"], name=op.f("fk_waivers_scope_id_ledger_artifacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
    )
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waivers_rule"), ["rule"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waivers_rule"))

    op.drop_table("waivers")
    op.drop_table("uses")
    op.drop_table("runs")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_name"))

    op.drop_table("models")
    op.drop_table("ledger_supersessions")
    with op.batch_alter_table("ledger_outputs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_outputs_generation_id"))

    op.drop_table("ledger_outputs")
    with op.batch_alter_table("ledger_edges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_edges_upstream_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_edges_downstream_id"))

    op.drop_table("ledger_edges")
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_generations_provider"))

    op.drop_table("generations")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datasets_name"))

    op.drop_table("datasets")
    op.drop_table("agreements")
    op.drop_table("ledger_artifacts")
    with op.batch_alter_table("ledger_fingerprints", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_fingerprints_digest")

    op.drop_table("ledger_fingerprints")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_subject"))

    op.drop_table("ledger_entries")
