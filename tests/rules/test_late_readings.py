"""Late readings (docs/rules.md, "Late readings"): evaluated at their own time, against the alerts already known."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from caretaker.rules.evaluate import DeviceView, RuleIndex, evaluate_late
from caretaker.rules.load import load_rules
from caretaker.rules.model import IDLE, Clear, Episode, Raise, Reading, RuleState, alert_id
from tests.rules.runner import DEFAULT_RULES_FILE

INDEX = RuleIndex(load_rules(DEFAULT_RULES_FILE))
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def late(device_type: str, values: dict | None, when: float, superseded: dict, now: float, states=None,
         episodes=None, event: str | None = None, device_id: str = "A-DEV-1"):
    reading = Reading(device_id, at(when), values=values or {}, event=event)
    view = DeviceView(device_id, device_type, values or {})
    return evaluate_late(INDEX, view, reading, states or {}, episodes or {}, superseded, at(now))


def test_a_late_leak_between_two_dry_readings_raises_at_its_time_and_clears_where_the_dry_one_did() -> None:
    # applied: dry at 5, dry at 20; arriving at 100: wet at 10
    changed, decisions, _ = late("water_leak", {"leak": True}, 10, {"leak": at(20)}, now=100)
    alert = alert_id("water-leak", "A-DEV-1", at(10))
    assert [(type(d), d.alert, d.at) for d in decisions] == [(Raise, alert, at(10)), (Clear, alert, at(50))]
    assert changed == {}  # the rule's state now is what the newer readings made it


def test_a_late_leak_whose_clear_delay_has_not_run_out_stays_active_until_the_tick_clears_it() -> None:
    changed, decisions, _ = late("water_leak", {"leak": True}, 10, {"leak": at(20)}, now=25)
    alert = alert_id("water-leak", "A-DEV-1", at(10))
    assert [type(d) for d in decisions] == [Raise]
    assert changed["water-leak"] == RuleState(alert=alert, clearing_since=at(20))


def test_a_late_reading_from_inside_a_known_alarm_raises_nothing() -> None:
    known = {"water-leak": (Episode("AL-known", at(12), at(60)),)}
    assert late("water_leak", {"leak": True}, 10, {"leak": at(12)}, now=100, episodes=known)[:2] == ({}, [])
    # an alarm known to begin right where the late reading's values were replaced is the same alarm
    known = {"water-leak": (Episode("AL-known", at(20), None),)}
    active = {"water-leak": RuleState(alert="AL-known")}
    assert late("water_leak", {"leak": True}, 10, {"leak": at(20)}, now=100, states=active, episodes=known)[:2] == ({}, [])


def test_an_earlier_alarm_distinct_from_the_active_one_is_raised_and_cleared() -> None:
    known = {"water-leak": (Episode("AL-now", at(300), None),)}
    active = {"water-leak": RuleState(alert="AL-now")}
    changed, decisions, _ = late("water_leak", {"leak": True}, 10, {"leak": at(20)}, now=400, states=active,
                              episodes=known)
    assert [type(d) for d in decisions] == [Raise, Clear] and changed == {}


def test_a_late_reading_shorter_than_the_rules_hold_raises_nothing() -> None:
    # low-water-pressure holds 30 s: 20 s below 150 kPa is a pump switching over
    assert late("water_pressure", {"pressure_kpa": 100}, 10, {"pressure_kpa": at(30)}, now=100)[:2] == ({}, [])
    changed, decisions, _ = late("water_pressure", {"pressure_kpa": 100}, 10, {"pressure_kpa": at(60)}, now=200)
    assert [(type(d), d.at) for d in decisions] == [(Raise, at(40)), (Clear, at(60))]


def test_a_dry_late_reading_changes_nothing() -> None:
    assert late("water_leak", {"leak": False}, 10, {"leak": at(20)}, now=100)[:2] == ({}, [])


def test_a_late_reading_that_is_still_the_newest_for_its_metric_is_applied_as_in_order() -> None:
    changed, decisions, _ = late("water_leak", {"leak": True}, 10, {"leak": None}, now=100)
    assert [(type(d), d.at) for d in decisions] == [(Raise, at(10))]
    assert changed["water-leak"].alert == decisions[0].alert


def test_a_late_alarm_button_raises_at_its_time_and_expires_if_its_auto_clear_has_passed() -> None:
    changed, decisions, _ = late("elevator", None, 10, {}, now=3600, event="alarm_button")
    assert [(type(d), d.at) for d in decisions] == [(Raise, at(10)), (Clear, at(10 + 1800))]
    assert changed == {}
    changed, decisions, _ = late("elevator", None, 10, {}, now=60, event="alarm_button")
    assert [type(d) for d in decisions] == [Raise] and changed["elevator-alarm-button"].clear_due == at(1810)


def test_a_late_press_inside_a_known_alarm_or_an_active_one_never_shortens_it() -> None:
    known = {"elevator-alarm-button": (Episode("AL-1", at(0), at(1800)),)}
    assert late("elevator", None, 10, {}, now=3600, event="alarm_button", episodes=known)[:2] == ({}, [])
    active = {"elevator-alarm-button": RuleState(alert="AL-1", clear_due=at(2000))}
    changed, decisions, _ = late("elevator", None, 10, {}, now=100, event="alarm_button", states=active)
    assert decisions == [] and changed.get("elevator-alarm-button", active["elevator-alarm-button"]).clear_due == at(2000)


def test_a_late_reading_just_before_a_known_alarm_moves_its_known_start_back() -> None:
    # wet at 10 arrives after the alarm raised by the wet reading at 20: the alarm began at 10
    known = {"water-leak": (Episode("AL-known", at(20), None),)}
    changed, decisions, extended = late("water_leak", {"leak": True}, 10, {"leak": at(20)}, now=100,
                                        states={"water-leak": RuleState(alert="AL-known")}, episodes=known)
    assert (changed, decisions) == ({}, [])
    assert extended == {"water-leak": (Episode("AL-known", at(10), None),)}
    # so a still earlier one, replaced by the one at 10, is part of it too
    changed, decisions, extended = late("water_leak", {"leak": True}, 5, {"leak": at(10)}, now=100,
                                        states={"water-leak": RuleState(alert="AL-known")}, episodes=extended)
    assert decisions == [] and extended["water-leak"][0].start == at(5)


def test_idle_is_unchanged_by_nothing() -> None:
    assert late("water_leak", {}, 10, {}, now=100)[:2] == ({}, [])
    assert IDLE == RuleState()


def test_a_late_reading_that_held_into_a_pending_for_starts_it_earlier() -> None:
    # low pressure applied at 30 (pending since 30); the late low reading at 10 was replaced at 30 by it
    pending = {"low-water-pressure": RuleState(pending_since=at(30))}
    changed, decisions, _ = late("water_pressure", {"pressure_kpa": 100}, 10, {"pressure_kpa": at(30)}, now=45,
                                 states=pending)
    assert decisions == [] and changed == {"low-water-pressure": RuleState(pending_since=at(10))}
