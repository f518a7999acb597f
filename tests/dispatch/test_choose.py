"""Choosing a technician (docs/operations.md): trade, shift, on site, free enough, nearest; ties; nobody and why."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.dispatch.choose import Candidate, Choice, choose_technician, explain_no_choice
from caretaker.estate.model import DEFAULT_SLA, Building, Place, Site, Technician, TravelRules
from caretaker.estate.shifts import parse_shifts

FLOOR_S = 15
WALK_AB = 120
TTL = timedelta(minutes=30)
# Monday 2026-11-23 02:00 UTC is Monday 10:00 in Asia/Shanghai (UTC+8)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)

SITE = Site(
    id="test", name="Test", timezone="Asia/Shanghai",
    travel=TravelRules(floor_s=FLOOR_S, walks={frozenset({"A", "B"}): WALK_AB}, location_ttl=TTL),
    buildings={
        "A": Building("A", -2, 30),
        "B": Building("B", 1, 18),
        "C": Building("C", 1, 5),  # no walk leads here
    },
    devices={}, technicians={}, supervisors={}, units={}, sla=dict(DEFAULT_SLA),
)

LEAK_PLACE = Place("A", 10, "riser")


def tech(tech_id: str, skills: str = "plumbing", shifts: list[str] | None = None) -> Technician:
    return Technician(tech_id, tech_id, "13800000000", frozenset(skills.split(",")),
                      shifts=parse_shifts(shifts) if shifts is not None else None)


def cand(tech_id: str, place: Place | None = Place("A", 10), *, skills: str = "plumbing", shifts: list[str] | None = None,
         seen_ago: timedelta | None = timedelta(minutes=1), busy: int | None = None, work: int = 0) -> Candidate:
    return Candidate(tech(tech_id, skills, shifts), place, NOW - seen_ago if seen_ago is not None else None, busy, work)


def choose(candidates: list[Candidate], *, category: str = "plumbing", urgency: int = 1, place: Place = LEAK_PLACE,
           excluded: tuple[str, ...] = (), now: datetime = NOW) -> Choice | None:
    return choose_technician(SITE, category=category, urgency=urgency, place=place, candidates=candidates, now=now,
                             excluded=excluded)


CASES = [
    # (id, candidates, ticket keyword arguments, chosen id or None, travel seconds)
    # --- trade
    ("skill-required", [cand("t-elec", skills="electrical"), cand("t-plumb", Place("A", 1))], {}, "t-plumb", 9 * FLOOR_S),
    ("one-of-several-skills", [cand("t-multi", skills="electrical,plumbing")], {}, "t-multi", 0),
    ("nobody-with-the-trade", [cand("t-elec", skills="electrical")], {}, None, None),
    ("general-does-not-cover-plumbing", [cand("t-gen", skills="general")], {}, None, None),
    # --- shift, read in the site's time zone (10:00 Monday local)
    ("no-shifts-always-on", [cand("t-1", shifts=None)], {}, "t-1", 0),
    ("on-day-shift", [cand("t-1", shifts=["Mon-Fri 08:00-18:00"])], {}, "t-1", 0),
    ("shift-starts-now", [cand("t-1", shifts=["Mon 10:00-18:00"])], {}, "t-1", 0),
    ("shift-ended-now", [cand("t-1", shifts=["Mon 08:00-10:00"])], {}, None, None),
    ("weekend-shift-off", [cand("t-1", shifts=["Sat-Sun 00:00-24:00"])], {}, None, None),
    ("utc-hours-would-be-on-but-local-off", [cand("t-1", shifts=["Mon 01:00-03:00"])], {}, None, None),
    ("overnight-tail-from-sunday", [cand("t-1", shifts=["Sun 22:00-10:30"])], {}, "t-1", 0),
    ("off-shift-nearer-loses", [cand("t-off", shifts=["Sat 08:00-18:00"]), cand("t-on", Place("A", 1))], {},
     "t-on", 9 * FLOOR_S),
    # --- on site: location fresher than location_ttl
    ("location-fresh", [cand("t-1", seen_ago=timedelta(minutes=29, seconds=59))], {}, "t-1", 0),
    ("location-exactly-ttl-old", [cand("t-1", seen_ago=TTL)], {}, None, None),
    ("location-too-old", [cand("t-1", seen_ago=timedelta(hours=3))], {}, None, None),
    ("location-unknown", [cand("t-1", None, seen_ago=None)], {}, None, None),
    ("stale-nearer-loses", [cand("t-stale", seen_ago=timedelta(minutes=31)), cand("t-fresh", Place("B", 1))], {},
     "t-fresh", WALK_AB + 9 * FLOOR_S),
    # --- busy: excluded when busy with the same or a more urgent level
    ("l1-takes-someone-busy-with-l3", [cand("t-1", busy=3)], {"urgency": 1}, "t-1", 0),
    ("l1-takes-someone-busy-with-l2", [cand("t-1", busy=2)], {"urgency": 1}, "t-1", 0),
    ("l1-not-someone-busy-with-l1", [cand("t-1", busy=1)], {"urgency": 1}, None, None),
    ("l2-not-someone-busy-with-l2", [cand("t-1", busy=2)], {"urgency": 2}, None, None),
    ("l2-not-someone-busy-with-l1", [cand("t-1", busy=1)], {"urgency": 2}, None, None),
    ("l3-not-someone-busy-with-l3", [cand("t-1", busy=3)], {"urgency": 3}, None, None),
    ("l3-takes-someone-busy-with-l4", [cand("t-1", busy=4)], {"urgency": 3}, "t-1", 0),
    ("busy-nearer-loses", [cand("t-busy", busy=1), cand("t-free", Place("A", 30))], {"urgency": 1},
     "t-free", 20 * FLOOR_S),
    # --- excluded (declined or timed out)
    ("excluded-skipped", [cand("t-declined"), cand("t-next", Place("A", 12))], {"excluded": ("t-declined",)},
     "t-next", 2 * FLOOR_S),
    ("everyone-excluded", [cand("t-1"), cand("t-2")], {"excluded": ("t-1", "t-2")}, None, None),
    # --- shortest travel
    ("same-floor-beats-other-floor", [cand("t-up", Place("A", 11)), cand("t-here", Place("A", 10, "lobby"))], {},
     "t-here", 0),
    ("basement-to-10", [cand("t-1", Place("A", -2))], {}, "t-1", 11 * FLOOR_S),  # -2 to 10: no floor 0
    ("cross-building-travel", [cand("t-b", Place("B", 5))], {}, "t-b", 4 * FLOOR_S + WALK_AB + 9 * FLOOR_S),
    ("same-building-far-floor-loses-to-other-building", [cand("t-top", Place("A", 30)), cand("t-b", Place("B", 1))],
     {"place": Place("A", 1)}, "t-b", WALK_AB),
    ("other-building-loses-when-farther", [cand("t-b", Place("B", 1)), cand("t-a", Place("A", 3))],
     {"place": Place("A", 1)}, "t-a", 2 * FLOOR_S),
    ("ticket-in-other-building", [cand("t-a", Place("A", 1)), cand("t-b", Place("B", 18))], {"place": Place("B", 2)},
     "t-a", WALK_AB + FLOOR_S),
    # --- ties: less open work, then id
    ("tie-less-open-work-wins", [cand("t-a", Place("A", 9), work=2), cand("t-b", Place("A", 11), work=1)], {},
     "t-b", FLOOR_S),
    ("tie-same-work-lower-id-wins", [cand("t-b", Place("A", 9), work=1), cand("t-a", Place("A", 11), work=1)], {},
     "t-a", FLOOR_S),
    ("nearer-beats-less-work", [cand("t-busy", Place("A", 10), work=5), cand("t-idle", Place("A", 11), work=0)], {},
     "t-busy", 0),
    # --- unreachable
    ("unreachable-building-skipped", [cand("t-c", Place("C", 1)), cand("t-b", Place("B", 1))], {}, "t-b",
     WALK_AB + 9 * FLOOR_S),
    ("only-unreachable", [cand("t-c", Place("C", 1))], {}, None, None),
    ("ticket-in-unreachable-building", [cand("t-a", Place("A", 1))], {"place": Place("C", 2)}, None, None),
    ("technician-in-unknown-building", [cand("t-x", Place("X", 1))], {}, None, None),
    # --- nobody at all
    ("no-candidates", [], {}, None, None),
]


@pytest.mark.parametrize(("candidates", "ticket", "expected", "travel_s"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_choose_technician(candidates: list[Candidate], ticket: dict, expected: str | None, travel_s: int | None) -> None:
    choice = choose(candidates, **ticket)
    if expected is None:
        assert choice is None
    else:
        assert choice is not None
        assert (choice.technician, choice.travel_s) == (expected, travel_s)


def test_candidate_order_does_not_matter() -> None:
    candidates = [cand("t-b", Place("A", 9), work=1), cand("t-a", Place("A", 11), work=1),
                  cand("t-c", Place("A", 10), work=3), cand("t-d", Place("A", 10), work=3)]
    chosen = {choose(order).technician for order in (candidates, candidates[::-1], candidates[1:] + candidates[:1])}
    assert chosen == {"t-c"}


def test_choice_reason_says_why() -> None:
    choice = choose([cand("t-b", Place("B", 5, "lobby"), work=1)])
    assert choice is not None
    assert "plumbing" in choice.reason
    assert str(4 * FLOOR_S + WALK_AB + 9 * FLOOR_S) in choice.reason
    assert "B floor 5 lobby" in choice.reason
    assert "1 open ticket" in choice.reason


def test_shift_follows_the_clock() -> None:
    day_shift = [cand("t-1", shifts=["Mon-Fri 08:00-18:00"])]
    assert choose(day_shift, now=NOW) is not None
    assert choose(day_shift, now=NOW + timedelta(hours=8)) is None  # 18:00 local
    # location was seen 1 minute before NOW; 20 minutes later it is still fresh
    assert choose(day_shift, now=NOW + timedelta(minutes=20)) is not None


# -- explain_no_choice ----------------------------------------------------------------------------

def explain(candidates: list[Candidate], *, category: str = "plumbing", urgency: int = 1,
            excluded: tuple[str, ...] = ()) -> str:
    return explain_no_choice(SITE, category=category, urgency=urgency, place=LEAK_PLACE, candidates=candidates,
                             now=NOW, excluded=excluded)


EXPLAIN = [
    ("counts-each-reason", [
        cand("t-1", shifts=["Sat 08:00-18:00"]), cand("t-2", shifts=["Sun 08:00-18:00"]),
        cand("t-3", busy=1), cand("t-4", seen_ago=timedelta(hours=1)), cand("t-5", None, seen_ago=None),
        cand("t-elec", skills="electrical"),
    ], {}, ["no plumbing technician available", "2 off shift", "1 busy", "1 not on site", "1 location unknown"]),
    ("declined-counted", [cand("t-1"), cand("t-2", busy=2)], {"excluded": ("t-1",), "urgency": 2},
     ["1 already declined", "1 busy"]),
    ("nobody-holds-the-trade", [cand("t-elec", skills="electrical")], {"category": "plumbing"},
     ["nobody", "plumbing"]),
    ("no-candidates", [], {"category": "elevator"}, ["nobody", "elevator"]),
    ("only-unreachable", [cand("t-c", Place("C", 1))], {}, ["no plumbing technician available", "1 cannot reach"]),
    # two qualified technicians are on shift and on site but cannot reach building A: say so, with the count
    ("unreachable-counted-beside-other-reasons",
     [cand("t-c", Place("C", 1)), cand("t-c2", Place("C", 2)), cand("t-off", shifts=["Sat 08:00-18:00"])],
     {}, ["1 off shift", "2 ", "reach"]),
]


@pytest.mark.parametrize(("candidates", "kwargs", "words"), [e[1:] for e in EXPLAIN], ids=[e[0] for e in EXPLAIN])
def test_explain_no_choice(candidates: list[Candidate], kwargs: dict, words: list[str]) -> None:
    assert choose(candidates, **{k: v for k, v in kwargs.items() if k != "category"},
                  category=kwargs.get("category", "plumbing")) is None
    text = explain(candidates, **kwargs)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"

