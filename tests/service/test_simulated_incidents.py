"""The simulators' incidents, played against the real service: each gives the tickets a control room expects."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from caretaker.dispatch.tables import TicketRow
from caretaker.rules.tables import AlertRow
from caretaker.simulators.broker import BrokerAddress
from caretaker.simulators.runner import run_simulation
from tests.conftest import EXAMPLE_SITE
from tests.service.harness import start_service, wait_until


def play(service, mosquitto, scenario: str, stop: threading.Event) -> threading.Thread:
    runner = threading.Thread(target=run_simulation, kwargs=dict(
        site=service.site, address=BrokerAddress(mosquitto.host, mosquitto.port), scenario=scenario, seed=4,
        speed=4.0, stop=stop, technicians=False, log=lambda _text: None, shared_client=True,
        offline_on_exit=False))
    runner.start()
    return runner


def tickets(service) -> list[TicketRow]:
    with service.sessions() as session:
        return list(session.scalars(select(TicketRow)))


def alerts(service) -> list[AlertRow]:
    """Every alert, with `ticket_id` read from its one link (dispatch/lookup.py `alert_tickets`)."""
    from caretaker.dispatch import lookup

    with service.sessions() as session:
        found = list(session.scalars(select(AlertRow)))
        tickets = lookup.alert_tickets(session, [a.id for a in found])
    for alert in found:
        alert.ticket_id = tickets.get(alert.id)
    return found


def trades_of(service, ticket_id: str) -> list[tuple[str, str]]:
    """(role, trade) of the ticket's assignments, oldest first."""
    from caretaker.dispatch import lookup

    with service.sessions() as session:
        return [(a.role, a.trade) for a in lookup.assignments_of(session, [ticket_id]).get(ticket_id, [])]


@pytest.mark.slow
@pytest.mark.parametrize("scenario, category, level, rules, support", [
    ("burst-pipe", "plumbing", 1, {"water-leak"}, {"security"}),  # keep people away while the water is stopped
    ("elevator-entrapment", "elevator", 1, {"elevator-alarm-button"}, {"security"}),  # someone stays with them
    ("door-forced", "security", 1, {"door-forced"}, set()),
    ("power-outage", "electrical", 2, {"mains-power-lost"}, {"elevator"}),  # every lift car checked
], ids=["burst-pipe", "elevator-entrapment", "door-forced", "power-outage"])
def test_a_simulated_incident_opens_one_ticket_of_its_trade(mosquitto, sqlite_url, scenario, category, level, rules,
                                                             support):
    service = start_service(mosquitto.url, sqlite_url, site_file=EXAMPLE_SITE)
    stop = threading.Event()
    runner = play(service, mosquitto, scenario, stop)
    try:
        wait_until(lambda: rules <= {a.rule_id for a in alerts(service)}, timeout=40,
                   what=f"{scenario}: alerts {sorted(rules)}")
        wait_until(lambda: any(t.category == category for t in tickets(service)), timeout=20,
                   what=f"{scenario}: a {category} ticket")
        of_trade = [t for t in tickets(service) if t.category == category]
        assert len(of_trade) == 1, [(t.category, t.title) for t in tickets(service)]
        # several trades on the one incident: the owner of its trade, the playbook's support at once
        wanted = {("owner", category)} | {("support", trade) for trade in support}
        wait_until(lambda: wanted <= set(trades_of(service, of_trade[0].id)), timeout=20,
                   what=f"{scenario}: assignments {sorted(wanted)}")
        assert sorted(trades_of(service, of_trade[0].id)).count(("owner", category)) == 1
        assert of_trade[0].urgency <= level  # a generator failing in the same building makes an outage level 1
        if scenario in ("burst-pipe", "power-outage"):
            # however many sensors fired, one building's incident of this trade is one ticket
            assert len({a.ticket_id for a in alerts(service) if a.category == category}) == 1
    finally:
        stop.set()
        runner.join(timeout=20)
        service.stop()
