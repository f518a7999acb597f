"""Load mode: many devices' telemetry at a fixed total rate, and a site file that knows those devices."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml

from caretaker.estate.model import DEVICE_TYPES, SKILLS, Device, Place

from caretaker.simulators.behaviour import next_values
from caretaker.simulators.broker import BrokerAddress, connect, flush_and_disconnect
from caretaker.simulators.payloads import DEFAULT_PREFIX, device_topic, format_ts, telemetry_payload

LOAD_BUILDINGS: dict[str, tuple[int, int]] = {"L1": (-1, 20), "L2": (-1, 20), "L3": (1, 12), "L4": (1, 12)}
LOAD_TECHNICIANS = 6
FLUSH_TIMEOUT_SECONDS = 30.0
MAX_BACKLOG = 2000  # messages queued in paho but not yet delivered, per client
MAX_INFLIGHT = 1000  # paho's default of 20 unacknowledged QoS 1 messages caps a publisher at ~2k/s


@dataclass(frozen=True, slots=True)
class LoadReport:
    sent: int  # publish calls the client accepted
    delivered: int  # written to the socket (QoS 0) or acknowledged by the broker (QoS 1)
    elapsed_s: float
    clients: int

    @property
    def rate(self) -> float:
        """Return the achieved rate in delivered messages per second."""
        return self.delivered / self.elapsed_s if self.elapsed_s > 0 else 0.0


def load_devices(n_devices: int) -> list[Device]:
    """Return `n_devices` devices of every type in turn, spread over the load buildings' floors."""
    buildings = list(LOAD_BUILDINGS.items())
    devices: list[Device] = []
    for i in range(n_devices):
        device_type = DEVICE_TYPES[i % len(DEVICE_TYPES)]
        building, (low, high) = buildings[(i // len(DEVICE_TYPES)) % len(buildings)]
        floor = low + (i * 7) % (high - low + 1)
        devices.append(Device(f"load-{i:05d}", device_type, Place(building, floor or 1, "riser")))
    return devices


def load_site_document(n_devices: int, site_id: str = "load") -> dict[str, Any]:
    """Return a site file (docs/site-file.md) with `n_devices` devices and always-on technicians."""
    names = list(LOAD_BUILDINGS)
    return {
        "site": site_id,
        "name": f"Load test estate ({n_devices} devices)",
        "timezone": "Asia/Shanghai",
        "travel": {"floor_s": 15, "buildings": [[a, b, 60 + 30 * i] for i, (a, b) in
                                                 enumerate(itertools.combinations(names, 2))]},
        "buildings": [{"id": b, "floors": [low, high]} for b, (low, high) in LOAD_BUILDINGS.items()],
        "devices": [{"id": d.id, "type": d.type, "building": d.place.building, "floor": d.place.floor,
                     "zone": d.place.zone} for d in load_devices(n_devices)],
        "technicians": [{"id": f"t-load-{i}", "name": f"Load Tech {i}", "phone": f"1380000{i:04d}",
                         "skills": list(SKILLS), "badge": f"B-L{i:03d}"}
                        for i in range(1, LOAD_TECHNICIANS + 1)],
        "supervisors": [{"id": "s-load", "name": "Load Supervisor", "phone": "13900000000"}],
    }


def write_load_site(path: str | Path, n_devices: int, site_id: str = "load") -> None:
    """Write the load site file to `path` (see load_site_document)."""
    text = yaml.safe_dump(load_site_document(n_devices, site_id), sort_keys=False, allow_unicode=True,
                          default_flow_style=None)  # one line per device, as people write it
    Path(path).write_text(text, encoding="utf-8")


def _publish_share(client: mqtt.Client, topics: Sequence[str], devices: Sequence[Device], rate: float,
                   duration_s: float, qos: int, stop: threading.Event, sent: list[int], delivered: list[int],
                   slot: int) -> None:
    """Publish on one client at `rate` msg/s for `duration_s`, round-robin over its devices, never
    more than MAX_BACKLOG ahead of what the network loop has delivered."""
    rng = random.Random(slot)
    seqs = [0] * len(devices)
    last: list[dict[str, Any] | None] = [None] * len(devices)
    start = time.monotonic()
    count = 0
    i = 0
    while not stop.is_set():
        now = time.monotonic()
        if now - start >= duration_s:
            break
        due = int((now - start) * rate) + 1 - count  # messages behind schedule
        if due <= 0:
            time.sleep(min(0.005, (count + 1) / rate - (now - start)))
            continue
        if sent[slot] - delivered[slot] > MAX_BACKLOG:
            # paho queues without limit: running ahead of the socket would only report a rate never reached
            time.sleep(0.001)
            continue
        ts = format_ts(datetime.now(timezone.utc))
        for _ in range(min(due, 1000)):
            k = i % len(devices)
            last[k] = next_values(devices[k].type, last[k], rng)
            info = client.publish(topics[k], telemetry_payload(ts, seqs[k], last[k]), qos=qos)
            seqs[k] += 1
            i += 1
            count += 1
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                sent[slot] += 1


def run_load(address: BrokerAddress, devices: Sequence[Device], site_id: str, rate: float,
             duration_s: float, qos: int = 0, clients: int = 1, prefix: str = DEFAULT_PREFIX,
             stop: threading.Event | None = None, log: Callable[[str], None] = print) -> LoadReport:
    """Publish telemetry of `devices` at `rate` msg/s in total for `duration_s` over `clients`
    connections, wait for delivery, and return what was sent and the achieved rate."""
    if not devices or rate <= 0 or duration_s <= 0 or clients < 1:
        raise ValueError("load needs devices, a positive rate and duration, and at least one client")
    stop = stop or threading.Event()
    clients = min(clients, len(devices))
    shares = [list(devices[c::clients]) for c in range(clients)]
    delivered = [0] * clients
    lock = threading.Lock()
    conns: list[mqtt.Client] = []
    try:
        for c in range(clients):
            client = connect(address, f"sim-load-{site_id}-{c}", max_inflight=MAX_INFLIGHT)

            def on_publish(cl: mqtt.Client, userdata: object, mid: int, rc: object, props: object,
                           slot: int = c) -> None:
                with lock:
                    delivered[slot] += 1

            client.on_publish = on_publish
            conns.append(client)
        log(f"load: {len(devices)} devices, {rate:g} msg/s for {duration_s:g} s at QoS {qos} over {clients} clients")
        sent = [0] * clients
        start = time.monotonic()
        threads = [threading.Thread(target=_publish_share, daemon=True, name=f"load-{c}", args=(
            conns[c], [device_topic(prefix, site_id, d.id, "telemetry") for d in shares[c]], shares[c],
            rate / clients, duration_s, qos, stop, sent, delivered, c)) for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flush_until = time.monotonic() + FLUSH_TIMEOUT_SECONDS
        while sum(delivered) < sum(sent) and time.monotonic() < flush_until and not stop.is_set():
            time.sleep(0.01)
        elapsed = time.monotonic() - start
    finally:
        for client in conns:
            flush_and_disconnect(client, timeout_s=2.0)
    report = LoadReport(sent=sum(sent), delivered=min(sum(delivered), sum(sent)), elapsed_s=elapsed, clients=clients)
    log(f"load: sent {report.sent}, delivered {report.delivered} in {report.elapsed_s:.2f} s "
        f"= {report.rate:.0f} msg/s (target {rate:g})")
    return report

