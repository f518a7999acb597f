"""The alarm model's conditions and options, one feature per table, on a fixed clock: deadband, rate of change,
counts in a window, absence, levels by time of day, active hours, scope, overrides and chattering."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from caretaker.estate.model import Device, Place
from caretaker.estate.shifts import parse_shift
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.rules.model import (
    AbsentCondition,
    ChangeCondition,
    Chatter,
    CountCondition,
    EventCondition,
    MetricCondition,
    Raise,
    Rule,
    Scope,
    TimedUrgency,
)
from tests.rules.runner import DEFAULT_RULES_FILE, TICK, T0, E, FakeDevice, S, V, at, run

RULES = load_rules(DEFAULT_RULES_FILE)
MINUTE = 60


def rule(rule_id: str, device_type: str, condition, **options: Any) -> Rule:
    """A rule with only the options under test (no chatter unless asked)."""
    return Rule(rule_id, rule_id, frozenset({device_type}), condition, 2, "general", **options)


HOT = rule("hot", "transformer", MetricCondition("temp_c", ">", 90),
           clear_condition=MetricCondition("temp_c", "<", 85))
FALLING = rule("falling", "water_pressure", ChangeCondition("pressure_kpa", "drop", 60, timedelta(seconds=60)))
RISING = rule("rising", "water_tank", ChangeCondition("level_pct", "rise", 30, timedelta(minutes=5)))
BURST = rule("burst", "access_door", CountCondition(EventCondition("badge_denied"), 5, timedelta(minutes=2)),
             clear_after=timedelta(minutes=10))
BURST_OF_ONE_BADGE = rule("burst1", "access_door",
                          CountCondition(EventCondition("badge_denied", {"badge": "X"}), 3, timedelta(minutes=1)))
SILENT = rule("silent", "water_leak", AbsentCondition(3, timedelta(minutes=5)))

# (id, the rule, device type, the device's site-file interval, steps)
CONDITIONS = [
    # --- deadband: raise above 90, clear only below 85 -----------------------------------------------
    ("deadband/raise-over-90", HOT, "transformer", None, [
        (0, V(temp_c=90), []),
        (10, V(temp_c=90.1), ["+hot"]),
    ]),
    ("deadband/no-clear-at-87-clear-under-85", HOT, "transformer", None, [
        (0, V(temp_c=95), ["+hot"]),
        (10, V(temp_c=87), []),
        (20, V(temp_c=85), []),
        (30, TICK, []),
        (40, V(temp_c=84.9), ["-hot"]),
        (50, V(temp_c=89), []),       # inside the band: does not raise again
        (60, V(temp_c=91), ["+hot"]),
    ]),
    ("deadband/back-over-90-while-in-band-changes-nothing", HOT, "transformer", None, [
        (0, V(temp_c=95), ["+hot"]),
        (10, V(temp_c=86), []),
        (20, V(temp_c=96), []),
        (30, V(temp_c=80), ["-hot"]),
    ]),
    # --- rate of change: a drop of 60 kPa within 60 s -------------------------------------------------
    ("change/drop-of-60-within-60s-raises", FALLING, "water_pressure", None, [
        (0, V(pressure_kpa=300), []),
        (20, V(pressure_kpa=280), []),
        (40, V(pressure_kpa=260), []),
        (60, V(pressure_kpa=240), ["+falling"]),
        (61, TICK, ["-falling"]),      # the 300 is older than 60 s: no longer falling fast
    ]),
    ("change/sudden-drop-raises-at-once", FALLING, "water_pressure", None, [
        (0, V(pressure_kpa=300), []),
        (1, V(pressure_kpa=200), ["+falling"]),
        (30, V(pressure_kpa=200), []),
        (60, TICK, []),
        (61.5, TICK, ["-falling"]),
    ]),
    ("change/slow-drift-of-60-over-5m-never", FALLING, "water_pressure", None, [
        *[(t, V(pressure_kpa=300 - t / 5), []) for t in range(0, 301, 10)],  # 2 kPa per 10 s
        *[(t, TICK, []) for t in range(305, 400, 10)],
    ]),
    ("change/two-readings-more-than-60s-apart-never", FALLING, "water_pressure", None, [
        (0, V(pressure_kpa=300), []),
        (60.5, V(pressure_kpa=200), []),
    ]),
    ("change/fall-after-a-rise-is-measured-from-the-peak", FALLING, "water_pressure", None, [
        (0, V(pressure_kpa=200), []),
        (10, V(pressure_kpa=270), []),
        (20, V(pressure_kpa=210), ["+falling"]),
    ]),
    ("change/a-rise-rule-ignores-falls", RISING, "water_tank", None, [
        (0, V(level_pct=80), []),
        (60, V(level_pct=20), []),
        (120, V(level_pct=49), []),
        (180, V(level_pct=50), ["+rising"]),   # up 30 from the 20 of 2 min ago
    ]),
    # --- a count of events within a window --------------------------------------------------------------
    ("count/four-within-2m-no-alert-fifth-raises", BURST, "access_door", None, [
        *[(t, E("badge_denied"), []) for t in (0, 20, 40, 60)],
        (80, E("badge_granted"), []),
        (100, E("badge_denied"), ["+burst"]),
        (110, E("badge_denied"), []),
        (709, TICK, []),
        (710, TICK, ["-burst"]),
    ]),
    ("count/events-older-than-the-window-forgotten-by-tick", BURST, "access_door", None, [
        *[(t, E("badge_denied"), []) for t in (0, 20, 40, 60)],
        (130, TICK, []),                    # 0 and 20 are older than 2 min
        (135, E("badge_denied"), []),       # 40, 60, 135: three
        (140, E("badge_denied"), []),       # four
        (150, E("badge_denied"), ["+burst"]),  # 40 is 110 s old: five
    ]),
    ("count/after-clearing-counts-from-zero", BURST, "access_door", None, [
        *[(t, E("badge_denied"), []) for t in (0, 1, 2, 3)],
        (4, E("badge_denied"), ["+burst"]),
        (604, TICK, ["-burst"]),
        *[(t, E("badge_denied"), []) for t in (605, 606, 607, 608)],
        (609, E("badge_denied"), ["+burst"]),
    ]),
    ("count/data-filter", BURST_OF_ONE_BADGE, "access_door", None, [
        (0, E("badge_denied", badge="X"), []),
        (1, E("badge_denied", badge="Y"), []),
        (2, E("badge_denied", badge="X"), []),
        (3, E("badge_denied", badge="Z"), []),
        (4, E("badge_denied", badge="X"), ["+burst1"]),
    ]),
    # --- absence: nothing for 3 intervals --------------------------------------------------------------
    ("absent/site-interval-60s", SILENT, "water_leak", 60, [
        (0, V(leak=False), []),
        (180, TICK, []),                    # 3 x 60 s is not more than 3 intervals
        (180.5, TICK, ["+silent"]),
        (500, TICK, []),
        (600, V(leak=False), []),           # a message; the tick clears
        (600, TICK, ["-silent"]),
        (780, TICK, []),
        (781, TICK, ["+silent"]),
    ]),
    ("absent/fallback-5m-when-the-site-gives-no-interval", SILENT, "water_leak", None, [
        (0, S(True), []),
        (181, TICK, []),
        (900, TICK, []),
        (901, TICK, ["+silent"]),
        (950, E("door_forced"), []),        # any message counts as heard from
        (951, TICK, ["-silent"]),
    ]),
    ("absent/a-steady-heartbeat-never", SILENT, "water_leak", 60, [
        *[step for t in range(0, 1200, 60) for step in ((t, V(), []), (t + 59, TICK, []))],
    ]),
]


@pytest.mark.parametrize(("rule", "device_type", "interval_s", "steps"), [c[1:] for c in CONDITIONS],
                         ids=[c[0] for c in CONDITIONS])
def test_condition(rule: Rule, device_type: str, interval_s: int | None, steps: list) -> None:
    run(FakeDevice(RuleIndex([rule]), "DEV-1", device_type, interval_s=interval_s), steps)


def test_count_memory_is_dropped_once_every_event_is_out_of_the_window() -> None:
    device = FakeDevice(RuleIndex([BURST]), "DOOR-1", "access_door")
    for t in (0, 30, 60):
        device.event(at(t), "badge_denied")
    assert device.states["burst"].memory == (at(0), at(30), at(60))
    device.tick(at(100))
    assert device.states["burst"].memory == (at(0), at(30), at(60))
    device.tick(at(150))
    assert device.states["burst"].memory == (at(60),)
    device.tick(at(180))
    assert device.states == {}  # nothing left to remember: the state is idle again


def test_change_memory_keeps_only_the_window() -> None:
    device = FakeDevice(RuleIndex([FALLING]), "P-1", "water_pressure")
    for t in range(0, 200, 10):
        device.send(at(t), {"pressure_kpa": 300})
    assert [ts for ts, _ in device.states["falling"].memory] == [at(t) for t in range(130, 200, 10)]
    device.tick(at(1000))
    assert device.states["falling"].memory == ((at(190), 300.0),)  # the latest value stays as "now"


def test_never_heard_from_is_not_absent() -> None:
    """A device with no last message (the pipeline passes its start time instead) is not judged."""
    device = FakeDevice(RuleIndex([SILENT]), "L-1", "water_leak", interval_s=60)
    assert device.tick(at(10_000)) == [] and device.states == {}


# -- levels by time of day, in the site's time zone --------------------------------------------------

DOOR = Device("A-DOOR-1", "access_door", Place("A", 1))
LOCAL_SHANGHAI = timezone(timedelta(hours=8))

SCHEDULES = [
    # (id, site time zone, local wall-clock time, level): door-held-open is 1 from 22:00 to 06:00, else 3
    ("shanghai-23:00-night", "Asia/Shanghai", datetime(2026, 11, 23, 23, 0, tzinfo=LOCAL_SHANGHAI), 1),
    ("shanghai-10:00-day", "Asia/Shanghai", datetime(2026, 11, 23, 10, 0, tzinfo=LOCAL_SHANGHAI), 3),
    ("shanghai-22:00-night-starts", "Asia/Shanghai", datetime(2026, 11, 23, 22, 0, tzinfo=LOCAL_SHANGHAI), 1),
    ("shanghai-21:59:59-still-day", "Asia/Shanghai", datetime(2026, 11, 23, 21, 59, 59, tzinfo=LOCAL_SHANGHAI), 3),
    ("shanghai-05:59-night-tail", "Asia/Shanghai", datetime(2026, 11, 24, 5, 59, tzinfo=LOCAL_SHANGHAI), 1),
    ("shanghai-06:00-day-starts", "Asia/Shanghai", datetime(2026, 11, 24, 6, 0, tzinfo=LOCAL_SHANGHAI), 3),
    ("shanghai-sunday-night-into-monday", "Asia/Shanghai", datetime(2026, 11, 30, 2, 0, tzinfo=LOCAL_SHANGHAI), 1),
    # 02:00 UTC is 10:00 in Shanghai: the site's zone decides, not UTC
    ("02:00-utc-is-day-in-shanghai", "Asia/Shanghai", T0, 3),
    ("02:00-utc-is-night-on-a-utc-site", "UTC", T0, 1),
    ("15:00-utc-is-23:00-in-shanghai", "Asia/Shanghai", datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc), 1),
]


@pytest.mark.parametrize(("zone", "when", "level"), [s[1:] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES])
def test_level_by_time_of_day_in_the_site_time_zone(zone: str, when: datetime, level: int) -> None:
    index = RuleIndex(RULES, {DOOR.id: DOOR}, zone)
    device = FakeDevice(index, DOOR.id, DOOR.type)
    (raised,) = device.event(when, "door_held_open")
    assert isinstance(raised, Raise) and raised.rule.id == "door-held-open"
    assert (raised.urgency, raised.level) == (level, level)
    assert raised.rule.urgency == 3  # the rule's own level is unchanged


def test_rule_without_timed_levels_raises_at_its_own_level() -> None:
    index = RuleIndex(RULES, {DOOR.id: DOOR}, "Asia/Shanghai")
    (raised,) = FakeDevice(index, DOOR.id, DOOR.type).event(datetime(2026, 11, 23, 15, 0, tzinfo=timezone.utc),
                                                             "door_forced")
    assert raised.level == 1


def test_first_matching_timed_level_wins() -> None:
    timed = (TimedUrgency((parse_shift("Sat-Sun 00:00-24:00"),), 4), TimedUrgency((parse_shift("00:00-24:00"),), 1))
    r = rule("timed", "access_door", EventCondition("door_forced"), timed_urgency=timed)
    saturday, monday = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc), T0
    assert r.urgency_at(saturday) == 4 and r.urgency_at(monday) == 1


# -- active hours --------------------------------------------------------------------------------------

OFFICE_HOURS = (parse_shift("Mon-Fri 08:00-18:00"),)
DAY_LEAK = rule("day-leak", "water_leak", MetricCondition("leak", "==", True), active=OFFICE_HOURS,
                chatter=Chatter())
DAY_LEAK_NO_CHATTER = rule("day-leak", "water_leak", MetricCondition("leak", "==", True), active=OFFICE_HOURS)
NIGHT_DOOR = rule("night-door", "access_door", EventCondition("door_forced"),
                  active=(parse_shift("Mon-Sun 18:00-08:00"),))
HOUR = 3600
# T0 is Monday 02:00 UTC; on a UTC site 08:00 is T0 + 6 h and 18:00 is T0 + 16 h

ACTIVE_HOURS = [
    ("state-rule/outside-hours-never", DAY_LEAK, "water_leak", [
        (0, V(leak=True), []),
        (HOUR, V(leak=True), []),
    ]),
    ("state-rule/inside-hours-raises-and-clears-when-the-window-ends", DAY_LEAK, "water_leak", [
        (7 * HOUR, V(leak=True), ["+day-leak"]),
        (16 * HOUR - 1, TICK, []),
        (16 * HOUR, TICK, ["-day-leak"]),
        (16 * HOUR + 60, V(leak=True), []),
    ]),
    ("state-rule/without-chatter-still-cleared-when-the-window-ends", DAY_LEAK_NO_CHATTER, "water_leak", [
        (7 * HOUR, V(leak=True), ["+day-leak"]),
        (16 * HOUR, TICK, ["-day-leak"]),
    ]),
    ("state-rule/condition-true-before-the-window-raises-when-it-opens", DAY_LEAK, "water_leak", [
        (5 * HOUR, V(leak=True), []),       # a leak sensor reports on change: wet since 07:00
        (6 * HOUR, TICK, ["+day-leak"]),
    ]),
    ("event-rule/outside-hours-never", NIGHT_DOOR, "access_door", [
        (8 * HOUR, E("door_forced"), []),   # 10:00 on Monday: not night
    ]),
    ("event-rule/inside-hours-raises", NIGHT_DOOR, "access_door", [
        (0, E("door_forced"), ["+night-door"]),  # 02:00
    ]),
]


@pytest.mark.parametrize(("rule", "device_type", "steps"), [a[1:] for a in ACTIVE_HOURS], ids=[a[0] for a in ACTIVE_HOURS])
def test_active_hours(rule: Rule, device_type: str, steps: list) -> None:
    run(FakeDevice(RuleIndex([rule]), "DEV-1", device_type), steps)


# -- scope: which devices of the rule's types it watches ----------------------------------------------

DEVICES = {d.id: d for d in [
    Device("A-3-LEAK-1", "water_leak", Place("A", 3, "east")),
    Device("A-12-LEAK-1", "water_leak", Place("A", 12, "west")),
    Device("B-3-LEAK-1", "water_leak", Place("B", 3, "east")),
    Device("B-B2-LEAK-1", "water_leak", Place("B", -2, "plant")),
]}
LEAK = MetricCondition("leak", "==", True)

SCOPES = [
    # (id, scope, the devices that raise)
    ("building-B", Scope(buildings=frozenset({"B"})), {"B-3-LEAK-1", "B-B2-LEAK-1"}),
    ("buildings-A-and-B", Scope(buildings=frozenset({"A", "B"})), set(DEVICES)),
    ("floors-1-to-10", Scope(floors=(1, 10)), {"A-3-LEAK-1", "B-3-LEAK-1"}),
    ("basements", Scope(floors=(-5, -1)), {"B-B2-LEAK-1"}),
    ("floor-12-exactly", Scope(floors=(12, 12)), {"A-12-LEAK-1"}),
    ("zone-east", Scope(zones=frozenset({"east"})), {"A-3-LEAK-1", "B-3-LEAK-1"}),
    ("device-pattern", Scope(device_pattern="A-*-LEAK-*"), {"A-3-LEAK-1", "A-12-LEAK-1"}),
    ("device-pattern-is-case-sensitive", Scope(device_pattern="a-*"), set()),
    ("building-and-floors", Scope(buildings=frozenset({"B"}), floors=(0, 99)), {"B-3-LEAK-1"}),
    ("no-scope", None, set(DEVICES)),
]


@pytest.mark.parametrize(("scope", "raising"), [s[1:] for s in SCOPES], ids=[s[0] for s in SCOPES])
def test_scope_decides_which_devices_a_rule_watches(scope: Scope | None, raising: set[str]) -> None:
    index = RuleIndex([rule("scoped", "water_leak", LEAK, scope=scope)], DEVICES)
    raised = set()
    for device in DEVICES.values():
        if FakeDevice(index, device.id, device.type).send(T0, {"leak": True}):
            raised.add(device.id)
    assert raised == raising


def test_scoped_rule_is_not_ticked_for_devices_outside_it() -> None:
    index = RuleIndex([rule("scoped", "water_leak", LEAK, scope=Scope(buildings=frozenset({"B"})),
                            clear_for=timedelta(seconds=30))], DEVICES)
    assert index.timed("water_leak", "A-3-LEAK-1") == ()
    assert [r.id for r in index.timed("water_leak", "B-3-LEAK-1")] == ["scoped"]


# -- per-device overrides ---------------------------------------------------------------------------

OVERRIDES = [
    # (id, rule, device type, overrides, steps)
    ("deadband-raise-threshold-lowered", HOT, "transformer", {"hot": {"temp_c": 80}}, [
        (0, V(temp_c=81), ["+hot"]),
    ]),
    ("override-of-another-rule-ignored", HOT, "transformer", {"other": {"temp_c": 50}}, [
        (0, V(temp_c=81), []),
    ]),
    ("default-rule-tank-threshold", next(r for r in RULES if r.id == "low-water-tank"), "water_tank",
     {"low-water-tank": {"level_pct": 35}}, [
        (0, V(level_pct=30), []),
        (60, TICK, ["+low-water-tank"]),
        (70, V(level_pct=36), ["-low-water-tank"]),
    ]),
    ("elevator-state-in-an-all", next(r for r in RULES if r.id == "elevator-stopped-occupied"), "elevator",
     {"elevator-stopped-occupied": {"state": "out_of_service"}}, [
        (0, V(state="stopped", occupied=True), []),
        (30, TICK, []),
        (40, V(state="out_of_service"), []),
        (60, TICK, ["+elevator-stopped-occupied"]),
    ]),
]


@pytest.mark.parametrize(("rule", "device_type", "overrides", "steps"), [o[1:] for o in OVERRIDES],
                         ids=[o[0] for o in OVERRIDES])
def test_per_device_override(rule: Rule, device_type: str, overrides: dict, steps: list) -> None:
    run(FakeDevice(RuleIndex([rule]), "DEV-1", device_type, overrides=overrides), steps)


# -- chattering -------------------------------------------------------------------------------------

LEAK_RULES = RuleIndex([r for r in RULES if r.id == "water-leak"])  # the default: clear_for 30 s, chatter 4 in 10 min

CHATTER = [
    ("leak-flipping-4-times-in-10m", [
        (0, V(leak=True), ["+water-leak"]),
        (10, V(leak=False), []),
        (40, TICK, ["-water-leak"]),
        (60, V(leak=True), ["+water-leak"]),
        (70, V(leak=False), []),
        (100, TICK, ["-water-leak"]),
        (120, V(leak=True), ["+water-leak"]),
        (130, V(leak=False), []),
        (160, TICK, ["-water-leak"]),
        (180, V(leak=True), ["+water-leak", "~water-leak"]),  # the 4th raise within 10 min: chattering, once
        (190, V(leak=False), []),
        (220, TICK, []),                    # 30 s dry is no longer enough: held active
        (240, V(leak=True), []),            # no 5th raise
        (250, V(leak=False), []),
        (300, V(leak=True), []),
        (310, V(leak=False), []),           # dry from here
        (909, TICK, []),
        (910, TICK, ["-water-leak"]),       # dry for 10 min: one clear
        (1000, TICK, []),
        (1500, V(leak=True), ["+water-leak"]),  # an ordinary raise again, not chattering
        (1510, V(leak=False), []),
        (1540, TICK, ["-water-leak"]),
    ]),
    ("three-flips-is-not-chattering", [
        (0, V(leak=True), ["+water-leak"]),
        (10, V(leak=False), []),
        (40, TICK, ["-water-leak"]),
        (60, V(leak=True), ["+water-leak"]),
        (70, V(leak=False), []),
        (100, TICK, ["-water-leak"]),
        (120, V(leak=True), ["+water-leak"]),
        (130, V(leak=False), []),
        (160, TICK, ["-water-leak"]),
    ]),
    ("four-raises-spread-over-more-than-10m", [
        *[step for t in (0, 200, 400) for step in (
            (t, V(leak=True), ["+water-leak"]), (t + 10, V(leak=False), []), (t + 40, TICK, ["-water-leak"]))],
        (600, V(leak=True), ["+water-leak"]),   # raises at 0 is exactly 10 min old: only 3 within the window
        (610, V(leak=False), []),
        (640, TICK, ["-water-leak"]),
    ]),
]


@pytest.mark.parametrize("steps", [c[1] for c in CHATTER], ids=[c[0] for c in CHATTER])
def test_chatter(steps: list) -> None:
    run(FakeDevice(LEAK_RULES, "A-LEAK-1", "water_leak"), steps)


def test_chattering_flags_the_alert_it_holds() -> None:
    device = FakeDevice(LEAK_RULES, "A-LEAK-1", "water_leak")
    run(device, CHATTER[0][1][:10])
    raised, flagged = device.log[-2:]
    assert raised.alert == flagged.alert == device.states["water-leak"].alert
    assert device.states["water-leak"].chattering
    assert sum(1 for d in device.log if type(d).__name__ == "Chattering") == 1
