"""Run the real service against a real Mosquitto and database, and watch the broker like a client would."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings

SMALL_SITE = Path(__file__).resolve().parent.parent / "fixtures" / "small-site.yaml"
PREFIX = "caretaker"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Seen:
    topic: str
    payload: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.payload)


class Watcher:
    """A paho client that records every message under the prefix and publishes like a device or app."""

    def __init__(self, host: str, port: int, client_id: str = "test-watcher") -> None:
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(f"{PREFIX}/#", qos=1)
        assert subscribed.wait(5), "watcher could not subscribe"

    def _on_message(self, _c, _u, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.seen.append(Seen(message.topic, message.payload, time.monotonic()))

    def publish(self, topic: str, payload: dict | bytes, qos: int = 1, retain: bool = False) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.client.publish(f"{PREFIX}/{topic}", body, qos=qos, retain=retain).wait_for_publish(5)

    def on(self, suffix: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.topic.endswith(suffix)]

    def wait_for(self, suffix: str, predicate: Callable[[Any], bool] = lambda _: True, timeout: float = 5.0) -> Seen:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for seen in self.on(suffix):
                if predicate(seen.json()):
                    return seen
            time.sleep(0.02)
        raise AssertionError(f"no message on *{suffix} matching within {timeout} s; saw {[s.topic for s in self.seen][-20:]}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def start_service(broker_url: str, database_url: str, site_file: Path = SMALL_SITE, **overrides: Any) -> Service:
    overrides.setdefault("mqtt_client_id", f"caretaker-test-{time.monotonic_ns()}")
    overrides.setdefault("tick_seconds", 0.2)
    settings = Settings(mqtt_url=broker_url, database_url=database_url, site_file=site_file, **overrides)
    service = Service(settings, load_configuration(settings))
    service.start(with_http=False)
    return service


def wait_until(check: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")


def place_and_wait(service: Service, watcher: "Watcher", *where: tuple[str, str, int]) -> None:
    """Report each (technician, building, floor) as the app does, and wait until the service has stored them all."""
    from sqlalchemy import select

    from caretaker.dispatch.tables import TechnicianLocationRow
    for tech, building, floor in where:
        watcher.publish(f"test-estate/technicians/{tech}/location",
                        {"ts": now_iso(), "building": building, "floor": floor})

    def stored() -> bool:
        with service.sessions() as session:
            rows = {r.technician: r.building for r in session.scalars(select(TechnicianLocationRow))}
        return all(rows.get(tech) == building for tech, building, _ in where)
    wait_until(stored, what="locations stored")
