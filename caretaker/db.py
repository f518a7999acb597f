"""The database engine, sessions and schema migrations (Alembic), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from api.tables import ApiBase
from dispatch.tables import DispatchBase
from ingest.tables import IngestBase
from rules.tables import RulesBase

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# every room owns its tables; Alembic sees them together
METADATA: list[MetaData] = [IngestBase.metadata, RulesBase.metadata, DispatchBase.metadata, ApiBase.metadata]


def normalize_url(url: str) -> str:
    """Return the URL with the driver this project installs (psycopg 3) when none is named."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str) -> Engine:
    """Return an engine; SQLite gets WAL, a busy timeout and write transactions that lock at BEGIN.
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
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)


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
    """Bring the schema to the newest version (safe to run at every start)."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")  # work on separate branches may add separate heads
