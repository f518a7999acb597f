"""T24: the production broker configuration under attack (RELIABILITY T24).

mosquitto/mosquitto.conf and mosquitto/acl run as they are, with a password file made by
mosquitto_passwd and certificates made by openssl in a temp dir (only ports and paths changed). All of
these are refused: an anonymous client; plain MQTT from off the host (the plain listener is bound to the
loopback); TLS 1.0 and 1.1; device A publishing on device B's topics; a device subscribing to `#` or a
technician app to another's dispatches; a username holding `+` or `#` (which a `%u` pattern would widen);
and a revoked credential, within 60 s of the broker reloading its password file on SIGHUP (measured: at
once, existing connections included). The service itself works over TLS as docker-compose.yml runs it
(without the CA in SSL_CERT_FILE it refuses the broker). mosquitto/check-config.sh runs here too.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import MOSQUITTO_BINARY, REPO, free_port, missing, wait_for_port

pytestmark = [pytest.mark.faults,
              pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")]  # offered on purpose

CONF = REPO / "mosquitto" / "mosquitto.conf"
ACL = REPO / "mosquitto" / "acl"
USERS = ("caretaker", "integrator", "A-1-LEAK-1", "B-1-LEAK-1", "A-LEAK-1", "t-wang", "t-li", "s-li", "revoked-dev",
         "+", "#")
SITE = "caretaker/harbor-view"


def password(user: str) -> str:
    return f"pw-{user}-secret"


def make_certificates(certs: Path) -> None:
    """A private CA and a server certificate for localhost, as mosquitto.conf's comments say (smaller keys)."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=certs, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
        "-out", "server.csr")
    (certs / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")


def production_copy(conf: str, workdir: Path, plain: int, tls: int) -> tuple[str, str]:
    """The production file with only its ports and paths changed; return it and the plain listener's address."""
    match = re.search(r"^listener 1883(?: (\S+))?$", conf, re.MULTILINE)
    assert match, "mosquitto.conf has no plain listener on 1883"
    bind = match.group(1) or "0.0.0.0"
    conf = conf.replace(match.group(0), f"listener {plain}{' ' + match.group(1) if match.group(1) else ''}")
    conf = re.sub(r"^listener 8883\b", f"listener {tls}", conf, flags=re.MULTILINE)
    conf = conf.replace("/mosquitto/config/", f"{workdir}/").replace("/mosquitto/certs/", f"{workdir}/certs/")
    conf = conf.replace("/mosquitto/data/", f"{workdir}/data/")
    return conf + f"\nuser {getpass.getuser()}\n", bind


class ProductionBroker:
    def __init__(self, workdir: Path, conf_text: str | None = None) -> None:
        for tool in ("openssl", "mosquitto_passwd"):
            if shutil.which(tool) is None:
                missing(f"{tool} is not installed")
        if not Path(MOSQUITTO_BINARY).exists():
            missing(f"no mosquitto binary at {MOSQUITTO_BINARY}")
        self.workdir = workdir
        (workdir / "certs").mkdir(parents=True)
        (workdir / "data").mkdir()
        make_certificates(workdir / "certs")
        self.passwords = workdir / "passwords"
        self.passwords.touch()
        for user in USERS:
            subprocess.run(["mosquitto_passwd", "-b", str(self.passwords), user, password(user)], check=True,
                           capture_output=True, timeout=30)
        shutil.copy(ACL, workdir / "acl")
        self.plain, self.tls = free_port(), free_port()
        text, self.bind = production_copy(conf_text or CONF.read_text(encoding="utf-8"), workdir, self.plain, self.tls)
        (workdir / "mosquitto.conf").write_text(text)
        self.log = workdir / "broker.log"
        with self.log.open("wb") as handle:
            self.proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(workdir / "mosquitto.conf")], stdout=handle,
                                         stderr=subprocess.STDOUT)
        if not (wait_for_port("127.0.0.1", self.plain, 10) and wait_for_port("127.0.0.1", self.tls, 10)):
            self.stop()
            pytest.fail(f"the production config did not start:\n{self.log.read_text(errors='replace')}")

    def context(self, maximum: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.workdir / "certs" / "ca.crt"))
        if maximum is not None:
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = maximum
            context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old versions; the broker must refuse
        return context

    def reload(self) -> None:
        self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    broker = ProductionBroker(tmp_path_factory.mktemp("production-broker"))
    yield broker
    broker.stop()


class Client:
    """A paho client over TLS (or plain on the loopback); records the CONNACK, SUBACKs and messages."""

    def __init__(self, broker: ProductionBroker, user: str | None, secret: str | None = None, tls: bool = True,
                 host: str = "localhost", port: int | None = None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t24-{time.monotonic_ns()}",
                                  protocol=mqtt.MQTTv311, reconnect_on_failure=False)
        if user is not None:
            self.client.username_pw_set(user, secret if secret is not None else password(user))
        if tls:
            self.client.tls_set_context(broker.context())
        self.messages: list[mqtt.MQTTMessage] = []
        self.granted: list[int] = []
        self.connack = threading.Event()
        self.subacked = threading.Event()
        self.disconnected = threading.Event()
        self.reason = None
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, m: self.messages.append(m)
        self.client.on_disconnect = lambda *_: self.disconnected.set()
        self.client.connect(host, port or (broker.tls if tls else broker.plain), keepalive=10)
        self.client.loop_start()
        assert self.connack.wait(10), "no CONNACK"

    def _on_connect(self, _c, _u, _flags, reason_code, _props) -> None:
        self.reason = reason_code
        self.connack.set()

    def _on_subscribe(self, _c, _u, _mid, reason_codes, _props) -> None:
        self.granted = [code.value for code in reason_codes]
        self.subacked.set()

    @property
    def accepted(self) -> bool:
        return not self.reason.is_failure

    def subscribe(self, topic: str) -> None:
        self.subacked.clear()
        result, _ = self.client.subscribe(topic, qos=1)
        if result == mqtt.MQTT_ERR_SUCCESS:
            self.subacked.wait(10)

    def publish(self, topic: str, body: bytes = b'{"ts": 0, "values": {"leak": false}}') -> None:
        info = self.client.publish(topic, body, qos=1)
        if info.rc == mqtt.MQTT_ERR_SUCCESS:  # a client the broker refused or dropped publishes nothing
            info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def arrives(broker, sender: str, topic: str, listener: str, subscription: str) -> bool:
    """Whether a message `sender` publishes on `topic` reaches `listener` subscribed to `subscription`. No
    fixed wait: the broker routes a QoS 1 message to its subscribers before it acknowledges it, and then
    sends each client its packets in order, so once the sender has its PUBACK, any copy for the listener
    is ahead of the answer to the listener's next request (a SUBACK)."""
    receiver = Client(broker, listener)
    publisher = Client(broker, sender)
    try:
        receiver.subscribe(subscription)
        publisher.publish(topic, b"probe")
        receiver.subscribe("t24/round-trip")
        return any(m.payload == b"probe" for m in receiver.messages)
    finally:
        receiver.close()
        publisher.close()


# --- who may connect, and how ---------------------------------------------------------------------

def test_anonymous_clients_are_refused_on_both_listeners(broker):
    assert not Client(broker, None).accepted
    assert not Client(broker, None, tls=False, host="127.0.0.1").accepted
    assert not Client(broker, "A-1-LEAK-1", "a wrong password").accepted
    assert Client(broker, "A-1-LEAK-1").accepted  # the control: a device with its own password gets in


def off_host_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # routing only: nothing is sent
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_plain_mqtt_is_reachable_on_the_loopback_only(broker):
    assert broker.bind.startswith("127."), f"the plain listener is bound to {broker.bind}, not the loopback"
    address = off_host_address()
    if address is None:
        pytest.skip("this machine has no address besides the loopback to try from")
    with pytest.raises(OSError):
        socket.create_connection((address, broker.plain), timeout=3).close()
    socket.create_connection((address, broker.tls), timeout=3).close()  # the control: TLS is reachable there


def tls_handshake(broker, maximum: ssl.TLSVersion | None) -> str:
    context = broker.context(maximum)
    context.check_hostname = False
    with socket.create_connection(("127.0.0.1", broker.tls), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.version()


def test_tls_before_1_2_is_refused(broker):
    for old in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        with pytest.raises(ssl.SSLError):
            tls_handshake(broker, old)
    assert tls_handshake(broker, None) in ("TLSv1.2", "TLSv1.3")
    assert tls_handshake(broker, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"


def test_without_the_pin_this_test_would_see_old_tls(tmp_path):
    """The negative control: the same file without `tls_version`, and an OpenSSL that allows old versions,
    accepts TLS 1.1; so the refusal above comes from the pin, not from this machine's defaults."""
    text = CONF.read_text(encoding="utf-8").replace("tls_version tlsv1.2", "ciphers DEFAULT:@SECLEVEL=0")
    loose = ProductionBroker(tmp_path / "loose", text)
    try:
        assert tls_handshake(loose, ssl.TLSVersion.TLSv1_1) == "TLSv1.1"
    finally:
        loose.stop()


# --- what each user may touch ---------------------------------------------------------------------

def test_a_device_cannot_publish_on_another_devices_topics(broker):
    assert arrives(broker, "A-1-LEAK-1", f"{SITE}/devices/A-1-LEAK-1/telemetry", "caretaker", "caretaker/#")
    for suffix in ("telemetry", "events", "status"):
        assert not arrives(broker, "A-1-LEAK-1", f"{SITE}/devices/B-1-LEAK-1/{suffix}", "caretaker", "caretaker/#")
    assert not arrives(broker, "A-1-LEAK-1", f"{SITE}/technicians/t-wang/dispatch", "t-wang",
                       f"{SITE}/technicians/t-wang/dispatch")


def test_a_device_cannot_read_everything_nor_a_technician_anothers_dispatch(broker):
    assert not arrives(broker, "caretaker", f"{SITE}/technicians/t-li/dispatch", "A-1-LEAK-1", "#")
    assert not arrives(broker, "caretaker", f"{SITE}/devices/B-1-LEAK-1/telemetry", "A-1-LEAK-1", "caretaker/#")
    assert not arrives(broker, "caretaker", f"{SITE}/technicians/t-li/dispatch", "t-wang",
                       f"{SITE}/technicians/+/dispatch")
    assert arrives(broker, "caretaker", f"{SITE}/technicians/t-wang/dispatch", "t-wang",
                   f"{SITE}/technicians/t-wang/dispatch")  # the control: its own arrives


def test_a_username_with_wildcards_gains_nothing_from_the_patterns(broker):
    for user in ("+", "#"):
        assert not arrives(broker, user, f"{SITE}/devices/B-1-LEAK-1/telemetry", "caretaker", "caretaker/#")
        assert not arrives(broker, "caretaker", f"{SITE}/technicians/t-li/dispatch", user, "caretaker/#")


# --- revocation ----------------------------------------------------------------------------------

def test_a_revoked_credential_is_refused_within_60_s_of_a_reload(broker):
    connected = Client(broker, "revoked-dev")
    assert connected.accepted
    subprocess.run(["mosquitto_passwd", "-D", str(broker.passwords), "revoked-dev"], check=True,
                   capture_output=True, timeout=30)
    revoked_at = time.monotonic()
    broker.reload()  # `docker compose kill -s HUP mosquitto`
    deadline = revoked_at + 60
    while time.monotonic() < deadline:
        attempt = Client(broker, "revoked-dev")
        attempt.close()
        if not attempt.accepted:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the revoked credential still logs in 60 s after the reload")
    # the connection it already had is closed too
    assert connected.disconnected.wait(max(1.0, deadline - time.monotonic()))
    print(f"T24: revoked credential refused {time.monotonic() - revoked_at:.2f} s after the reload")


def test_the_service_works_over_tls_as_under_docker_compose(broker, sqlite_url, monkeypatch):
    """docker-compose.yml: the service reaches the broker on the TLS listener, trusting the estate's CA
    through SSL_CERT_FILE, and logs in as `caretaker`; a device's reading arrives."""
    from tests.faults.own_broker import iso_ms, stored_telemetry
    from tests.service.harness import start_service, wait_until

    monkeypatch.setenv("SSL_CERT_FILE", str(broker.workdir / "certs" / "ca.crt"))
    url = f"mqtts://caretaker:{password('caretaker')}@localhost:{broker.tls}"
    service = start_service(url, sqlite_url)
    device = Client(broker, "A-LEAK-1")
    try:
        device.publish("caretaker/test-estate/devices/A-LEAK-1/telemetry",
                       f'{{"ts": "{iso_ms()}", "seq": 1, "values": {{"leak": false}}}}'.encode())
        wait_until(lambda: stored_telemetry(service) == 1, timeout=10, what="the device's reading over TLS")
    finally:
        device.close()
        service.stop()


def test_check_config_script_passes():
    if shutil.which("bash") is None:
        missing("bash is not installed")
    result = subprocess.run([str(REPO / "mosquitto" / "check-config.sh")], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "MOSQUITTO": MOSQUITTO_BINARY})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout + result.stderr
    assert "ok: queue for the service" in result.stdout
