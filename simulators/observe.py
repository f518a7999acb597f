"""What an estate looks like from outside during a load: the broker as integrations and technicians' apps see it
(alert events and pushes), the control room's live stream, and an operator's screen refreshing the ticket and
alert lists; each records when things arrived. T30 of the fault suite and `benchmarks/storm.py` watch a storm
with them."""

from __future__ import annotations

import http.client
import json
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class BrokerWatch:
    """Alert events and pushes on the broker, each with its arrival time (`time.time()`)."""

    def __init__(self, host: str, port: int, site: str) -> None:
        self.alerts: list[tuple[float, dict]] = []
        self.pushes: list[tuple[float, str, dict]] = []  # (arrival, technician, push)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{site}-{time.monotonic_ns()}",
                                  protocol=mqtt.MQTTv311)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe([(f"caretaker/{site}/alerts", 1), (f"caretaker/{site}/technicians/+/dispatch", 1)])
        if not subscribed.wait(5):
            raise RuntimeError("the broker did not confirm the subscription")

    def _on_message(self, _c, _u, message) -> None:
        at = time.time()
        body = json.loads(message.payload)
        if message.topic.endswith("/alerts"):
            self.alerts.append((at, body))
        else:
            self.pushes.append((at, message.topic.split("/")[3], body))

    def raised(self) -> list[dict]:
        return [body for _, body in list(self.alerts) if body.get("state") == "raised"]

    def first_raised(self) -> tuple[dict[str, float], dict[str, float]]:
        """When each alert's first `raised` event came (by alert), and each device's first one naming a ticket."""
        by_alert: dict[str, float] = {}
        with_ticket: dict[str, float] = {}
        for at, body in list(self.alerts):
            if body.get("state") == "raised":
                by_alert.setdefault(body["alert"], at)
                if body.get("ticket"):
                    with_ticket.setdefault(body["device"], at)
        return by_alert, with_ticket

    def first_assigned(self, tickets: dict[str, str]) -> dict[str, float]:
        """When the first `assigned` push of each of these tickets came, by the value `tickets` maps it to."""
        pushed: dict[str, float] = {}
        for at, _tech, body in list(self.pushes):
            if body.get("type") == "assigned" and body.get("ticket") in tickets:
                pushed.setdefault(tickets[body["ticket"]], at)
        return pushed

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class LiveStream(threading.Thread):
    """The control room's live stream (`GET /api/v1/stream`): every event with the time it arrived."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True, name="live-stream")
        self.token = token
        self.events: list[tuple[float, str, dict]] = []
        self.ready = threading.Event()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def run(self) -> None:
        self.connection.request("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {self.token}"})
        response = self.connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"the stream answered {response.status}")
        event = None
        try:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event is not None:
                    if event == "hello":
                        self.ready.set()
                    else:
                        self.events.append((time.time(), event, json.loads(line[6:])))
                    event = None
        except (OSError, ValueError, http.client.HTTPException):
            return  # closed at the end

    def raised(self) -> set[str]:
        return set(self.first_raised())

    def first_raised(self) -> dict[str, float]:
        """When each alert first came on the stream as raised, by alert."""
        came: dict[str, float] = {}
        for at, event, body in list(self.events):
            if event == "alert" and body.get("state") == "raised":
                came.setdefault(body["id"], at)
        return came

    def close(self) -> None:
        try:
            self.connection.sock and self.connection.sock.close()
        except OSError:
            pass


class ListPoller(threading.Thread):
    """An operator's screen refreshing the ticket and alert lists, one call every `pause_s`; each call's time."""

    PATHS = ("/api/v1/tickets", "/api/v1/alerts")

    def __init__(self, port: int, token: str, pause_s: float = 0.05) -> None:
        super().__init__(daemon=True, name="list-poller")
        self.port, self.token, self.pause_s = port, token, pause_s
        self.latencies: list[float] = []
        self.statuses: set[int] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        n = 0
        while not self.stop.is_set():
            started = time.monotonic()
            connection.request("GET", self.PATHS[n % 2], headers={"Authorization": f"Bearer {self.token}"})
            response = connection.getresponse()
            response.read()
            self.latencies.append(time.monotonic() - started)
            self.statuses.add(response.status)
            n += 1
            self.stop.wait(self.pause_s)
        connection.close()

    def take(self) -> list[float]:
        """The latencies so far, and start afresh (a baseline window, then the storm's)."""
        taken, self.latencies = self.latencies, []
        return taken
