"""Reading → published alert event and reading → technician's push, under background telemetry, against the
broker's own round trip measured in the same run.

`caretaker run` (a subprocess; SQLite in a temporary directory unless --database) serves the load estate of
simulators/load.py (every device type) while `run_load`, in a process of its own, publishes its devices' real
telemetry at --rate msg/s (QoS 1): in the measuring process its publishing would hold the listener's clock back. Samples are taken in rounds: each of --round leak sensors kept for the benchmark turns wet, one at a
time (each sensor once: a leak alarm clears only after 30 s dry); the subscriber records when the `raised`
alert event and the plumber's `assigned` push arrive. After a round its tickets are cancelled through the API,
so its plumbers are free for the next, and the next waits until the outbox has sent what the cancellations wrote. Between two samples a probe message makes the broker round trip (publish → the same subscriber),
the floor under both figures: one broker hop in, one out, and here a commit between them.

    python -m benchmarks.latency --samples 1000 --rate 1000
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from benchmarks.run import free_port, now_iso, start_mosquitto, start_service, stop
from caretaker.simulators.load import load_devices, run_load, write_load_site
from caretaker.simulators.broker import BrokerAddress

SITE = "load"
ADMIN = "latency-benchmark-admin-token-7f3a"


class Listener:
    """One subscriber for alert events, pushes and probes, recording when each arrives."""

    def __init__(self, port: int) -> None:
        self.raised: dict[str, tuple[float, str | None]] = {}  # device → (arrival, ticket)
        self.pushed: dict[str, float] = {}  # device → arrival of its `assigned` push
        self.probes: dict[str, float] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency-listener",
                                  protocol=mqtt.MQTTv311)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        # like a real device's stack, not paho's default: Nagle would add ~40 ms to every message
        self.client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client.loop_start()
        for topic in (f"caretaker/{SITE}/alerts", f"caretaker/{SITE}/technicians/+/dispatch", "bench/probe"):
            self.client.subscribe(topic, qos=1)

    def _on_message(self, _client, _userdata, message) -> None:
        arrived = time.perf_counter()
        if message.topic == "bench/probe":
            with self._lock:
                self.probes[message.payload.decode()] = arrived
            return
        body = json.loads(message.payload)
        device = body.get("device")
        with self._lock:
            if message.topic.endswith("/alerts") and body.get("state") == "raised" and device:
                self.raised.setdefault(device, (arrived, body.get("ticket")))
            elif body.get("type") == "assigned" and device:
                self.pushed.setdefault(device, arrived)

    def forget(self, devices) -> None:
        with self._lock:
            for device in devices:
                self.raised.pop(device, None)
                self.pushed.pop(device, None)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.0005)
    return True


def cancel(http_port: int, ticket: str) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/api/v1/tickets/{ticket}/cancel", data=b"{}",
                                     method="POST", headers={"Authorization": f"Bearer {ADMIN}",
                                                             "Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10).read()
    except urllib.error.HTTPError as error:  # already closed by the service itself: nothing to free
        if error.code != 409:
            raise


def outbox_backlog(http_port: int) -> float:
    """The service's `caretaker_outbox_backlog` gauge (docs/api.md, "/metrics")."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith("caretaker_outbox_backlog"):
                return float(line.rsplit(" ", 1)[1])
    raise RuntimeError("/metrics has no caretaker_outbox_backlog")


def figures(name: str, seconds: list[float]) -> str:
    if not seconds:
        return f"{name:28} no samples"
    ms = sorted(s * 1000 for s in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{name:28} {len(ms):5d} samples: median {statistics.median(ms):6.1f} ms, p99 {p99:6.1f} ms, "
            f"max {ms[-1]:6.1f} ms")


def background(port: int, devices: int, rate: float) -> int:
    """Publish the load estate's telemetry at `rate` msg/s until terminated (the child process of `main`)."""
    stop_load = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_load.set())
    report = run_load(BrokerAddress("127.0.0.1", port), load_devices(devices), SITE, rate, duration_s=3600, qos=1,
                      clients=2, stop=stop_load, log=lambda _line: None)
    print(json.dumps({"delivered": report.delivered, "rate": report.rate}), flush=True)
    return 0


def start_background(port: int, devices: int, rate: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.latency", "--background", str(port),
                             "--devices", str(devices), "--rate", str(rate)], stdout=subprocess.PIPE, text=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000.0, help="background telemetry, msg/s")
    parser.add_argument("--devices", type=int, default=500, help="devices sending background telemetry")
    parser.add_argument("--round", type=int, default=50, help="samples (and plumbers) per round")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a SQLite file in a temp dir)")
    parser.add_argument("--background", type=int, metavar="PORT", help=argparse.SUPPRESS)  # the load's own process
    args = parser.parse_args(argv)
    if args.background:
        return background(args.background, args.devices, args.rate)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker, port = start_mosquitto(workdir)
        try:
            site_file = workdir / "site.yaml"
            write_load_site(site_file, args.devices, SITE)
            document = yaml.safe_load(site_file.read_text())
            sensors = [f"lat-{n:04d}" for n in range(args.samples)]
            document["devices"] += [{"id": s, "type": "water_leak", "building": "L1", "floor": 2, "zone": "riser"}
                                    for s in sensors]
            template = document["technicians"][0]
            # a level-1 leak sends a plumber and a guard (the burst-pipe playbook, docs/operations.md), one each a sample
            document["technicians"] = [{**template, "id": f"{trade}-{n:03d}", "badge": f"{trade.upper()}-{n:03d}",
                                        "skills": [skill]}
                                       for trade, skill in (("plumber", "plumbing"), ("guard", "security"))
                                       for n in range(args.round)]
            site_file.write_text(yaml.safe_dump(document))
            http_port = free_port()
            env = {**os.environ, "CARETAKER_SITE_FILE": str(site_file), "CARETAKER_MQTT_URL": f"mqtt://127.0.0.1:{port}",
                   "CARETAKER_DATABASE_URL": args.database or f"sqlite:///{workdir / 'bench.db'}",
                   "CARETAKER_HTTP_PORT": str(http_port), "CARETAKER_MQTT_CLIENT_ID": "bench-latency",
                   "CARETAKER_ADMIN_TOKEN": ADMIN, "CARETAKER_SITE_CACHE_DIR": "off",
                   "CARETAKER_INCIDENT_WINDOW_S": "0"}  # every sample its own incident and its own push
            service = start_service(env, workdir / "service.log")
            listener = Listener(port)
            publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency-sensor",
                                    protocol=mqtt.MQTTv311)
            publisher.connect("127.0.0.1", port)
            publisher.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            publisher.loop_start()
            for tech in document["technicians"]:
                publisher.publish(f"caretaker/{SITE}/technicians/{tech['id']}/location",
                                  json.dumps({"ts": now_iso(), "building": "L1", "floor": 1}), qos=1).wait_for_publish(5)
            load = start_background(port, args.devices, args.rate)
            time.sleep(2.0)  # the background reaches its rate
            to_event, to_push, probe_trips, missing = [], [], [], 0
            try:
                while len(to_event) + missing < args.samples:
                    sent: dict[str, float] = {}
                    done = len(to_event) + missing
                    for sensor in sensors[done:done + args.round]:
                        probe = f"p{len(probe_trips)}-{sensor}"
                        probe_sent = time.perf_counter()
                        publisher.publish("bench/probe", probe, qos=1)
                        if wait(lambda: probe in listener.probes, 5):
                            probe_trips.append(listener.probes[probe] - probe_sent)
                        sent[sensor] = time.perf_counter()
                        publisher.publish(f"caretaker/{SITE}/devices/{sensor}/telemetry",
                                          json.dumps({"ts": now_iso(), "values": {"leak": True}}), qos=1)
                        wait(lambda: sensor in listener.raised and sensor in listener.pushed, 5)
                        if sensor in listener.raised:
                            to_event.append(listener.raised[sensor][0] - sent[sensor])
                        else:
                            missing += 1
                        if sensor in listener.pushed:
                            to_push.append(listener.pushed[sensor] - sent[sensor])
                        time.sleep(0.02)
                    tickets = [listener.raised[s][1] for s in sent if s in listener.raised and listener.raised[s][1]]
                    for ticket in tickets:
                        cancel(http_port, ticket)
                    listener.forget(sent)
                    # the cancellations' own messages (two withdrawn pushes a ticket, its events) go out before the
                    # next round: a sample is a reading against background telemetry, not behind this housekeeping
                    wait(lambda: outbox_backlog(http_port) == 0, 30)
            finally:
                load.terminate()
                try:
                    achieved = json.loads(load.communicate(timeout=30)[0] or "{}").get("rate")
                except (subprocess.TimeoutExpired, ValueError):
                    load.kill()
                    achieved = None
                publisher.loop_stop()
                listener.close()
                stop(service)
        finally:
            broker.terminate()
            broker.wait(5)
    print(f"background telemetry {args.rate:g} msg/s from {args.devices} devices of every type, QoS 1, from a process "
          f"of its own (achieved {achieved or float('nan'):.0f} msg/s), "
          f"{'SQLite' if args.database is None else args.database.split(':', 1)[0]}")
    print(figures("broker round trip (baseline)", probe_trips))
    print(figures("reading → alert event", to_event))
    print(figures("reading → assigned push", to_push))
    if missing:
        print(f"{missing} readings raised no alert event within 5 s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
