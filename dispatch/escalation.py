"""Escalation with levels (docs/operations.md, "Escalation levels"): who is told of a notice, and when the
next level is; pure: the site, the level and `now` in, a decision out.

A breach, or a level-1 or level-2 ticket nobody qualified could take (`unassigned`), *climbs*: level 0 is
told at once, each later level at its `after` counted from the start of the climb, until someone acts (a
technician accepts, arrives or resolves, an operator assigns, or a supervisor acknowledges a notice).
Other notices (a warning at 80%, a repeat, a contractor called, a level-3 or level-4 ticket nobody can
take) are told to the level the ticket has reached (level 0 when nothing climbs) and never climb: nothing
has failed yet. A level that names nobody available now (`on_duty` while nobody is on shift) is passed
over at once, and the notice says so. Without an `escalation` section every supervisor hears every notice
at once, as before levels existed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from caretaker import i18n
from caretaker.estate.model import ON_DUTY, Site
from caretaker.estate.shifts import is_on_shift

# the notices that climb the levels until someone acts (`unassigned` only for levels 1 and 2: see `climbs`)
CLIMBING: frozenset[str] = frozenset({"breach", "unassigned"})
# the steps that stop a climb: someone acted on the ticket
STOPPING_STEPS: frozenset[str] = frozenset({"accept", "arrive", "resolve", "assign", "ack", "cancel", "close",
                                            "answer"})  # answer: a complaint answered (dispatch/complaints.py)
TIMER_PREFIX = "escalate:"  # a level's timer row is "escalate:<level>" (dispatch/timers.py)


@dataclass(frozen=True, slots=True)
class Told:
    """Whom a notice goes to, at which level, and the next level's timer (None: no further level)."""

    level: int | None  # the level told; None without an `escalation` section
    people: tuple[str, ...]  # supervisor ids, in the site file's order
    note: str  # "" or why levels were passed over, for the notice and the history
    levels: int  # how many levels the site has
    next_level: int | None = None
    next_at: datetime | None = None


def timer_kind(level: int) -> str:
    return f"{TIMER_PREFIX}{level}"


def level_of(kind: str) -> int | None:
    """Return the level an `escalate:<level>` timer kind names, or None for any other kind."""
    if not kind.startswith(TIMER_PREFIX):
        return None
    number = kind[len(TIMER_PREFIX):]
    return int(number) if number.isdigit() else None


def on_duty(site: Site, now: datetime) -> tuple[str, ...]:
    """Return the supervisors on shift now (managers are never `on_duty`), in the site file's order."""
    return tuple(s.id for s in site.supervisors.values()
                 if s.role == "supervisor" and is_on_shift(s, now, site.timezone))


def people_at(site: Site, level: int, now: datetime) -> tuple[str, ...]:
    """Return whom level `level` names now: `on_duty` read as the supervisors on shift, each person once."""
    named: list[str] = []
    for entry in site.escalation[level].notify:
        for person in (on_duty(site, now) if entry == ON_DUTY else (entry,)):
            if person in site.supervisors and person not in named:
                named.append(person)
    return tuple(named)


def begin(site: Site, now: datetime, climbs: bool) -> Told:
    """Return whom a new notice goes to when no climb is under way: level 0 (or the first level with
    someone in it), and for a climbing notice the next level's timer."""
    if not site.escalation:
        return Told(None, tuple(site.supervisors), "", 0)
    return _tell_from(site, 0, now, now, climbs)


def climb(site: Site, level: int, due_at: datetime, now: datetime) -> Told:
    """Return whom level `level` tells now that its timer (due at `due_at`) fired, and the next timer. The
    climb's start is `due_at` less the level's `after`, so a late sweep or a passed-over level never moves
    the later levels."""
    start = due_at - site.escalation[level].after
    return _tell_from(site, level, start, now, climbs=True)


def during(site: Site, reached: int, now: datetime) -> Told:
    """Return whom a notice goes to while a climb is under way at level `reached`: that level, no timer
    (the climb's own timer is already set)."""
    if not site.escalation:
        return Told(None, tuple(site.supervisors), "", 0)
    return _tell_from(site, min(reached, len(site.escalation) - 1), now, now, climbs=False)


def timer_acts(reached: int | None, stopped: bool, level: int) -> bool:
    """Return whether a level's timer still has something to do: the climb is under way (not stopped) and
    has not reached that level yet (a level passed over at once, or a timer of an earlier climb, stays
    quiet)."""
    return reached is not None and not stopped and reached < level


def _tell_from(site: Site, level: int, start: datetime, now: datetime, climbs: bool) -> Told:
    count = len(site.escalation)
    passed: list[int] = []
    here = level
    while here < count and not people_at(site, here, now):
        passed.append(here)
        here += 1
    if here == count:
        # nobody any level names is available: every supervisor rather than nobody
        note = i18n.said("notice.everyone_told")
        return Told(count - 1, tuple(site.supervisors), note, count)
    note = ""
    if passed:
        skipped = ", ".join(str(p) for p in passed)
        reason = i18n.said("notice.nobody_on_duty" if 0 in passed else "notice.nobody_available")
        note = i18n.said("notice.level_skipped", why=reason, skipped=skipped, here=here)
    following = here + 1
    if not climbs or following >= count:
        return Told(here, people_at(site, here, now), note, count)
    next_at = max(now, start + site.escalation[following].after)
    return Told(here, people_at(site, here, now), note, count, following, next_at)


def climbs(kind: str, urgency: int) -> bool:
    """Return whether a notice starts a climb: a breach always; a ticket nobody could take when it is level 1
    or 2 (an ordinary repair waiting for the morning shift is told to level 0 and climbs only if it breaches)."""
    return kind == "breach" or (kind in CLIMBING and urgency <= 2)


def stops(step: str) -> bool:
    """Return whether a step on the ticket stops a climb (someone acted)."""
    return step in STOPPING_STEPS


def describe(told: Told) -> dict | None:
    """Return the Notice payload's `escalation` field (docs/device-protocol.md, "Notice"), or None without
    levels."""
    if told.level is None:
        return None
    return {"levels": told.levels, "next_level": told.next_level,
            "next_at": _iso(told.next_at), "note": told.note}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")

