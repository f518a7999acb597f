"""What an alarm costs the pipeline: a reading that raises one (recorded, routed, a ticket opened and offered,
its AlertEvent and push queued) and one that clears it, against a reading that changes nothing, all in one run.

In-process, no broker, as benchmarks/ingest_stages.py: the load estate (every device type), its technicians on
site, and every leak sensor first dry, then wet (each its own incident: `incident_window` 0, so each raise opens
its own ticket, the dearest way; `--join`: a building's leaks are one incident, as in a storm), then dry again. Each phase is fed to `Pipeline.process` in batches as the
worker does and timed in CPU seconds; the quiet phase (the same sensors sending the same dry reading again, with
new `seq`s) is the baseline the other two are read against."""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch import reads_tickets
from caretaker.dispatch.service import Dispatcher
from caretaker.estate.site import load_site
from caretaker.ingest.client import Inbound
from caretaker.pipeline import Pipeline
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.settings import Settings
from caretaker.simulators.load import load_devices, write_load_site

from benchmarks.ingest_stages import BATCH, WallClock, run  # the same batches, fed the same way

def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def readings(leaks, leak: bool, seq: int, at: datetime) -> list[Inbound]:
    return [Inbound(f"caretaker/load/devices/{d.id}/telemetry",
                    json.dumps({"ts": _ms(at) + i, "seq": seq, "values": {"leak": leak}}).encode(), i + 1, 1)
            for i, d in enumerate(leaks)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=5000, help="the load estate's size (a tenth are leak sensors)")
    parser.add_argument("--join", action="store_true",
                        help="the default incident window: a building's leaks join one incident (a storm's shape)")
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a SQLite file in a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site_file = Path(tmp) / "site.yaml"
        write_load_site(site_file, args.devices)
        site = load_site(site_file)
        engine = make_engine(args.database or f"sqlite:///{Path(tmp) / 'alarms.db'}")
        migrate(engine)
        pipeline = Pipeline(site, RuleIndex(load_rules(Settings().rules_file), site.devices, site.timezone),
                            Dispatcher(site, "caretaker", **({} if args.join else {"incident_window": timedelta(0)})), make_sessions(engine),
                            "caretaker", WallClock())
        leaks = [d for d in load_devices(args.devices) if d.type == "water_leak"]
        now = datetime.now(timezone.utc) - timedelta(minutes=5)
        run(pipeline, [Inbound(f"caretaker/load/technicians/{tech}/location",
                                json.dumps({"ts": _ms(now), "building": "L1", "floor": 1}).encode(), 1, 1)
                        for tech in site.technicians])
        run(pipeline, readings(leaks, False, 0, now))  # every sensor heard from once: its rows exist
        quiet = run(pipeline, readings(leaks, False, 1, now + timedelta(seconds=1)))
        raised = run(pipeline, readings(leaks, True, 2, now + timedelta(seconds=2)))
        counts = dict(pipeline.counters)
        cleared = run(pipeline, readings(leaks, False, 3, now + timedelta(seconds=3)))
        n = len(leaks)
        with pipeline.sessions() as session:
            tickets = len(reads_tickets.created_in(session, now - timedelta(days=1), now + timedelta(days=1)))
        print(f"{n} leak sensors of {args.devices} devices, batches of {BATCH} ({engine.dialect.name}); "
              f"{counts.get('alerts_raised', 0)} alarms raised, {tickets} tickets")
        for label, seconds in (("quiet reading (baseline)", quiet), ("reading that raises an alarm", raised),
                               ("dry again (its clear delay starts)", cleared)):
            print(f"  {label:32s} {seconds / n * 1e6:8.1f} µs/msg   {seconds / quiet:5.1f}× the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
