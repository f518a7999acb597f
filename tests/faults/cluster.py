"""Several `caretaker run` instances on one database and one broker (docs/deploy.md, "Scaling out"), estates that
devices feed from a timed recording, and reading what each estate's tables hold from outside, as an operator
would."""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from caretaker.dispatch.tables import TicketRow
from caretaker.ingest.tables import DeadLetterRow, TelemetryRow
from caretaker.rules.tables import AlertRow
from tests.faults.service_process import Publishers, ServiceProcess, service_env, write_site

BUILDINGS = ("A", "B")
SENSORS = 12  # leak sensors an estate, half a building
ADMIN = "t10-" + secrets.token_urlsafe(16)


def sensor(i: int) -> str:
    return f"{BUILDINGS[i % 2]}-LEAK-{i:02d}"


def write_estates(folder: Path, sites: list[str]) -> Path:
    """One site file an estate in `folder` (a single estate: that file, as a single-estate deployment has)."""
    folder.mkdir(parents=True, exist_ok=True)
    for site in sites:
        write_site(folder / f"{site}.yaml", site,
                   [{"id": sensor(i), "type": "water_leak", "building": sensor(i)[0], "floor": 1 + i}
                    for i in range(SENSORS)],
                   [{"id": b, "floors": [-1, 20]} for b in BUILDINGS])
    return folder if len(sites) > 1 else folder / f"{sites[0]}.yaml"


@dataclass(frozen=True, slots=True)
class Reading:
    at: float  # seconds after the recording starts
    site: str
    device: str
    seq: int
    wet: bool


def recording(sites: list[str], seconds: float, every: float, wet_at: dict[tuple[str, str], float]) -> list[Reading]:
    """Every sensor of every estate reporting each `every` seconds; the (site, sensor)s of `wet_at` turn wet at
    their time and stay wet."""
    readings = []
    steps = int(seconds / every)
    for step in range(steps):
        for site in sites:
            for i in range(SENSORS):
                at = step * every + i * every / SENSORS  # spread over the period, as real sensors are
                turns = wet_at.get((site, sensor(i)))
                readings.append(Reading(at, site, sensor(i), step, turns is not None and at >= turns))
    return sorted(readings, key=lambda r: r.at)


class Feed:
    """Plays a recording to the broker in real time, under one or more topic prefixes (deployments) at once."""

    def __init__(self, broker_host: str, broker_port: int, prefixes: list[str]) -> None:
        self.prefixes = prefixes
        self.publishers = Publishers(broker_host, broker_port, connections=4, prefix=f"feed-{prefixes[0]}")
        self.started: float | None = None
        self.start_wall: datetime | None = None
        self.sent = 0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def play(self, readings: list[Reading]) -> None:
        self._thread = threading.Thread(target=self._play, args=(readings,), daemon=True)
        self._thread.start()

    def elapsed(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def _play(self, readings: list[Reading]) -> None:
        try:
            self.started = time.monotonic()
            self.start_wall = datetime.now(timezone.utc)
            infos = []
            for reading in readings:
                delay = self.started + reading.at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ts = (self.start_wall + timedelta(seconds=reading.at)).isoformat(timespec="milliseconds")
                body = json.dumps({"ts": ts.replace("+00:00", "Z"), "seq": reading.seq,
                                   "values": {"leak": reading.wet}}).encode()
                for prefix in self.prefixes:
                    infos.append(self.publishers.send(f"{prefix}/{reading.site}/devices/{reading.device}/telemetry",
                                                      body))
                self.sent += 1
            for info in infos:
                info.wait_for_publish(30)
                assert info.is_published(), "the broker did not take a reading"
        except BaseException as exc:  # reported by wait()
            self.error = exc

    def wait(self, timeout: float) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the recording did not finish playing"
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.publishers.close()


class Deployment:
    """`instances` processes of `caretaker run` sharing one database and the estates' sessions."""

    def __init__(self, tmp: Path, name: str, sites_path: Path, database_url: str, broker_url: str, instances: int,
                 **settings: str) -> None:
        self.name = name
        self.processes: list[ServiceProcess] = []
        self.ports: list[int] = []
        for n in range(instances):
            env = service_env(sites_path, database_url, broker_url, mqtt_prefix=name, mqtt_client_id=name,
                              instance_id=f"{name}-{n}", http_enabled="true", admin_token=ADMIN, **settings)
            self.ports.append(int(env["CARETAKER_HTTP_PORT"]))
            self.processes.append(ServiceProcess(env, tmp / f"{name}-{n}.log"))

    def start(self) -> None:
        for process in self.processes:
            process.start()
        for process in self.processes:
            process.wait_ready(60)

    def health(self, n: int) -> dict:
        """/healthz of instance n, its body whether 200 or 503 (an instance between two states may say 503)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[n]}/healthz", timeout=5) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    def tails(self, chars: int = 1500) -> str:
        """The end of every instance's log, for a failure's message."""
        return "\n".join(f"--- {self.name}-{n}:\n{p.tail(chars)}" for n, p in enumerate(self.processes))

    def stop(self) -> None:
        for process in self.processes:
            if process.proc is not None and process.proc.poll() is None:
                try:
                    process.proc.send_signal(18)  # SIGCONT: a paused one must hear the SIGTERM
                except ProcessLookupError:
                    pass
            process.stop()


def owners(engine: Engine) -> dict[str, str]:
    """Each estate's present owner by the lease table, where the lease has not run out."""
    with engine.connect() as connection:
        return dict(connection.execute(text(
            "SELECT site, owner FROM estate_leases WHERE expires_at > clock_timestamp()")).all())


def scoped(engine: Engine, site: str, many: bool) -> Engine:
    """The engine reading one estate's tables: its own schema when the deployment has many (docs/deploy.md)."""
    if not many:
        return engine
    from caretaker.estates import schema_name

    return engine.execution_options(schema_translate_map={None: schema_name(site)})


@dataclass(frozen=True, slots=True)
class EstateFacts:
    stored: int
    distinct: int
    alerts: dict[str, int]  # device → alerts raised
    tickets: dict[tuple[str, str], list[datetime]]  # (building, category) → when each ticket opened
    dead_letters: list[tuple[str, str, str]]  # reason, topic, detail: what a failure names


def facts(engine: Engine) -> EstateFacts:
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(TelemetryRow)).scalar_one()
        distinct = connection.execute(select(func.count()).select_from(
            select(TelemetryRow.device_id, TelemetryRow.ts).distinct().subquery())).scalar_one()
        alerts = dict(connection.execute(select(AlertRow.device_id, func.count()).group_by(AlertRow.device_id)).all())
        tickets: dict[tuple[str, str], list[datetime]] = {}
        for building, category, created in connection.execute(
                select(TicketRow.building, TicketRow.category, TicketRow.created_at)).all():
            tickets.setdefault((building, category), []).append(created)
        dead = [tuple(row) for row in connection.execute(
            select(DeadLetterRow.reason, DeadLetterRow.topic, DeadLetterRow.detail)).all()]
    return EstateFacts(stored, distinct, alerts, tickets, dead)


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(TelemetryRow)).scalar_one()
