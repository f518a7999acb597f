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


_BASE = dict(alert="AL-1", rule="water-leak", device="A-LEAK-1", urgency=1, ticket=None, ts="2026-12-03T02:00:00.000Z")


@pytest.mark.parametrize("extra, keys", [
    # what integrations have read since the first release: the seven fields, in this order, ticket null or not
    ({"state": "raised"}, ["alert", "state", "rule", "device", "urgency", "ticket", "ts"]),
    ({"state": "cleared", "ticket": "T-1"}, ["alert", "state", "rule", "device", "urgency", "ticket", "ts"]),
    ({"state": "raised", "silence": 4}, ["alert", "state", "rule", "device", "urgency", "ticket", "ts", "silence"]),
    ({"state": "raised", "suppressed_by": "AL-0"},
     ["alert", "state", "rule", "device", "urgency", "ticket", "ts", "suppressed_by"]),
    ({"state": "shelved", "by": "op", "shelved_until": "2026-12-03T03:00:00.000Z"},
     ["alert", "state", "rule", "device", "urgency", "ticket", "ts", "by", "shelved_until"]),
    ({"state": "raised", "device": None, "title": "Telemetry store unreachable"},
     ["alert", "state", "rule", "device", "urgency", "ticket", "ts", "title"]),
])
def test_an_alert_event_has_its_seven_fields_and_only_the_optional_ones_it_sets(extra, keys):
    from caretaker.dispatch.messages import AlertEvent

    payload = AlertEvent(**{**_BASE, **extra}).payload()
    assert list(payload) == keys
    assert payload["ticket"] == extra.get("ticket")  # null is said, not left out


def test_an_alert_event_refuses_a_state_the_contract_does_not_have():
    from pydantic import ValidationError

    from caretaker.dispatch.messages import AlertEvent

    with pytest.raises(ValidationError, match="state"):
        AlertEvent(**_BASE, state="exploded")
