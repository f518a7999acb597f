"""API test fixtures: the database on SQLite and PostgreSQL, the example estate, a fixed clock, a client."""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pytest


from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402

from caretaker.api.app import create_app  # noqa: E402
from caretaker.api.deps import ApiContext  # noqa: E402
from caretaker.api.tables import AuditRow  # noqa: E402
from caretaker.db import METADATA, make_engine, make_sessions, migrate  # noqa: E402
from tests.conftest import EXAMPLE_SITE, missing  # noqa: E402
from caretaker.dispatch.service import Dispatcher  # noqa: E402
from caretaker.estate.site import load_site  # noqa: E402

from api_support import ADMIN, ADMIN_TOKEN, LEAK_REPORT, FakeClock, bearer, place_technician  # noqa: E402

PG_SERVER = os.environ.get("CARETAKER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
def _schema(engine: Engine) -> None:
    migrate(engine)


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database for the whole run, dropped at the end; under CI=true it must exist."""
    import psycopg

    name = f"caretaker_api_test_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"no PostgreSQL at {PG_SERVER}: {exc}")
    engine = make_engine(PG_SERVER.rsplit("/", 1)[0] + "/" + name)
    try:
        _schema(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty(engine: Engine) -> None:
    tables = [t.name for metadata in METADATA for t in metadata.sorted_tables] + [AuditRow.__tablename__]
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in dict.fromkeys(tables)) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The same tests on a SQLite file and on PostgreSQL, each through the real migrations."""
    if request.param == "sqlite":
        path = tmp_path / "caretaker.db"  # a copy of the session's migrated file (tests/conftest.py)
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        assert engine.pool.checkedout() == 0, "a test left a connection checked out"
        engine.dispose()
        return
    engine = request.getfixturevalue("pg_engine")
    _empty(engine)
    yield engine
    assert engine.pool.checkedout() == 0, "a test left a connection checked out"


@pytest.fixture(scope="session")
def site():
    return load_site(EXAMPLE_SITE)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Probe:
    """What the API was handed to call: health answers, extra metrics, outbox wake-ups."""

    health: dict[str, Any] = field(default_factory=lambda: {"broker": True, "database": True})
    wakes: int = 0

    def wake(self) -> None:
        self.wakes += 1


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def ctx(engine: Engine, site, clock: FakeClock, probe: Probe) -> ApiContext:
    return ApiContext(
        sessions=make_sessions(engine), site=site, dispatcher=Dispatcher(site, "caretaker"), clock=clock,
        admin_token=ADMIN_TOKEN, health=lambda: dict(probe.health),
        metrics=lambda: "caretaker_test_extra 1\n", wake_outbox=probe.wake, stream_poll_seconds=0.05,
    )


@pytest.fixture
def client(ctx: ApiContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as test_client:
        yield test_client


@pytest.fixture
def issue(client: TestClient):
    """Return a function that issues a token through the API and gives back its headers."""

    def _issue(role: str, subject: str) -> dict[str, str]:
        response = client.post("/api/v1/tokens", json={"role": role, "subject": subject}, headers=ADMIN)
        assert response.status_code == 201, response.text
        return bearer(response.json()["token"])

    return _issue


@pytest.fixture
def operator(issue) -> dict[str, str]:
    return issue("operator", "op-1")


@pytest.fixture
def wang_ticket(client: TestClient, ctx: ApiContext, operator) -> dict[str, Any]:
    """A plumbing report that dispatch gives to t-wang, the only plumber on the day shift and on site."""
    place_technician(ctx, "t-wang")
    response = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["assignee"] == "t-wang", ticket["history"]
    return ticket
