"""The ingest client's acknowledgements on a real Mosquitto: what `ack()` acknowledged, alone or together in
`acking()`, the broker does not deliver again; what it did not, it delivers again to the next connection."""

from __future__ import annotations

import queue
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from caretaker.ingest.client import IngestClient, Inbound, MqttTarget

TOPIC = "acks/devices/{n}/telemetry"


def publish(broker, count: int) -> list[bytes]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acks-pub-{time.monotonic_ns()}")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        payloads = [f"reading {n}".encode() for n in range(count)]
        infos = [client.publish(TOPIC.format(n=n), payload, qos=1) for n, payload in enumerate(payloads)]
        for info in infos:
            info.wait_for_publish(10)
        return payloads
    finally:
        client.disconnect()
        client.loop_stop()


def receive(client: IngestClient, count: int, timeout_s: float = 10.0) -> list[Inbound]:
    deadline = time.monotonic() + timeout_s
    got = []
    while len(got) < count:
        try:
            got.append(client.inbox.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            break
    return got


def nothing_more(client: IngestClient, seconds: float = 1.0) -> bool:
    try:
        extra = client.inbox.get(timeout=seconds)
    except queue.Empty:
        return True
    raise AssertionError(f"delivered again although acknowledged: {extra.payload!r}")


@pytest.mark.parametrize("protocol", [5, 4], ids=["mqtt5", "mqtt311"])
def test_acknowledged_together_or_alone_is_not_delivered_again_and_the_rest_is(mosquitto, protocol):
    target = MqttTarget(mosquitto.host, mosquitto.port)
    client_id = f"acks-{protocol}-{time.monotonic_ns()}"
    first = IngestClient(target, client_id, protocol, ["acks/devices/+/telemetry"])
    first.start()
    try:
        payloads = publish(mosquitto, 30)
        got = receive(first, 30)
        assert [m.payload for m in got] == payloads
        with first.acking():  # a batch's acknowledgements, in one write when the block ends
            for message in got[:20]:
                first.ack(message)
        first.ack(got[20])  # one alone, as before
    finally:
        first.stop()
    again = IngestClient(target, client_id, protocol, ["acks/devices/+/telemetry"])
    again.start()
    try:
        redelivered = receive(again, 9)
        assert sorted(m.payload for m in redelivered) == sorted(payloads[21:])
        with again.acking():
            for message in redelivered:
                again.ack(message)
        assert nothing_more(again)
    finally:
        again.stop()
    last = IngestClient(target, client_id, protocol, ["acks/devices/+/telemetry"])
    last.start()
    try:
        assert nothing_more(last)  # the redelivered ones, acknowledged together, are done too
    finally:
        last.stop()


def test_acknowledgements_held_across_a_new_connection_are_not_sent(mosquitto):
    """An id names a message only on the connection that brought it: held ones are not sent on the next, so the
    broker delivers those messages again."""
    target = MqttTarget(mosquitto.host, mosquitto.port)
    client_id = f"acks-held-{time.monotonic_ns()}"
    first = IngestClient(target, client_id, 5, ["acks/devices/+/telemetry"])
    first.start()
    try:
        payloads = publish(mosquitto, 5)
        got = receive(first, 5)
        assert len(got) == 5
        with first.acking():
            for message in got:
                first.ack(message)
            first._connection += 1  # what on_connect counts when paho reconnects while the block runs
    finally:
        first.stop()
    again = IngestClient(target, client_id, 5, ["acks/devices/+/telemetry"])
    again.start()
    try:
        assert sorted(m.payload for m in receive(again, 5)) == sorted(payloads)
    finally:
        again.stop()
