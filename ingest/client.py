"""The paho-mqtt edge: a persistent-session subscriber with manual acks, and a publisher for outbound messages."""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import struct
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator, Sequence
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

log = logging.getLogger(__name__)

SESSION_EXPIRY_SECONDS = 7 * 24 * 3600  # the broker keeps our queue a week while the service is down
RECEIVE_MAXIMUM = 1000  # unacknowledged QoS 1 messages the broker may have in flight to us (MQTT 5)
STOP_WAIT_S = 2.0  # how long stop() waits for the broker to confirm our acknowledgements, and to go
FLUSH_TOPIC = "caretaker-internal/flush"  # never subscribed: only unsubscribed from, for the broker's answer


class BrokerUnavailable(Exception):
    """The broker could not be reached or refused us; the message says which and where."""


@dataclass(frozen=True, slots=True)
class MqttTarget:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line, not even through repr()
    tls: bool = False
    ca_file: str | None = None  # PEM of a private CA (CARETAKER_MQTT_CA_FILE); None: the system's CAs
    cert_file: str | None = None  # a client certificate and its key, for a broker that asks for one
    key_file: str | None = None

    def __str__(self) -> str:  # never prints the password
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttTarget:
    """Return the broker address of an `mqtt://user:pass@host:port` or `mqtts://…` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"broker URL must start with mqtt:// or mqtts://, got {parts.scheme or 'nothing'}://")
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise ValueError("broker URL has no host")
    return MqttTarget(parts.hostname, parts.port or (8883 if tls else 1883),
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, tls)


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as received: acknowledged by (mid, qos) only after its effects are committed."""

    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 0
    retain: bool = False  # a retained message the broker replays on (re)subscribing
    connection: int = 0  # which connection brought it: a message id means nothing on a later one
    arrived: float = 0.0  # time.monotonic() when received: where the reading → push latency starts (/metrics)


@dataclass(frozen=True, slots=True)
class SessionReport:
    """What the broker said about our persistent session when a connection was accepted."""

    connection: int  # 1 for the process's first connection
    present: bool  # False: the broker had no session for us, so whatever it queued for us is gone


def _new_client(target: MqttTarget, client_id: str, protocol: int, clean: bool, manual_ack: bool) -> mqtt.Client:
    version = mqtt.MQTTv5 if protocol == 5 else mqtt.MQTTv311
    kwargs = {} if version == mqtt.MQTTv5 else {"clean_session": clean}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=version,
                         manual_ack=manual_ack, reconnect_on_failure=True, **kwargs)
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set(ca_certs=target.ca_file, certfile=target.cert_file, keyfile=target.key_file,
                       cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def refusal(target: MqttTarget, reason: object) -> str:
    """Say why the broker refused our CONNECT, from its CONNACK reason code (MQTT 5, or 3.1.1's return code
    as paho names it); pure."""
    said = str(reason).lower()
    if "user name or password" in said or "not authori" in said:
        hint = "check the user and password in CARETAKER_MQTT_URL and the broker's password file"
        return f"the broker at {target} refused our login: {said} ({hint})"
    return f"the broker at {target} refused our connection: {said}"


def _no_delay(client: mqtt.Client) -> None:
    # paho leaves Nagle on, which holds small publishes back by milliseconds
    sock = client.socket()
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class IngestClient:
    """Subscribes to the inbound topics with a fixed client id and a persistent session; puts messages on
    `self.inbox` and acknowledges them only when told, after the batch is committed."""

    def __init__(self, target: MqttTarget, client_id: str, protocol: int, subscriptions: Sequence[str]) -> None:
        self.target = target
        self.protocol = protocol
        self.subscriptions = list(subscriptions)
        self.inbox: queue.SimpleQueue[Inbound] = queue.SimpleQueue()
        self._client = _new_client(target, client_id, protocol, clean=False, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._subscribed = threading.Event()
        self._answered = threading.Event()  # subscribed, or the broker refused our CONNECT
        self._refused: str | None = None
        self._connection = 0
        self.connected = False
        self.received = 0
        # one report per accepted connection, read by the service, which decides whether a missing session
        # means lost messages (docs/operations.md, "Lost messages"); paho's thread must not wait on the database
        self.sessions: queue.SimpleQueue[SessionReport] = queue.SimpleQueue()
        self.session_present: bool | None = None  # as the last CONNACK said
        self._held = threading.local()  # acknowledgements held back by `acking()`, on the thread that holds them
        self._gone = threading.Event()  # the connection has closed (stop() waits for it)

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe and return once the broker acknowledged the subscription; raise BrokerUnavailable."""
        properties = None
        if self.protocol == 5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
            properties.ReceiveMaximum = RECEIVE_MAXIMUM
        try:
            if self.protocol == 5:
                self._client.connect(self.target.host, self.target.port, keepalive=30, clean_start=False,
                                     properties=properties)
            else:
                self._client.connect(self.target.host, self.target.port, keepalive=30)
        except (OSError, ValueError) as exc:
            raise BrokerUnavailable(f"cannot connect to the broker at {self.target}: {exc}") from exc
        # loop_start, not loop_forever in a thread of ours: acks come from the ingest worker, and paho writes
        # to the socket safely from another thread only when it owns the network thread (it then queues
        # the PUBACK and wakes its loop); loop_forever would write inline, racing its own loop
        self._client.loop_start()
        self._answered.wait(timeout)
        if self._refused is not None:
            self.stop()
            raise BrokerUnavailable(self._refused)
        if not self._subscribed.is_set():
            self.stop()
            raise BrokerUnavailable(f"the broker at {self.target} did not accept our subscription within {timeout:.0f} s")

    def ack(self, message: Inbound) -> None:
        """Acknowledge a committed message, unless it came on an earlier connection: the broker will
        deliver it again on this one, and the old id may now name another message. Inside `acking()` the
        acknowledgement goes out with the others when the block ends."""
        if message.qos > 0 and message.connection == self._connection:
            held = getattr(self._held, "mids", None)
            if held is not None and message.qos == 1:
                held.append(message.mid)
            else:
                self._client.ack(message.mid, message.qos)

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Send the QoS 1 acknowledgements given by `ack()` inside the block as one write when it ends.

        Only for messages already committed: this changes when the PUBACKs leave (together, after the last
        `ack()`), never which. paho queues one packet and wakes its network thread once per acknowledgement
        (~5 µs of the worker's time each, and one TCP segment each to the broker); a batch's 500 went out as
        500 writes. Acknowledgements held when the connection changes are dropped, as `ack()` drops those of
        an earlier connection: the broker delivers those messages again."""
        if getattr(self._held, "mids", None) is not None:  # nested: the outer block sends them
            yield
            return
        self._held.mids = held = []
        connection = self._connection
        try:
            yield
        finally:
            self._held.mids = None
            if held and connection == self._connection:
                self._send_pubacks(held)

    def _send_pubacks(self, mids: list[int]) -> None:
        # MQTT 3.1.1 and 5 both accept the 4-byte PUBACK (MQTT 5 3.4.2.1: no reason code means success), the one
        # paho's own ack() sends; queued through paho's packet queue, which the network thread writes in order
        queue_packet = getattr(self._client, "_packet_queue", None)
        if queue_packet is None:  # a paho without it: one by one, as ack() does
            for mid in mids:
                self._client.ack(mid, 1)
            return
        packet = b"".join(struct.pack("!BBH", PUBACK, 2, mid) for mid in mids)
        queue_packet(PUBACK, packet, 0, 0)

    def stop(self) -> None:
        """Disconnect once the broker has taken every acknowledgement given. Without the wait, a PUBACK still in
        paho's queue (its loop_stop() does not write it) or still unread in the broker's socket when the next
        connection of this client id takes the session over is lost, and the broker delivers that committed
        message again. The broker answers an UNSUBSCRIBE after every packet before it on the connection, so
        its UNSUBACK says the acknowledgements are in."""
        if self._client.is_connected():
            flushed, gone = threading.Event(), self._gone
            self._client.on_unsubscribe = lambda *_: flushed.set()
            gone.clear()
            if self._client.unsubscribe(FLUSH_TOPIC)[0] == mqtt.MQTT_ERR_SUCCESS:
                flushed.wait(STOP_WAIT_S)
            self._client.disconnect()
            gone.wait(STOP_WAIT_S)
        else:
            self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("broker %s refused the connection: %s", self.target, reason_code)
            if not self._subscribed.is_set():  # still starting: start() says so and stops
                self._refused = refusal(self.target, reason_code)
                self._answered.set()
            return
        self.session_present = bool(flags.session_present)  # before `connected`: a reader sees the pair in order
        self._connection += 1
        self.connected = True
        if not self.session_present and self._connection > 1:
            log.error("the broker at %s came back without our session: what it had queued for us is lost",
                      self.target)
        self.sessions.put(SessionReport(self._connection, self.session_present))
        _no_delay(client)
        client.subscribe([(topic, 1) for topic in self.subscriptions])
        log.info("connected to %s; subscribed to %d topics", self.target, len(self.subscriptions))

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        failed = [code for code in reason_codes if code.is_failure]
        if failed:
            log.error("broker refused subscriptions: %s (check the ACL for our user)", failed)
            return
        self._subscribed.set()
        self._answered.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self.connected = False
        self._gone.set()
        if reason_code.value != 0:
            log.warning("lost the broker at %s (%s); reconnecting", self.target, reason_code)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        # runs on paho's thread: hand the message over and return at once; the worker does the rest
        self.received += 1
        self.inbox.put(Inbound(message.topic, message.payload, message.mid, message.qos, bool(message.retain),
                               self._connection, time.monotonic()))


def drain(inbox: queue.SimpleQueue[Inbound], max_messages: int, wait_seconds: float, idle_seconds: float) -> list[Inbound]:
    """Return the next batch: wait up to `idle_seconds` for a first message, then take what is already there, up
    to `max_messages`, and go. Waiting for more only pays while they keep coming: once the inbox is empty the
    batch goes at once (a lone reading is not held back), while a busy inbox still fills a batch within
    `wait_seconds` of its first message, so one commit covers them all."""
    try:
        first = inbox.get(timeout=idle_seconds)
    except queue.Empty:
        return []
    batch = [first]
    deadline = time.monotonic() + wait_seconds
    while len(batch) < max_messages:
        try:
            batch.append(inbox.get_nowait())
        except queue.Empty:
            break  # nothing more has arrived: commit what there is now
        if time.monotonic() >= deadline:
            break
    return batch


class Publisher:
    """Publishes outbound messages (dispatches, notices, alert events, dead letters) on its own connection."""

    def __init__(self, target: MqttTarget, client_id: str, protocol: int) -> None:
        self.target = target
        self._client = _new_client(target, client_id, protocol, clean=True, manual_ack=False)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.max_queued_messages_set(10000)
        self._refused: str | None = None
        self._accepted = False  # a CONNACK has accepted us at least once

    def start(self, timeout: float = 10.0) -> None:
        try:
            self._client.connect(self.target.host, self.target.port, keepalive=30)
        except (OSError, ValueError) as exc:
            raise BrokerUnavailable(f"cannot connect to the broker at {self.target}: {exc}") from exc
        self._client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._client.is_connected():
            if self._refused is not None:
                self.stop()
                raise BrokerUnavailable(self._refused)
            if time.monotonic() > deadline:
                raise BrokerUnavailable(f"the broker at {self.target} did not answer within {timeout:.0f} s")
            time.sleep(0.01)

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("broker %s refused the publisher's connection: %s", self.target, reason_code)
            self._refused = refusal(self.target, reason_code)
            return
        self._refused = None
        self._accepted = True
        _no_delay(client)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        # closed before any CONNACK: a TLS listener that wants a client certificate ends the connection only
        # after our side of the handshake (TLS 1.3), and every retry would end the same way; start() says so
        # at once instead of waiting out its timeout
        if not self._accepted and self._refused is None:
            self._refused = (f"the broker at {self.target} closed the connection before accepting it ({reason_code}); "
                             "if it wants a client certificate, set CARETAKER_MQTT_CERT_FILE and CARETAKER_MQTT_KEY_FILE")

    @property
    def connected(self) -> bool:
        return self._client.is_connected()

    def publish(self, topic: str, payload: bytes, qos: int = 1, timeout: float = 5.0) -> bool:
        """Return True once the broker has the message (its PUBACK for QoS 1), False if it did not in time."""
        if not self._client.is_connected():
            return False
        try:
            info = self._client.publish(topic, payload, qos=qos)
            if qos == 0:
                return info.rc == mqtt.MQTT_ERR_SUCCESS
            info.wait_for_publish(timeout)
            return info.is_published()
        except (RuntimeError, ValueError) as exc:
            log.warning("publishing to %s failed: %s", topic, exc)
            return False

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
