"""Rule evaluation: every default rule raises once, honours `for` and `clear_for`, and clears."""

from __future__ import annotations


import pytest

from caretaker.estate.model import DEVICE_TYPES
from caretaker.rules.evaluate import DeviceView, RuleIndex, evaluate, tick
from caretaker.rules.load import load_rules
from caretaker.rules.model import (
    IDLE,
    Clear,
    Raise,
    Reading,
    RuleState,
    alert_id,
)
from tests.rules.runner import DEFAULT_RULES_FILE, TICK, E, FakeDevice, S, V, at, run

RULES = load_rules(DEFAULT_RULES_FILE)
INDEX = RuleIndex(RULES)
# entrapment-risk combines the alerts of two devices (an elevator and the building's power meter): it has no
# per-device scenario here; tests/rules/test_topology.py drives it through evaluate_composites.
CROSS_DEVICE_RULES = {"entrapment-risk"}
# the table's devices report hourly, so device-silent (3 missed intervals) stays out of scenarios about other
# rules; device-silent's own scenarios set the interval they need (None: the 5 min fallback)
HOURLY = 3600

# (id "rule/what", device type, steps[, the device's site-file interval in seconds])
SCENARIOS: list[tuple] = [
    # --- water-leak: no `for`, clear_for 30s ---------------------------------------------------
    ("water-leak/raises-once-and-clears-after-30s-dry", "water_leak", [
        (0, V(leak=True), ["+water-leak"]),
        (5, V(leak=True), []),
        (6, TICK, []),
        (10, V(leak=True), []),
        (20, V(leak=False), []),
        (30, TICK, []),
        (49.999, TICK, []),
        (50, TICK, ["-water-leak"]),
        (60, V(leak=False), []),
        (120, TICK, []),
    ]),
    ("water-leak/clears-on-a-dry-reading-after-30s", "water_leak", [
        (0, V(leak=True), ["+water-leak"]),
        (10, V(leak=False), []),
        (39, V(leak=False), []),
        (40, V(leak=False), ["-water-leak"]),
    ]),
    ("water-leak/wet-again-restarts-clear-delay", "water_leak", [
        (0, V(leak=True), ["+water-leak"]),
        (10, V(leak=False), []),
        (20, V(leak=True), []),
        (45, TICK, []),
        (50, V(leak=False), []),
        (79, TICK, []),
        (80, TICK, ["-water-leak"]),
    ]),
    ("water-leak/raises-again-after-clearing", "water_leak", [
        (0, V(leak=True), ["+water-leak"]),
        (1, V(leak=False), []),
        (31, TICK, ["-water-leak"]),
        (40, V(leak=True), ["+water-leak"]),
        (41, V(leak=True), []),
    ]),
    ("water-leak/dry-sensor-never-raises", "water_leak", [
        (0, V(leak=False), []),
        (3600, TICK, []),
        (3601, V(leak=False), []),
    ]),
    ("water-leak/heartbeat-changes-nothing", "water_leak", [
        (0, V(leak=True), ["+water-leak"]),
        (60, V(), []),
        (61, TICK, []),
    ]),
    # --- low-water-pressure: < 150 for 30s -----------------------------------------------------
    ("low-water-pressure/not-before-for-then-raised-by-tick", "water_pressure", [
        (0, V(pressure_kpa=140), []),
        (10, V(pressure_kpa=130.5), []),
        (29.999, TICK, []),
        (30, TICK, ["+low-water-pressure"]),
        (31, TICK, []),
        (40, V(pressure_kpa=120), []),
        (50, V(pressure_kpa=160), ["-low-water-pressure"]),
        (90, TICK, []),
    ]),
    ("low-water-pressure/raised-by-a-reading-after-for", "water_pressure", [
        (0, V(pressure_kpa=100), []),
        (31, V(pressure_kpa=100), ["+low-water-pressure"]),
        (32, V(pressure_kpa=100), []),
    ]),
    ("low-water-pressure/dip-shorter-than-for-is-ignored", "water_pressure", [
        (0, V(pressure_kpa=140), []),
        (20, V(pressure_kpa=170), []),  # back above 150 (a fall back to 140 is 30 kPa: not falling fast)
        (35, TICK, []),
        (40, V(pressure_kpa=140), []),
        (60, TICK, []),
        (69, TICK, []),
        (70, TICK, ["+low-water-pressure"]),
    ]),
    ("low-water-pressure/150-is-not-low", "water_pressure", [
        (0, V(pressure_kpa=150), []),
        (120, TICK, []),
    ]),
    # --- pressure-falling-fast: a drop of 50 kPa within 60 s, clear_for 2m ------------------------
    # it waits 7 s before raising (mains-power-lost's `for` 5 s + 2 s: an outage explains it, load.py)
    ("pressure-falling-fast/sudden-drop-of-60-raises", "water_pressure", [
        (0, V(pressure_kpa=300), []),
        (10, V(pressure_kpa=240), ["+pressure-falling-fast"]),  # 300 -> 240 in 10 s: raised at once
        (17, TICK, []),
        (61, TICK, []),              # 300 is now older than 60 s: no longer falling; the 2 min clear delay starts
        (70, V(pressure_kpa=238), []),
        (180, TICK, []),
        (181, TICK, ["-pressure-falling-fast"]),
    ]),
    ("pressure-falling-fast/drop-of-60-over-exactly-60s-raises", "water_pressure", [
        (0, V(pressure_kpa=300), []),
        (30, V(pressure_kpa=270), []),
        # 300 -> 240 in 60 s: falling fast. A change rule does not wait for the outage rule (the old value
        # would leave its window first); within one batch the outage is decided first anyway
        (60, V(pressure_kpa=240), ["+pressure-falling-fast"]),
        (61, TICK, []),
    ]),
    ("pressure-falling-fast/slow-drift-of-60-over-5m-never", "water_pressure", [
        *[(t, V(pressure_kpa=300 - t / 5), []) for t in range(0, 301, 20)],  # 4 kPa every 20 s: 60 kPa in 5 min
        (301, TICK, []),
    ]),
    ("pressure-falling-fast/sparse-readings-60-apart-over-61s-never", "water_pressure", [
        (0, V(pressure_kpa=300), []),
        (61, V(pressure_kpa=240), []),
        (62, TICK, []),
    ]),
    ("pressure-falling-fast/exactly-50-within-the-window-raises", "water_pressure", [
        (0, V(pressure_kpa=300), []),
        (20, V(pressure_kpa=250), ["+pressure-falling-fast"]),
        (27, TICK, []),
    ]),
    ("pressure-falling-fast/49-is-not-fast", "water_pressure", [
        (0, V(pressure_kpa=300), []),
        (10, V(pressure_kpa=251), []),
        (20, TICK, []),
    ]),
    ("pressure-falling-fast/a-rise-is-not-a-fall", "water_pressure", [
        (0, V(pressure_kpa=150), []),
        (10, V(pressure_kpa=300), []),
        (20, TICK, []),
    ]),
    ("pressure-falling-fast/falling-to-low-raises-both", "water_pressure", [
        (0, V(pressure_kpa=200), []),
        (10, V(pressure_kpa=100), ["+pressure-falling-fast"]),
        (17, TICK, []),
        (40, TICK, ["+low-water-pressure"]),
        (61, TICK, []),                            # the 200 aged out: clearing for 2 min
        (180, TICK, []),
        (181, TICK, ["-pressure-falling-fast"]),
        (190, V(pressure_kpa=180), ["-low-water-pressure"]),
    ]),
    # --- low-water-tank: < 20 for 1m --------------------------------------------------------------
    ("low-water-tank/for-1m", "water_tank", [
        (0, V(level_pct=19.9), []),
        (59, TICK, []),
        (60, TICK, ["+low-water-tank"]),
        (61, V(level_pct=10), []),
        (120, V(level_pct=20), ["-low-water-tank"]),
    ]),
    # --- pump-fault: no durations ------------------------------------------------------------
    ("pump-fault/waits-7s-clears-at-once", "water_pump", [
        (0, V(fault=True, running=True), []),
        (6, TICK, []),
        (7, TICK, ["+pump-fault"]),                # waits 7 s: an outage (5 s) would explain it
        (10, V(fault=True), []),
        (20, V(running=False), []),
        (25, TICK, []),
        (30, V(fault=False), ["-pump-fault"]),
        (31, V(fault=False), []),
    ]),
    # --- mains-power-lost: == false for 5s --------------------------------------------------------
    ("mains-power-lost/for-5s", "power_meter", [
        (0, V(mains_ok=False, voltage_v=0), []),
        (4, TICK, []),
        (5, TICK, ["+mains-power-lost"]),
        (6, V(mains_ok=False), []),
        (7, V(voltage_v=0.5, current_a=0), []),
        (10, V(mains_ok=True, voltage_v=229), ["-mains-power-lost"]),
    ]),
    ("mains-power-lost/blip-shorter-than-5s", "power_meter", [
        (0, V(mains_ok=False), []),
        (3, V(mains_ok=True), []),
        (60, TICK, []),
    ]),
    # --- transformer-overheating: > 90 for 30s, clear_for 2m --------------------------------------
    ("transformer-overheating/for-30s-clear-for-2m", "transformer", [
        (0, V(temp_c=95), []),
        (29, TICK, []),
        (30, TICK, ["+transformer-overheating"]),
        (45, V(temp_c=97), []),
        (60, V(temp_c=84), []),
        (179, TICK, []),
        (180, TICK, ["-transformer-overheating"]),
        (181, TICK, []),
    ]),
    ("transformer-overheating/deadband-87-keeps-it-raised-84-clears", "transformer", [
        (0, V(temp_c=91), []),
        (30, TICK, ["+transformer-overheating"]),
        (40, V(temp_c=87), []),        # no longer over 90, but not under 85: still raised
        (400, TICK, []),
        (500, V(temp_c=85), []),       # 85 is not under 85
        (700, TICK, []),
        (800, V(temp_c=84.9), []),
        (919, TICK, []),
        (920, TICK, ["-transformer-overheating"]),
        (930, V(temp_c=88), []),       # between the two thresholds: does not raise again
        (1000, TICK, []),
    ]),
    ("transformer-overheating/hot-again-during-clear-delay", "transformer", [
        (0, V(temp_c=95), []),
        (30, V(temp_c=95), ["+transformer-overheating"]),
        (60, V(temp_c=84), []),
        (100, V(temp_c=91), []),
        (200, TICK, []),
        (220, V(temp_c=80), []),
        (339, TICK, []),
        (340, TICK, ["-transformer-overheating"]),
    ]),
    ("transformer-overheating/90-is-not-over", "transformer", [
        (0, V(temp_c=90), []),
        (600, TICK, []),
    ]),
    # --- generator-start-failed: event, clear_after 30m -----------------------------------------
    ("generator-start-failed/event-raises-tick-clears", "generator", [
        (0, E("start_failed"), ["+generator-start-failed"]),
        (60, V(running=False, fuel_pct=80), []),
        (1799, TICK, []),
        (1800, TICK, ["-generator-start-failed"]),
        (1801, TICK, []),
    ]),
    ("generator-start-failed/repeated-event-keeps-one-alert", "generator", [
        (0, E("start_failed"), ["+generator-start-failed"]),
        (60, E("start_failed"), []),
        (600, E("start_failed"), []),
        (1800, TICK, []),
        (2399, TICK, []),
        (2400, TICK, ["-generator-start-failed"]),
        (2500, E("start_failed"), ["+generator-start-failed"]),
    ]),
    # --- ups-on-battery: == true for 10s ---------------------------------------------------------
    ("ups-on-battery/for-10s", "ups", [
        (0, V(on_battery=True, battery_pct=99), []),
        (9, V(battery_pct=98), []),
        (9.5, TICK, []),
        (10, TICK, ["+ups-on-battery"]),
        (20, V(on_battery=True), []),
        (30, V(on_battery=False), ["-ups-on-battery"]),
    ]),
    # --- elevator-alarm-button: event, clear_after 30m ------------------------------------------
    ("elevator-alarm-button/event-raises-tick-clears", "elevator", [
        (0, E("alarm_button"), ["+elevator-alarm-button"]),
        (5, E("alarm_button"), []),
        (10, E("fault", code="E21"), []),
        (1804, TICK, []),
        (1805, TICK, ["-elevator-alarm-button"]),
    ]),
    # --- elevator-stopped-occupied: state == stopped and occupied, for 20s -----------------------
    ("elevator-stopped-occupied/needs-both-metrics", "elevator", [
        (0, V(state="stopped"), []),
        (30, TICK, []),
        (40, V(occupied=True), []),
        (59, TICK, []),
        (60, TICK, ["+elevator-stopped-occupied"]),
        (70, V(floor=3, door_open=False), []),
        (80, V(occupied=False), ["-elevator-stopped-occupied"]),
    ]),
    ("elevator-stopped-occupied/in-one-message", "elevator", [
        (0, V(state="stopped", occupied=True, floor=3, door_open=False), []),
        (20, V(state="stopped", occupied=True), ["+elevator-stopped-occupied"]),
        (30, V(state="normal"), ["-elevator-stopped-occupied"]),
    ]),
    ("elevator-stopped-occupied/empty-car-never", "elevator", [
        (0, V(state="stopped", occupied=False), []),
        (120, TICK, ["+elevator-stopped"]),  # an empty stopped car is elevator-stopped, level 3
        (600, TICK, []),
    ]),
    ("elevator-stopped-occupied/moving-car-never", "elevator", [
        (0, V(state="normal", occupied=True), []),
        (600, TICK, []),
    ]),
    # --- elevator-fault: state == fault for 30s --------------------------------------------------
    ("elevator-fault/for-30s", "elevator", [
        (0, V(state="fault", occupied=False), []),
        (29, TICK, []),
        (30, TICK, ["+elevator-fault"]),
        (40, V(state="fault"), []),
        (50, V(state="normal"), ["-elevator-fault"]),
    ]),
    ("elevator-fault/stopped-occupied-turns-fault", "elevator", [
        (0, V(state="stopped", occupied=True), []),
        (20, TICK, ["+elevator-stopped-occupied"]),
        (25, V(state="fault"), ["-elevator-stopped-occupied"]),
        (55, TICK, ["+elevator-fault"]),
    ]),
    # --- elevator-stopped: state == stopped for 2m ------------------------------------------------
    ("elevator-stopped/empty-car-for-2m", "elevator", [
        (0, V(state="stopped", occupied=False), []),
        (60, V(floor=4), []),
        (119, TICK, []),
        (120, TICK, ["+elevator-stopped"]),
        (130, V(state="stopped"), []),
        (140, V(state="normal"), ["-elevator-stopped"]),
    ]),
    ("elevator-stopped/empty-car", "elevator", [
        (0, V(state="stopped", occupied=False), []),
        (121, V(state="stopped"), ["+elevator-stopped"]),
        (200, V(state="out_of_service"), ["-elevator-stopped"]),
    ]),
    # a car that never said whether it is occupied gives no elevator-stopped: the contract has every
    # elevator report `occupied`, and guessing "empty" could hide people in the car
    ("elevator-stopped/occupancy-unknown-never", "elevator", [
        (0, V(state="stopped"), []),
        (121, V(state="stopped"), []),
    ]),
    # an occupied stopped car is elevator-stopped-occupied (level 1, never suppressed): the rule's description
    # says elevator-stopped is for an empty car or occupancy unknown, so it must not open a second ticket
    ("elevator-stopped/occupied-car-is-only-elevator-stopped-occupied", "elevator", [
        (0, V(state="stopped", occupied=True), []),
        (20, TICK, ["+elevator-stopped-occupied"]),
        (120, TICK, []),
        (600, TICK, []),
    ]),
    ("elevator-stopped/short-stop-at-a-floor-is-ignored", "elevator", [
        (0, V(state="stopped", occupied=False), []),
        (30, V(state="normal"), []),
        (600, TICK, []),
    ]),
    # --- door-forced: event, clear_after 15m ---------------------------------------------------
    ("door-forced/event-raises-tick-clears", "access_door", [
        (0, E("door_forced"), ["+door-forced"]),
        (10, V(open=True), []),
        (300, E("door_forced"), []),
        (1199, TICK, []),
        (1200, TICK, ["-door-forced"]),
    ]),
    ("door-forced/other-door-events-do-nothing", "access_door", [
        (0, E("badge_granted", badge="B-1"), []),
        (1, E("badge_denied", badge="B-2"), []),
        (2, TICK, []),
    ]),
    # --- door-held-open: event, clear_after 10m --------------------------------------------------
    ("door-held-open/event-raises-tick-clears", "access_door", [
        (0, E("door_held_open"), ["+door-held-open"]),
        (1, E("door_forced"), ["+door-forced"]),
        (599, TICK, []),
        (600, TICK, ["-door-held-open"]),
        (901, TICK, ["-door-forced"]),
    ]),
    # --- badge-denied-burst: 5 badge_denied within 2m, clear_after 10m ---------------------------
    ("badge-denied-burst/fifth-refusal-within-2m-raises", "access_door", [
        (0, E("badge_denied", badge="X-1"), []),
        (10, E("badge_denied", badge="X-2"), []),
        (20, E("badge_granted", badge="B-1"), []),   # a granted badge is not a refusal
        (30, E("badge_denied", badge="X-3"), []),
        (40, E("badge_denied", badge="X-4"), []),    # 4 in 2 min: no alert
        (50, TICK, []),
        (60, E("badge_denied", badge="X-5"), ["+badge-denied-burst"]),
        (70, E("badge_denied", badge="X-6"), []),    # one alert; each refusal pushes the auto-clear back
        (669, TICK, []),
        (670, TICK, ["-badge-denied-burst"]),
    ]),
    ("badge-denied-burst/one-refusal-every-30s-is-never-five-within-2m", "access_door", [
        (0, E("badge_denied"), []),
        (30, E("badge_denied"), []),
        (60, E("badge_denied"), []),
        (90, E("badge_denied"), []),
        (120, TICK, []),                             # the refusal at 0 is 2 min old: forgotten
        (120, E("badge_denied"), []),                # 30, 60, 90, 120: four
        (150, E("badge_denied"), []),                # 60, 90, 120, 150: four
        (180, E("badge_denied"), []),                # 90, 120, 150, 180: four
        (181, E("badge_denied"), ["+badge-denied-burst"]),  # 90, 120, 150, 180, 181: five within 2 min
    ]),
    # --- device-silent: nothing heard for 3 intervals (site interval, else 5 min) -----------------
    ("device-silent/fallback-5m-three-intervals-raises-a-message-clears", "water_leak", [
        (0, V(leak=False), []),
        (900, TICK, []),                             # 15 min is not more than 3 x 5 min
        (901, TICK, []),                             # silent; waits 7 s as an outage would explain it
        (907, TICK, []),
        (908, TICK, ["+device-silent"]),
        (1000, TICK, []),
        (1100, V(leak=False), []),                   # heard again: the next tick clears
        (1101, TICK, ["-device-silent"]),
        (1900, TICK, []),
    ], None),
    ("device-silent/site-interval-60s", "water_tank", [
        (0, V(level_pct=80), []),
        (100, S(True), []),                          # a status message is a message too
        (280, TICK, []),
        (281, TICK, []),
        (288, TICK, ["+device-silent"]),
        (290, E("badge_denied"), []),                # not an event a tank sends, but it was heard from
        (291, TICK, ["-device-silent"]),
    ], 60),
    # --- device-offline: status offline for 2m ---------------------------------------------------
    ("device-offline/held-2m", "water_leak", [
        (0, S(False), []),
        (60, S(False), []),
        (119, TICK, []),
        (120, TICK, ["+device-offline"]),
        (130, S(False), []),
        (200, S(True), ["-device-offline"]),
        (400, TICK, []),
    ]),
    ("device-offline/raised-by-a-status-after-2m", "elevator", [
        (0, S(False), []),
        (121, S(False), ["+device-offline"]),
    ]),
    ("device-offline/quick-reconnect-is-ignored", "access_door", [
        (0, S(False), []),
        (60, S(True), []),
        (180, TICK, []),
        (200, S(False), []),
        (319, TICK, []),
        (320, TICK, ["+device-offline"]),
    ]),
    ("device-offline/online-status-never-raises", "transformer", [
        (0, S(True), []),
        (600, TICK, []),
    ]),
]


@pytest.mark.parametrize(("device_type", "steps", "interval_s"), [(*s[1:3], s[3] if len(s) > 3 else HOURLY)
                                                                for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_default_rule_scenario(device_type: str, steps: list, interval_s: int | None) -> None:
    run(FakeDevice(INDEX, f"DEV-{device_type}", device_type, interval_s=interval_s), steps)


def test_every_default_rule_has_a_scenario_that_raises_and_clears() -> None:
    assert len(RULES) == 19
    exercised = {s[0].split("/")[0] for s in SCENARIOS}
    assert exercised == {r.id for r in RULES} - CROSS_DEVICE_RULES
    for rule in (r for r in RULES if r.id not in CROSS_DEVICE_RULES):
        rule_steps = [step for s in SCENARIOS if s[0].startswith(rule.id + "/") for step in s[2]]
        expected = [e for step in rule_steps for e in step[2]]
        assert f"+{rule.id}" in expected and f"-{rule.id}" in expected, rule.id


@pytest.mark.parametrize("device_type", DEVICE_TYPES)
def test_device_offline_applies_to_every_type(device_type: str) -> None:
    run(FakeDevice(INDEX, "DEV-1", device_type), [
        (0, S(False), []),
        (120, TICK, ["+device-offline"]),
        (121, S(True), ["-device-offline"]),
    ])


def test_tick_with_nothing_pending_changes_nothing() -> None:
    device = FakeDevice(INDEX, "DEV-1", "elevator")
    assert tick(INDEX, device.view(), {}, at(0)) == ({}, [])
    assert tick(INDEX, device.view(), {r.id: IDLE for r in RULES}, at(10_000)) == ({}, [])


def test_raise_and_clear_carry_the_same_alert_id() -> None:
    device = FakeDevice(INDEX, "A-LEAK-1", "water_leak")
    (raised,) = device.send(at(0), {"leak": True})
    device.send(at(1), {"leak": False})
    (cleared,) = device.tick(at(31))
    assert isinstance(raised, Raise) and isinstance(cleared, Clear)
    assert raised.alert == cleared.alert == alert_id("water-leak", "A-LEAK-1", at(0))
    assert raised.rule.urgency == 1 and raised.rule.category == "plumbing"
    # the same reading replayed from the start gives the same alert id (no second alert)
    replay = FakeDevice(INDEX, "A-LEAK-1", "water_leak")
    assert replay.send(at(0), {"leak": True})[0].alert == raised.alert


def test_evaluate_returns_only_changed_states() -> None:
    changed, decisions = evaluate(INDEX, DeviceView("T-1", "transformer", {"temp_c": 60}),
                                  Reading("T-1", at(0), {"temp_c": 60}), {}, at(0))
    assert (changed, decisions) == ({}, [])
    device = FakeDevice(INDEX, "P-1", "water_pressure")
    device.send(at(0), {"pressure_kpa": 100})
    # low-water-pressure starts its `for`; pressure-falling-fast keeps the sample it measures falls against
    assert device.states == {"low-water-pressure": RuleState(pending_since=at(0)),
                             "pressure-falling-fast": RuleState(memory=((at(0), 100.0),))}
    changed, decisions = evaluate(INDEX, device.view(), Reading("P-1", at(5), {"pressure_kpa": 90}),
                                  device.states, at(5))
    assert decisions == []
    assert changed == {"pressure-falling-fast": RuleState(memory=((at(0), 100.0), (at(5), 90.0)))}  # still pending
