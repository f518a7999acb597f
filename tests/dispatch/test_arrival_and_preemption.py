"""Arrival checks and preemption, pure: where a technician's last location must be for `arrive` to count;
when a level 1 takes someone off their job."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.dispatch.arrival import refusal
from caretaker.dispatch.choose import choose_technician
from tests.dispatch.test_choose import NOW, SITE, cand
from caretaker.estate.model import Place

TTL = timedelta(minutes=15)
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("last, located, expected", [
    ("A", T0 - timedelta(minutes=1), None),
    ("B", T0 - timedelta(minutes=1), "your last location is building B, not A: arrive there, or ask the control "
                                     "room to confirm"),
    ("A", T0 - TTL, "your last location is too old: report it from the app or swipe your badge at the building"),
    (None, None, "your location is not known: report it from the app or swipe your badge at the building"),
])
def test_an_arrive_counts_only_from_the_tickets_building(last, located, expected):
    assert refusal("A", last, located, T0, TTL) == expected


def test_a_level_1_takes_a_free_technician_before_taking_one_off_a_job():
    near_busy = cand("t-busy", busy=3)  # nearest, on a level-3 job
    far_free = cand("t-free", Place("B", 1))
    choice = choose_technician(SITE, category="plumbing", urgency=1, place=Place("A", 1),
                               candidates=[near_busy, far_free], now=NOW)
    assert (choice.technician, choice.preempts) == ("t-free", False)


@pytest.mark.parametrize("busy, urgency, expected", [
    (3, 1, ("t-busy", True)), (4, 1, ("t-busy", True)),
    (2, 1, ("t-busy", False)),  # a level-2 job is not taken from them: they fit the level 1 in as today
    (4, 2, ("t-busy", False)),  # only a level 1 preempts
    (1, 1, None),
])
def test_a_level_1_takes_someone_off_level_3_or_4_work_when_nobody_else_is_free(busy, urgency, expected):
    choice = choose_technician(SITE, category="plumbing", urgency=urgency, place=Place("A", 1),
                               candidates=[cand("t-busy", busy=busy)], now=NOW)
    assert (None if choice is None else (choice.technician, choice.preempts)) == expected
    if choice is not None and choice.preempts:
        assert f"taken off level-{busy} work" in choice.reason
