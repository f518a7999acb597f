"""Supplies between buildings: `supplies` on a plant building and `fed_by` on a tower mean the same, and
check-site names an unknown building, a building fed twice and a circle, each with its line."""

from __future__ import annotations

import pytest

from caretaker.estate import SiteError, parse_site
from caretaker.estate.supply import site_supply_chains, supply_chains

HEAD = """site: tiny
name: Tiny Estate
timezone: Asia/Shanghai
travel:
  floor_s: 15
devices: []
technicians:
  - {id: t-wang, name: Wang Jun, phone: "13800138000", skills: [plumbing]}
supervisors:
  - {id: s-li, name: Li Na, phone: "13900139000"}
buildings:
"""  # the buildings start on line 12


def site_of(*buildings: str):
    return parse_site(HEAD + "".join(f"  - {b}\n" for b in buildings), "tiny.yaml")


def problems_of(*buildings: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SiteError) as caught:
        site_of(*buildings)
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_supplies_and_fed_by_say_the_same() -> None:
    by_supplies = site_of("{id: P, floors: [-1, 1], supplies: [A, B]}", "{id: A, floors: [1, 30]}",
                          "{id: B, floors: [1, 18]}", "{id: C, floors: [1, 12]}")
    by_fed_by = site_of("{id: P, floors: [-1, 1]}", "{id: A, floors: [1, 30], fed_by: P}",
                        "{id: B, floors: [1, 18], fed_by: P}", "{id: C, floors: [1, 12]}")
    for site in (by_supplies, by_fed_by):
        assert {b.id: b.fed_by for b in site.buildings.values()} == {"P": None, "A": "P", "B": "P", "C": None}
        assert site_supply_chains(site) == {"P": ("P",), "A": ("A", "P"), "B": ("B", "P"), "C": ("C",)}


def test_both_ways_at_once_agree() -> None:
    site = site_of("{id: P, floors: [-1, 1], supplies: [A]}", "{id: A, floors: [1, 30], fed_by: P}")
    assert site.buildings["A"].fed_by == "P"


def test_a_chain_reaches_every_building_downstream() -> None:
    assert supply_chains({"A2": "A", "A": "P"}, ["P", "A", "A2"]) == {
        "P": ("P",), "A": ("A", "P"), "A2": ("A2", "A", "P")}


def test_unknown_buildings_are_named_with_their_line() -> None:
    assert problems_of("{id: P, floors: [-1, 1], supplies: [A, Q]}", "{id: A, floors: [1, 30], fed_by: X}") == [
        (12, "buildings[0].supplies[1]", "unknown building 'Q' (buildings: P, A)"),
        (13, "buildings[1].fed_by", "unknown building 'X' (buildings: P, A)"),
    ]


def test_a_building_cannot_feed_itself() -> None:
    assert problems_of("{id: P, floors: [-1, 1], supplies: [P]}") == [
        (12, "buildings[0].supplies[0]", "building 'P' cannot supply itself")]


def test_a_building_has_one_supply() -> None:
    [(line, path, message)] = problems_of("{id: P, floors: [-1, 1], supplies: [A]}", "{id: Q, floors: [-1, 1]}",
                                          "{id: A, floors: [1, 30], fed_by: Q}")
    assert (line, path) == (14, "buildings[2].fed_by")
    assert message == "building 'A' is fed by 'P' already (line 12); a building has one supply"


def test_a_circle_of_supplies_is_refused() -> None:
    [(line, path, message)] = problems_of("{id: P, floors: [-1, 1], fed_by: B}", "{id: A, floors: [1, 30], fed_by: P}",
                                          "{id: B, floors: [1, 18], fed_by: A}")
    assert line in (12, 13, 14) and path.endswith(".fed_by")
    assert message.startswith("supplies go round in a circle: ")
    assert set(message.split(": ", 1)[1].split(" fed by ")) == {"P", "A", "B"}
