"""Which estates an instance renews and claims (caretaker/lease_plan.py): pure decisions over lease rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from caretaker.lease_plan import Lease, is_free, plan_round
from caretaker.roles import parse_roles

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(seconds=10)
EARLIER = NOW - timedelta(seconds=1)


def test_an_estate_nobody_holds_or_whose_lease_ran_out_is_free_one_held_is_not():
    assert is_free(None, "a", NOW, starting=False)
    assert is_free(Lease("s1", "b", 3, EARLIER), "a", NOW, starting=False)
    assert is_free(Lease("s1", "b", 3, NOW), "a", NOW, starting=False)  # runs out at `now`: gone
    assert not is_free(Lease("s1", "b", 3, LATER), "a", NOW, starting=False)


def test_a_restarted_instance_takes_back_its_own_estates_at_once_but_only_while_starting():
    mine = Lease("s1", "a", 3, LATER)  # held under our name by the process that died
    assert is_free(mine, "a", NOW, starting=True)
    assert not is_free(mine, "a", NOW, starting=False)  # running, we never take over a live lease


def test_held_estates_are_renewed_and_free_ones_claimed_up_to_the_capacity():
    leases = {"s1": Lease("s1", "a", 1, LATER)}
    plan = plan_round(["s1", "s2", "s3", "s4"], leases, {"s1": 1}, "a", NOW, capacity=3)
    assert plan.renew == ("s1",)
    assert plan.claim == ("s2", "s3")


def test_an_instance_at_its_capacity_claims_nothing():
    plan = plan_round(["s1", "s2"], {}, {"s1": 4}, "a", NOW, capacity=1)
    assert plan.renew == ("s1",) and plan.claim == ()


def test_estates_another_instance_holds_are_left_alone_and_free_ones_shared_with_it():
    leases = {"s1": Lease("s1", "b", 2, LATER), "s2": Lease("s2", "c", 7, EARLIER)}
    plan = plan_round(["s1", "s2", "s3", "s4", "s5"], leases, {}, "a", NOW, capacity=10)
    # b is alive (one unexpired lease): a takes its fair share of the five, three, those never held first
    assert plan.claim == ("s3", "s4", "s5")


def test_free_estates_the_others_leave_are_taken_one_a_round_past_the_fair_share():
    leases = {"s1": Lease("s1", "b", 2, LATER)}  # b is at its capacity of one
    plan = plan_round(["s1", "s2", "s3", "s4"], leases, {"s2": 1, "s3": 1}, "a", NOW, capacity=10)
    assert plan.renew == ("s2", "s3") and plan.claim == ("s4",)


def test_a_restart_claims_its_own_estates_first():
    leases = {"s9": Lease("s9", "a", 5, LATER), "s1": Lease("s1", "b", 1, EARLIER)}
    plan = plan_round(["s1", "s9"], leases, {}, "a", NOW, capacity=1, starting=True)
    assert plan.claim == ("s9",)


def test_roles_default_to_all_three_and_an_unknown_role_is_named():
    assert parse_roles(None) == parse_roles("all") == {"ingest", "timers", "api"}
    assert parse_roles("api") == {"api"}
    assert parse_roles("ingest, timers") == {"ingest", "timers"}
    try:
        parse_roles("ingest,web")
    except ValueError as exc:
        assert "web" in str(exc) and "ingest, timers, api" in str(exc)
    else:
        raise AssertionError("an unknown role was accepted")
