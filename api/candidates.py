"""Who could take a ticket, best first, with why (docs/api.md#candidates): the control room's ranked list for
assigning by hand. The order and every reason come from dispatch's own check (dispatch/choose.py): the
available ones are dispatch's choice, then its next choice without that one, and so on; pure."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Sequence

from caretaker import i18n
from caretaker.dispatch.choose import SKIP_CODES, Candidate, _skip_reason, choose_technician
from caretaker.estate.model import Place, Site
from caretaker.estate.shifts import is_on_shift
from caretaker.estate.travel import travel_seconds

# dispatch's reasons (dispatch/choose.py) as codes the pages translate; an unknown one is "other"
REASON_CODES = SKIP_CODES


@dataclass(frozen=True, slots=True)
class Ranked:
    candidate: Candidate
    rank: int  # 1 is best
    available: bool
    travel_s: int | None
    on_shift: bool
    on_site: bool
    reason: str  # dispatch's words: why not, or why this one
    reason_code: str


def reason_text(ranked: Ranked, lang: str) -> str:
    """Return why a technician is or is not available, in `lang` (caretaker/i18n, `choice.`): the code's words,
    with the travel time and open work of an available one; dispatch's own words for a reason it has no code for."""
    if ranked.available:
        return i18n.say("choice.available", lang, travel=ranked.travel_s if ranked.travel_s is not None else "?",
                        open=ranked.candidate.open_work)
    return i18n.say(f"choice.{ranked.reason_code}", lang) if i18n.has(f"choice.{ranked.reason_code}") else ranked.reason


def without_ticket(candidates: Sequence[Candidate], assignee: str | None,
                   others: tuple[int | None, int]) -> list[Candidate]:
    """The candidates as if the ticket were nobody's: its own assignee's work without it (`others` is that
    technician's most urgent other active level and count), so they are not "busy" with this very ticket."""
    return [replace(c, busy_urgency=others[0], open_work=others[1]) if c.technician.id == assignee else c
            for c in candidates]


def rank(site: Site, *, category: str, urgency: int, place: Place, candidates: Sequence[Candidate], now: datetime,
         excluded: Iterable[str] = ()) -> tuple[list[Ranked], str | None]:
    """Return every technician ranked for the ticket and the one dispatch would choose (None: nobody).
    The available ones come in the order dispatch itself would give the ticket: its choice, then its choice
    without that one, and so on, each with dispatch's own reason; then those holding the trade, then the rest,
    each with the reason dispatch skips them, nearest first."""
    excluded_ids = frozenset(excluded)
    chosen: list[tuple[Candidate, int, str]] = []
    taken = set(excluded_ids)
    by_id = {c.technician.id: c for c in candidates}
    while (choice := choose_technician(site, category=category, urgency=urgency, place=place, candidates=candidates,
                                       now=now, excluded=taken)) is not None:
        chosen.append((by_id[choice.technician], choice.travel_s, choice.reason))
        taken.add(choice.technician)
    rest: list[tuple[tuple, Candidate, int | None, str]] = []
    for c in candidates:
        if c.technician.id in taken - excluded_ids:
            continue
        travel = travel_seconds(site, c.place, place) if c.place is not None else None
        why = _skip_reason(c, site, category, urgency, now, excluded_ids) or "cannot reach the ticket's building"
        key = (category not in c.technician.skills, travel if travel is not None else 10**9, c.technician.id)
        rest.append((key, c, travel, why))
    rest.sort(key=lambda r: r[0])

    def ranked(i: int, c: Candidate, available: bool, travel: int | None, reason: str) -> Ranked:
        return Ranked(c, i, available, travel, is_on_shift(c.technician, now, site.timezone),
                      c.located_at is not None and now - c.located_at < site.travel.location_ttl, reason,
                      "available" if available else REASON_CODES.get(reason, "other"))

    out = [ranked(i, c, True, travel, reason) for i, (c, travel, reason) in enumerate(chosen, 1)]
    out += [ranked(i, c, False, travel, why) for i, (_k, c, travel, why) in enumerate(rest, len(out) + 1)]
    return out, chosen[0][0].technician.id if chosen else None
