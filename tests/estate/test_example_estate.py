"""The bundled example estate loads and covers what the demo and newcomers rely on."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from itertools import permutations
from pathlib import Path

import pytest

from caretaker.estate import DEVICE_TYPES, SKILLS, Place, Site, is_on_shift, load_site, summarize_site, travel_seconds


@pytest.fixture(scope="module")
def site() -> Site:
    return load_site(Path(__file__).resolve().parents[2] / "examples" / "harbor-view.yaml")


def test_example_loads_and_summarizes(site: Site) -> None:
    assert site.id == "harbor-view"
    assert site.name == "Harbor View Estate"
    assert site.timezone == "Asia/Shanghai"
    assert summarize_site(site) == (
        f"harbor-view: {len(site.buildings)} buildings, {len(site.devices)} devices, "
        f"{len(site.technicians)} technicians — OK"
    )


def test_example_has_every_device_type(site: Site) -> None:
    assert {device.type for device in site.devices.values()} == set(DEVICE_TYPES)


def test_example_watches_tower_a_for_leaks_on_several_floors(site: Site) -> None:
    leaks = [d for d in site.devices.values() if d.type == "water_leak" and d.place.building == "A"]
    assert len(leaks) >= 6
    assert len({d.place.floor for d in leaks}) >= 3


@pytest.mark.parametrize("building", ["A", "B", "C"])
def test_example_residential_buildings_are_equipped(site: Site, building: str) -> None:
    kinds = Counter(d.type for d in site.devices.values() if d.place.building == building)
    assert kinds["water_pressure"] >= 1
    assert kinds["power_meter"] >= 1
    assert kinds["elevator"] == 2
    assert kinds["access_door"] >= 1


def test_example_people(site: Site) -> None:
    techs = list(site.technicians.values())
    assert len(techs) >= 7
    assert set().union(*(t.skills for t in techs)) == set(SKILLS)
    assert any(len(t.skills) >= 2 for t in techs)
    assert any(t.shifts is None for t in techs)
    assert all(t.badge for t in techs)
    assert len(site.supervisors) == 2
    assert len(site.units) >= 6
    assert any(r.vulnerable for u in site.units.values() for r in u.residents)


def test_example_buildings_are_all_connected(site: Site) -> None:
    for a, b in permutations(site.buildings, 2):
        assert travel_seconds(site, Place(a, 1), Place(b, 1)) is not None, (a, b)


@pytest.mark.parametrize("skill", ["plumbing", "electrical", "elevator", "security"])
def test_example_rota_covers_every_hour_of_the_week(site: Site, skill: str) -> None:
    monday = datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)  # Monday 00:00 in Shanghai
    uncovered = [
        monday + timedelta(minutes=30 * step)
        for step in range(7 * 48)
        if not any(skill in t.skills and is_on_shift(t, monday + timedelta(minutes=30 * step), site.timezone)
                   for t in site.technicians.values())
    ]
    assert uncovered == []


def test_example_has_day_and_night_shifts(site: Site) -> None:
    windows = [w for t in site.technicians.values() for w in (t.shifts or ())]
    assert any(w.end_min > 1440 for w in windows)
    assert any(w.start_min >= 6 * 60 and w.end_min <= 20 * 60 for w in windows)


def test_example_plant_room_supplies_every_tower(site: Site) -> None:
    from caretaker.estate.supply import site_supply_chains

    assert {b.id: b.fed_by for b in site.buildings.values()} == {"A": "P", "B": "P", "C": "P", "P": None}
    assert site_supply_chains(site)["B"] == ("B", "P")
