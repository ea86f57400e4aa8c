"""Ledger fixtures: every test runs against SQLite and the real PostgreSQL, each in isolation.

PostgreSQL comes from $POLICYENGINE_TEST_DATABASE_URL; each test gets a schema of its own (the URL
carries `search_path`, so subprocesses and CLI runs see the same schema) that is dropped afterwards.
Without the variable the PostgreSQL half is skipped with that reason shown.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from policyengine.ledger import db, schema
from policyengine.ledger.store import Ledger

from .helpers import AT, MANIFEST, Raw

PG_ENV = "POLICYENGINE_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite ledger migrated to head once; tests start from copies of it."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    engine = db.engine_for(str(path))
    schema.upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    if request.param == "postgresql" and not os.environ.get(PG_ENV):
        pytest.skip(f"${PG_ENV} is not set, so the PostgreSQL half of the ledger tests is skipped")
    return str(request.param)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database (SQLite file, or a fresh PostgreSQL schema)."""
    yield from _empty(backend, tmp_path / "ledger.db")


@pytest.fixture
def second_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A second ledger on the same backend, migrated and empty (for export and import)."""
    for url in _empty(backend, tmp_path / "second.db"):
        engine = db.engine_for(url)
        schema.upgrade(engine)
        yield engine
        engine.dispose()


def _empty(backend: str, path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{path}"
        return
    name = "pe_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(os.environ[PG_ENV], isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(os.environ[PG_ENV]).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db_url(empty_url: str, backend: str, sqlite_template: Path, tmp_path: Path) -> str:
    """A URL of a ledger migrated to head."""
    if backend == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "ledger.db")
        return empty_url
    engine = db.engine_for(empty_url)
    schema.upgrade(engine)
    engine.dispose()
    return empty_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a migrated ledger."""
    created = db.engine_for(db_url)
    yield created
    created.dispose()


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    """The ledger API on a migrated, empty ledger."""
    return Ledger(engine)


@pytest.fixture
def example(ledger: Ledger) -> Ledger:
    """A ledger holding the example manifest."""
    from policyengine.ledger.manifest import import_manifest
    from policyengine.rules.source import parse

    source, _ = parse(MANIFEST.read_text(encoding="utf-8"), str(MANIFEST))
    assert source is not None
    import_manifest(ledger, source.data, source, as_of=AT.date(), recorded_at=AT)
    return ledger


@pytest.fixture
def raw_sql(engine: Engine) -> Raw:
    """Run one SQL statement behind the ledger's back, with foreign keys not enforced."""

    def run(statement: str) -> None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            if engine.dialect.name == "sqlite":
                cursor.execute("PRAGMA foreign_keys=OFF")  # outside a transaction: in effect
            else:
                cursor.execute("SET session_replication_role = replica")
            cursor.execute(statement)
            connection.commit()
            cursor.close()
        finally:
            connection.invalidate()  # do not hand the altered session settings to the pool

    return run
