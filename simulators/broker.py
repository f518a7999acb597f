"""The simulators' MQTT edge: connecting paho clients and publishing through them."""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 10.0
KEEPALIVE_SECONDS = 30

MessageHandler = Callable[[str, bytes], None]


class SimulatorError(Exception):
    """Base of the simulators' errors."""


class BrokerUnavailable(SimulatorError):
    """The broker could not be reached, or did not accept the connection in time."""


class BrokerRefused(SimulatorError):
    """The broker answered the connection with a failure (bad credentials, bad client id...)."""


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    def __repr__(self) -> str:
        # the password never appears in logs or tracebacks
        return f"BrokerAddress(host={self.host!r}, port={self.port}, username={self.username!r}, tls={self.tls})"


@dataclass(frozen=True, slots=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class Publisher(Protocol):
    """Where simulated devices and technicians send their messages."""

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Queue one message for the broker; never blocks on the network."""


class Subscriber(Protocol):
    def subscribe(self, topic: str, qos: int, handler: MessageHandler) -> None:
        """Call `handler(topic, payload)` for every message on `topic`, also after reconnects."""


def _set_nodelay(client: mqtt.Client) -> None:
    # paho leaves Nagle on: small QoS 0 publishes would wait ~9 ms for more data (docs/benchmarks.md)
    sock = client.socket()
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # unix sockets and websockets have no Nagle to switch off
            pass


def connect(address: BrokerAddress, client_id: str, will: Will | None = None,
            protocol: int = mqtt.MQTTv311, timeout_s: float = CONNECT_TIMEOUT_SECONDS,
            max_inflight: int | None = None) -> mqtt.Client:
    """Return a paho client connected to the broker with its network loop running; raises
    BrokerUnavailable or BrokerRefused when the broker does not accept it within `timeout_s`.
    `max_inflight` raises paho's limit of 20 unacknowledged QoS 1/2 messages (settable only here)."""
    # 3.1.1 by default: the demo's embedded amqtt broker speaks it, and we need nothing from 5
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                         clean_session=True if protocol != mqtt.MQTTv5 else None)
    if address.username is not None:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    if will is not None:
        client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    if max_inflight is not None:
        client.max_inflight_messages_set(max_inflight)

    connected = threading.Event()
    outcome: dict[str, object] = {}

    def on_connect(c: mqtt.Client, userdata: object, flags: object, reason_code: mqtt.ReasonCode,
                   properties: object) -> None:
        if reason_code.is_failure:
            outcome.setdefault("failure", str(reason_code))
        else:
            _set_nodelay(c)  # again on every reconnect: each one opens a new socket
        connected.set()

    client.on_connect = on_connect
    where = f"{address.host}:{address.port}"
    try:
        client.connect(address.host, address.port, keepalive=KEEPALIVE_SECONDS)
    except (OSError, ValueError) as exc:
        raise BrokerUnavailable(f"cannot reach the MQTT broker at {where} as {client_id!r}: {exc}") from exc
    _set_nodelay(client)
    client.loop_start()
    if not connected.wait(timeout_s):
        client.loop_stop()
        client.disconnect()
        raise BrokerUnavailable(f"no CONNACK from the MQTT broker at {where} within {timeout_s:g} s")
    if "failure" in outcome:
        client.disconnect()
        client.loop_stop()
        raise BrokerRefused(f"the MQTT broker at {where} refused {client_id!r}: {outcome['failure']}")
    return client


class MqttPublisher:
    """A Publisher and Subscriber over one connected paho client."""

    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self._subscriptions: list[tuple[str, int]] = []
        # messages paho may still hold: a DISCONNECT would drop those not yet sent or acknowledged
        self._pending: deque[mqtt.MQTTMessageInfo] = deque()
        self._pending_lock = threading.Lock()
        previous = client.on_connect

        def on_connect(c: mqtt.Client, userdata: object, flags: object, reason_code: mqtt.ReasonCode,
                       properties: object) -> None:
            if previous is not None:
                previous(c, userdata, flags, reason_code, properties)
            # a clean session forgets subscriptions: renew them after a reconnect
            if not reason_code.is_failure:
                for topic, qos in list(self._subscriptions):
                    c.subscribe(topic, qos)

        client.on_connect = on_connect

    def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        with self._pending_lock:
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._pending.append(info)
            while self._pending and _settled(self._pending[0]):
                self._pending.popleft()
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            # NO_CONN: paho keeps QoS>0 messages and sends them after the reconnect
            log.warning("publish to %s failed: %s", topic, mqtt.error_string(info.rc))

    def subscribe(self, topic: str, qos: int, handler: MessageHandler) -> None:
        def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            try:
                handler(message.topic, message.payload)
            except Exception:  # paho's thread must survive one bad message
                log.exception("handler for %s failed", message.topic)

        self.client.message_callback_add(topic, on_message)
        self._subscriptions.append((topic, qos))
        self.client.subscribe(topic, qos)

    def close(self, timeout_s: float = 5.0) -> None:
        """Disconnect cleanly (no will) after the queued messages have gone, within `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        with self._pending_lock:
            pending = list(self._pending)
            self._pending.clear()
        for info in pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                info.wait_for_publish(remaining)
            except (RuntimeError, ValueError):  # never queued (not connected) or already failed
                pass
        flush_and_disconnect(self.client, max(0.5, deadline - time.monotonic()))


def _settled(info: mqtt.MQTTMessageInfo) -> bool:
    """Return whether a publish needs no more waiting for: delivered, or failed (paho raises then)."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return True


def flush_and_disconnect(client: mqtt.Client, timeout_s: float = 5.0) -> None:
    """Disconnect `client` cleanly once its outgoing queue is empty or `timeout_s` has passed."""
    done = threading.Event()
    client.on_disconnect = lambda *a: done.set()
    # paho sends queued packets before the DISCONNECT it appends to the same queue
    client.disconnect()
    done.wait(timeout_s)
    client.loop_stop()
