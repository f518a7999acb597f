"""Shared fixtures: a real Mosquitto on a free port, real SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text

IN_CI = os.environ.get("CI") == "true"
MOSQUITTO_BINARY = os.environ.get("MOSQUITTO_BINARY") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
POSTGRES_ADMIN_URL = os.environ.get("CARETAKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "examples" / "harbor-view.yaml"


def missing(what: str) -> None:
    """Skip locally, fail under CI=true: a skipped broker or database test would hide a broken build."""
    if IN_CI:
        pytest.fail(f"{what}, and CI=true: this test must run")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass(frozen=True, slots=True)
class Broker:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A Mosquitto of the tests' own on a free loopback port, configured as mosquitto/mosquitto.conf advises
    for the service (large queues, so a stalled consumer loses nothing)."""
    if not Path(MOSQUITTO_BINARY).exists():
        missing(f"no mosquitto binary at {MOSQUITTO_BINARY}")
    port = free_port()
    workdir = tmp_path_factory.mktemp("mosquitto")
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 200000\nmax_inflight_messages 1000\nmax_packet_size 70000\nset_tcp_nodelay true\n"
    )
    log_path = workdir / "mosquitto.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(conf)], stdout=log_file, stderr=subprocess.STDOUT)
    try:
        if not wait_for_port("127.0.0.1", port, 5.0):
            pytest.fail(f"mosquitto did not start on port {port}: {log_path.read_text(errors='replace')}")
        yield Broker("127.0.0.1", port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    engine = create_engine(POSTGRES_ADMIN_URL)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means no server to test against
        missing(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}")
    finally:
        engine.dispose()
    return POSTGRES_ADMIN_URL


def _postgres_database(admin_url: str) -> Iterator[str]:
    name = f"caretaker_test_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'caretaker.db'}"
    else:
        yield from _postgres_database(request.getfixturevalue("postgres_admin_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'caretaker.db'}"
