"""`caretaker run` as a separate process a fault test can kill -9 and start again, devices publishing to it over
several connections, and counting rows from outside the service (as an operator would)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from tests.conftest import free_port

READY = "caretaker: site"  # what `caretaker run` prints once it is subscribed and serving ("site X on …", "sites a, b on …")


def write_site(path: Path, site: str, devices: list[dict[str, Any]], buildings: list[dict[str, Any]],
               technicians: int = 1) -> Path:
    """Write a site file for a test: the given devices and buildings, a few plumbers, one supervisor."""
    ids = [b["id"] for b in buildings]
    body = {
        "site": site, "name": f"{site} test estate", "timezone": "UTC",
        "travel": {"floor_s": 10, "buildings": [[a, b, 60] for i, a in enumerate(ids) for b in ids[i + 1:]]},
        "buildings": buildings,
        "devices": devices,
        "technicians": [{"id": f"t-{n}", "name": f"Plumber {n}", "phone": f"138000000{n:02d}", "skills": ["plumbing"]}
                        for n in range(1, technicians + 1)],
        "supervisors": [{"id": "s-1", "name": "Supervisor", "phone": "13900000001"}],
    }
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def service_env(site_file: Path, database_url: str, broker_url: str, **settings: str) -> dict[str, str]:
    """The environment of `caretaker run` for a test: its own client id and HTTP port; `settings` as
    CARETAKER_<NAME>=value (e.g. batch_max="50")."""
    env = {**os.environ, "CARETAKER_SITE_FILE": str(site_file), "CARETAKER_DATABASE_URL": database_url,
           "CARETAKER_MQTT_URL": broker_url, "CARETAKER_HTTP_PORT": str(free_port()),
           "CARETAKER_MQTT_CLIENT_ID": f"fault-{time.monotonic_ns()}", "CARETAKER_HTTP_ENABLED": "false"}
    env.pop("CARETAKER_CRASH_AT", None)
    env.update({f"CARETAKER_{name.upper()}": value for name, value in settings.items()})
    return env


class ServiceProcess:
    """One `caretaker run` after another on the same settings (so the same persistent session), all writing
    to one log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen | None = None
        self._offset = 0  # where this start's lines begin in the log

    def start(self, **extra_env: str) -> float:
        """Start a new process; return the monotonic time it was started."""
        self._offset = len(self.text())
        with self.log.open("ab") as handle:
            self.proc = subprocess.Popen([sys.executable, "-m", "caretaker.cli", "run"], env={**self.env, **extra_env},
                                         stdout=handle, stderr=subprocess.STDOUT)
        return time.monotonic()

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until this start has said it is running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY in self.text()[self._offset:]:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"caretaker run exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.05)
        raise AssertionError(f"caretaker run did not get ready within {timeout} s:\n{self.tail()}")

    def kill(self) -> None:
        """kill -9, and wait until the process is gone."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, chars: int = 3000) -> str:
        return self.text()[-chars:]


def engine_for(database_url: str) -> Engine:
    return create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))


def count_rows(engine: Engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def wait_for(check: Callable[[], Any], timeout: float, what: str, poll: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(poll)
    raise AssertionError(f"{what}: not within {timeout} s")


class Publishers:
    """Devices publishing at QoS 1 over several connections (a real estate's gateways), not waiting for
    each PUBACK; `publish_all` returns once the broker has every message."""

    def __init__(self, host: str, port: int, connections: int = 10, prefix: str = "pub") -> None:
        self.clients = []
        for n in range(connections):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{prefix}-{n}-{time.monotonic_ns()}",
                                 protocol=mqtt.MQTTv311)
            client.max_inflight_messages_set(100)
            client.max_queued_messages_set(0)
            client.connect(host, port)
            client.loop_start()
            self.clients.append(client)

    def send(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        """Publish one message without waiting; a device's messages always go over the same connection."""
        return self.clients[hash(topic.split("/")[-2]) % len(self.clients)].publish(topic, payload, qos=1)

    def publish_all(self, messages: list[tuple[str, bytes]], pause_every: int = 0, pause_s: float = 0.0,
                    timeout: float = 30) -> None:
        """Publish every (topic, payload); one device's messages go over one connection, so in order."""
        infos = []
        for index, (topic, payload) in enumerate(messages):
            infos.append(self.send(topic, payload))
            if pause_every and index % pause_every == pause_every - 1:
                time.sleep(pause_s)
        for info in infos:
            info.wait_for_publish(timeout)
            assert info.is_published(), "the broker did not take a message"

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()
