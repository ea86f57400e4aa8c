"""Schema and connection: migrations match the models, versions are checked, failures are clear."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from policyengine.diagnostics import PolicyEngineError
from policyengine.ledger import db, schema
from policyengine.ledger.models import Base


def test_migrations_and_models_agree(engine: Engine) -> None:
    """Autogenerate against a database migrated to head finds nothing to change."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_init_is_repeatable(engine: Engine) -> None:
    """Upgrading a ledger already at head changes nothing."""
    assert schema.upgrade(engine) == (schema.head(), schema.head())


def test_a_database_without_a_ledger_is_refused(empty_url: str) -> None:
    """Commands other than init need the schema: PE402 says to run init."""
    engine = db.engine_for(empty_url)
    with pytest.raises(PolicyEngineError) as error:
        schema.require_current(engine)
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "PE402"
    assert "policyengine ledger init" in diagnostic.help
    engine.dispose()


def test_a_ledger_of_a_newer_schema_is_refused_naming_the_migration(engine: Engine) -> None:
    """A revision this version does not know means a newer policyengine wrote the ledger."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0042_future'"))
    for check in (schema.require_current, schema.upgrade):
        with pytest.raises(PolicyEngineError) as error:
            check(engine)
        [diagnostic] = error.value.diagnostics
        assert diagnostic.code == "PE403"
        assert "`0042_future`" in diagnostic.message
        assert schema.head() in diagnostic.help


def test_an_unreachable_database_names_host_and_port_but_not_the_password() -> None:
    """PE401 shows where it tried to connect and hides the secret."""
    engine = db.engine_for(
        "postgresql+psycopg://alice:s3cr3t-pw@127.0.0.1:1/ledger?connect_timeout=2"
    )
    with pytest.raises(PolicyEngineError) as error:
        db.check_connection(engine)
    [diagnostic] = error.value.diagnostics
    assert diagnostic.code == "PE401"
    assert "127.0.0.1:1" in diagnostic.message
    assert "s3cr3t-pw" not in diagnostic.render()
    engine.dispose()


def test_a_sqlite_file_in_a_missing_folder_is_a_connection_error(tmp_path: Path) -> None:
    """A path that cannot be created is PE401 naming the path."""
    engine = db.engine_for(str(tmp_path / "no" / "such" / "dir" / "ledger.db"))
    with pytest.raises(PolicyEngineError) as error:
        db.check_connection(engine)
    assert "no/such/dir/ledger.db" in error.value.diagnostics[0].message
    engine.dispose()


def test_an_unusable_url_is_a_diagnostic() -> None:
    """A URL naming no installed backend is PE401, not a traceback."""
    with pytest.raises(PolicyEngineError) as error:
        db.engine_for("nosuchdb://host/x")
    assert error.value.diagnostics[0].code == "PE401"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_template: Path) -> None:
    """The embedded backend is set up for concurrent writers and referential checks."""
    engine = db.engine_for(str(sqlite_template))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
    engine.dispose()


def test_fingerprints_survive_the_move_to_digest_keys(empty_url: str) -> None:
    """0001 → 0002 copies every fingerprint; the ledger verifies, and 0002 → 0001 → 0002 too."""
    from alembic import command

    from policyengine.ledger.store import Ledger
    from policyengine.ledger.verify import verify

    from .helpers import AT

    engine = db.engine_for(empty_url)
    with engine.begin() as connection:
        command.upgrade(schema.config(connection), "0001")
    ledger = Ledger(engine)
    ledger.record_generation(
        recorded_at=AT,
        id="gen",
        provider="openai",
        model="gpt-4o",
        channel="api",
        generated_from=AT.date(),
        generated_until=AT.date(),
        records=3,
    )
    ledger.record_outputs(
        "gen", [b'{"text": "a"}', b'{"text": "b"}', b'{"text": "a"}'], recorded_at=AT
    )
    for target in ("head", "0001", "head"):
        with engine.begin() as connection:
            method = command.downgrade if target == "0001" else command.upgrade
            method(schema.config(connection), target)
    with engine.connect() as connection:
        assert verify(connection).ok
        rows = connection.execute(text("SELECT batch, line FROM ledger_fingerprints")).all()
    assert sorted(rows) == [(2, 1), (2, 2), (2, 3)]
    engine.dispose()


def test_the_head_constant_is_alembics_head() -> None:
    """`schema.HEAD`, which every command checks without importing Alembic, is the newest migration."""
    assert schema.head() == schema.HEAD
