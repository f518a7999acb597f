"""On a broker shared by several estates the service receives its own estate's messages only: another
estate's traffic reaches neither its dead letters nor its counters (issue 6, item 8)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from caretaker.ingest.tables import DeadLetterRow
from tests.service.harness import Watcher, now_iso, start_service, wait_until

OTHER_ESTATES = ("harbor-east", "other-site", "test-estate-2")


def test_another_estates_traffic_reaches_neither_the_dead_letters_nor_the_counters(mosquitto, sqlite_url):
    service = start_service(mosquitto.url, sqlite_url)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    try:
        foreign = 0
        for site in OTHER_ESTATES:  # the same device and technician ids as ours, on every inbound topic
            for seq in range(20):
                watcher.publish(f"{site}/devices/A-LEAK-1/telemetry",
                                {"ts": now_iso(), "seq": seq, "values": {"leak": True}})
                watcher.publish(f"{site}/devices/NOPE-{seq}/event", {"ts": now_iso(), "type": "tamper"})
                watcher.publish(f"{site}/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 1})
                foreign += 3
        # our own message, published after all of them on the same connection, is the fence: once it
        # is processed every foreign message before it has reached the broker and passed us by
        watcher.publish("test-estate/devices/A-LEAK-2/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": False}})
        wait_until(lambda: service.pipeline.counters["processed"] >= 1, timeout=5, what="our own message processed")
        assert foreign == 180
        assert service.ingest.received == 1
        assert not [key for key in service.pipeline.counters if key.startswith("rejected:")]
        assert 'reason="wrong_site"' not in service.metrics_text()
        with service.sessions() as session:
            assert session.scalar(select(func.count()).select_from(DeadLetterRow)) == 0
        assert not watcher.on("test-estate/deadletter")
    finally:
        watcher.close()
        service.stop()
