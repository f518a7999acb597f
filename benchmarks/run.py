"""Ingest throughput against a bare subscriber, and reading-to-push latency, measured in one run.

Both consumers drain the same number of QoS 1 messages that a real Mosquitto queued for their
persistent session while they were away, so the publisher's speed does not limit either; the
figure that matters is the ratio, since these machines are shared and noisy. Rounds alternate
the bare subscriber and the service (`--repeat`), each on a fresh backlog and a fresh database,
and the medians are reported with every round's figures and the machine's load average."""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from caretaker.simulators.behaviour import next_values
from caretaker.simulators.load import load_devices, write_load_site

PY = sys.executable
POLL_SECONDS = 0.5  # each /metrics read costs the service a few ms of its GIL: every 50 ms took ~10 % of it
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen, int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "max_queued_messages 1000000\nmax_inflight_messages 1000\nset_tcp_nodelay true\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU a process has used so far (Linux /proc), or NaN where there is none."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def publish_backlog(port: int, site_id: str, devices, count: int, seed: int = 7) -> None:
    """Queue `count` QoS 1 telemetry messages at the broker, round-robin over the devices, each with the
    values its type really sends (simulators/behaviour.py: a meter's three values, a lift's four, levels
    and temperatures drifting), so the service validates, stores and evaluates what an estate sends."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher", protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    rng = random.Random(seed)  # the same backlog for the baseline and the service
    last: dict[str, dict] = {}
    start = datetime.now(timezone.utc).timestamp()
    infos = []
    for i in range(count):
        device = devices[i % len(devices)]
        seq = i // len(devices)
        ts = int(start * 1000) - count + i  # distinct, increasing, in the past
        values = last[device.id] = next_values(device.type, last.get(device.id), rng)
        body = json.dumps({"ts": ts, "seq": seq, "values": values}).encode()
        infos.append(client.publish(f"caretaker/{site_id}/devices/{device.id}/telemetry", body, qos=1))
        if len(infos) >= 5000:
            for info in infos:
                info.wait_for_publish(30)
            infos.clear()
    for info in infos:
        info.wait_for_publish(30)
    client.disconnect()
    client.loop_stop()


def backlog_mix(devices, count: int) -> str:
    """Return what the backlog holds per device type, printed with the figures so a reader can judge them."""
    by_type: dict[str, int] = {}
    for i in range(count):
        kind = devices[i % len(devices)].type
        by_type[kind] = by_type.get(kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(by_type.items()))


@dataclass(frozen=True)
class Drain:
    """One consumer's drain of the backlog: its rate, and the CPU it and the broker spent per message."""

    rate: float  # messages per second
    cpu_us: float  # the consumer process's CPU per message, µs
    broker_cpu_us: float  # Mosquitto's CPU per message over the same stretch, µs


def bare_baseline(port: int, broker_pid: int, site_id: str, devices, count: int) -> Drain:
    subprocess.run([PY, "-m", "benchmarks.bare_subscriber", "--port", str(port)], check=True, capture_output=True)
    publish_backlog(port, site_id, devices, count)
    broker_before = cpu_seconds(broker_pid)
    out = subprocess.run([PY, "-m", "benchmarks.bare_subscriber", "--port", str(port), "--expect", str(count)],
                         check=True, capture_output=True, text=True).stdout
    broker_cpu = cpu_seconds(broker_pid) - broker_before  # includes the subscriber's connect: a slight overcount
    result = json.loads(out)
    assert result["count"] == count, result
    return Drain(count / result["seconds"], result["cpu_seconds"] / count * 1e6, broker_cpu / count * 1e6)


def processed(http_port: int) -> int:
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5).read().decode()
    match = re.search(r"^caretaker_messages_processed_total (\d+)", text, re.M)
    return int(match.group(1)) if match else 0


def start_service(env: dict, log: Path) -> subprocess.Popen:
    starts = log.read_text(errors="replace").count("caretaker: site") if log.exists() else 0
    proc = subprocess.Popen([PY, "-m", "caretaker.cli", "run"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count("caretaker: site") <= starts:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("service did not start:\n" + log.read_text(errors="replace")[-2000:])
        time.sleep(0.1)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def service_throughput(env: dict, http_port: int, port: int, broker_pid: int, site_id: str, devices, count: int,
                       log: Path, poll_seconds: float = POLL_SECONDS) -> Drain:
    """Drain the backlog through `caretaker run`. The rate is the slope between the first and the last reading
    of `caretaker_messages_processed_total` taken while the drain was under way (neither 0 nor all), so the
    start-up before the first message and the wait for the last poll count for nothing, as for the bare
    subscriber's first-to-last message."""
    stop(start_service(env, log))  # creates the persistent session, then goes away
    publish_backlog(port, site_id, devices, count)
    proc = start_service(env, log)
    try:
        polls: list[tuple[float, int, float, float]] = []  # (time, processed, service CPU, broker CPU)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = processed(http_port)
            polls.append((time.perf_counter(), done, cpu_seconds(proc.pid), cpu_seconds(broker_pid)))
            if done >= count:
                break
            time.sleep(poll_seconds)
        else:
            raise RuntimeError(f"only {processed(http_port)} of {count} processed")
        under_way = [p for p in polls if 0 < p[1] < count]
        if len(under_way) < 2:  # drained between two polls: from the last empty poll to the full one
            under_way = [[p for p in polls if p[1] == 0][-1], polls[-1]]
        (t0, n0, c0, b0), (t1, n1, c1, b1) = under_way[0], under_way[-1]
        return Drain((n1 - n0) / (t1 - t0), (c1 - c0) / (n1 - n0) * 1e6, (b1 - b0) / (n1 - n0) * 1e6)
    finally:
        stop(proc)


def latency(env: dict, port: int, site_id: str, devices, technicians: list[str], samples: int, log: Path) -> list[float]:
    """Seconds from publishing a leak reading to the technician's `assigned` push, per sample."""
    proc = start_service(env, log)
    arrived: dict[str, float] = {}
    lock = threading.Lock()

    def on_message(_c, _u, message) -> None:
        body = json.loads(message.payload)
        if body.get("type") == "assigned" and body.get("device"):
            with lock:
                arrived.setdefault(body["device"], time.perf_counter())

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-latency", protocol=mqtt.MQTTv311)
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    # like a real device's stack, not paho's default: Nagle would add ~40 ms to every reading
    client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.loop_start()
    client.subscribe(f"caretaker/{site_id}/technicians/+/dispatch", qos=1)
    try:
        for tech in technicians:
            client.publish(f"caretaker/{site_id}/technicians/{tech}/location",
                           json.dumps({"ts": now_iso(), "building": "L1", "floor": 1}), qos=1).wait_for_publish(5)
        time.sleep(1.0)
        leaks = [d for d in devices if d.type == "water_leak"][:samples]
        result = []
        for device in leaks:
            sent = time.perf_counter()
            body = json.dumps({"ts": now_iso(), "values": {"leak": True}})
            client.publish(f"caretaker/{site_id}/devices/{device.id}/telemetry", body, qos=1)
            deadline = time.monotonic() + 5
            while device.id not in arrived and time.monotonic() < deadline:
                time.sleep(0.001)
            if device.id in arrived:
                result.append(arrived[device.id] - sent)
            time.sleep(0.05)
        return result
    finally:
        client.disconnect()
        client.loop_stop()
        stop(proc)


class Databases:
    """A fresh database for every service run: a SQLite file in the work directory, or with `--postgres` a
    PostgreSQL database of its own (created, and dropped afterwards), so no run sees an earlier run's rows."""

    def __init__(self, workdir: Path, database: str | None, postgres: str | None) -> None:
        self.workdir, self.database, self.postgres = workdir, database, postgres
        self.made: list[str] = []

    def kind(self) -> str:
        url = self.postgres or self.database or "sqlite"
        return url.split(":", 1)[0]

    def fresh(self) -> str:
        if self.database:  # the caller's own: used as it is, every run
            return self.database
        if self.postgres is None:
            return f"sqlite:///{self.workdir / f'bench-{len(self.made)}.db'}"
        name = f"caretaker_bench_{os.getpid()}_{len(self.made)}"
        self._admin(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"')
        self.made.append(name)
        return urlsplit(self.postgres)._replace(path=f"/{name}").geturl()

    def _admin(self, *statements: str) -> None:
        import psycopg

        url = self.postgres.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def drop(self) -> None:
        if self.postgres is not None and self.made:
            self._admin(*(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in self.made))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of bare subscriber then service (medians)")
    parser.add_argument("--samples", type=int, default=30, help="latency samples (0: no latency run)")
    parser.add_argument("--poll", type=float, default=POLL_SECONDS, help="seconds between two reads of /metrics")
    parser.add_argument("--database", default=None,
                        help="SQLAlchemy URL used as it is for every run (default: a fresh SQLite file per run)")
    parser.add_argument("--postgres", default=None, metavar="URL",
                        help="a PostgreSQL server, e.g. postgresql://postgres@127.0.0.1:5432/postgres: each run "
                             "gets a database of its own there, dropped at the end")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker, port = start_mosquitto(workdir)
        databases = Databases(workdir, args.database, args.postgres)
        try:
            site_file = workdir / "site.yaml"
            write_load_site(site_file, args.devices)
            devices = load_devices(args.devices)
            # one plumber per latency sample (a technician busy with a level-1 ticket takes no second one), and
            # one guard: a level-1 leak sends security too (the burst-pipe playbook, docs/operations.md)
            document = yaml.safe_load(site_file.read_text())
            template = document["technicians"][0]
            document["technicians"] = [
                {**template, "id": f"bench-{n:03d}", "badge": f"BENCH-{n:03d}", "skills": ["plumbing"]}
                for n in range(max(args.samples, 1))
            ] + [{**template, "id": f"guard-{n:03d}", "badge": f"GUARD-{n:03d}", "skills": ["security"]}
                 for n in range(max(args.samples, 1))]
            site_file.write_text(yaml.safe_dump(document))
            technicians = [t["id"] for t in document["technicians"]]
            http_port = free_port()

            def service_env() -> dict:
                return {**os.environ, "CARETAKER_SITE_FILE": str(site_file),
                        "CARETAKER_MQTT_URL": f"mqtt://127.0.0.1:{port}", "CARETAKER_DATABASE_URL": databases.fresh(),
                        "CARETAKER_HTTP_PORT": str(http_port), "CARETAKER_MQTT_CLIENT_ID": "bench-service",
                        # every sample its own incident, so every sample is a new assignment push
                        "CARETAKER_INCIDENT_WINDOW_S": "0"}

            log = workdir / "service.log"
            print(f"draining {args.messages} queued QoS 1 messages from {args.devices} devices on Mosquitto, "
                  f"{args.repeat} rounds, {databases.kind()}")
            print(f"  backlog by device type: {backlog_mix(devices, args.messages)}")
            print(f"  {'round':5}  {'load avg':15}  {'bare msg/s':>10}  {'µs CPU':>7}  {'service msg/s':>13}  "
                  f"{'µs CPU':>7}  {'ratio':>5}  {'broker µs (bare/svc)':>20}")
            bares: list[Drain] = []
            services: list[Drain] = []
            for n in range(args.repeat):
                before = load_average()
                bare = bare_baseline(port, broker.pid, "load", devices, args.messages)
                service = service_throughput(service_env(), http_port, port, broker.pid, "load", devices,
                                             args.messages, log, args.poll)
                bares.append(bare)
                services.append(service)
                print(f"  {n + 1:5}  {before:15}  {bare.rate:10.0f}  {bare.cpu_us:7.1f}  {service.rate:13.0f}  "
                      f"{service.cpu_us:7.1f}  {service.rate / bare.rate:5.2f}  "
                      f"{bare.broker_cpu_us:9.1f} / {service.broker_cpu_us:8.1f}", flush=True)
            med = statistics.median
            print(f"  bare paho subscriber (counts only):   {med(b.rate for b in bares):9.0f} msg/s, "
                  f"{med(b.cpu_us for b in bares):6.1f} µs CPU a message (median of {args.repeat})")
            print(f"  caretaker run (validate, store, rules, ack after commit): {med(s.rate for s in services):9.0f} "
                  f"msg/s, {med(s.cpu_us for s in services):6.1f} µs CPU a message")
            print(f"  ratio service / bare subscriber:      "
                  f"{med(s.rate / b.rate for s, b in zip(services, bares)):9.2f} (median of the rounds' ratios)")
            print(f"  load average after: {load_average()}")
            if args.samples:
                samples = latency(service_env(), port, "load", devices, technicians, args.samples, log)
                if samples:
                    samples_ms = sorted(s * 1000 for s in samples)
                    p95 = samples_ms[min(len(samples_ms) - 1, int(len(samples_ms) * 0.95))]
                    print(f"reading → assigned push, {len(samples_ms)} samples: median "
                          f"{statistics.median(samples_ms):.1f} ms, p95 {p95:.1f} ms, max {samples_ms[-1]:.1f} ms")
                else:
                    print("no latency samples: no push arrived")
        finally:
            broker.terminate()
            broker.wait(5)
            databases.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
