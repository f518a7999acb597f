"""Rule evaluation cost per reading for 10,000 devices with 20 and with 500 rules, measured in one run.

The 500 rules are what a large estate grows: the 20 templates once per building, each scoped to its
building with its own thresholds. The index resolves scopes per device when it is built, so a reading
costs the rules of its own device and metric, however many the file holds."""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

from caretaker.estate.model import DEVICE_TYPES, Device, Place
from caretaker.rules.evaluate import DeviceView, RuleIndex, evaluate
from caretaker.rules.model import EventCondition, MetricCondition, Reading, Rule, Scope

BUILDINGS = [f"B{n:02d}" for n in range(25)]
TEMPLATES: list[tuple[str, str, object]] = [
    ("water_leak", "leak", ("==", True)), ("water_pressure", "pressure_kpa", ("<", 150.0)),
    ("water_pressure", "pressure_kpa", (">", 600.0)), ("water_tank", "level_pct", ("<", 20.0)),
    ("water_tank", "level_pct", (">", 98.0)), ("water_pump", "fault", ("==", True)),
    ("power_meter", "mains_ok", ("==", False)), ("power_meter", "voltage_v", ("<", 190.0)),
    ("power_meter", "current_a", (">", 400.0)), ("generator", "fuel_pct", ("<", 25.0)),
    ("ups", "on_battery", ("==", True)), ("ups", "battery_pct", ("<", 30.0)),
    ("transformer", "temp_c", (">", 90.0)), ("elevator", "state", ("==", "stopped")),
    ("elevator", "state", ("==", "fault")), ("access_door", "open", ("==", True)),
    ("generator", "event", "start_failed"), ("elevator", "event", "alarm_button"),
    ("access_door", "event", "door_forced"), ("access_door", "event", "door_held_open"),
]


def make_rules(per_building: bool) -> list[Rule]:
    rules = []
    scopes = [(b, Scope(buildings=frozenset({b}))) for b in BUILDINGS] if per_building else [("all", None)]
    for building, scope in scopes:
        for n, (device_type, metric, test) in enumerate(TEMPLATES):
            if metric == "event":
                condition = EventCondition(str(test))
            else:
                op, value = test  # type: ignore[misc]
                if isinstance(value, float):
                    value = value + random.Random(f"{building}{n}").uniform(-5, 5)  # each building its own threshold
                condition = MetricCondition(metric, op, value)
            rules.append(Rule(id=f"{building}-{n}", title=f"rule {n}", device_types=frozenset({device_type}),
                              condition=condition, urgency=2, category="general", scope=scope,
                              hold_for=timedelta(seconds=30)))
    return rules


def make_devices(count: int) -> dict[str, Device]:
    devices = {}
    for i in range(count):
        device_type = DEVICE_TYPES[i % len(DEVICE_TYPES)]
        device_id = f"D{i:05d}"
        devices[device_id] = Device(device_id, device_type, Place(BUILDINGS[(i // 10) % len(BUILDINGS)], 1 + i % 20))
    return devices


def make_readings(devices: dict[str, Device], count: int, seed: int) -> list[tuple[Device, Reading]]:
    rng = random.Random(seed)
    ids = list(devices)
    start = datetime(2026, 11, 23, tzinfo=timezone.utc)
    values = {"water_leak": lambda: {"leak": rng.random() < 0.01},
              "water_pressure": lambda: {"pressure_kpa": rng.gauss(300, 60)},
              "water_tank": lambda: {"level_pct": rng.uniform(10, 99)},
              "water_pump": lambda: {"running": True, "fault": rng.random() < 0.01},
              "power_meter": lambda: {"mains_ok": rng.random() > 0.01, "voltage_v": rng.gauss(220, 10),
                                      "current_a": rng.uniform(50, 420)},
              "generator": lambda: {"running": False, "fuel_pct": rng.uniform(20, 100)},
              "ups": lambda: {"on_battery": rng.random() < 0.01, "battery_pct": rng.uniform(20, 100)},
              "transformer": lambda: {"temp_c": rng.gauss(60, 15)},
              "elevator": lambda: {"state": rng.choice(["normal"] * 30 + ["stopped", "fault"]), "occupied": True},
              "access_door": lambda: {"open": rng.random() < 0.2}}
    readings = []
    for n in range(count):
        device = devices[rng.choice(ids)]
        readings.append((device, Reading(device.id, start + timedelta(milliseconds=n), values=values[device.type]())))
    return readings


def measure(rules: list[Rule], devices: dict[str, Device], readings, repeats: int) -> tuple[float, float]:
    """Return (µs per reading, index build seconds), the best of `repeats` runs over all readings."""
    built = time.perf_counter()
    index = RuleIndex(rules, devices, "Asia/Shanghai")
    build_s = time.perf_counter() - built
    best = float("inf")
    for _ in range(repeats):
        states: dict[str, dict] = {}
        started = time.perf_counter()
        for device, reading in readings:
            view = DeviceView(device.id, device.type, reading.values)
            own = states.get(device.id)
            changed, _ = evaluate(index, view, reading, own or {}, reading.ts)
            if changed:
                (own if own is not None else states.setdefault(device.id, {})).update(changed)
        best = min(best, (time.perf_counter() - started) / len(readings) * 1e6)
    return best, build_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    devices = make_devices(args.devices)
    readings = make_readings(devices, args.readings, seed=1)
    small, large = make_rules(per_building=False), make_rules(per_building=True)
    # alternate the two so machine noise hits both alike
    results: dict[int, list[float]] = {len(small): [], len(large): []}
    builds: dict[int, float] = {}
    for _ in range(3):
        for rules in (small, large):
            cost, build_s = measure(rules, devices, readings, args.repeats)
            results[len(rules)].append(cost)
            builds[len(rules)] = build_s
    a, b = min(results[len(small)]), min(results[len(large)])
    print(f"{args.devices} devices, {args.readings} readings, best of {3 * args.repeats} runs")
    print(f"  {len(small):>4} rules: {a:6.2f} µs per reading  (index built in {builds[len(small)]:.2f} s)")
    print(f"  {len(large):>4} rules: {b:6.2f} µs per reading  (index built in {builds[len(large)]:.2f} s)")
    print(f"  ratio {len(large)} / {len(small)} rules: {b / a:.2f}  (spread {statistics.pstdev(results[len(large)]):.2f} µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
