"""Opening the deployment's database: the default scope (one estate as always, and what the instances share, such
as the estate leases) and, for many estates, each estate's own scope: a PostgreSQL schema `estate_<site>` sharing
the one pool, or a SQLite file beside the configured one (docs/deploy.md, "Many estates"). Each scope is migrated
on its own, with its own Alembic version table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from caretaker.db import ensure_schema, estate_engine, make_engine, migrate, normalize_url
from caretaker.estates import schema_name, sqlite_url

BASE_POOL = 10  # connections kept open for the instance, whatever its estates
PER_ESTATE_POOL = 3  # an estate's ingest worker, outbox sender and channels each hold one at times


class DatabaseUnavailable(Exception):
    """The database could not be reached at start; the message names where (without the password)."""


@dataclass(slots=True)
class Databases:
    base: Engine  # the default schema or file
    estates: dict[str, Engine] = field(default_factory=dict)  # by site id; the base itself for a single estate
    _own: list[Engine] = field(default_factory=list)  # engines to dispose of (SQLite files of their own)

    def dispose(self) -> None:
        for engine in self._own:
            engine.dispose()
        self.base.dispose()


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _migrated(engine: Engine) -> Engine:
    try:
        migrate(engine)
    except OperationalError as exc:
        raise DatabaseUnavailable(f"cannot reach the database at {_where(engine)}: {exc.orig or exc}") from exc
    return engine


def open_databases(database_url: str, sites: Sequence[str], many: bool) -> Databases:
    """Return the migrated engines of the deployment: for one estate the configured database as always; for many,
    the default scope and each estate's; raises DatabaseUnavailable naming where."""
    url = normalize_url(database_url)
    postgres = url.startswith("postgresql")
    extra = PER_ESTATE_POOL * len(sites) if many and postgres else 0
    base = _migrated(make_engine(url, pool_size=BASE_POOL + extra // 2, max_overflow=BASE_POOL + extra))
    databases = Databases(base)
    for site in sites:
        if not many:
            databases.estates[site] = base
        elif postgres:
            schema = schema_name(site)
            try:
                ensure_schema(base, schema)
            except OperationalError as exc:
                raise DatabaseUnavailable(f"cannot reach the database at {_where(base)}: {exc.orig or exc}") from exc
            databases.estates[site] = _migrated(estate_engine(base, schema))
        else:
            engine = make_engine(sqlite_url(url, site))
            databases._own.append(engine)
            databases.estates[site] = _migrated(engine)
    return databases
