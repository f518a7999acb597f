"""Travel times: floors in one building, walks between buildings, shortest paths, no way at all."""

from __future__ import annotations

import pytest

from caretaker.estate.model import DEFAULT_SLA, Building, Place, Site, TravelRules
from caretaker.estate.travel import build_travel_table, floors_apart, get_travel_table, travel_seconds

FLOOR_S = 15


def _site(walks: dict[frozenset[str], int]) -> Site:
    buildings = [
        Building("A", -2, 30),   # ground floor 1
        Building("B", -1, 18),
        Building("C", 1, 12),
        Building("D", -3, -1),   # all underground: people walk in on its lowest floor, -3
        Building("E", 1, 5),     # no walk leads here
    ]
    return Site(
        id="test", name="Test", timezone="Asia/Shanghai",
        travel=TravelRules(floor_s=FLOOR_S, walks=walks),
        buildings={b.id: b for b in buildings}, devices={}, technicians={}, supervisors={}, units={},
        sla=dict(DEFAULT_SLA),
    )


SITE = _site({
    frozenset({"A", "B"}): 120,
    frozenset({"B", "C"}): 90,
    frozenset({"A", "C"}): 300,  # a direct path longer than going through B (210)
    frozenset({"D", "A"}): 50,
})


@pytest.mark.parametrize(
    ("origin", "dest", "expected"),
    [
        (Place("A", 5), Place("A", 5), 0),
        (Place("A", 1), Place("A", 10), 9 * FLOOR_S),
        (Place("A", 10), Place("A", 1), 9 * FLOOR_S),
        # there is no floor 0: basement 1 (-1) is one floor below floor 1
        (Place("A", -1), Place("A", 1), 1 * FLOOR_S),
        (Place("A", 1), Place("A", -1), 1 * FLOOR_S),
        (Place("A", -2), Place("A", 3), 4 * FLOOR_S),
        (Place("A", 3, zone="lobby"), Place("A", 3, zone="riser"), 0),
        # down to A's ground floor (1), walk, up from B's ground floor (1)
        (Place("A", 10), Place("B", 5), 9 * FLOOR_S + 120 + 4 * FLOOR_S),
        (Place("B", 5), Place("A", 10), 4 * FLOOR_S + 120 + 9 * FLOOR_S),
        (Place("A", -2), Place("B", -1), 2 * FLOOR_S + 120 + 1 * FLOOR_S),
        # shortest path through a third building beats the given direct walk
        (Place("A", 1), Place("C", 1), 120 + 90),
        # two hops, D's ground floor being its lowest (-3)
        (Place("D", -1), Place("B", 1), 2 * FLOOR_S + 50 + 120),
        (Place("D", -3), Place("C", 12), 50 + 210 + 11 * FLOOR_S),
    ],
    ids=[
        "same-place", "up", "down", "b1-to-1", "1-to-b1", "from-basement", "zones-ignored",
        "cross-building", "cross-building-back", "basement-to-basement",
        "via-third-building", "two-hops-underground-ground", "three-buildings",
    ],
)
def test_travel_seconds(origin: Place, dest: Place, expected: int) -> None:
    assert travel_seconds(SITE, origin, dest) == expected


@pytest.mark.parametrize(
    ("origin", "dest"),
    [
        (Place("A", 1), Place("E", 1)),
        (Place("E", 3), Place("C", 1)),
        (Place("A", 1), Place("Z", 1)),
        (Place("Z", 1), Place("Z", 2)),
    ],
    ids=["to-unconnected", "from-unconnected", "to-unknown-building", "inside-unknown-building"],
)
def test_travel_seconds_is_none_without_a_way(origin: Place, dest: Place) -> None:
    assert travel_seconds(SITE, origin, dest) is None


@pytest.mark.parametrize(("first", "second", "apart"), [
    (1, 1, 0), (1, 2, 1), (-1, 1, 1), (1, -1, 1), (-2, -1, 1), (-3, 30, 32), (-2, 3, 4), (5, 12, 7),
])
def test_floors_apart_skips_the_missing_floor_0(first: int, second: int, apart: int) -> None:
    assert floors_apart(first, second) == apart


def test_travel_inside_an_unconnected_building_still_counts_floors() -> None:
    assert travel_seconds(SITE, Place("E", 1), Place("E", 5)) == 4 * FLOOR_S


def test_table_is_symmetric_and_lists_only_connected_pairs() -> None:
    table = build_travel_table(SITE)
    assert table.walks[("A", "C")] == table.walks[("C", "A")] == 210
    assert table.walks[("D", "C")] == 260
    assert not any("E" in pair for pair in table.walks)
    assert table.ground == {"A": 1, "B": 1, "C": 1, "D": -3, "E": 1}


def test_table_is_built_once_per_site() -> None:
    site = _site({frozenset({"A", "B"}): 60})
    assert get_travel_table(site) is get_travel_table(site)
    other = _site({frozenset({"A", "B"}): 90})
    assert travel_seconds(site, Place("A", 1), Place("B", 1)) == 60
    assert travel_seconds(other, Place("A", 1), Place("B", 1)) == 90
