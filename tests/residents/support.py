"""The residents' tests' estate: a copy of tests/fixtures/small-site.yaml with units (one resident
vulnerable), a second meter in building A and a plumber named 王军, written into the test's own folder."""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from tests.service.harness import PREFIX, SMALL_SITE

SITE_ID = "test-estate"
UNITS_A = ["A-0101", "A-0502", "A-1001"]
UNITS_B = ["B-0201"]
VULNERABLE = {"unit": "A-1001", "floor": 10, "name": "Zhao Min", "phone": "13700137000"}
# a 1x1 PNG: a real image by its bytes, for the close-out photo
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


def site_with_units(folder: Path, locale: str = "zh-CN", plant: bool = False) -> Path:
    """Write the residents' copy of the small site into `folder` and return its path; `plant`: a plant
    building P whose supply feeds A and B, with a meter of its own."""
    data = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    data["locale"] = locale
    if plant:
        data["buildings"].append({"id": "P", "floors": [-1, 1], "supplies": ["A", "B"]})
        data["devices"].append({"id": "P-METER-1", "type": "power_meter", "building": "P", "floor": -1})
    data["devices"].append({"id": "A-METER-2", "type": "power_meter", "building": "A", "floor": 1})
    for tech in data["technicians"]:
        if tech["id"] == "t-near":
            tech["name"] = "王军"
    data["units"] = [
        {"id": "A-0101", "building": "A", "floor": 1, "residents": [{"name": "Qian Hui", "phone": "13700137001"}]},
        {"id": "A-0502", "building": "A", "floor": 5, "residents": [{"name": "Sun Li", "phone": "13600136000"}]},
        {"id": "A-1001", "building": "A", "floor": 10,
         "residents": [{"name": VULNERABLE["name"], "phone": VULNERABLE["phone"], "vulnerable": True}]},
        {"id": "B-0201", "building": "B", "floor": 2, "residents": [{"name": "Li Lei", "phone": "13500135000"}]},
    ]
    path = folder / "residents-site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class Notices:
    """A resident gateway: subscribes to `caretaker/{site}/units/+/notice` and keeps what arrives, by unit."""

    def __init__(self, host: str, port: int) -> None:
        self._lock = threading.Lock()
        self.seen: list[tuple[str, dict[str, Any], bool]] = []  # (unit, notice, retained)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"resident-gw-{time.monotonic_ns()}",
                                  protocol=mqtt.MQTTv311)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(f"{PREFIX}/{SITE_ID}/units/+/notice", qos=1)
        assert subscribed.wait(5), "the gateway could not subscribe"

    def _on_message(self, _c, _u, message: mqtt.MQTTMessage) -> None:
        unit = message.topic.split("/")[-2]
        with self._lock:
            self.seen.append((unit, json.loads(message.payload), bool(message.retain)))

    def of(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return [(unit, notice) for unit, notice, _ in self.seen if notice["type"] == kind]

    def wait(self, kind: str, count: int, timeout: float = 20.0) -> list[tuple[str, dict[str, Any]]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(kind)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} `{kind}` notices not seen within {timeout} s; saw {self.seen}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
