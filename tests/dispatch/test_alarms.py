"""What a raised alarm does to the tickets, pure: silenced, explained by an outage, or a ticket of its own."""

from __future__ import annotations

import pytest

from caretaker.dispatch.alarms import Route, Routed, route


@pytest.mark.parametrize("silenced, cause, own_open, expected", [
    (False, None, False, Routed(Route.TICKET, None)),
    (False, "AL-OUTAGE", False, Routed(Route.EXPLAINED, "AL-OUTAGE")),
    # a leak's incident is open in the building: the pressure alarm is its evidence, not the outage's
    (False, "AL-OUTAGE", True, Routed(Route.TICKET, None)),
    (True, None, False, Routed(Route.SILENCED, None)),
    (True, "AL-OUTAGE", False, Routed(Route.SILENCED, "AL-OUTAGE")),  # recorded as explained, still silenced
    (True, "AL-OUTAGE", True, Routed(Route.SILENCED, None)),
])
def test_a_raised_alarm_is_silenced_explained_or_ticketed(silenced, cause, own_open, expected):
    assert route(silenced, cause, own_open) == expected
