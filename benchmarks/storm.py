"""An alarm storm at full size (T30 of the fault suite, docs/reliability.md, unscaled): by default 10,000 leak
alarms in 10 s across 20 buildings, among one reading from each of 2,000 power meters, against `caretaker run`.

What it reports, each against a baseline measured in the same run:
- alarms: raised once each (none lost, none doubled), each on its building's ticket, one ticket a building;
- the wet reading → its alert event naming the ticket, and each building's first wet reading → its plumber's
  `assigned` push, against the broker's own round trip (probes before the storm);
- an operator's screen refreshing the ticket and alert lists (`GET /api/v1/tickets`, `/api/v1/alerts`) all
  through the storm, against the same calls for a few seconds before it;
- the control room's live stream: how far each raised alert came behind its MQTT alert event;
- how long the service took: the last alert event after the last wet reading left.

The storm is published by a process of its own (in the measuring one, publishing would hold the listeners'
clocks back); SQLite in a temporary directory unless --database.

    python -m benchmarks.storm                       # 10,000 alarms, 20 buildings, 10 s
    python -m benchmarks.storm --leaks 100 --seconds 5  # a smaller one, to try it
    python -m benchmarks.storm --database postgresql+psycopg://…/storm --split  # the API in a process of its own
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, func, select

from benchmarks.run import free_port, now_iso, start_mosquitto, start_service, stop
from caretaker.dispatch.tables import TicketAlertRow, TicketRow
from caretaker.rules.tables import AlertRow
from caretaker.simulators.observe import BrokerWatch, ListPoller, LiveStream

SITE = "storm"
TOKEN = "storm-benchmark-admin-token-5b1c"
BASELINE_S = 3.0


def building(n: int) -> str:
    return f"B{n + 1:02d}"


def leak(b: str, n: int) -> str:
    return f"{b}-LEAK-{n:03d}"


def meter(n: int, buildings: int) -> str:
    return f"{building(n % buildings)}-PWR-{n:04d}"


def site_document(buildings: int, leaks: int, meters: int) -> dict:
    names = [building(n) for n in range(buildings)]
    devices = [{"id": leak(b, n), "type": "water_leak", "building": b, "floor": 1 + n % 30} for b in names
               for n in range(leaks)]
    devices += [{"id": meter(n, buildings), "type": "power_meter", "building": building(n % buildings),
                 "floor": 1 + n % 30} for n in range(meters)]
    # each building has two plumbers and a guard on site (a level-1 leak sends a plumber and a guard)
    technicians = [{"id": f"{b}-{role}-{k}", "name": f"{b} {role} {k}", "phone": f"139{n:04d}{k}{len(role):03d}",
                    "skills": [skill], "badge": f"{b}-{role.upper()}-{k}"}
                   for n, b in enumerate(names) for role, skill, count in (("plumber", "plumbing", 2),
                                                                          ("guard", "security", 1))
                   for k in range(count)]
    travel = [[a, b, 60 + 20 * (j - i)] for i, a in enumerate(names) for j, b in enumerate(names) if i < j]
    return {"site": SITE, "name": f"Storm estate ({len(devices)} devices)", "timezone": "Asia/Shanghai",
            "travel": {"floor_s": 15, "buildings": travel},
            "buildings": [{"id": b, "floors": [-1, 30]} for b in names], "devices": devices,
            "technicians": technicians,
            "supervisors": [{"id": "s-storm", "name": "Storm Supervisor", "phone": "13900000000"}]}


def plan(buildings: int, leaks: int, meters: int, seconds: float, seed: int = 30) -> list[tuple[float, str, dict]]:
    """Every leak sensor wet once and every meter reading once, at random moments of the storm."""
    rng = random.Random(seed)
    items = [(rng.uniform(0, seconds), leak(building(b), n), {"leak": True}) for b in range(buildings)
             for n in range(leaks)]
    items += [(rng.uniform(0, seconds), meter(n, buildings), {"mains_ok": True, "voltage_v": 230.0, "current_a": 12.0})
              for n in range(meters)]
    return sorted(items, key=lambda item: item[0])


def no_delay(client: mqtt.Client) -> None:
    # like a real device's stack, not paho's default: Nagle would add ~40 ms to a message
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def publish_storm(port: int, args: argparse.Namespace) -> int:
    """The storm's own process: publish the plan at its pace, print when each wet reading left (JSON)."""
    clients = []
    for n in range(8):  # a real estate's gateways: a device's messages always over the same one
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"storm-pub-{n}-{time.monotonic_ns()}",
                             protocol=mqtt.MQTTv311)
        client.max_inflight_messages_set(1000)
        client.connect("127.0.0.1", port)
        no_delay(client)
        client.loop_start()
        clients.append(client)
    published: dict[str, float] = {}
    infos = []
    start = time.monotonic()
    for offset, device, values in plan(args.buildings, args.leaks, args.meters, args.seconds):
        delay = start + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps({"ts": now_iso(), "seq": 1, "values": values}).encode()
        infos.append(clients[hash(device) % len(clients)].publish(f"caretaker/{SITE}/devices/{device}/telemetry",
                                                                  body, qos=1))
        if "LEAK" in device:
            published[device] = time.time()
    late = time.monotonic() - start - args.seconds
    for info in infos:
        info.wait_for_publish(60)
    for client in clients:
        client.disconnect()
        client.loop_stop()
    print(json.dumps({"published": published, "late_s": late}), flush=True)
    return 0


def broker_round_trips(port: int, count: int = 50) -> list[float]:
    """Publish → the same subscriber, `count` times: the floor under every figure that crosses the broker."""
    arrived: dict[str, float] = {}
    got = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"storm-probe-{time.monotonic_ns()}",
                         protocol=mqtt.MQTTv311)

    def on_message(_c, _u, message) -> None:
        arrived[message.payload.decode()] = time.time()
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", port)
    no_delay(client)
    client.loop_start()
    client.subscribe("bench/probe", qos=1)
    time.sleep(0.3)
    trips = []
    for n in range(count):
        got.clear()
        sent = time.time()
        client.publish("bench/probe", str(n), qos=1)
        if got.wait(5) and str(n) in arrived:
            trips.append(arrived[str(n)] - sent)
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    return trips


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def line(name: str, seconds: list[float]) -> str:
    if not seconds:
        return f"  {name:44} none"
    ms = [s * 1000 for s in seconds]
    return (f"  {name:44} {len(ms):6d}: median {statistics.median(ms):8.1f} ms, p99 {pct(ms, 0.99):8.1f} ms, "
            f"max {max(ms):8.1f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=20)
    parser.add_argument("--leaks", type=int, default=500, help="leak sensors a building, each wet once")
    parser.add_argument("--meters", type=int, default=2000, help="power meters, each reading once")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the storm lasts")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a SQLite file in a temp dir)")
    parser.add_argument("--split", action="store_true",
                        help="ingest and timers in one process, the API in another (docs/deploy.md, roles; PostgreSQL)")
    parser.add_argument("--publish", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the storm's own process
    args = parser.parse_args(argv)
    if args.publish:
        return publish_storm(args.publish, args)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker, port = start_mosquitto(workdir)
        database = args.database or f"sqlite:///{workdir / 'storm.db'}"
        try:
            site_file = workdir / "site.yaml"
            document = site_document(args.buildings, args.leaks, args.meters)
            site_file.write_text(yaml.safe_dump(document, sort_keys=False, default_flow_style=None))
            http_port = free_port()
            env = {**os.environ, "CARETAKER_SITE_FILE": str(site_file), "CARETAKER_MQTT_URL": f"mqtt://127.0.0.1:{port}",
                   "CARETAKER_DATABASE_URL": database, "CARETAKER_HTTP_PORT": str(http_port),
                   "CARETAKER_MQTT_CLIENT_ID": "bench-storm", "CARETAKER_ADMIN_TOKEN": TOKEN,
                   "CARETAKER_SITE_CACHE_DIR": "off"}
            if args.split:  # the API's requests no longer share a process (and its GIL) with the storm's alarms
                service = start_service({**env, "CARETAKER_ROLE": "ingest,timers", "CARETAKER_HTTP_ENABLED": "false",
                                         "CARETAKER_INSTANCE_ID": "storm-ingest"}, workdir / "ingest.log")
                api = start_service({**env, "CARETAKER_ROLE": "api", "CARETAKER_INSTANCE_ID": "storm-api",
                                     "CARETAKER_MQTT_CLIENT_ID": "bench-storm-api"}, workdir / "api.log")
            else:
                service = api = start_service(env, workdir / "service.log")
            watch = BrokerWatch("127.0.0.1", port, SITE)
            stream = LiveStream(http_port, TOKEN)
            poller = ListPoller(http_port, TOKEN)
            try:
                locate = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="storm-locations", protocol=mqtt.MQTTv311)
                locate.connect("127.0.0.1", port)
                locate.loop_start()
                for tech in document["technicians"]:
                    locate.publish(f"caretaker/{SITE}/technicians/{tech['id']}/location",
                                   json.dumps({"ts": now_iso(), "building": tech["id"][:3], "floor": 1}),
                                   qos=1).wait_for_publish(5)
                locate.disconnect()
                locate.loop_stop()
                stream.start()
                if not stream.ready.wait(10):
                    raise RuntimeError("the live stream did not start")
                trips = broker_round_trips(port)
                poller.start()
                time.sleep(BASELINE_S)
                api_at_rest = poller.take()

                storm = subprocess.Popen([sys.executable, "-m", "benchmarks.storm", "--publish", str(port),
                                          "--buildings", str(args.buildings), "--leaks", str(args.leaks),
                                          "--meters", str(args.meters), "--seconds", str(args.seconds)],
                                         stdout=subprocess.PIPE, text=True)
                out, _ = storm.communicate(timeout=args.seconds + 120)
                sent = json.loads(out)
                published: dict[str, float] = sent["published"]
                last_sent = max(published.values())
                deadline = time.monotonic() + 180
                while len(watch.raised()) < len(published) and time.monotonic() < deadline:
                    time.sleep(0.1)
                deadline = time.monotonic() + 10  # the stream may come a little after the broker
                while len(stream.raised()) < len(published) and time.monotonic() < deadline:
                    time.sleep(0.1)
                poller.stop.set()
                poller.join(10)
                api_in_storm = poller.take()
            finally:
                poller.stop.set()
                stream.close()
                watch.close()
                stop(service)
                if api is not service:
                    stop(api)
            engine = create_engine(database)
            with engine.connect() as connection:
                alerts = dict(connection.execute(select(AlertRow.device_id, func.count()).group_by(AlertRow.device_id)).all())
                links = dict(connection.execute(select(TicketAlertRow.alert_id, func.count())
                                                .group_by(TicketAlertRow.alert_id)).all())
                tickets = dict(connection.execute(select(TicketRow.id, TicketRow.building)).all())
            engine.dispose()
        finally:
            broker.terminate()
            broker.wait(5)

    raised = watch.raised()
    mqtt_at, named = watch.first_raised()  # alert → its raised event; device → its event naming its ticket
    first_wet = {building(b): min(t for d, t in published.items() if d.startswith(building(b) + "-"))
                 for b in range(args.buildings)}
    pushed = watch.first_assigned(tickets)  # building → its plumber's push
    on_stream = stream.first_raised()
    ids = [b["alert"] for b in raised]
    doubled_events = len(ids) - len(set(ids))

    print(f"alarm storm: {len(published)} leak alarms in {args.seconds:g} s across {args.buildings} buildings, among "
          f"{args.meters} meter readings ({'SQLite' if args.database is None else args.database.split(':', 1)[0]}"
          f"{', ingest and API in two processes' if args.split else ''}); "
          f"the publisher ran {sent['late_s']:.2f} s behind its schedule")
    print(f"  alarms raised {len(alerts)} of {len(published)}, doubled {sum(1 for n in alerts.values() if n > 1)}; "
          f"on exactly one ticket {sum(1 for n in links.values() if n == 1)}; tickets {len(tickets)} for "
          f"{args.buildings} incidents; alert events {len(set(ids))} ({doubled_events} twice)")
    print(line("broker round trip (baseline)", trips))
    print(line("wet reading → alert event naming its ticket", [named[d] - published[d] for d in published if d in named]))
    print(line("building's first wet reading → plumber push", [pushed[b] - first_wet[b] for b in pushed]))
    print(f"  {'buildings whose plumber got no push':44} {len(set(first_wet) - set(pushed))}")
    print(line("list calls at rest (baseline)", api_at_rest))
    print(line("list calls during the storm", api_in_storm))
    if api_at_rest and api_in_storm:
        print(f"  {'API p99, storm / rest':44} {pct(api_in_storm, 0.99) / pct(api_at_rest, 0.99):6.1f}×")
    behind = [on_stream[a] - mqtt_at[a] for a in mqtt_at if a in on_stream]
    print(line("stream behind the MQTT alert event", behind))
    print(f"  {'raised alerts never on the stream':44} {len(set(mqtt_at) - set(on_stream))}")
    if raised:
        print(f"  {'last alert event after the last wet reading':44} {max(mqtt_at.values()) - last_sent:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
