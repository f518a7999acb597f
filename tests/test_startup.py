"""Start-up as a deployer meets it: no admin token → a first-run admin token printed once (never logged, never
again); placeholder or short secrets refused by name outside the demo; a wrong MQTT password said as the
broker's CONNACK says it, at once; mqtts:// with a private CA (CARETAKER_MQTT_CA_FILE) and a client
certificate (CARETAKER_MQTT_CERT_FILE, CARETAKER_MQTT_KEY_FILE), against real Mosquittos started here."""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from pydantic import ValidationError

from caretaker.settings import Settings, demo_settings, is_placeholder
from caretaker.ingest.client import BrokerUnavailable, IngestClient, Publisher
from tests.conftest import EXAMPLE_SITE, MOSQUITTO_BINARY, free_port, missing, wait_for_port

pytestmark = pytest.mark.slow

READY = "caretaker: site "
LOGIN = "caretaker"
RIGHT = "the-right-password-4711"


# --- secrets ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["change-me", "CHANGEME", "Change_Me_Please_Now!", "secret", "password", "admin",
                                   "xxxxxxxxxxxxxxxxxxxx"])
def test_a_placeholder_admin_token_is_refused_by_name(token):
    with pytest.raises(ValidationError) as refused:
        Settings(admin_token=token)
    [error] = refused.value.errors()
    assert error["loc"] == ("admin_token",) and "placeholder" in error["msg"]
    assert "input_value" not in str(refused.value)  # the error never repeats the secret (a traceback, a log)


def test_an_admin_token_shorter_than_16_characters_is_refused_and_16_are_enough():
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(admin_token="k3Jd9-Qx2Lm0pZ")
    assert Settings(admin_token="k3Jd9-Qx2Lm0pZ7w").admin_token.get_secret_value() == "k3Jd9-Qx2Lm0pZ7w"


def test_placeholder_passwords_in_the_broker_and_database_urls_are_refused():
    with pytest.raises(ValidationError, match="placeholder password"):
        Settings(mqtt_url="mqtts://caretaker:change-me@broker:8883")
    with pytest.raises(ValidationError, match="placeholder password"):
        Settings(database_url="postgresql+psycopg://caretaker:password@db:5432/caretaker")
    assert not is_placeholder(RIGHT) and not is_placeholder("k3Jd9-Qx2Lm0pZ7w")


def test_the_demo_takes_whatever_admin_token_it_is_given():
    with demo_settings():
        assert Settings(admin_token="admin").admin_token.get_secret_value() == "admin"
    with pytest.raises(ValidationError):
        Settings(admin_token="admin")  # and only inside the demo


def test_caretaker_run_refuses_a_placeholder_admin_token_naming_the_variable(tmp_path):
    done = caretaker_run(tmp_path, CARETAKER_ADMIN_TOKEN="change-me")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "CARETAKER_ADMIN_TOKEN: is a placeholder" in done.stderr


def test_tls_files_need_mqtts_and_come_in_pairs(tmp_path):
    pem = tmp_path / "ca.crt"
    pem.write_text("not checked here")
    with pytest.raises(ValidationError, match="CARETAKER_MQTT_CA_FILE set, but CARETAKER_MQTT_URL is not mqtts://"):
        Settings(mqtt_url="mqtt://broker:1883", mqtt_ca_file=pem)
    with pytest.raises(ValidationError, match="go together"):
        Settings(mqtt_url="mqtts://broker:8883", mqtt_cert_file=pem)
    with pytest.raises(ValidationError, match="no such file"):
        Settings(mqtt_url="mqtts://broker:8883", mqtt_ca_file=tmp_path / "missing.crt")
    target = Settings(mqtt_url="mqtts://broker", mqtt_ca_file=pem).mqtt
    assert target.ca_file == str(pem) and target.port == 8883


# --- the first-run admin token -------------------------------------------------------------------------

def caretaker_run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "caretaker.cli", "run"], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "CARETAKER_SITE_FILE": str(EXAMPLE_SITE),
                               "CARETAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", **env})


class Running:
    """`caretaker run` as a process, read up to its ready line."""

    def __init__(self, tmp_path: Path, broker_url: str, **env: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "caretaker.cli", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "CARETAKER_SITE_FILE": str(EXAMPLE_SITE), "CARETAKER_MQTT_URL": broker_url,
                 "CARETAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'first-run.db'}", "CARETAKER_ADMIN_TOKEN": "",
                 "CARETAKER_MQTT_CLIENT_ID": f"first-run-{time.monotonic_ns()}", "CARETAKER_HTTP_PORT": str(self.port),
                 "CARETAKER_LOG_FORMAT": "json", **env})
        self.stdout: list[str] = []
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self.stop()
                raise AssertionError(f"caretaker run ended before it was ready:\n{''.join(self.stdout)}{self.stderr}")
            self.stdout.append(line)
            if line.startswith(READY):
                break
        self.stderr = ""

    def get(self, path: str, token: str) -> int:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}",
                                         headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def stop(self) -> str:
        self.proc.terminate()
        rest, self.stderr = self.proc.communicate(timeout=30)
        self.stdout.append(rest)
        return self.stderr


def test_no_admin_token_prints_a_first_run_admin_token_once_and_never_logs_it(mosquitto, tmp_path):
    first = Running(tmp_path, mosquitto.url)
    try:
        printed = "".join(first.stdout)
        [token] = re.findall(r"admin token: (\S+)", printed)
        assert "shown this once" in printed and len(token) >= 32
        assert first.get("/api/v1/tokens", token) == 200  # an admin's list: it signs in
        assert first.get("/api/v1/tokens", token[:-1] + "x") == 401
    finally:
        logs = first.stop()
    assert token not in logs and [json.loads(line) for line in logs.splitlines() if line.strip()]  # logged, not it

    again = Running(tmp_path, mosquitto.url)  # the same database: it has an admin token now
    try:
        assert "admin token" not in "".join(again.stdout)
        assert again.get("/api/v1/tokens", token) == 200
    finally:
        again.stop()


def test_a_set_admin_token_means_no_first_run_token(mosquitto, tmp_path):
    running = Running(tmp_path, mosquitto.url, CARETAKER_ADMIN_TOKEN="k3Jd9-Qx2Lm0pZ7w-env-token")
    try:
        assert "admin token" not in "".join(running.stdout)
        assert running.get("/api/v1/tokens", "k3Jd9-Qx2Lm0pZ7w-env-token") == 200
    finally:
        running.stop()


# --- brokers with a login, and over TLS with a private CA ---------------------------------------------------

def openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=60)


def make_pki(folder: Path) -> None:
    """A private CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA."""
    openssl(folder, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Estate CA",
            "-keyout", "ca.key", "-out", "ca.crt")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, extra in (("server", ["-extfile", "san.ext"]), ("client", [])):
        openssl(folder, "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr")
        openssl(folder, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", *extra, "-out", f"{name}.crt")


class LoginBroker:
    """A Mosquitto that wants a user and password (a password file made by mosquitto_passwd): a plain listener,
    a TLS listener with the private CA's server certificate, and a TLS listener that also wants a client
    certificate."""

    def __init__(self, folder: Path) -> None:
        for tool in ("openssl", "mosquitto_passwd"):
            if shutil.which(tool) is None:
                missing(f"{tool} is not installed")
        if not Path(MOSQUITTO_BINARY).exists():
            missing(f"no mosquitto binary at {MOSQUITTO_BINARY}")
        self.folder = folder
        make_pki(folder)
        passwords = folder / "passwords"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwords), LOGIN, RIGHT], check=True,
                       capture_output=True, timeout=30)
        self.plain, self.tls, self.mutual = free_port(), free_port(), free_port()
        certs = [f"cafile {folder / 'ca.crt'}", f"certfile {folder / 'server.crt'}", f"keyfile {folder / 'server.key'}"]
        lines = ["per_listener_settings false", "allow_anonymous false", f"password_file {passwords}",
                 f"user {getpass.getuser()}", f"log_dest file {folder / 'mosquitto.log'}",
                 f"listener {self.plain} 127.0.0.1",
                 f"listener {self.tls} 127.0.0.1", *certs,
                 f"listener {self.mutual} 127.0.0.1", *certs, "require_certificate true"]
        (folder / "mosquitto.conf").write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([MOSQUITTO_BINARY, "-c", str(folder / "mosquitto.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not all(wait_for_port("127.0.0.1", port, 10) for port in (self.plain, self.tls, self.mutual)):
            self.stop()
            raise AssertionError(f"mosquitto did not start: {(folder / 'mosquitto.log').read_text(errors='replace')}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def login_broker(tmp_path_factory):
    broker = LoginBroker(tmp_path_factory.mktemp("login-broker"))
    yield broker
    broker.stop()


def connect(settings: Settings) -> None:
    """Connect and subscribe as the service does (its publisher, then its persistent subscriber)."""
    target = settings.mqtt
    publisher = Publisher(target, f"startup-pub-{time.monotonic_ns()}", settings.mqtt_protocol)
    publisher.start(timeout=10)
    try:
        subscriber = IngestClient(target, f"startup-sub-{time.monotonic_ns()}", settings.mqtt_protocol,
                                  ["caretaker/harbor-view/devices/+/telemetry"])
        subscriber.start(timeout=10)
        subscriber.stop()
    finally:
        publisher.stop()


@pytest.mark.parametrize("protocol", [5, 4])
def test_a_wrong_mqtt_password_says_the_broker_refused_our_login_at_once(login_broker, protocol):
    url = f"mqtt://{LOGIN}:not-the-password-0815@127.0.0.1:{login_broker.plain}"
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as refused:
        connect(Settings(mqtt_url=url, mqtt_protocol=protocol))
    said = str(refused.value)
    assert re.search(r"refused our login: (bad user name or password|not authori[sz]ed)", said), said
    assert "within" not in said and "not-the-password" not in said
    assert time.monotonic() - started < 5  # the CONNACK's answer, not a timeout
    connect(Settings(mqtt_url=f"mqtt://{LOGIN}:{RIGHT}@127.0.0.1:{login_broker.plain}", mqtt_protocol=protocol))


def test_caretaker_run_with_a_wrong_mqtt_password_says_so(login_broker, tmp_path):
    started = time.monotonic()
    done = caretaker_run(tmp_path, CARETAKER_MQTT_URL=f"mqtt://{LOGIN}:wrong-password-0815@127.0.0.1:{login_broker.plain}",
                         CARETAKER_ADMIN_TOKEN="k3Jd9-Qx2Lm0pZ7w-env-token", CARETAKER_MQTT_CLIENT_ID="startup-cli")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert re.search(r"caretaker: cannot start: the broker at mqtt://127\.0\.0\.1:\d+ refused our login", done.stderr)
    assert "wrong-password" not in done.stderr + done.stdout
    assert time.monotonic() - started < 10 + 5  # not the 10 s wait for an answer


def test_mqtts_with_a_private_ca_needs_its_ca_file(login_broker):
    url = f"mqtts://{LOGIN}:{RIGHT}@127.0.0.1:{login_broker.tls}"
    env_ca = os.environ.pop("SSL_CERT_FILE", None)  # the system's CAs only: they do not know the estate's CA
    try:
        with pytest.raises(BrokerUnavailable, match="certificate verify failed"):
            connect(Settings(mqtt_url=url))
        connect(Settings(mqtt_url=url, mqtt_ca_file=login_broker.folder / "ca.crt"))
    finally:
        if env_ca is not None:
            os.environ["SSL_CERT_FILE"] = env_ca


def test_a_broker_that_wants_a_client_certificate_gets_ours(login_broker):
    url = f"mqtts://{LOGIN}:{RIGHT}@127.0.0.1:{login_broker.mutual}"
    ca = login_broker.folder / "ca.crt"
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable, match="closed the connection before accepting it"):
        connect(Settings(mqtt_url=url, mqtt_ca_file=ca))  # no certificate of ours: the handshake fails
    assert time.monotonic() - started < 5  # the broker's refusal, not the 10 s wait for an answer
    connect(Settings(mqtt_url=url, mqtt_ca_file=ca, mqtt_cert_file=login_broker.folder / "client.crt",
                     mqtt_key_file=login_broker.folder / "client.key"))


def test_instances_starting_together_make_one_first_run_token(database_url):
    """Two instances on one database, at the same moment: one prints a token, the other none; a later start finds
    it; with every admin token revoked, the next start makes a new one."""
    import threading
    from datetime import datetime, timezone

    from sqlalchemy import update

    from caretaker.api.tables import TokenRow
    from caretaker.db import make_engine, make_sessions, migrate
    from caretaker.first_run import first_admin_token, usable_admin_tokens
    from caretaker.leases import NEVER, JobLeaseRow

    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessions(engine)
    now = datetime.now(timezone.utc)
    together = threading.Barrier(2)
    made: list[str | None] = []

    def start() -> None:
        together.wait()
        made.append(first_admin_token(sessions, now, admin_token_set=False))

    def turn_over() -> None:  # a minute later (on PostgreSQL the turn is by the database's clock)
        with sessions.begin() as session:
            session.execute(update(JobLeaseRow).values(ran_at=NEVER))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    try:
        assert len(made) == 2 and len([t for t in made if t]) == 1, made
        with sessions() as session:
            assert usable_admin_tokens(session, now) == 1
        turn_over()  # past the instances' turn: the token itself is what stops a second one
        assert first_admin_token(sessions, now, admin_token_set=False) is None
        with sessions.begin() as session:  # every admin token revoked: the next start makes a new one
            session.execute(update(TokenRow).where(TokenRow.role == "admin").values(revoked=True))
        turn_over()
        assert first_admin_token(sessions, now, admin_token_set=False)
    finally:
        engine.dispose()
