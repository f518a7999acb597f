"""The rule index (only the rules a reading can change, each once), per-device overrides, and a property
test against a reference model."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caretaker.estate.model import DEVICE_TYPES
from caretaker.rules.evaluate import DeviceView, RuleIndex, evaluate
from caretaker.rules.load import load_rules
from caretaker.rules.model import (
    Clear,
    MetricCondition,
    Raise,
    Reading,
    Rule,
)
from tests.rules.runner import DEFAULT_RULES_FILE, TICK, T0, FakeDevice, V, run

RULES = load_rules(DEFAULT_RULES_FILE)
INDEX = RuleIndex(RULES)


# -- the index ------------------------------------------------------------------------------------

INDEX_CASES = [
    ("leak", "water_leak", Reading("d", T0, {"leak": True}), {"water-leak"}),
    ("pressure", "water_pressure", Reading("d", T0, {"pressure_kpa": 1}), {"low-water-pressure", "pressure-falling-fast"}),
    ("pump-fault-metric", "water_pump", Reading("d", T0, {"fault": True}), {"pump-fault"}),
    ("pump-running-metric-has-no-rule", "water_pump", Reading("d", T0, {"running": True}), set()),
    ("meter-voltage-has-no-rule", "power_meter", Reading("d", T0, {"voltage_v": 1}), set()),
    ("meter-mains", "power_meter", Reading("d", T0, {"mains_ok": True, "voltage_v": 1}), {"mains-power-lost"}),
    ("elevator-state", "elevator", Reading("d", T0, {"state": "normal"}),
     {"elevator-stopped-occupied", "elevator-fault", "elevator-stopped"}),
    ("elevator-occupied", "elevator", Reading("d", T0, {"occupied": True}),
     {"elevator-stopped-occupied", "elevator-stopped"}),
    ("elevator-floor-has-no-rule", "elevator", Reading("d", T0, {"floor": 3}), set()),
    ("elevator-state-and-occupied-each-once", "elevator", Reading("d", T0, {"state": "stopped", "occupied": True}),
     {"elevator-stopped-occupied", "elevator-fault", "elevator-stopped"}),
    ("heartbeat", "elevator", Reading("d", T0, {}), set()),
    ("metric-of-another-type", "water_leak", Reading("d", T0, {"pressure_kpa": 1}), set()),
    ("alarm-button", "elevator", Reading("d", T0, event="alarm_button"), {"elevator-alarm-button"}),
    ("elevator-fault-event-has-no-rule", "elevator", Reading("d", T0, event="fault"), set()),
    ("door-forced", "access_door", Reading("d", T0, event="door_forced"), {"door-forced"}),
    ("badge-granted-has-no-rule", "access_door", Reading("d", T0, event="badge_granted"), set()),
    ("badge-denied", "access_door", Reading("d", T0, event="badge_denied"), {"badge-denied-burst"}),
    ("door-held-open", "access_door", Reading("d", T0, event="door_held_open"), {"door-held-open"}),
    ("entrapment-risk-is-not-per-device", "elevator", Reading("d", T0, {"state": "stopped", "occupied": True}),
     {"elevator-stopped-occupied", "elevator-fault", "elevator-stopped"}),
    ("start-failed", "generator", Reading("d", T0, event="start_failed"), {"generator-start-failed"}),
    ("status-offline", "ups", Reading("d", T0, online=False), {"device-offline"}),
    ("status-online", "water_tank", Reading("d", T0, online=True), {"device-offline"}),
]


@pytest.mark.parametrize(("device_type", "reading", "expected"), [c[1:] for c in INDEX_CASES],
                         ids=[c[0] for c in INDEX_CASES])
def test_index_returns_only_the_rules_a_reading_can_change(device_type: str, reading: Reading, expected: set[str]) -> None:
    found = INDEX.for_reading(device_type, reading)
    assert sorted(r.id for r in found) == sorted(expected)  # each once


def ticked(device_type: str) -> set[str]:
    return {r.id for r in INDEX.timed(device_type) + INDEX.absent(device_type)}


def test_index_timed_rules() -> None:
    # water-leak has a clear delay; chatter detection also needs time to forget old raises
    assert ticked("water_leak") == {"water-leak", "device-offline", "device-silent"}
    assert ticked("water_pump") == {"pump-fault", "device-offline", "device-silent"}
    assert ticked("water_pressure") == {"low-water-pressure", "pressure-falling-fast", "device-offline",
                                        "device-silent"}
    assert ticked("access_door") == {"door-forced", "door-held-open", "badge-denied-burst", "device-offline",
                                     "device-silent"}
    assert ticked("elevator") == {"elevator-alarm-button", "elevator-stopped-occupied", "elevator-fault",
                                  "elevator-stopped", "device-offline", "device-silent"}  # not entrapment-risk
    assert INDEX.composites == tuple(r for r in RULES if r.id == "entrapment-risk")


@pytest.mark.parametrize("device_type", DEVICE_TYPES)
def test_tick_looks_at_each_rule_once(device_type: str) -> None:
    rules = INDEX.timed(device_type) + INDEX.absent(device_type)
    assert len({r.id for r in rules}) == len(rules)
    assert [r.id for r in INDEX.absent(device_type)] == ["device-silent"]  # every type can fall silent


class CountingCondition(MetricCondition):
    """A metric condition that records each time it is asked: a reading must never ask rules it cannot change."""

    def __init__(self, metric: str, op: str, value: Any, calls: list[str]) -> None:
        super().__init__(metric, op, value)  # type: ignore[arg-type]
        object.__setattr__(self, "calls", calls)  # the parent is frozen; this subclass has a __dict__

    def holds(self, values, params):  # type: ignore[override]
        self.calls.append(self.metric)
        return MetricCondition.holds(self, values, params)


def test_evaluate_asks_only_indexed_rules_not_a_scan() -> None:
    calls: list[str] = []
    pressure_rules = []
    for i in range(2000):
        cond = CountingCondition("pressure_kpa", "<", float(i), calls)
        pressure_rules.append(Rule(f"p-{i}", "p", frozenset({"water_pressure"}), cond, 3, "plumbing"))
    leak = CountingCondition("leak", "==", True, calls)
    index = RuleIndex([*pressure_rules, Rule("leak", "leak", frozenset({"water_leak"}), leak, 1, "plumbing")])
    view = DeviceView("L-1", "water_leak", {"leak": True, "pressure_kpa": 1})
    changed, decisions = evaluate(index, view, Reading("L-1", T0, {"leak": True}), {}, T0)
    assert calls == ["leak"]  # the 2000 pressure rules were never looked at
    assert [d.rule.id for d in decisions] == ["leak"]
    assert index.for_reading("water_pressure", Reading("P", T0, {"pressure_kpa": 1})) is \
        index.for_reading("water_pressure", Reading("P", T0, {"pressure_kpa": 2}))  # precomputed, not rebuilt


# -- per-device overrides -------------------------------------------------------------------------

OVERRIDES = [
    ("pressure-threshold-raised", "water_pressure", {"low-water-pressure": {"pressure_kpa": 200}},
     [(0, V(pressure_kpa=180), []), (30, TICK, ["+low-water-pressure"]), (40, V(pressure_kpa=210), ["-low-water-pressure"])]),
    ("pressure-default-threshold", "water_pressure", None,
     [(0, V(pressure_kpa=180), []), (30, TICK, [])]),
    ("pressure-threshold-lowered", "water_pressure", {"low-water-pressure": {"pressure_kpa": 100}},
     [(0, V(pressure_kpa=120), []), (30, TICK, []), (40, V(pressure_kpa=99), []), (70, TICK, ["+low-water-pressure"])]),
    ("override-of-another-rule-ignored", "water_pressure", {"low-water-tank": {"pressure_kpa": 200}},
     [(0, V(pressure_kpa=180), []), (30, TICK, [])]),
    ("transformer-threshold-lowered", "transformer", {"transformer-overheating": {"temp_c": 70}},
     [(0, V(temp_c=75), []), (30, TICK, ["+transformer-overheating"])]),
    ("tank-threshold-raised", "water_tank", {"low-water-tank": {"level_pct": 50}},
     [(0, V(level_pct=40), []), (60, TICK, ["+low-water-tank"])]),
]


@pytest.mark.parametrize(("device_type", "overrides", "steps"), [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES])
def test_per_device_override_changes_the_threshold(device_type: str, overrides, steps: list) -> None:
    run(FakeDevice(INDEX, "DEV-1", device_type, overrides=overrides), steps)


# -- property: one alert at most, and the state a reference model predicts ----------------------

HOLD = timedelta(seconds=10)
CLEAR = timedelta(seconds=30)
LEAK_RULE = Rule("leak-held", "Leak held", frozenset({"water_leak"}), MetricCondition("leak", "==", True), 1,
                 "plumbing", hold_for=HOLD, clear_for=CLEAR)


class ReferenceLeak:
    """Active once the sensor has read wet without a dry reading for HOLD; inactive once it has read dry
    without a wet reading for CLEAR. Checked at readings and ticks only."""

    def __init__(self) -> None:
        self.active = False
        self.wet: bool | None = None
        self.wet_since: datetime | None = None  # first reading of the current wet run
        self.dry_since: datetime | None = None  # first reading of the current dry run

    def reading(self, now: datetime, wet: bool) -> None:
        if wet and self.wet is not True:
            self.wet_since, self.dry_since = now, None
        if not wet and self.wet is not False:
            self.dry_since, self.wet_since = now, None
        self.wet = wet
        self.tick(now)

    def tick(self, now: datetime) -> None:
        if self.wet and not self.active and now - self.wet_since >= HOLD:
            self.active = True
        elif self.wet is False and self.active and now - self.dry_since >= CLEAR:
            self.active = False


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["wet", "dry", "tick"]), st.integers(min_value=0, max_value=45)),
                max_size=40))
def test_leak_rule_matches_reference_model(steps: list[tuple[str, int]]) -> None:
    index = RuleIndex([LEAK_RULE])
    device = FakeDevice(index, "A-LEAK-1", "water_leak")
    model = ReferenceLeak()
    now = T0
    for what, elapsed in steps:
        now += timedelta(seconds=elapsed)
        if what == "tick":
            device.tick(now)
            model.tick(now)
        else:
            device.send(now, {"leak": what == "wet"})
            model.reading(now, what == "wet")
        raised = sum(isinstance(d, Raise) for d in device.log)
        cleared = sum(isinstance(d, Clear) for d in device.log)
        assert raised - cleared in (0, 1)  # at most one alert active
        assert device.active == ({"leak-held"} if model.active else set())
