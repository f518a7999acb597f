"""Where an ingest batch's time goes, stage by stage: `Pipeline.process` in-process on the realistic backlog.

No broker: the messages are built as `caretaker run` receives them (the backlog of benchmarks/run.py, every
device type with the values it really sends) and fed in batches of 500, as the worker does. Each stage's CPU
time per message is measured by wrapping the function that does it; `--profile` prints cProfile's top
functions instead. Stages nest (the transaction holds the writes), so they do not add up to the total."""

from __future__ import annotations

import argparse
import os
import cProfile
import json
import pstats
import random
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import Dispatcher
from caretaker.estate.site import load_site
from caretaker.ingest.client import Inbound
from caretaker.pipeline import Pipeline
from caretaker.settings import Settings
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.simulators.behaviour import next_values
from caretaker.simulators.load import load_devices, write_load_site

BATCH = 500


class WallClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def backlog(devices, count: int, seed: int = 7, first_seq: int = 0, ago_ms: int = 0) -> list[Inbound]:
    """The same messages benchmarks/run.py queues at the broker (from `first_seq` on, ending `ago_ms` ago)."""
    rng = random.Random(seed)
    last: dict[str, dict] = {}
    start = int(datetime.now(timezone.utc).timestamp() * 1000) - count - ago_ms
    result = []
    for i in range(count):
        device = devices[i % len(devices)]
        values = last[device.id] = next_values(device.type, last.get(device.id), rng)
        body = json.dumps({"ts": start + i, "seq": first_seq + i // len(devices), "values": values}).encode()
        result.append(Inbound(f"caretaker/load/devices/{device.id}/telemetry", body, i + 1, 1))
    return result


# (label, module, attribute): each is timed where the pipeline calls it
STAGES = [
    ("validate (parse, schema, device lookup)", "caretaker.ingest.payloads", "validate_message"),
    ("device order (place the reading)", "caretaker.ingest.order", "place"),
    ("rules (index lookup, condition, state step)", "caretaker.rules.evaluate", "evaluate"),
    ("telemetry rows (build)", "caretaker.ingest.store", "telemetry_rows"),
    ("telemetry rows (insert)", "caretaker.ingest.store", "insert_telemetry"),
    ("device state (save)", "caretaker.ingest.store", "save_snapshots"),
    ("rule states (save)", "caretaker.rules.store", "save_states"),
]


@contextmanager
def timed_stages(totals: dict[str, float]):
    """Wrap each stage's function where the pipeline looks it up, adding its CPU time to `totals`."""
    import importlib

    patched = []
    for label, module_name, attr in STAGES:
        module = importlib.import_module(module_name)
        original = getattr(module, attr)

        def wrapper(*args, _original=original, _label=label, **kwargs):
            start = time.process_time()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_label] = totals.get(_label, 0.0) + time.process_time() - start

        # the pipeline holds some of these by name (from … import …): patch there too
        for holder in (module, sys.modules["caretaker.pipeline"], sys.modules.get("caretaker.ingest.handle")):
            if holder is not None and getattr(holder, attr, None) is original:
                setattr(holder, attr, wrapper)
                patched.append((holder, attr, original))
    try:
        yield
    finally:
        for holder, attr, original in patched:
            setattr(holder, attr, original)


def build(workdir: Path, n_devices: int, database: str | None) -> Pipeline:
    site_file = workdir / "site.yaml"
    write_load_site(site_file, n_devices)
    site = load_site(site_file)
    engine = make_engine(database or f"sqlite:///{workdir / 'stages.db'}")
    migrate(engine)
    return Pipeline(site, RuleIndex(load_rules(Settings().rules_file), site.devices, site.timezone), Dispatcher(site, "caretaker"),
                    make_sessions(engine), "caretaker", WallClock())


def run(pipeline: Pipeline, messages: list[Inbound]) -> float:
    start = time.process_time()
    for i in range(0, len(messages), BATCH):
        pipeline.process(messages[i:i + BATCH])
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--database", default=None, help="SQLAlchemy URL (default: a SQLite file in a temp dir)")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = build(Path(tmp), args.devices, args.database)
        devices = load_devices(args.devices)
        # every device heard from twice first, so its rows exist, as in a running estate
        run(pipeline, backlog(devices, args.devices * 2, seed=1, ago_ms=args.messages + 1000))
        messages = backlog(devices, args.messages, first_seq=2)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            run(pipeline, messages)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(40)
            return 0
        totals: dict[str, float] = {}
        with timed_stages(totals):
            total = run(pipeline, messages)
        n = len(messages)
        print(f"Pipeline.process over {n} messages from {args.devices} devices, batches of {BATCH} "
              f"({pipeline.sessions.kw['bind'].dialect.name if hasattr(pipeline.sessions, 'kw') else 'database'})")
        for label, *_ in STAGES:
            print(f"  {label:48s} {totals.get(label, 0.0) / n * 1e6:7.1f} µs/msg")
        print(f"  {'total (CPU time of Pipeline.process)':48s} {total / n * 1e6:7.1f} µs/msg")
    return 0


if __name__ == "__main__":
    sys.exit(main())
