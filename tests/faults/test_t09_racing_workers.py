"""T09: two workers see the same alarm condition at the same moment, many times → exactly one open ticket each
time; no error logged.

Two Dispatchers, each in its own PostgreSQL transaction on its own connection, released together by a
barrier, open a ticket for the same alert (same device, rule and id, as two workers evaluating the same
reading would). The open ticket of a device and rule is guarded by the unique `open_key`; the loser of
the race waits for the winner's commit and must join the winner's ticket, not fail. Scaled: 500 races
instead of 10,000 (each costs two transactions on two cores; 1,000 took 24 s). Measured: 500/500 (and
1,000/1,000) with one open ticket, both workers naming it, the alert attached once, 0 errors logged.
Before the loser joined the winner's ticket, the first race already failed with a UniqueViolation on
`open_key`, which the ingest worker would have dead-lettered as `internal_error`.
"""

from __future__ import annotations

import logging
import threading
import traceback
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import TicketAlertRow, TicketRow
from caretaker.estate import load_site
from caretaker.rules.model import alert_id
from tests.faults.own_postgres import own_postgres  # noqa: F401 - the fixture
from tests.service.harness import SMALL_SITE

pytestmark = pytest.mark.faults

RACES = 500
DEVICES = ("A-LEAK-1", "A-LEAK-2", "B-LEAK-1")


def test_two_workers_opening_the_same_alarm_give_one_ticket_and_no_error(own_postgres, caplog):  # noqa: F811
    engine = make_engine(own_postgres.url)
    migrate(engine)
    sessions = make_sessions(engine)
    site = load_site(SMALL_SITE)
    # no incident window: each race is about one device's own ticket, not joining a neighbour's incident
    workers = [Dispatcher(site, "caretaker", incident_window=timedelta(0)) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[list[str | None]] = [[None] * RACES for _ in range(2)]
    errors: list[BaseException] = []
    tracebacks: list[str] = []

    def work(n: int) -> None:
        for race in range(RACES):
            now = datetime.now(timezone.utc)
            device = DEVICES[race % len(DEVICES)]
            rule = f"leak-{race}"  # a fresh condition each race: no ticket open for it yet
            facts = AlertFacts(alert_id(rule, device, datetime(2026, 1, 1, tzinfo=timezone.utc)), rule, device,
                               urgency=1, category="plumbing", title="Water leak", at=now)
            barrier.wait(timeout=30)
            try:
                with sessions.begin() as session:
                    results[n][race] = workers[n].open_for_alert(session, facts, now)
            except BaseException as exc:  # noqa: BLE001 - recorded and asserted below
                errors.append(exc)
                tracebacks.append(traceback.format_exc())
                barrier.abort()
                return

    caplog.set_level(logging.WARNING)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    try:
        assert not errors, f"a racing worker failed: {errors[0]!r}\n{tracebacks[0]}"
        same = sum(1 for a, b in zip(*results) if a is not None and a == b)
        assert same == RACES, f"{RACES - same} races where the two workers named different tickets"
        with sessions() as session:
            per_key = session.execute(select(TicketRow.open_key, func.count()).group_by(TicketRow.open_key)).all()
            links = session.scalar(select(func.count()).select_from(TicketAlertRow))
        assert len(per_key) == RACES and {n for _, n in per_key} == {1}, "a condition with two open tickets"
        assert links == RACES, "an alert attached twice or not at all"
        logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert not logged, f"errors logged: {[r.getMessage() for r in logged][:3]}"
    finally:
        engine.dispose()
