"""Engines for the ledger's two backends, and the schema's state under Alembic.

SQLite (the embedded default) runs in WAL mode with a busy timeout and foreign keys on, and opens
write transactions with ``BEGIN IMMEDIATE`` so that concurrent writers queue instead of failing
half-way. PostgreSQL is reached through psycopg 3 (``postgresql+psycopg://``). A database that cannot
be reached, holds no ledger, or was migrated by a newer policyengine is a diagnostic, never a
traceback, and a message never shows the password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from policyengine import codes
from policyengine.diagnostics import Diagnostic, Location, PolicyEngineError

DEFAULT_URL: Final = "sqlite:///policyengine.db"
BUSY_TIMEOUT_MS: Final = 60_000
MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
WRITE_OPTION: Final = "policyengine_write"
"""Execution option that marks a connection's next transaction as a ledger write."""


def engine_for(url: str) -> Engine:
    """An engine for ``url`` (a SQLAlchemy URL, or a plain path meaning a SQLite file).

    Raises :class:`PolicyEngineError` (PE401) for a URL that names no usable backend.
    """
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite(parsed)
        return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as error:
        raise _error(f"cannot use database URL `{_shown(parsed)}`: {error}") from None


def parse_url(url: str) -> URL:
    """Parse a URL; a bare path (no ``://``) is a SQLite file."""
    if "://" not in url:
        return URL.create("sqlite", database=url)
    try:
        return make_url(url)
    except ArgumentError:
        raise _error("cannot parse the database URL", help_text=_URL_HELP) from None


def where(engine: Engine) -> str:
    """Where the ledger lives, for messages: a file path, or host:port/database (no password)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def check_connection(engine: Engine) -> None:
    """Open one connection; raise PE401 naming host and port (never the password) when it fails."""
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        reason = _reason(error, engine.url)
        raise _error(
            f"cannot connect to the ledger database at {where(engine)}: {reason}"
        ) from None


def _sqlite(url: URL) -> Engine:
    database = url.database or ""
    memory = database in ("", ":memory:") or url.query.get("mode") == "memory"
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling would defer BEGIN; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync is durable across application crashes and much faster.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: keeps the digest index in memory
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # INVARIANT: a ledger write takes the database's write lock before it reads the chain head.
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _reason(error: DBAPIError, url: URL) -> str:
    text = str(error.orig).strip().splitlines()[0] if error.orig else "unknown error"
    if url.password:
        text = text.replace(str(url.password), "***")
    return text.rstrip(".")


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


_URL_HELP = (
    "write `sqlite:///path/to/ledger.db`, a plain file path, or "
    "`postgresql+psycopg://user@host:5432/database`"
)


def _error(message: str, *, help_text: str = "") -> PolicyEngineError:
    return PolicyEngineError(
        [
            Diagnostic(
                codes.LEDGER_CONNECT,
                message,
                Location("ledger"),
                help=help_text or "check the URL given with --db or $POLICYENGINE_DATABASE_URL",
            )
        ]
    )
