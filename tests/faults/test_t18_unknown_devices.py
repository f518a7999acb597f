"""T18: an unknown device, and a device of another site, sending alarms → quarantined with their codes; 0 tickets.

Measured: 40 leak alarms from devices not in our site file (20 from ids no site has, 20 from
`examples/harbor-view.yaml`'s own leak sensors published under our site's topic) are 40 dead letters
`unknown_device`, each with its topic and bytes, counted in `/metrics`; 0 alerts, 0 tickets. The same
other site's alarms under that site's own topic are not even received (the service subscribes to its own
site only) and leave no trace. A known device's leak after them opens its ticket as usual.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from caretaker.dispatch.tables import TicketRow
from caretaker.estate import load_site
from caretaker.ingest.tables import DeadLetterRow
from caretaker.rules.tables import AlertRow
from tests.conftest import EXAMPLE_SITE
from tests.service.harness import Watcher, now_iso, start_service, wait_until

pytestmark = pytest.mark.faults


def test_unknown_and_other_sites_devices_are_quarantined_and_open_no_ticket(mosquitto, database_url):
    service = start_service(mosquitto.url, database_url)
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"t18-{time.monotonic_ns()}")
    try:
        other = load_site(EXAMPLE_SITE)
        theirs = sorted(d.id for d in other.devices.values() if d.type == "water_leak")
        assert not set(theirs) & set(service.site.devices), "the other site's ids must not be ours"
        strangers = [f"NOPE-LEAK-{n}" for n in range(20)]
        impostors = (theirs * 20)[:20]
        sent: list[tuple[str, bytes]] = []
        for seq, device in enumerate(strangers + impostors):
            payload = json.dumps({"ts": now_iso(), "seq": seq, "values": {"leak": True}}).encode()
            topic = f"test-estate/devices/{device}/telemetry"
            watcher.publish(topic, payload)
            sent.append((f"caretaker/{topic}", payload))
            watcher.publish(f"{other.id}/devices/{device}/telemetry", payload)  # never reaches us
        wait_until(lambda: service.pipeline.counters["rejected:unknown_device"] >= 40, timeout=10,
                   what="40 dead letters")
        # a known device's leak after them: the fence, and proof the service still opens tickets
        watcher.publish("test-estate/devices/B-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
        wait_until(lambda: ticket_devices(service) == ["B-LEAK-1"], timeout=10, what="the known device's ticket")

        with service.sessions() as session:
            letters = session.execute(select(DeadLetterRow.topic, DeadLetterRow.reason, DeadLetterRow.payload)
                                      .order_by(DeadLetterRow.id)).all()
            alerts = session.scalars(select(AlertRow.device_id)).all()
        assert sorted((t, r, bytes(p)) for t, r, p in letters) == sorted((t, "unknown_device", p) for t, p in sent)
        assert alerts == ["B-LEAK-1"]
        assert service.ingest.received == 41  # the other site's 40 under its own topic never arrived
        assert 'caretaker_messages_rejected_total{reason="unknown_device"} 40' in service.metrics_text()
    finally:
        watcher.close()
        service.stop()


def ticket_devices(service) -> list[str]:
    with service.sessions() as session:
        return sorted(session.scalars(select(TicketRow.device_id)).all())

