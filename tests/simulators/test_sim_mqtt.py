"""The simulators against a real Mosquitto: what a scenario publishes arrives, bots answer over MQTT."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt
import pytest

from caretaker.simulators.broker import BrokerAddress, BrokerUnavailable, connect
from caretaker.simulators.load import load_devices, run_load
from caretaker.simulators.runner import run_simulation

pytestmark = pytest.mark.mqtt


class Listener:
    """A bare paho subscriber that keeps (topic, payload, retain) of everything under a filter."""

    def __init__(self, address: BrokerAddress, topic_filter: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = connect(address, f"test-listener-{time.monotonic_ns()}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.subscribe(topic_filter, qos=1)
        assert subscribed.wait(5), "no SUBACK"

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))

    def topics(self) -> list[str]:
        with self._lock:
            return [t for t, _, _ in self.messages]

    def bodies(self, suffix: str) -> list[dict]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix)]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.02)
        return predicate()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def address(mosquitto) -> BrokerAddress:
    return BrokerAddress(mosquitto.host, mosquitto.port)


@pytest.fixture
def listen(address) -> Iterator[Callable[[str], Listener]]:
    opened: list[Listener] = []

    def make(topic_filter: str) -> Listener:
        opened.append(Listener(address, topic_filter))
        return opened[-1]

    yield make
    for listener in opened:
        listener.close()


def test_an_unreachable_broker_fails_at_once():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens once the socket closes
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match=f"127.0.0.1:{port}"):
        connect(BrokerAddress("127.0.0.1", port), "nobody-home", timeout_s=2.0)
    assert time.monotonic() - started < 3.0


@pytest.mark.parametrize("shared", [False, True], ids=["client-per-device", "shared-client"])
def test_a_scenario_arrives_on_the_broker(shared, small_site, address, listen):
    prefix = f"it{int(shared)}"
    listener = listen(f"{prefix}/#")
    run_simulation(small_site, address, prefix=prefix, scenario="door-forced", seed=1, speed=100.0,
                   shared_client=shared, log=lambda s: None)
    # the run is over and its clients disconnected cleanly; a marker sent after them arrives after them
    marker = connect(address, f"test-marker-{prefix}")
    marker.publish(f"{prefix}/marker", b"{}", qos=1).wait_for_publish(5)
    assert listener.wait_for(lambda: f"{prefix}/marker" in listener.topics())
    marker.disconnect()
    marker.loop_stop()
    # the devices are left as the run found them: online, no offline status, no will fired
    assert [b for b in listener.bodies("/status") if b["state"] == "offline"] == []
    topics = set(listener.topics())
    for device in small_site.devices:
        assert f"{prefix}/test-site/devices/{device}/status" in topics
        assert f"{prefix}/test-site/devices/{device}/telemetry" in topics
    for tech in small_site.technicians:
        assert f"{prefix}/test-site/technicians/{tech}/location" in topics
    events = [b["type"] for b in listener.bodies("/event")]
    assert "door_forced" in events and "badge_granted" in events
    online = [b for b in listener.bodies("/status") if b["state"] == "online"]
    assert len(online) == len(small_site.devices)


def test_retained_online_status_is_kept_by_the_broker(small_site, address, listen):
    stop = threading.Event()
    runner = threading.Thread(target=run_simulation, kwargs=dict(
        site=small_site, address=address, prefix="ret", stop=stop, technicians=False, log=lambda s: None))
    runner.start()
    try:
        first = listen("ret/#")
        # every device has said online before the late listener subscribes (a status still on its way would
        # reach it live, not retained)
        assert first.wait_for(lambda: len({t for t in first.topics() if t.endswith("/status")})
                              == len(small_site.devices))
        late = listen("ret/test-site/devices/+/status")
        assert late.wait_for(lambda: len(late.messages) == len(small_site.devices))
        assert all(retain and json.loads(p)["state"] == "online" for _, p, retain in late.messages)
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


def test_a_bot_accepts_and_arrives_over_mqtt(small_site, address, listen):
    listener = listen("bot/test-site/technicians/#")
    stop = threading.Event()
    runner = threading.Thread(target=run_simulation, kwargs=dict(
        site=small_site, address=address, prefix="bot", stop=stop, speed=100.0, log=lambda s: None))
    runner.start()
    try:
        assert listener.wait_for(lambda: "bot/test-site/technicians/t-wang/location" in listener.topics())
        dispatcher = connect(address, "test-dispatcher")
        dispatcher.publish("bot/test-site/technicians/t-wang/dispatch", json.dumps(
            {"type": "assigned", "ticket": "T-9", "location": {"building": "B", "floor": 3, "zone": "riser"}}),
            qos=1).wait_for_publish(5)
        assert listener.wait_for(lambda: [b["action"] for b in listener.bodies("t-wang/reply")] == ["accept", "arrive"])
        assert listener.bodies("t-wang/reply")[0]["ticket"] == "T-9"
        dispatcher.disconnect()
        dispatcher.loop_stop()
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


@pytest.mark.parametrize("qos", [0, 1])
def test_load_mode_reports_what_it_sent(qos, address, listen):
    listener = listen("load/#")
    devices = load_devices(30)
    report = run_load(address, devices, "load", rate=2000.0, duration_s=0.5, qos=qos, clients=2,
                      prefix="load", log=lambda s: None)
    assert 800 <= report.sent <= 1100
    assert report.delivered == report.sent and report.rate > 0
    assert listener.wait_for(lambda: len(listener.messages) == report.sent)
    seqs: dict[str, list[int]] = {}
    for topic, payload, _ in listener.messages:
        seqs.setdefault(topic, []).append(json.loads(payload)["seq"])
    assert all(s == list(range(len(s))) for s in seqs.values())
