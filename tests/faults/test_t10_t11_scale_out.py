"""T10 and T11: several `caretaker run` instances on one PostgreSQL and one Mosquitto share the estates out by leases
(docs/deploy.md, "Scaling out"). Real processes, a real broker of the test's own, real PostgreSQL.

T10: three instances, one estate each, and one instance alone, fed the same recording at the same time (two
deployments, two databases, two topic prefixes on one broker) → the same tickets, opened within ±1 s; nothing
lost, doubled or dead-lettered.

T11: three instances; the owner of an estate killed (SIGKILL) mid-stream → another instance holds the estate and
ingests it again within the lease time + 10 s; then the owner of another estate paused (SIGSTOP) until its lease
ran out and another took the estate, then woken (SIGCONT) → it commits nothing more (its batch meets the fence,
or it sees its lease gone first) and disconnects; at the end every reading stored once, each alarm once, one
ticket per incident, no dead letter, and the killed instance comes back and joins.

Scaled: the lease lasts 3 s instead of 15 (CARETAKER_LEASE_SECONDS), the recording 8-14 s. Measured here (two
busy cores): see docs/reliability.md, T10 and T11.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import _postgres_database
from tests.faults.cluster import (
    Deployment, Feed, facts, owners, recording, scoped, sensor, stored, write_estates,
)
from tests.faults.own_broker import own_broker  # noqa: F401 (the fixture)
from tests.faults.service_process import engine_for, wait_for

pytestmark = pytest.mark.faults

LEASE_S = 3
SITES = ["east-park", "west-park", "north-park"]
MANY = len(SITES) > 1
EVERY_S = 0.5


@pytest.fixture
def databases(postgres_admin_url):
    """Fresh PostgreSQL databases on the shared server, as many as the test asks for."""
    made = []

    def make() -> str:
        maker = _postgres_database(postgres_admin_url)
        made.append(maker)
        return next(maker)

    yield make
    for maker in made:
        next(maker, None)


def all_owned(engine, count: int | None = None):
    held = owners(engine)
    return held if set(held) == set(SITES) and (count is None or len(set(held.values())) == count) else None


def per_estate(engine, site: str) -> int:
    return stored(scoped(engine, site, MANY))


def test_t10_three_instances_open_the_same_tickets_as_one_within_a_second(own_broker, databases, tmp_path: Path):
    sites_path = write_estates(tmp_path / "estates", SITES)
    one_db, three_db = databases(), databases()
    one = Deployment(tmp_path, "t10one", sites_path, one_db, own_broker.url, 1, lease_seconds=str(LEASE_S))
    three = Deployment(tmp_path, "t10three", sites_path, three_db, own_broker.url, 3, lease_seconds=str(LEASE_S),
                       estates_per_instance="1")
    one_engine, three_engine = engine_for(one_db), engine_for(three_db)
    wet_at = {}
    for site in SITES:  # two incidents an estate (A, then B) and a second alarm that joins A's
        wet_at.update({(site, sensor(0)): 1.5, (site, sensor(1)): 3.0, (site, sensor(2)): 5.0})
    readings = recording(SITES, 8, EVERY_S, wet_at)
    expected = len(readings) // len(SITES)
    feed = None
    try:
        one.start()
        three.start()
        wait_for(lambda: all_owned(one_engine), 20, "the one instance holds every estate")
        wait_for(lambda: all_owned(three_engine, min(3, len(SITES))), 20, "three instances share the estates")
        held = {n: three.health(n)["estates"] for n in range(3)}
        assert sorted(s for estates in held.values() for s in estates) == sorted(SITES), held
        feed = Feed("127.0.0.1", own_broker.port, ["t10one", "t10three"])
        feed.play(readings)
        feed.wait(60)
        for site in SITES:
            for engine, deployment in ((one_engine, one), (three_engine, three)):
                try:
                    wait_for(lambda: per_estate(engine, site) >= expected, 30, f"{site}: every reading stored")
                except AssertionError as exc:  # say where the readings stopped, and what the instances said
                    raise AssertionError(f"{exc} in {deployment.name}: {per_estate(engine, site)} of {expected}; "
                                         f"owners {owners(engine)}\n{deployment.tails()}") from None
        for site in SITES:
            alone = facts(scoped(one_engine, site, MANY))
            shared = facts(scoped(three_engine, site, MANY))
            for found in (alone, shared):
                assert (found.stored, found.distinct, found.dead_letters) == (expected, expected, []), (site, found)
                assert found.alerts == {sensor(0): 1, sensor(1): 1, sensor(2): 1}, (site, found.alerts)
            assert alone.tickets.keys() == shared.tickets.keys() and len(alone.tickets) == 2, (site, alone, shared)
            for key, opened in alone.tickets.items():
                assert len(opened) == 1 and len(shared.tickets[key]) == 1, (site, key, opened, shared.tickets[key])
                apart = abs((opened[0] - shared.tickets[key][0]).total_seconds())
                print(f"T10 {site} {key}: opened {apart * 1000:.0f} ms apart")
                assert apart <= 1.0, (site, key, apart)
    finally:
        if feed is not None:
            feed.close()
        one.stop()
        three.stop()
        one_engine.dispose()
        three_engine.dispose()


def test_t11_a_killed_instances_estates_resume_on_another_within_the_lease_time(own_broker, databases,
                                                                                   tmp_path: Path):
    sites_path = write_estates(tmp_path / "estates", SITES)
    database = databases()
    cluster = Deployment(tmp_path, "t11", sites_path, database, own_broker.url, 3, lease_seconds=str(LEASE_S),
                         estates_per_instance=str(len(SITES)))
    engine = engine_for(database)
    wet_at = {}
    for site in SITES:  # an incident before the kill, one during the failover, one after the pause
        wet_at.update({(site, sensor(0)): 1.0, (site, sensor(1)): 4.0, (site, sensor(3)): 11.0})
    readings = recording(SITES, 14, EVERY_S, wet_at)
    expected = len(readings) // len(SITES)
    names = {f"t11-{n}": n for n in range(3)}
    feed = None
    try:
        cluster.start()
        wait_for(lambda: all_owned(engine), 20, "every estate held")
        feed = Feed("127.0.0.1", own_broker.port, ["t11"])
        feed.play(readings)

        # SIGKILL the owner of the first estate mid-stream
        wait_for(lambda: feed.elapsed() >= 3 and per_estate(engine, SITES[0]) > 0, 20, "the stream under way")
        victim = names[owners(engine)[SITES[0]]]
        cluster.processes[victim].kill()
        killed_at = time.monotonic()
        before = per_estate(engine, SITES[0])
        wait_for(lambda: owners(engine).get(SITES[0], f"t11-{victim}") != f"t11-{victim}", LEASE_S + 10,
                 "another instance holds the killed one's estate")
        wait_for(lambda: per_estate(engine, SITES[0]) > before, LEASE_S + 10, "the estate ingested again")
        resumed = time.monotonic() - killed_at
        print(f"T11: estate {SITES[0]} ingested again {resumed:.1f} s after its owner was killed "
              f"(lease {LEASE_S} s)")
        assert resumed <= LEASE_S + 10

        # SIGSTOP the owner of another estate until another instance holds it, then SIGCONT
        target = SITES[1] if MANY else SITES[0]
        # held by someone first: the killed instance may have held it too, and its lease may not be taken yet
        paused = names[wait_for(lambda: owners(engine).get(target), LEASE_S + 10, f"{target} held")]
        pause_log = cluster.processes[paused]
        pause_log_from = len(pause_log.text())
        os.kill(pause_log.proc.pid, signal.SIGSTOP)
        paused_at = time.monotonic()
        try:
            taker = wait_for(lambda: (owners(engine).get(target) or f"t11-{paused}") != f"t11-{paused}"
                             and owners(engine)[target], LEASE_S + 10, "another instance holds the paused one's estate")
            before = per_estate(engine, target)
            try:
                wait_for(lambda: per_estate(engine, target) > before, LEASE_S + 10, "the paused one's estate ingested")
            except AssertionError as exc:  # say where the readings stopped, and what the instances said
                raise AssertionError(f"{exc}: {per_estate(engine, target)} stored, {before} before; feed "
                                     f"{feed.elapsed():.1f} s in; owners {owners(engine)}\n{cluster.tails()}") from None
            print(f"T11: estate {target} taken over by {taker} {time.monotonic() - paused_at:.1f} s after its owner "
                  "was paused")
        finally:
            os.kill(pause_log.proc.pid, signal.SIGCONT)
        woken = lambda: ("no longer holds the lease" in pause_log.text()[pause_log_from:]  # noqa: E731
                         or "ran out before it could be renewed" in pause_log.text()[pause_log_from:])
        wait_for(woken, 10, "the woken instance knows it lost the estate")
        wait_for(lambda: target not in cluster.health(paused)["estates"], 10, "the woken one owns it no more")

        feed.wait(60)
        for site in SITES:
            wait_for(lambda: per_estate(engine, site) >= expected, 30, f"{site}: every reading stored")
        time.sleep(0.5)  # a doubled batch would land now: let it show
        for site in SITES:
            found = facts(scoped(engine, site, MANY))
            assert (found.stored, found.distinct, found.dead_letters) == (expected, expected, []), (site, found)
            assert found.alerts == {sensor(0): 1, sensor(1): 1, sensor(3): 1}, (site, found.alerts)
            # one ticket an incident: A's (two alarms), B's
            assert sorted(building for building, _ in found.tickets) == ["A", "B"], (site, found.tickets)
            assert all(len(opened) == 1 for opened in found.tickets.values()), (site, found.tickets)

        # the killed instance comes back and joins (healthy, standing by or holding estates)
        cluster.processes[victim].start()
        cluster.processes[victim].wait_ready(60)
        health = cluster.health(victim)
        assert health["status"] == "ok" and health["instance"] == f"t11-{victim}", health
        held = owners(engine)
        for n in range(3):
            assert sorted(cluster.health(n)["estates"]) == sorted(s for s, o in held.items() if o == f"t11-{n}")
    finally:
        if feed is not None:
            feed.close()
        cluster.stop()
        engine.dispose()
