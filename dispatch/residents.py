"""What residents are told (docs/residents.md): the ResidentNotice, and the pure decisions of when a
building's supply cut is news (once per cut, however many alarms it has) and who must be called. Pure:
the store (dispatch/resident_store.py) reads and writes, this only decides."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from caretaker.dispatch.resident_texts import building_name, eta_words, tech_name, words
from caretaker.estate.model import Site
from caretaker.estate.supply import site_supply_chains

# the default rules (rules/default_rules.yaml) whose alarm means a building has lost a supply; a rules file
# that renames them keeps the tickets, and residents are not told (docs/residents.md)
SUPPLY_RULES: Mapping[str, str] = {"mains-power-lost": "power", "low-water-pressure": "water"}


class NoticeType(StrEnum):
    OUTAGE = "outage"
    RESTORED = "restored"
    RECEIVED = "received"
    PROGRESS = "progress"
    RESOLVED = "resolved"


class ResidentNotice(BaseModel):
    """`{prefix}/{site}/units/{unit}/notice`, QoS 1, not retained (docs/device-protocol.md, "Resident
    notices"); `id` is the outbox's message id, the same on a re-send."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: NoticeType
    ticket: str | None
    building: str
    text: str
    link: str | None
    ts: str


def notice_topic(prefix: str, site: str, unit: str) -> str:
    return f"{prefix}/{site}/units/{unit}/notice"


# --- supply cuts ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cut:
    """A building's supply cut as residents know it: since when, and which of its alarms are still active."""

    building: str
    supply: str
    since: datetime
    alerts: frozenset[str]


@dataclass(frozen=True, slots=True)
class CutChange:
    """What an alarm does to a cut: the cut as it now stands (None: over) and the notice it calls for."""

    cut: Cut | None
    notice: NoticeType | None


def supply_of(rule_id: str) -> str | None:
    return SUPPLY_RULES.get(rule_id)


def on_raised(cut: Cut | None, building: str, supply: str, alert: str, at: datetime) -> CutChange:
    """An alarm of a supply cut was raised: the first one starts the cut and tells residents; a second meter
    of the same building, or the same alarm again, joins the cut and tells nobody."""
    if cut is None:
        return CutChange(Cut(building, supply, at, frozenset({alert})), NoticeType.OUTAGE)
    return CutChange(Cut(cut.building, cut.supply, cut.since, cut.alerts | {alert}), None)


def on_cleared(cut: Cut | None, alert: str) -> CutChange:
    """An alarm cleared: the cut ends, and residents hear `restored`, when it was the last one active."""
    if cut is None or alert not in cut.alerts:
        return CutChange(cut, None)  # not an alarm residents were told of (raised before, or silenced)
    left = cut.alerts - {alert}
    if left:
        return CutChange(Cut(cut.building, cut.supply, cut.since, left), None)
    return CutChange(None, NoticeType.RESTORED)


def reached(site: Site, building: str) -> list[str]:
    """The buildings a supply cut in `building` leaves without: itself and every building its supply feeds,
    down the chain (the site file's `supplies`/`fed_by`: a plant room's outage darkens the towers)."""
    return [b for b, chain in site_supply_chains(site).items() if building in chain]


def still_cut(site: Site, others: Iterable[str]) -> set[str]:
    """The buildings that other cuts of the same supply still reach (their residents already know)."""
    return {b for other in others for b in reached(site, other)}


def units_to_tell(site: Site, building: str, others: Iterable[str]) -> list[tuple[str, str]]:
    """(unit, its building) for every unit a cut in `building` reaches that no other open cut of the same
    supply reaches: told once when the first cut starts, and `restored` only when the last one ends."""
    covered = still_cut(site, others)
    buildings = [b for b in reached(site, building) if b not in covered]
    return [(u.id, u.building) for b in buildings for u in site.units.values() if u.building == b]


def units_of(site: Site, building: str) -> list[str]:
    """Every unit of a building, in the site file's order."""
    return [u.id for u in site.units.values() if u.building == building]


def cut_text(site: Site, kind: NoticeType, supply: str, building: str) -> str:
    w = words(site.locale)
    b = site.buildings.get(building)
    return w[f"{kind.value}.{supply}"].format(building=building_name(w, building, b.name if b else ""))


# --- vulnerable residents ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CheckOn:
    """A vulnerable resident the control room calls during a cut (personal data: masked, audited)."""

    unit: str
    floor: int
    name: str
    phone: str


def check_on(site: Site, building: str) -> list[CheckOn]:
    """The vulnerable residents a supply cut in `building` reaches (it and the buildings it feeds), highest
    floor first (the stairs are longest from the top)."""
    buildings = set(reached(site, building))
    found = [CheckOn(u.id, u.floor, r.name, r.phone) for u in site.units.values() if u.building in buildings
             for r in u.residents if r.vulnerable]
    return sorted(found, key=lambda c: (-c.floor, c.unit))


def is_supply_ticket(rule_id: str | None) -> bool:
    return rule_id is not None and rule_id in SUPPLY_RULES


# --- a report's progress -------------------------------------------------------------------------

PROGRESS_STEPS = ("accepted", "on_site")  # the steps a reporter hears of; `resolved` is its own notice


def reporter_units(site: Site, units: Iterable[str | None]) -> list[str]:
    """The units of a ticket's reporters that the site file knows, each once."""
    seen: list[str] = []
    for unit in units:
        if unit and unit in site.units and unit not in seen:
            seen.append(unit)
    return seen


def progress_text(site: Site, step: str, ticket: str, tech: str | None, travel_s: int | None,
                  note: str | None = None) -> str:
    w = words(site.locale)
    if step == "resolved":
        return w["resolved"].format(ticket=ticket, note=(note or "").strip().rstrip("。.") or "—")
    if step == "received":
        return w["received"].format(ticket=ticket)
    return w[f"progress.{step}"].format(ticket=ticket, tech=tech_name(w, tech), eta=eta_words(w, travel_s))


def status_words(locale: str, status: str, tech: str | None, travel_s: int | None) -> str:
    """The ticket's status as a resident reads it: "工程师王军已出发，预计4分钟到达"."""
    w = words(locale)
    key = f"status.{status}" if f"status.{status}" in w else "status.open"
    return w[key].format(tech=tech_name(w, tech), eta=eta_words(w, travel_s))
