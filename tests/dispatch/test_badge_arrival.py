"""A badge swipe as an arrival, pure: which swipe puts an accepted assignment on site, and at what time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.dispatch.arrival import by_badge

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
OFFERED, ACCEPTED = T0, T0 + timedelta(seconds=40)
s = timedelta(seconds=1)


@pytest.mark.parametrize("swipe_building, swipe_at, accepted_at, expected", [
    ("A", ACCEPTED + 60 * s, ACCEPTED, ACCEPTED + 60 * s),  # in the ticket's building: on site at the swipe
    ("B", ACCEPTED + 60 * s, ACCEPTED, None),  # elsewhere: it only moves their location
    ("A", ACCEPTED - 10 * s, ACCEPTED, ACCEPTED),  # a door clock a little behind: never before the accept
    ("A", OFFERED - 60 * s, ACCEPTED, None),  # a backlog's swipe from before the work existed
    ("A", ACCEPTED + 60 * s, None, None),  # not accepted: arrive comes after accept (docs/api.md)
], ids=["same-building", "other-building", "door-clock-behind", "before-the-offer", "not-accepted"])
def test_a_swipe_in_the_tickets_building_after_the_offer_is_an_arrival(swipe_building, swipe_at, accepted_at,
                                                                       expected):
    assert by_badge("A", swipe_building, swipe_at, OFFERED, accepted_at) == expected
