"""Escalation's decisions, pure and table-driven: who is on duty by shift, whom each level tells by time, a
level with nobody in it passed over at once, when the next level comes, and which steps stop a climb."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.dispatch import escalation
from caretaker.estate import parse_site
from tests.dispatch.escalation_site import SUPERVISORS, escalation_site, escalation_site_text

SITE = escalation_site()
UTC = timezone.utc
# Asia/Shanghai is UTC+8: 2026-11-23 is a Monday
MON_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 local
MON_22 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 22:00 local
TUE_07 = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # Tuesday 07:00 local: the tail of Monday's night shift
SAT_10 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 local
SAT_21 = datetime(2026, 11, 28, 13, 0, tzinfo=UTC)  # Saturday 21:00 local


@pytest.mark.parametrize(("now", "on_duty"), [
    (MON_10, ("s-li",)),
    (MON_22, ("s-wu",)),
    (TUE_07, ("s-wu",)),
    (SAT_10, ("s-zhang",)),
    (SAT_21, ("s-wu",)),
    (datetime(2026, 11, 23, 12, 0, tzinfo=UTC), ("s-wu",)),  # Monday 20:00: s-li's end is not included
], ids=["mon-day", "mon-night", "tue-early", "sat-day", "sat-night", "handover"])
def test_the_supervisors_on_duty_follow_their_shifts_and_never_include_a_manager(now, on_duty):
    assert escalation.on_duty(SITE, now) == on_duty


def test_a_breach_tells_level_0_at_once_and_sets_level_1_for_15_minutes_later():
    told = escalation.begin(SITE, MON_10, climbs=True)
    assert (told.level, told.people, told.note) == (0, ("s-li",), "")
    assert (told.next_level, told.next_at) == (1, MON_10 + timedelta(minutes=15))
    assert escalation.describe(told) == {"levels": 3, "next_level": 1, "next_at": "2026-11-23T02:15:00.000Z",
                                         "note": ""}


@pytest.mark.parametrize(("level", "due_after", "fired_after", "people", "next_level", "next_after"), [
    (1, 15, 15, ("s-zhang",), 2, 60),  # on time
    (1, 15, 18, ("s-zhang",), 2, 60),  # a sweep 3 minutes late does not move the manager's hour
    (2, 60, 60, ("m-chen",), None, None),  # the top: no further level
    (2, 60, 75, ("m-chen",), None, None),
], ids=["level-1", "level-1-late", "level-2", "level-2-late"])
def test_each_level_tells_its_people_and_the_next_is_counted_from_the_start(level, due_after, fired_after, people,
                                                                            next_level, next_after):
    told = escalation.climb(SITE, level, MON_10 + timedelta(minutes=due_after), MON_10 + timedelta(minutes=fired_after))
    assert (told.level, told.people, told.next_level) == (level, people, next_level)
    assert told.next_at == (None if next_after is None else MON_10 + timedelta(minutes=next_after))


def test_named_people_are_told_whatever_their_shift():
    # s-zhang works weekend days, but level 1 names them: on a Monday night they are called
    told = escalation.climb(SITE, 1, MON_22 + timedelta(minutes=15), MON_22 + timedelta(minutes=15))
    assert told.people == ("s-zhang",)


def test_nobody_on_duty_goes_to_the_next_level_at_once_and_says_so():
    night = '  - {id: s-wu, name: Wu Gang, phone: "13900000003", shifts: ["20:00-08:00"]}\n'
    only_days = SUPERVISORS.replace(night, "")
    site = parse_site(escalation_site_text(only_days))
    told = escalation.begin(site, MON_22, climbs=True)  # s-li is off, s-wu is gone, s-zhang works weekends
    assert (told.level, told.people) == (1, ("s-zhang",))
    assert told.note == "nobody on duty at level 0: level 1 told at once"
    # the manager's hour still counts from the breach, not from level 1
    assert (told.next_level, told.next_at) == (2, MON_22 + timedelta(hours=1))


def test_nobody_named_anywhere_tells_every_supervisor_rather_than_nobody():
    lonely = SUPERVISORS.replace("notify: [s-zhang]", "notify: [on_duty]").replace("notify: [m-chen]",
                                                                                   "notify: [on_duty]")
    lonely = lonely.replace('  - {id: s-wu, name: Wu Gang, phone: "13900000003", shifts: ["20:00-08:00"]}\n', "")
    site = parse_site(escalation_site_text(lonely))
    told = escalation.begin(site, MON_22, climbs=True)
    assert told.people == ("s-li", "s-zhang", "m-chen") and told.next_level is None
    assert "every supervisor" in told.note


def test_a_notice_that_does_not_climb_goes_to_level_0_and_sets_no_timer():
    told = escalation.begin(SITE, MON_10, climbs=False)
    assert (told.level, told.people, told.next_level, told.next_at) == (0, ("s-li",), None, None)


def test_a_notice_during_a_climb_goes_to_the_level_reached_without_a_new_timer():
    told = escalation.during(SITE, 1, MON_10 + timedelta(minutes=20))
    assert (told.level, told.people, told.next_level) == (1, ("s-zhang",), None)


def test_without_an_escalation_section_every_supervisor_hears_at_once_as_before():
    plain = SUPERVISORS.split("escalation:")[0]
    site = parse_site(escalation_site_text(plain))
    told = escalation.begin(site, MON_10, climbs=True)
    assert (told.level, told.people, told.next_level) == (None, ("s-li", "s-wu", "s-zhang", "m-chen"), None)
    assert escalation.describe(told) is None


@pytest.mark.parametrize(("kind", "urgency", "climbs"), [
    ("breach", 1, True), ("breach", 4, True), ("unassigned", 1, True), ("unassigned", 2, True),
    ("unassigned", 3, False), ("unassigned", 4, False), ("warning", 1, False), ("escalation", 1, False),
    ("contractor", 1, False),
])
def test_a_breach_climbs_and_so_does_an_urgent_ticket_nobody_can_take(kind, urgency, climbs):
    assert escalation.climbs(kind, urgency) is climbs


@pytest.mark.parametrize(("step", "stops"), [
    ("accept", True), ("arrive", True), ("resolve", True), ("assign", True), ("ack", True), ("cancel", True),
    ("close", True), ("decline", False), ("timeout", False), ("note", False), ("retry_assign", False),
])
def test_someone_acting_stops_the_climb_and_nothing_else_does(step, stops):
    assert escalation.stops(step) is stops


@pytest.mark.parametrize(("reached", "stopped", "level", "acts"), [
    (0, False, 1, True), (1, False, 2, True),
    (1, False, 1, False),  # a second timer for a level already told: no repeat
    (2, False, 1, False),  # level 1 was passed over at once
    (0, True, 1, False),  # someone acted
    (None, False, 1, False),  # no climb at all
])
def test_a_level_timer_acts_only_on_a_climb_under_way_below_its_level(reached, stopped, level, acts):
    assert escalation.timer_acts(reached, stopped, level) is acts


@pytest.mark.parametrize(("kind", "level"), [
    ("escalate:1", 1), ("escalate:12", 12), ("escalate:", None), ("escalate:x", None), ("accept:breach", None),
    ("retry_assign", None),
])
def test_a_level_timer_names_its_level(kind, level):
    assert escalation.level_of(kind) == level
    if level is not None:
        assert escalation.timer_kind(level) == kind
