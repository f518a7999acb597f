"""Ingest throughput against a bare subscriber, and reading-to-push latency, measured in one run.

Both consumers drain the same number of QoS 1 messages that a real Mosquitto queued for their
persistent session while they were away, so the publisher's speed does not limit either; the
figure that matters is the ratio, since these machines are shared and noisy."""

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
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from caretaker.simulators.behaviour import next_values
from caretaker.simulators.load import load_devices, write_load_site

PY = sys.executable


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


def bare_baseline(port: int, site_id: str, devices, count: int) -> float:
    subprocess.run([PY, "-m", "benchmarks.bare_subscriber", "--port", str(port)], check=True, capture_output=True)
    publish_backlog(port, site_id, devices, count)
    out = subprocess.run([PY, "-m", "benchmarks.bare_subscriber", "--port", str(port), "--expect", str(count)],
                         check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["count"] == count, result
    return count / result["seconds"]


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


def service_throughput(env: dict, http_port: int, port: int, site_id: str, devices, count: int, log: Path) -> float:
    stop(start_service(env, log))  # creates the persistent session, then goes away
    publish_backlog(port, site_id, devices, count)
    proc = start_service(env, log)
    try:
        first_at = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = processed(http_port)
            now = time.perf_counter()
            if first_at is None and done > 0:
                first_at, first_done = now, done
            if done >= count:
                # the messages before the first poll were processed in no more time than the rest
                return (count - first_done) / (now - first_at) if now > first_at else float("nan")
            time.sleep(0.05)
        raise RuntimeError(f"only {processed(http_port)} of {count} processed")
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--samples", type=int, default=30, help="latency samples")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a SQLite file in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        broker, port = start_mosquitto(workdir)
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
                for n in range(args.samples)
            ] + [{**template, "id": f"guard-{n:03d}", "badge": f"GUARD-{n:03d}", "skills": ["security"]}
                 for n in range(args.samples)]
            site_file.write_text(yaml.safe_dump(document))
            technicians = [t["id"] for t in document["technicians"]]
            http_port = free_port()
            env = {**os.environ, "CARETAKER_SITE_FILE": str(site_file), "CARETAKER_MQTT_URL": f"mqtt://127.0.0.1:{port}",
                   "CARETAKER_DATABASE_URL": args.database or f"sqlite:///{workdir / 'bench.db'}",
                   "CARETAKER_HTTP_PORT": str(http_port), "CARETAKER_MQTT_CLIENT_ID": "bench-service",
                   # every sample its own incident, so every sample is a new assignment push
                   "CARETAKER_INCIDENT_WINDOW_S": "0"}
            log = workdir / "service.log"
            print(f"draining {args.messages} queued QoS 1 messages from {args.devices} devices on Mosquitto")
            print(f"  backlog by device type: {backlog_mix(devices, args.messages)}")
            baseline = bare_baseline(port, "load", devices, args.messages)
            print(f"  bare paho subscriber (counts only):   {baseline:9.0f} msg/s")
            service = service_throughput(env, http_port, port, "load", devices, args.messages, log)
            print(f"  caretaker run (validate, store, rules, ack after commit): {service:9.0f} msg/s")
            print(f"  ratio service / bare subscriber:      {service / baseline:9.2f}")
            samples = latency(env, port, "load", devices, technicians, args.samples, log)
            if samples:
                samples_ms = sorted(s * 1000 for s in samples)
                p95 = samples_ms[min(len(samples_ms) - 1, int(len(samples_ms) * 0.95))]
                print(f"reading → assigned push, {len(samples_ms)} samples: median {statistics.median(samples_ms):.1f} ms, "
                      f"p95 {p95:.1f} ms, max {samples_ms[-1]:.1f} ms")
            else:
                print("no latency samples: no push arrived")
        finally:
            broker.terminate()
            broker.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
