"""The ledger's schema under Alembic: upgrade to head, and refuse a database of another version.

Migrations ship inside the package (``ledger/migrations``); every command but ``ledger init``
checks that the database is exactly at this version's head before it reads or writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError
from policyengine.ledger.db import MIGRATIONS, where

if TYPE_CHECKING:
    from alembic.config import Config

HEAD: Final = "0003"
"""The newest shipped migration. Every command checks the database against it before reading, so
the check must not import Alembic (a tenth of a second); a test keeps it equal to Alembic's head."""


def config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the shipped migrations, bound to ``connection`` if given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The revision this version of policyengine expects, as Alembic finds it."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    """The revision the database is at, or None when it holds no ledger."""
    from alembic.runtime.migration import MigrationContext

    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Create or upgrade the ledger to head; returns (revision before, revision after)."""
    from alembic import command

    with engine.begin() as connection:
        before = current(connection)
        _refuse_unknown(engine, before)
        command.upgrade(config(connection), "head")
    return before, head()


def require_current(engine: Engine) -> None:
    """Raise PE402 for a database without the ledger (or an older one), PE403 for a newer one."""
    if _stored(engine) == HEAD:
        return
    with engine.connect() as connection:
        revision = current(connection)
    _refuse_unknown(engine, revision)
    if revision != head():
        state = "holds no ledger" if revision is None else f"holds ledger schema `{revision}`"
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.LEDGER_NOT_INITIALISED,
                    f"the database at {where(engine)} {state}; this version needs `{head()}`",
                    Location("ledger"),
                    help="run `policyengine ledger init` to create or upgrade it",
                )
            ]
        )


def _stored(engine: Engine) -> str | None:
    """The revision the database records, read without Alembic; None when unreadable."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return None
    return rows[0][0] if len(rows) == 1 else None


def _refuse_unknown(engine: Engine, revision: str | None) -> None:
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    try:
        known = ScriptDirectory.from_config(config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise PolicyEngineError(
            [
                Diagnostic(
                    codes.LEDGER_NEWER_SCHEMA,
                    f"the ledger at {where(engine)} was migrated to `{revision}`, "
                    "a migration this version of policyengine does not know",
                    Location("ledger"),
                    help=f"upgrade policyengine; this version's newest migration is `{head()}`",
                )
            ]
        )
