"""Choose the technician for a ticket: on shift, on site, holding the trade, free enough, nearest; pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from caretaker import i18n
from caretaker.estate.model import Place, Site, Technician
from caretaker.estate.shifts import is_on_shift
from caretaker.estate.travel import travel_seconds


@dataclass(frozen=True, slots=True)
class Candidate:
    """A technician as dispatch sees them now."""

    technician: Technician
    place: Place | None  # last known location, None if never seen
    located_at: datetime | None
    busy_urgency: int | None  # the most urgent level among their active tickets (1 is most urgent)
    open_work: int  # active tickets in hand


@dataclass(frozen=True, slots=True)
class Choice:
    technician: str
    travel_s: int
    reason: str  # human text: why this technician
    preempts: bool = False  # a level 1 takes them off level-3 or level-4 work (which goes to the next nearest)


PREEMPTED_LEVELS = frozenset({3, 4})


def preempts(candidate: Candidate, urgency: int) -> bool:
    """Return whether giving a level-`urgency` job to the candidate takes them off work they hold."""
    return urgency == 1 and candidate.busy_urgency in PREEMPTED_LEVELS


def _skip_reason(candidate: Candidate, site: Site, category: str, urgency: int, now: datetime,
                 excluded: frozenset[str]) -> str | None:
    tech = candidate.technician
    if category not in tech.skills:
        return "lacks the trade"
    if tech.id in excluded:
        return "already declined or timed out"
    if not is_on_shift(tech, now, site.timezone):
        return "off shift"
    if candidate.place is None or candidate.located_at is None:
        return "location unknown"
    if now - candidate.located_at >= site.travel.location_ttl:
        return "not on site (location too old)"
    if candidate.busy_urgency is not None and candidate.busy_urgency <= urgency:
        return "busy with a ticket as urgent or more"
    return None


def choose_technician(
    site: Site,
    *,
    category: str,
    urgency: int,
    place: Place,
    candidates: Sequence[Candidate],
    now: datetime,
    excluded: Iterable[str] = (),
) -> Choice | None:
    """Return the nearest available technician for the ticket, ties to the one with less open work, or None.
    A level 1 takes someone off a level-3 or level-4 job only when nobody qualified is free."""
    excluded_ids = frozenset(excluded)
    best: tuple[bool, int, int, str] | None = None
    best_candidate: Candidate | None = None
    for candidate in candidates:
        if _skip_reason(candidate, site, category, urgency, now, excluded_ids) is not None:
            continue
        travel = travel_seconds(site, candidate.place, place)  # type: ignore[arg-type]
        if travel is None:
            continue
        key = (preempts(candidate, urgency), travel, candidate.open_work, candidate.technician.id)
        if best is None or key < best:
            best, best_candidate = key, candidate
    if best is None or best_candidate is None:
        return None
    where = best_candidate.place
    assert where is not None
    zone = f" {where.zone}" if where.zone else ""
    taken, travel = best[0], best[1]
    # said in the site's language on the technician's push (caretaker/i18n); English wherever stored
    reason = i18n.said("choice.chosen", trade=i18n.named("category", category), travel=travel, building=where.building, floor=where.floor,
                       zone=zone, open=best_candidate.open_work)
    if taken:
        reason = i18n.said("choice.preempting", reason=reason, level=best_candidate.busy_urgency)
    return Choice(best_candidate.technician.id, travel, reason, taken)


# each reason `_skip_reason` gives, as the code its words are kept under (caretaker/i18n, `choice.`)
SKIP_CODES = {
    "lacks the trade": "lacks_trade",
    "already declined or timed out": "declined",
    "off shift": "off_shift",
    "location unknown": "location_unknown",
    "not on site (location too old)": "not_on_site",
    "busy with a ticket as urgent or more": "busy",
    "cannot reach the ticket's building": "unreachable",
}


def explain_no_choice(
    site: Site, *, category: str, urgency: int, place: Place, candidates: Sequence[Candidate], now: datetime,
    excluded: Iterable[str] = (),
) -> i18n.Said:
    """Return why nobody could take the ticket, e.g. "no electrical technician available: 2 off shift, 1 busy",
    said in its reader's language where it is told (a supervisor's notice: the site's)."""
    excluded_ids = frozenset(excluded)
    reasons: Counter[str] = Counter()
    for candidate in candidates:
        if category not in candidate.technician.skills:
            continue
        why = _skip_reason(candidate, site, category, urgency, now, excluded_ids)
        if why is None and travel_seconds(site, candidate.place, place) is None:  # type: ignore[arg-type]
            why = "cannot reach the ticket's building"
        if why is not None:
            reasons[why] += 1
    if not reasons:
        return i18n.said("notice.no_trade_holder", trade=category)
    parts = [i18n.said("notice.counted", count=count, why=i18n.named("choice", SKIP_CODES.get(why, why)))
             for why, count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]
    return i18n.said("notice.no_technician", trade=i18n.named("category", category), reasons=i18n.Listed(parts))
