"""What a large estate costs the service: start, memory, idle CPU and the devices API, each beside a baseline.

`python -m benchmarks.size --devices 10000` (default) writes a realistic estate (benchmarks/big_estate.py), fills
a fresh database with what such an estate holds after a while (a state row for most devices, a few offline, open
alerts, faults of the last 30 days), starts its own Mosquitto and `caretaker run`, and measures:

- start: `caretaker run` (a first start: its site cache empty) until `/healthz` answers 200, beside a bare
  `python -c pass` and a bare process that only loads the same site file (the parse a first start pays);
- memory: the service's RSS once healthy, beside the RSS of that bare process holding the loaded site;
- idle CPU: the service's CPU over 30 s with no traffic, beside an idle python process over the same 30 s;
- `GET /api/v1/devices` p50/p99 over walks that page through the whole list (`limit=50`, following
  `X-Next-After`), with filters (a building, a type, `online=false`, `online=true`); each page beside the bare
  driver reading the same page's rows (its state rows, open alerts and fault counts, by device id);
- `GET /api/v1/devices/{id}` p99 beside the same reads for one device;
- the API's floor: `GET /api/v1/sites`, which reads nothing, so what the framework, the token check and the
  service's own loops (sharing the interpreter) cost any request.

These machines are shared and noisy: compare the ratios between versions, not the raw figures. `--database` takes a
PostgreSQL server URL (a database of its own is created there and dropped afterwards)."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.big_estate import generate
from benchmarks.run import free_port, start_mosquitto
from caretaker.db import make_engine, make_sessions, migrate, normalize_url
from caretaker.estate.model import Device
from caretaker.estate.site import load_site
from caretaker.ingest.store import DeviceSnapshot, save_snapshots
from caretaker.rules.tables import AlertRow
from caretaker.simulators.behaviour import next_values

PY = sys.executable
PAGE = 50
ADMIN_TOKEN = secrets.token_urlsafe(24)
HEARD = 0.95  # devices with a state row; the rest were never heard from
OFFLINE = 0.02  # of those heard: their last status said offline
OPEN_ALERT = 0.01  # devices with an alert raised now
FAULTY = 0.03  # devices with 1 to 4 faults in the last 30 days


# --- the estate and its database -------------------------------------------------------------


def write_estate(path: Path, devices: int) -> None:
    text = generate(devices)
    ids = re.findall(r"^  - \{id: ([^,]+), type:", text, re.M)
    twice = [device for device, count in Counter(ids).items() if count > 1]
    assert len(ids) == devices and not twice, f"{len(ids)} devices written, repeated ids: {twice[:5]}"
    path.write_text(text)


@contextmanager
def database(url: str | None, workdir: Path) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file in the work dir, or a fresh PostgreSQL database on the
    server `url` names, dropped at the end."""
    if not url or url.startswith("sqlite"):
        yield url or f"sqlite:///{workdir / 'size.db'}"
        return
    import psycopg

    server = normalize_url(url).replace("postgresql+psycopg://", "postgresql://")
    name = f"caretaker_size_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(url: str, devices: list[Device], seed: int = 7) -> dict[str, int]:
    """Migrate and write what an estate of these devices holds after a while; return the counts written."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    engine = make_engine(url)
    migrate(engine)
    snaps, alerts = [], []
    for device in devices:
        if rng.random() < HEARD:
            seen = now - timedelta(seconds=rng.randint(1, 600))
            snaps.append(DeviceSnapshot(device.id, next_values(device.type, None, rng), rng.random() >= OFFLINE,
                                        seen, rng.randint(0, 10_000), seen, seen))
        raised = [now - timedelta(minutes=rng.randint(1, 60))] if rng.random() < OPEN_ALERT else []
        faults = [now - timedelta(days=rng.uniform(0.1, 29)) for _ in range(rng.randint(1, 4))] \
            if rng.random() < FAULTY else []
        for at in raised + faults:
            alerts.append({"id": f"AL-{secrets.token_hex(6)}", "rule_id": "bench-rule", "device_id": device.id,
                           "urgency": 2, "category": "general", "title": "benchmark alert",
                           "state": "raised" if at in raised else "cleared", "raised_at": at,
                           "cleared_at": None if at in raised else at + timedelta(minutes=5),
                           "building": device.place.building})
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        save_snapshots(session, snaps, set())
        if alerts:
            session.execute(insert(AlertRow), alerts)
    engine.dispose()
    return {"states": len(snaps), "offline": sum(1 for s in snaps if s.online is False), "alerts": len(alerts)}


# --- processes ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def rss_mb(pid: int) -> float:
    match = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) / 1024 if match else float("nan")


def bare_start(runs: int = 5) -> float:
    """Median seconds of `python -c pass`."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([PY, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


_SITE_ONLY = ("import re, sys, time; t = time.perf_counter(); from caretaker.estate.site import load_site; "
              "site = load_site(sys.argv[1]); t = time.perf_counter() - t; "
              "rss = re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
              "print(t, int(rss) / 1024)")


def site_only(site_file: Path) -> tuple[float, float]:
    """(seconds, RSS MB) of a bare process that imports the site loader and loads the site file."""
    out = subprocess.run([PY, "-c", _SITE_ONLY, str(site_file)], check=True, capture_output=True, text=True).stdout
    seconds, rss = out.split()
    return float(seconds), float(rss)


def start_service(env: dict[str, str], http_port: int, log: Path) -> tuple[subprocess.Popen, float]:
    """Start `caretaker run`; return it and the seconds until /healthz answered 200."""
    started = time.perf_counter()
    proc = subprocess.Popen([PY, "-m", "caretaker.cli", "run"], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return proc, time.perf_counter() - started
        except OSError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("service did not become healthy:\n" + log.read_text(errors="replace")[-3000:])
        time.sleep(0.02)


def idle_cpu(service_pid: int, seconds: float) -> tuple[float, float]:
    """CPU % of the service and of an idle python process over the same `seconds`."""
    idle = subprocess.Popen([PY, "-c", f"import time; time.sleep({seconds + 5})"])
    try:
        time.sleep(0.5)  # past the idle process's own start
        before = cpu_seconds(service_pid), cpu_seconds(idle.pid)
        time.sleep(seconds)
        after = cpu_seconds(service_pid), cpu_seconds(idle.pid)
    finally:
        idle.kill()
        idle.wait()
    return 100 * (after[0] - before[0]) / seconds, 100 * (after[1] - before[1]) / seconds


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- the API and its bare SQL -------------------------------------------------------------------


class Api:
    """One kept-alive HTTP connection with the admin token; each call's wall time is recorded."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[float, Any, dict[str, str]]:
        started = time.perf_counter()
        self.connection.request("GET", path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        response = self.connection.getresponse()
        body = response.read()
        took = time.perf_counter() - started
        assert response.status == 200, f"{path}: {response.status} {body[:300]!r}"
        return took, json.loads(body), {k.lower(): v for k, v in response.getheaders()}


class BareSql:
    """The rows of a page read with the bare driver: what the route cannot do with less."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.postgres = self.engine.dialect.name == "postgresql"

    def page(self, ids: list[str]) -> float:
        since = datetime.now(timezone.utc) - timedelta(days=30)
        marks = ", ".join(["%s" if self.postgres else "?"] * len(ids))
        mark = "%s" if self.postgres else "?"
        with self.engine.connect() as connection:
            cursor = connection.connection.cursor()
            started = time.perf_counter()
            cursor.execute("SELECT device_id, online, \"values\", last_seen, last_ts, gaps FROM device_states "
                           f"WHERE device_id IN ({marks})", ids)
            cursor.fetchall()
            cursor.execute(f"SELECT id, device_id FROM alerts WHERE state = 'raised' AND device_id IN ({marks})", ids)
            cursor.fetchall()
            cursor.execute(f"SELECT device_id, count(*) FROM alerts WHERE device_id IN ({marks}) AND raised_at >= {mark} "
                           "AND silence_id IS NULL AND suppressed_by IS NULL GROUP BY device_id",
                           ids + [since if self.postgres else since.strftime("%Y-%m-%d %H:%M:%S.%f")])
            cursor.fetchall()
            took = time.perf_counter() - started
            cursor.close()
        return took


def walks(site) -> dict[str, dict[str, str]]:
    """The filtered walks, by name: the whole list, one building, one type, offline devices, online ones."""
    busiest = Counter(d.place.building for d in site.devices.values()).most_common(1)[0][0]
    return {"all": {}, f"building={busiest}": {"building": busiest}, "type=water_leak": {"type": "water_leak"},
            "online=false": {"online": "false"}, "online=true": {"online": "true"}}


def walk(api: Api, bare: BareSql, query: dict[str, str], api_times: list[float], sql_times: list[float],
         max_pages: int) -> list[str]:
    """Page through one filtered list, following X-Next-After; return the ids in the order received."""
    seen: list[str] = []
    after: str | None = None
    for _ in range(max_pages):
        params = {**query, "limit": str(PAGE), **({"after": after} if after else {})}
        took, page, headers = api.get("/api/v1/devices?" + urllib.parse.urlencode(params))
        api_times.append(took)
        ids = [d["id"] for d in page]
        seen += ids
        if ids:
            sql_times.append(bare.page(ids[:PAGE]))
        after = headers.get("x-next-after")
        if not after:
            break
    return seen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def report(name: str, measured: float, baseline: float, unit: Callable[[float], str], base_name: str) -> None:
    ratio = measured / baseline if baseline else float("inf")
    print(f"  {name:34} {unit(measured)}   {base_name:36} {unit(baseline)}   ratio {ratio:7.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--database", default=None,
                        help="a PostgreSQL server URL (a database is created there and dropped); default SQLite")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of idle CPU measured")
    parser.add_argument("--requests", type=int, default=200, help="at least this many device-list requests")
    parser.add_argument("--max-pages", type=int, default=100_000, help="pages per walk at most")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, database(args.database, Path(tmp)) as url:
        workdir = Path(tmp)
        site_file = workdir / "big.yaml"
        write_estate(site_file, args.devices)
        site = load_site(site_file)
        written = fill(url, list(site.devices.values()))
        dialect = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"{args.devices} devices on {dialect}: {written['states']} state rows ({written['offline']} offline), "
              f"{written['alerts']} alerts")
        broker, mqtt_port = start_mosquitto(workdir)
        http_port = free_port()
        env = {**os.environ, "CARETAKER_SITE_FILE": str(site_file), "CARETAKER_DATABASE_URL": url,
               "CARETAKER_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}", "CARETAKER_HTTP_PORT": str(http_port),
               "CARETAKER_ADMIN_TOKEN": ADMIN_TOKEN, "CARETAKER_HTTP_RATE_LIMIT": "1000000/minute",
               # a first start, as the baseline's parse: no site cache from an earlier run (docs/deploy.md)
               "CARETAKER_SITE_CACHE_DIR": str(workdir / "site-cache")}
        log = workdir / "service.log"
        try:
            print("  starting caretaker run ...", file=sys.stderr, flush=True)
            python_start = bare_start()
            parse_s, parse_rss = site_only(site_file)
            proc, start_s = start_service(env, http_port, log)
            try:
                rss = rss_mb(proc.pid)
                print(f"  healthy after {start_s:.1f} s; idle for {args.idle:.0f} s ...", file=sys.stderr, flush=True)
                service_cpu, idle_python_cpu = idle_cpu(proc.pid, args.idle)
                print("  paging through the device list ...", file=sys.stderr, flush=True)
                api, bare = Api(http_port), BareSql(url)
                list_api: list[float] = []
                list_sql: list[float] = []
                covered = True
                while len(list_api) < args.requests:  # every walk once, again until enough requests
                    for name, query in walks(site).items():
                        ids = walk(api, bare, query, list_api, list_sql, args.max_pages)
                        if name == "all" and len(ids) > PAGE:
                            covered = covered and sorted(ids, key=lambda i: _order(site, i)) == ids \
                                and sorted(ids) == sorted(site.devices)
                floor = [api.get("/api/v1/sites")[0] for _ in range(200)]  # token, middleware, a tiny answer
                one_api, one_sql = [], []
                rng = random.Random(1)
                for device_id in rng.sample(sorted(site.devices), min(200, len(site.devices))):
                    one_api.append(api.get(f"/api/v1/devices/{urllib.parse.quote(device_id)}")[0])
                    one_sql.append(bare.page([device_id]))
                bare.engine.dispose()
            finally:
                stop(proc)
        finally:
            broker.terminate()
            broker.wait(5)
    print(f"  {'measured':34} {'':11}   {'baseline (same run)':36}")
    report("caretaker run → /healthz 200", start_s, python_start, lambda s: f"{s:8.2f} s ", "bare `python -c pass`")
    report("caretaker run → /healthz 200", start_s, parse_s, lambda s: f"{s:8.2f} s ", "load_site alone (parse)")
    report("RSS once healthy", rss, parse_rss, lambda m: f"{m:8.1f} MB", "a process holding the loaded site")
    print(f"  {'idle CPU over %.0f s' % args.idle:34} {service_cpu:8.2f} %    {'an idle python process':36} "
          f"{idle_python_cpu:8.2f} %")
    print(f"  device list, {len(list_api)} pages of {PAGE} (whole list{'' if covered else ' NOT'} covered once, in order):")
    report("  p50", statistics.median(list_api), statistics.median(list_sql), ms, "bare SQL of the page, p50")
    report("  p99", percentile(list_api, 0.99), percentile(list_sql, 0.99), ms, "bare SQL of the page, p99")
    print(f"  the API's floor, {len(floor)} requests of GET /api/v1/sites (token check, middleware, a tiny answer):")
    report("  p50", statistics.median(list_api), statistics.median(floor), ms, "device list p50 beside floor p50")
    report("  p99", percentile(list_api, 0.99), percentile(floor, 0.99), ms, "device list p99 beside floor p99")
    print(f"  one device, {len(one_api)} requests:")
    report("  p50", statistics.median(one_api), statistics.median(one_sql), ms, "bare SQL of the device, p50")
    report("  p99", percentile(one_api, 0.99), percentile(one_sql, 0.99), ms, "bare SQL of the device, p99")
    report("  p99", percentile(one_api, 0.99), percentile(floor, 0.99), ms, "the API's floor, p99")
    return 0 if covered else 1


def _order(site, device_id: str) -> tuple[str, int, str]:
    place = site.devices[device_id].place
    return place.building, place.floor, device_id


if __name__ == "__main__":
    sys.exit(main())
