"""T30: alarm storm: 2,000 devices, 600 related alarms across 3 buildings → 0 lost, 0 duplicate; one incident
per building; p99 ticket ≤ 2 s, push ≤ 5 s; API p99 < 200 ms and the control room's stream < 1 s behind
throughout.

Scaled in time: the 600 alarms come in 20 s instead of 60 s (30 a second, three times the rate), among
the other 1,400 devices' readings (one each), against `caretaker run` on a PostgreSQL cluster of the
test's own with fsync on. The estate: 200 leak sensors a building in A, B and C (a burst main in each)
and 1,400 power meters in four buildings; six plumbers on site. The storm runs once (a module fixture);
three tests judge it. Measured on two cores shared with other work (load average 4):
- alarms: 600/600 raised once, each on its building's ticket, 3 tickets; 600 alert events on MQTT, none twice;
- ticket: p99 from the wet reading's publish to its alert event naming the ticket 0.20-0.54 s (limit 2 s);
- push: each building's first wet reading to its plumber's `assigned` push at most 0.24 s (limit 5 s);
- API: GET /api/v1/tickets and /api/v1/alerts polled throughout, p99 127-150 ms (limit 200 ms);
- stream: 600/600 raised alerts on the control room's live stream (`/api/v1/stream`), at most 0.67 s
  behind their MQTT alert event (limit 1 s). Before the feed read the newest changes and polled twice
  a second, it showed 500 of the 600 (the oldest 500 of its 60 s window, again and again) and lagged
  up to 1.8 s.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from caretaker.dispatch.tables import TicketAlertRow, TicketRow
from caretaker.rules.tables import AlertRow
from caretaker.simulators.observe import BrokerWatch, ListPoller, LiveStream
from tests.faults.own_postgres import OwnPostgres
from tests.faults.service_process import Publishers, ServiceProcess, engine_for, service_env, wait_for, write_site

pytestmark = pytest.mark.faults

SITE = "t30"
STORM_BUILDINGS = ("A", "B", "C")
LEAKS_PER_BUILDING = 200  # 600 alarms
METERS = 1400  # 2,000 devices in all
STORM_S = 20.0
TOKEN = "t30-admin-token-0123456789abcdef"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def leak(building: str, n: int) -> str:
    return f"{building}-LEAK-{n:03d}"


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def estate(path: Path) -> Path:
    devices = [{"id": leak(b, n), "type": "water_leak", "building": b, "floor": 1 + n % 20}
               for b in STORM_BUILDINGS for n in range(LEAKS_PER_BUILDING)]
    devices += [{"id": f"{'ABCD'[n % 4]}-PWR-{n:04d}", "type": "power_meter", "building": "ABCD"[n % 4],
                 "floor": 1 + n % 20} for n in range(METERS)]
    return write_site(path, SITE, devices, [{"id": b, "floors": [-1, 20]} for b in "ABCD"], technicians=6)


@dataclass
class Storm:
    """What one storm measured, for the tests below."""

    published: dict[str, float]  # leak sensor -> when its wet reading left
    alerts: dict[str, int]  # device -> alerts raised for it
    links: dict[str, int]  # alert -> tickets it is on
    tickets: dict[str, str]  # ticket -> building
    events: list[dict]  # raised alert events on MQTT
    ticket_latency: list[float]
    push_latency: dict[str, float]
    api_latencies: list[float]
    api_statuses: set[int]
    behind: dict[str, float | None]  # alert -> seconds the stream was behind its MQTT event; None: never came

    def figures(self) -> str:
        came = [b for b in self.behind.values() if b is not None]
        return (f"ticket p99 {p99(self.ticket_latency):.3f} s, push max {max(self.push_latency.values(), default=0):.3f} s, "
                f"API p99 {p99(self.api_latencies) * 1000:.0f} ms over {len(self.api_latencies)} calls, stream "
                f"{len(came)}/{len(self.behind)} alerts, at most {max(came, default=0):.3f} s behind")


@pytest.fixture(scope="module")
def storm(mosquitto, tmp_path_factory) -> Storm:
    tmp_path = tmp_path_factory.mktemp("t30")
    rng = random.Random(30)
    site_file = estate(tmp_path / "site.yaml")
    with OwnPostgres(fsync=True) as pg:
        env = service_env(site_file, pg.url, mosquitto.url, http_enabled="true", admin_token=TOKEN,
                          batch_max="200")
        port = int(env["CARETAKER_HTTP_PORT"])
        service = ServiceProcess(env, tmp_path / "service.log")
        engine = engine_for(pg.url)
        watch = BrokerWatch(mosquitto.host, mosquitto.port, SITE)
        publishers = Publishers(mosquitto.host, mosquitto.port, connections=8, prefix="t30")
        stream = LiveStream(port, TOKEN)
        poller = ListPoller(port, TOKEN)
        try:
            service.start()
            service.wait_ready(60)
            for n in range(1, 7):  # two plumbers in each storm building, on site
                publishers.send(f"caretaker/{SITE}/technicians/t-{n}/location",
                                json.dumps({"ts": now_iso(), "building": STORM_BUILDINGS[n % 3], "floor": 1}).encode())
            stream.start()
            assert stream.ready.wait(10), "the stream did not start"
            poller.start()

            # the storm: each leak sensor wet once at a random moment of STORM_S; every meter reads once
            schedule = [(rng.uniform(0, STORM_S), leak(b, n), {"leak": True})
                        for b in STORM_BUILDINGS for n in range(LEAKS_PER_BUILDING)]
            schedule += [(rng.uniform(0, STORM_S), f"{'ABCD'[n % 4]}-PWR-{n:04d}",
                          {"mains_ok": True, "voltage_v": 230.0, "current_a": 12.0})
                         for n in range(METERS)]
            schedule.sort(key=lambda item: item[0])
            published: dict[str, float] = {}
            seqs: dict[str, int] = {}
            start = time.monotonic()
            for offset, device, values in schedule:
                delay = start + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # the storm's own pace
                seqs[device] = seqs.get(device, 0) + 1
                body = {"ts": now_iso(), "seq": seqs[device], "values": values}
                publishers.send(f"caretaker/{SITE}/devices/{device}/telemetry", json.dumps(body).encode())
                if "LEAK" in device:
                    published[device] = time.time()

            wait_for(lambda: len(watch.raised()) >= len(published), 30, "600 alert events", poll=0.1)
            try:  # the stream has a few seconds more to catch up; what it lacks then is measured below
                wait_for(lambda: len(stream.raised()) >= len(published), 5, "600 alerts on the stream", poll=0.1)
            except AssertionError:
                pass
            poller.stop.set()
            poller.join(10)

            with engine.connect() as connection:
                alerts = dict(connection.execute(select(AlertRow.device_id, func.count())
                                                 .group_by(AlertRow.device_id)).all())
                links = dict(connection.execute(select(TicketAlertRow.alert_id, func.count())
                                                .group_by(TicketAlertRow.alert_id)).all())
                tickets = dict(connection.execute(select(TicketRow.id, TicketRow.building)).all())
        finally:
            poller.stop.set()
            stream.close()
            publishers.close()
            watch.close()
            service.stop()
            engine.dispose()

    mqtt_at, first_event = watch.first_raised()  # alert → its raised event; device → its event naming its ticket
    first_wet = {b: min(t for d, t in published.items() if d.startswith(b)) for b in STORM_BUILDINGS}
    pushed = watch.first_assigned(tickets)  # building → its first `assigned` push
    on_stream = stream.first_raised()
    result = Storm(
        published=published, alerts=alerts, links=links, tickets=tickets,
        events=watch.raised(),
        ticket_latency=[first_event[d] - published[d] for d in published if d in first_event]
        + [float("inf")] * len(set(published) - set(first_event)),
        push_latency={b: pushed[b] - first_wet[b] for b in pushed},
        api_latencies=poller.latencies, api_statuses=poller.statuses,
        behind={a: (on_stream[a] - mqtt_at[a]) if a in on_stream else None for a in mqtt_at},
    )
    print(result.figures())
    return result


def test_an_alarm_storm_loses_and_doubles_no_alarm_and_makes_one_incident_a_building(storm: Storm):
    assert set(storm.alerts) == set(storm.published) and set(storm.alerts.values()) == {1}, "an alarm lost or doubled"
    assert len(storm.links) == len(storm.published) and set(storm.links.values()) == {1}, "an alarm on 0 or 2 tickets"
    assert sorted(storm.tickets.values()) == list(STORM_BUILDINGS), storm.tickets
    ids = [e["alert"] for e in storm.events]
    assert len(set(ids)) == len(ids) == len(storm.published), "an alert event lost or sent twice"


def test_an_alarm_storm_keeps_tickets_pushes_and_the_api_on_time(storm: Storm):
    figures = storm.figures()
    assert p99(storm.ticket_latency) <= 2.0, figures
    assert set(storm.push_latency) == set(STORM_BUILDINGS), f"pushes for {sorted(storm.push_latency)}"
    assert max(storm.push_latency.values()) <= 5.0, figures
    assert storm.api_statuses == {200}, storm.api_statuses
    assert p99(storm.api_latencies) < 0.2, figures


def test_an_alarm_storm_reaches_the_control_rooms_stream_within_a_second(storm: Storm):
    missing = [a for a, b in storm.behind.items() if b is None]
    assert not missing, f"{len(missing)} of {len(storm.behind)} raised alerts never reached the stream ({storm.figures()})"
    assert max(storm.behind.values()) < 1.0, storm.figures()
