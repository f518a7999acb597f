"""Which building's supply feeds which (docs/site-file.md, "Supplies"); pure.

A plant building says `supplies: [A, B, C]`, or each building says `fed_by: P`; both mean the same: P's
mains (substation, pumps) feed A, B and C, so a mains loss in P explains the pump, lift and pressure alarms
in A, B and C. Supply runs down a chain (P feeds A, A's risers feed A2) and never round in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from caretaker.estate.errors import SiteProblem
from caretaker.estate.model import Site
from caretaker.estate.yamllines import Path, format_path, line_of


class SupplyLink(NamedTuple):
    """One building fed by another, and where the file says so."""

    building: str
    feeder: str
    path: Path


def _raw_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # building "1" (1号楼) may be written as a number
    return value if isinstance(value, str) else None


def _links(data: Mapping[Any, Any]) -> list[SupplyLink]:
    """Every feeder-to-building link the raw file gives, by `supplies` and by `fed_by`."""
    links: list[SupplyLink] = []
    buildings = data.get("buildings")
    for index, item in enumerate(buildings if isinstance(buildings, list) else []):
        if not isinstance(item, dict):
            continue
        here = _raw_id(item.get("id"))
        if here is None:
            continue
        fed_by = _raw_id(item.get("fed_by"))
        if fed_by is not None:
            links.append(SupplyLink(here, fed_by, ("buildings", index, "fed_by")))
        supplies = item.get("supplies")
        for position, value in enumerate(supplies if isinstance(supplies, list) else []):
            supplied = _raw_id(value)
            if supplied is not None:
                links.append(SupplyLink(supplied, here, ("buildings", index, "supplies", position)))
    return links


def supply_problems(data: Mapping[Any, Any], lines: Mapping[Path, int]) -> list[SiteProblem]:
    """Return what is wrong with the file's supplies: an unknown building, a building fed by itself or by
    two different buildings, a circle of supplies; each with its line."""
    known = [_raw_id(item.get("id")) for item in data.get("buildings") or [] if isinstance(item, dict)]
    names = [b for b in dict.fromkeys(known) if b is not None]
    shown = ", ".join(names) or "none"
    problems: list[SiteProblem] = []

    def problem(path: Path, message: str) -> None:
        problems.append(SiteProblem(line_of(path, lines), format_path(path, data), message))  # type: ignore[arg-type]

    feeder_of: dict[str, SupplyLink] = {}
    for link in _links(data):
        unknown = [b for b in (link.building, link.feeder) if b not in names]
        if unknown:
            problem(link.path, f"unknown building {unknown[0]!r} (buildings: {shown})")
            continue
        if link.building == link.feeder:
            problem(link.path, f"building {link.building!r} cannot supply itself")
            continue
        first = feeder_of.get(link.building)
        if first is None:
            feeder_of[link.building] = link
        elif first.feeder != link.feeder:
            problem(link.path, f"building {link.building!r} is fed by {first.feeder!r} already "
                               f"(line {line_of(first.path, lines)}); a building has one supply")
    reported: set[str] = set()
    for start in feeder_of:
        chain = [start]
        here = start
        while here in feeder_of and here not in reported:
            here = feeder_of[here].feeder
            if here in chain:
                circle = chain[chain.index(here):] + [here]
                reported.update(circle)
                link = feeder_of[circle[0]]
                problem(link.path, "supplies go round in a circle: " + " fed by ".join(circle))
                break
            chain.append(here)
    return problems


def feeders(links: Iterable[tuple[str, Iterable[str], str | None]]) -> dict[str, str]:
    """Return building -> the building that feeds it, from each building's (id, supplies, fed_by)."""
    feeder_of: dict[str, str] = {}
    for building, supplies, fed_by in links:
        if fed_by is not None:
            feeder_of[building] = fed_by
        for supplied in supplies:
            feeder_of[supplied] = building
    return feeder_of


def supply_chains(feeder_of: Mapping[str, str | None], buildings: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Return building -> the buildings whose mains loss reaches it: itself, its feeder, that one's feeder..."""
    chains: dict[str, tuple[str, ...]] = {}
    for building in buildings:
        chain = [building]
        feeder = feeder_of.get(building)
        while feeder is not None and feeder not in chain:  # the loader refuses circles; stop on one anyway
            chain.append(feeder)
            feeder = feeder_of.get(feeder)
        chains[building] = tuple(chain)
    return chains


def site_supply_chains(site: Site) -> dict[str, tuple[str, ...]]:
    """Return each building of `site` -> the buildings whose mains loss reaches it, nearest first."""
    return supply_chains({b.id: b.fed_by for b in site.buildings.values()}, site.buildings)
