"""The broker restarts under the service: it reconnects, resubscribes, and what was queued meanwhile arrives."""

from __future__ import annotations

import subprocess
import time

import pytest
from sqlalchemy import select

from caretaker.dispatch.tables import TicketRow
from tests.conftest import MOSQUITTO_BINARY, free_port, missing, wait_for_port
from tests.service.harness import Watcher, now_iso, start_service, wait_until


class RestartableBroker:
    """A Mosquitto of this test's own that keeps sessions on disk across a restart."""

    def __init__(self, workdir) -> None:
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {workdir}/\nautosave_interval 1\n"
                             "max_queued_messages 100000\nset_tcp_nodelay true\n")
        workdir.chmod(0o777)  # mosquitto drops to its own user, who must write the persistence file
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        assert wait_for_port("127.0.0.1", self.port, 5), "mosquitto did not start"

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # a clean stop writes the sessions to disk
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def broker(tmp_path):
    import os

    if not os.path.exists(MOSQUITTO_BINARY):
        missing(f"no mosquitto binary at {MOSQUITTO_BINARY}")
    broker = RestartableBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


def test_the_service_reconnects_after_a_broker_restart_and_processes_what_comes_next(broker, sqlite_url):
    service = start_service(broker.url, sqlite_url)
    try:
        broker.stop()
        wait_until(lambda: not service.ingest.connected, what="the service to notice the broker went away")
        broker.start()
        wait_until(lambda: service.health()["broker"], timeout=40, what="the service to reconnect")
        watcher = Watcher("127.0.0.1", broker.port, client_id=f"watcher-{time.monotonic_ns()}")
        try:
            watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 1})
            watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "values": {"leak": True}})
            watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned", timeout=10)
        finally:
            watcher.close()
        with service.sessions() as session:
            assert len(list(session.scalars(select(TicketRow)))) == 1
    finally:
        service.stop()
