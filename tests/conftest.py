"""Shared fixtures: a real Mosquitto on a free port, real SQLite and PostgreSQL databases."""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

IN_CI = os.environ.get("CI") == "true"
MOSQUITTO_BINARY = os.environ.get("MOSQUITTO_BINARY") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
POSTGRES_ADMIN_URL = os.environ.get("CARETAKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "examples" / "harbor-view.yaml"


# `make test` runs the suite in two passes (Makefile): these tests one at a time, alone on the machine
# (`--serial-tests=only`), and all the others on pytest-xdist workers (`--serial-tests=skip`). They kill and
# restart brokers, databases and service processes and measure against the clock (tests/faults, the scale-out
# leases in tests/scale), start the demo and install the wheel (test_demo.py, test_packaging.py), or bound a rate
# or a latency: the simulator's 2,000 messages a second (test_sim_mqtt.py), deliveries within 2 s (tests/channels'
# test_webhook_delivery.py, test_latency.py), which they missed beside a worker on a busy machine. The browser
# tests wait for what the page shows, not for time: on two workers at a load average of 8-11 all 52 passed.
# A file or folder joins the serial ones by its place in SERIAL_PATHS.
SERIAL_PATHS = ("tests/faults/", "tests/scale/", "tests/test_demo.py", "tests/test_packaging.py",
                "tests/simulators/test_sim_mqtt.py", "tests/channels/test_webhook_delivery.py",
                "tests/channels/test_latency.py")
# ...but for the fault tier's security tests, which ask the API in-process (TestClient) and start no process and
# time nothing: access, personal data, tokens, schemathesis (T25-T28; T28 alone took 1-2 minutes of the serial
# pass). On two workers beside tests/service at a load average of 5 all 67 passed.
NOT_SERIAL_PATHS = ("tests/faults/test_t25_access.py", "tests/faults/test_t26_personal_data.py",
                    "tests/faults/test_t27_tokens.py", "tests/faults/test_t28_schemathesis.py")


def _relative(path: Path) -> str | None:
    """The path from the repository's root, a folder's with a trailing slash; None outside the repository."""
    path = path.resolve()
    if path == REPO or not path.is_relative_to(REPO):
        return None
    return path.relative_to(REPO).as_posix() + ("/" if path.is_dir() else "")


def is_serial(relative: str) -> bool:
    return relative.startswith(SERIAL_PATHS) and not relative.startswith(NOT_SERIAL_PATHS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--serial-tests", choices=("all", "only", "skip"), default="all",
                     help="run every test (all, the default), only the tests marked serial, or all but them (make test)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "serial: runs alone on the machine, never beside a pytest-xdist worker: "
                                       f"every test under {', '.join(SERIAL_PATHS)} but {', '.join(NOT_SERIAL_PATHS)} "
                                       "(given by its path)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The other pass's folders and files are not even imported (Playwright, schemathesis; 10-30 s a pass)."""
    which = config.getoption("--serial-tests")
    relative = _relative(collection_path)
    if which == "all" or relative is None:
        return None
    if relative.endswith("/"):  # a folder: skipped only when nothing in it belongs to this pass
        inside, above = relative.startswith(SERIAL_PATHS), any(p.startswith(relative) for p in SERIAL_PATHS)
        if which == "skip":
            return True if inside and not any(p.startswith(relative) for p in NOT_SERIAL_PATHS) else None
        return None if inside or above else True
    if not collection_path.name.startswith("test_"):
        return None  # conftest.py, __init__.py, helpers: imported as the tests need them
    return True if is_serial(relative) == (which == "skip") else None


@pytest.hookimpl(tryfirst=True)  # marked before -m selects, so `-m serial` sees the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = _relative(item.path)
        if relative is not None and is_serial(relative):
            item.add_marker(pytest.mark.serial)
    which = config.getoption("--serial-tests")
    if which == "all":
        return
    keep, drop = [], []
    for item in items:
        (keep if (item.get_closest_marker("serial") is not None) == (which == "only") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def missing(what: str) -> None:
    """Skip locally, fail under CI=true: a skipped broker or database test would hide a broken build."""
    if IN_CI:
        pytest.fail(f"{what}, and CI=true: this test must run")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def interrupt(process: subprocess.Popen, timeout_s: float = 30) -> str:
    """Stop a command as Ctrl-C would (SIGINT), killing it if it has not ended within `timeout_s`; return the rest of
    its output."""
    import signal

    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, _ = process.communicate()
    return rest or ""


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


def _postgres_database(admin_url: str, template: str | None = None) -> Iterator[str]:
    """A database of the test's own on the shared server, dropped afterwards: empty, or a copy of `template`."""
    name = f"caretaker_test_{secrets.token_hex(4)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    finally:
        admin.dispose()
    try:
        yield _database_url(admin_url, name)
    finally:
        _DROPPER.drop(admin_url, name)


def _database_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as connection:  # WITH (FORCE): ends whatever connection a test's service left behind
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class _Dropper:
    """Drops the tests' databases on a thread of its own while the next test runs. DROP DATABASE makes the
    server checkpoint (PostgreSQL 15), 0.3-4 s on a busy machine, which the test's teardown used to wait
    for; the session ends only once every database is gone (`pytest_sessionfinish`)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.failures: list[str] = []

    def drop(self, admin_url: str, name: str) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
            self._thread.start()
        self._queue.put((admin_url, name))

    def _run(self) -> None:
        engines: dict[str, Engine] = {}
        while (item := self._queue.get()) is not None:
            admin_url, name = item
            if admin_url not in engines:
                engines[admin_url] = create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_size=1)
            try:
                _drop_database(engines[admin_url], name)
            except Exception as exc:  # noqa: BLE001 - reported at the end of the session, not lost
                self.failures.append(f"{name}: {exc.__class__.__name__}: {exc}")
        for engine in engines.values():
            engine.dispose()

    def finish(self) -> list[str]:
        """Wait until every database handed over is dropped; return what could not be."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        return self.failures


_DROPPER = _Dropper()


def pytest_sessionfinish(session: pytest.Session) -> None:
    for failure in _DROPPER.finish():
        print(f"\ncould not drop a test database: {failure}")


def _migrate(url: str) -> None:
    from caretaker.db import make_engine, migrate

    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()  # no connection may stay on a template database, or CREATE DATABASE … TEMPLATE refuses


@pytest.fixture(scope="session")
def _postgres_template(postgres_admin_url: str) -> Iterator[str]:
    """One database of this session migrated to the newest schema through the real migrations, which every
    `database_url` test on PostgreSQL gets a copy of (CREATE DATABASE … TEMPLATE took 0.15-0.7 s on a busy
    two-core machine, migrating an empty database 1.5-3 s). The service still runs `migrate()` at its start, on
    a schema already at the head, as at every restart in production."""
    name = f"caretaker_template_{secrets.token_hex(4)}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _migrate(_database_url(postgres_admin_url, name))
        yield name
    finally:
        _drop_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file of this session migrated to the newest schema, which every `database_url` test on SQLite
    (and tests/api) gets a copy of: 0.1-0.2 s where migrating took 0.5-1.8 s on a busy machine. The engine is
    disposed first, so the WAL is folded into the file and the copy is whole."""
    path = tmp_path_factory.mktemp("sqlite-template") / "caretaker.db"
    _migrate(f"sqlite:///{path}")
    for leftover in ("-wal", "-shm"):
        assert not path.with_name(path.name + leftover).exists(), "the template's WAL was not checkpointed"
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database migrated to the newest schema (as after a first start), once on SQLite and once on
    PostgreSQL; each test has its own copy."""
    if request.param == "sqlite":
        path = tmp_path / "caretaker.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from _postgres_database(request.getfixturevalue("postgres_admin_url"),
                                      template=request.getfixturevalue("_postgres_template"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'caretaker.db'}"
