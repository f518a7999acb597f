"""Estate leases on real databases (caretaker/estate_leases.py, caretaker/lease_keeper.py): one holder at a time,
a new generation per claim, the fence in the batch's own transaction, a claim that waits for a batch in flight."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import text

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.estate.clock import SystemClock
from caretaker.estate_leases import Fenced, LeaseTable
from caretaker.lease_keeper import LeaseKeeper
from tests.conftest import _postgres_database

TTL = timedelta(seconds=30)


@pytest.fixture
def leases(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield engine, make_sessions(engine), LeaseTable(engine)
    engine.dispose()


def now_of(table: LeaseTable, session):
    return table.now(session, SystemClock().now())


def test_one_holder_at_a_time_and_every_claim_a_new_generation(leases):
    _, sessions, table = leases
    with sessions.begin() as session:
        first = table.claim(session, "harbor", "a", TTL, now_of(table, session))
    with sessions.begin() as session:
        assert table.claim(session, "harbor", "b", TTL, now_of(table, session)) is None  # a holds it
        assert table.renew(session, "harbor", "a", first, TTL, now_of(table, session))
        assert not table.renew(session, "harbor", "b", first, TTL, now_of(table, session))
    with sessions.begin() as session:  # a's lease runs out (as if a stopped renewing)
        table.release(session, "harbor", "a", first, now_of(table, session))
    with sessions.begin() as session:
        second = table.claim(session, "harbor", "b", TTL, now_of(table, session))
    assert second == first + 1
    with sessions.begin() as session:
        assert not table.renew(session, "harbor", "a", first, TTL, now_of(table, session))  # a lost it
        table.check(session, "harbor", second, SystemClock().now())  # b's batch passes the fence
        with pytest.raises(Fenced):
            table.check(session, "harbor", first, SystemClock().now())  # a's batch does not
        assert {s: (l.owner, l.generation) for s, l in table.read(session).items()} == {"harbor": ("b", second)}


def test_a_restarting_instance_takes_its_own_live_lease_back_with_a_new_generation(leases):
    _, sessions, table = leases
    with sessions.begin() as session:
        old = table.claim(session, "harbor", "a", TTL, now_of(table, session))
    with sessions.begin() as session:
        assert table.claim(session, "harbor", "a", TTL, now_of(table, session)) is None  # running: no
        new = table.claim(session, "harbor", "a", TTL, now_of(table, session), starting=True)
    assert new == old + 1
    with sessions.begin() as session, pytest.raises(Fenced):
        table.check(session, "harbor", old, SystemClock().now())  # the process before it commits nothing


def test_two_keepers_share_the_estates_out_and_a_stopped_ones_are_taken_over(leases):
    _, sessions, table = leases
    sites = ["e1", "e2", "e3", "e4"]
    a = LeaseKeeper(sessions, table, SystemClock(), sites, "a", capacity=2, lease_seconds=30)
    b = LeaseKeeper(sessions, table, SystemClock(), sites, "b", capacity=4, lease_seconds=30)
    a.run_round(starting=True)
    b.run_round(starting=True)
    assert len(a.owned()) == 2 and len(b.owned()) == 2
    assert set(a.owned()).isdisjoint(b.owned())
    a.stop()  # a clean stop gives the estates up at once
    b.run_round()
    assert b.owned() == sites and a.owned() == []


def test_an_instance_cut_off_from_renewing_stops_counting_on_its_lease_in_time(leases):
    _, sessions, table = leases
    keeper = LeaseKeeper(sessions, table, SystemClock(), ["harbor"], "a", capacity=1, lease_seconds=1)
    keeper.run_round(starting=True)
    held = keeper.generation("harbor")
    assert held is not None
    # no renewal (the keeper's thread never started: as if paused or cut off): gone within the lease time
    deadline = time.monotonic() + 1.5
    while keeper.generation("harbor") is not None:
        assert time.monotonic() < deadline, "the keeper still counts on a lease past its time"
        time.sleep(0.02)
    with sessions.begin() as session, pytest.raises(Fenced):
        keeper.fence("harbor")(session)


@pytest.fixture
def postgres_leases(postgres_admin_url):
    for url in _postgres_database(postgres_admin_url):
        engine = make_engine(url)
        migrate(engine)
        yield engine, make_sessions(engine), LeaseTable(engine)
        engine.dispose()


def test_on_postgresql_a_claim_waits_for_the_batch_that_passed_the_fence(postgres_leases):
    """The old owner's batch checked its lease and is still committing when the lease runs out: the new owner's
    claim waits for that commit, so what the new owner reads next includes it, and nothing commits after."""
    engine, sessions, table = postgres_leases
    assert table.schema == "public"
    with sessions.begin() as session:
        generation = table.claim(session, "harbor", "a", timedelta(seconds=1), now_of(table, session))
    batch = sessions.writer()
    batch.begin()
    table.check(batch, "harbor", generation, SystemClock().now())  # the fence: the row read FOR SHARE
    time.sleep(1.1)  # the lease runs out while the batch is in flight
    claimed: list[int | None] = []

    def claim() -> None:
        with sessions.begin() as session:
            claimed.append(table.claim(session, "harbor", "b", TTL, now_of(table, session)))

    claimer = threading.Thread(target=claim)
    claimer.start()
    with engine.connect() as watcher:
        deadline = time.monotonic() + 10
        while not watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                       "AND datname = current_database()")).scalar():
            assert time.monotonic() < deadline, "the claim did not wait for the batch's lock"
            time.sleep(0.02)
    assert claimed == []
    batch.commit()
    batch.close()
    claimer.join(10)
    assert claimed == [generation + 1]
    with sessions.begin() as session, pytest.raises(Fenced):
        table.check(session, "harbor", generation, SystemClock().now())
