"""The database engine, sessions and schema migrations (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from caretaker.api.tables import ApiBase
from caretaker.dispatch.tables import DispatchBase
from caretaker.ingest.tables import IngestBase
from caretaker.rules.tables import RulesBase

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# every room owns its tables; Alembic sees them together
METADATA: list[MetaData] = [IngestBase.metadata, RulesBase.metadata, DispatchBase.metadata, ApiBase.metadata]


def normalize_url(url: str) -> str:
    """Return the URL with the driver this project installs (psycopg 3) when none is named."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> Engine:
    """Return an engine; SQLite gets WAL, a busy timeout and write transactions that lock at BEGIN; PostgreSQL
    one pool that every estate's engine shares (`estate_engine`).
    Neither dialect puts bound parameters into its errors (`hide_parameters`): a failed insert of a report
    would otherwise write the resident's name and number into the log."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            # let SQLAlchemy, not the driver, say when a transaction begins
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:
            # a read-then-write transaction must hold the write lock from its start, or a concurrent
            # writer makes it fail with SQLITE_BUSY instead of waiting; reads need no lock at all (WAL)
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")

        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
                           hide_parameters=True)
    _follow_estate_schemas(engine)
    return engine


# --- one schema per estate on PostgreSQL (docs/deploy.md, "Many estates") ---------------------------------

SCHEMA = "caretaker_estate_schema"  # execution option: the estate schema this engine's transactions work in
_PATH = "caretaker_search_path"  # on the DBAPI connection: the schema its search_path names now (None: default)
_UNSURE = "caretaker_search_path_unsure"  # set in a transaction that has not committed yet
_UNKNOWN = object()


def _follow_estate_schemas(engine: Engine) -> None:
    """Every estate shares the one pool; a transaction begins by pointing the connection's search_path at its
    estate's schema (or back at the default), only when the connection's present one differs. A SET inside a
    transaction that rolls back is undone, so then the next transaction sets it again."""

    @event.listens_for(engine, "begin")
    def _search_path(conn) -> None:
        wanted = conn.get_execution_options().get(SCHEMA)
        info = conn.connection.info
        if info.get(_PATH) == wanted:  # never set: the default (None)
            return
        if wanted is None:
            conn.exec_driver_sql("SET search_path TO DEFAULT")
        else:
            conn.exec_driver_sql(f'SET search_path TO "{wanted}"')  # only the estate's tables are visible
        info[_PATH] = wanted
        info[_UNSURE] = True

    @event.listens_for(engine, "commit")
    def _kept(conn) -> None:
        conn.connection.info.pop(_UNSURE, None)

    @event.listens_for(engine, "rollback")
    def _maybe_undone(conn) -> None:
        info = conn.connection.info
        if info.pop(_UNSURE, False):
            info[_PATH] = _UNKNOWN


def estate_engine(engine: Engine, schema: str | None) -> Engine:
    """Return an engine whose transactions see only `schema`'s tables (PostgreSQL), sharing `engine`'s pool;
    `engine` itself when schema is None (one estate: the default schema, as always)."""
    return engine if schema is None else engine.execution_options(**{SCHEMA: schema})


def ensure_schema(engine: Engine, schema: str) -> None:
    """Create an estate's PostgreSQL schema if it does not exist yet (migrate() then fills it)."""
    with engine.begin() as connection:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key("schema", schema)})
        connection.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')


def _lock_key(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(("caretaker-db",) + parts).encode()).digest()[:8], "big",
                          signed=True)


READ_ONLY = "caretaker_read_only"


class Sessions(sessionmaker):
    """`sessions()` is for reading; `sessions.begin()` and `sessions.writer()` for writing. On SQLite a
    reader takes no lock, so the control room never waits behind a batch commit; a writer locks the file
    from its first statement. On PostgreSQL both are the same."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        self._writer = sessionmaker(engine, expire_on_commit=False)

    def writer(self) -> Session:
        return self._writer()

    @contextmanager
    def begin(self) -> Iterator[Session]:
        with self._writer.begin() as session:
            yield session


def make_sessions(engine: Engine) -> Sessions:
    return Sessions(engine)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest version (safe to run at every start). On PostgreSQL an estate's engine
    migrates its own schema, with its own `alembic_version` there; instances starting together take turns."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            schema = connection.get_execution_options().get(SCHEMA) or ""
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key("migrate", schema)})
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")  # work on separate branches may add separate heads
