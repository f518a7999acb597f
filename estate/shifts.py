"""Weekly shift windows ("Mon-Fri 08:00-18:00", "Sat 22:00-06:00") and whether someone is on shift."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from caretaker.estate.model import ShiftWindow, Supervisor, Technician

DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX: dict[str, int] = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
MINUTES_PER_DAY = 1440
_FULL_DAY_INDEX: dict[str, int] = {
    name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_EXAMPLE = 'like "Mon-Fri 08:00-18:00", "Mon,Wed,Fri 08:00-17:00" or "Sat 22:00-06:00"'


def _parse_day(name: str, shift: str) -> int:
    key = name.strip().lower()
    # "Mon" or "Monday", any case; never a prefix guess such as "Mo" or a typo such as "Mnday"
    index = _DAY_INDEX.get(key, _FULL_DAY_INDEX.get(key))
    if index is None:
        raise ValueError(f"shift {shift!r}: unknown day {name.strip()!r}; use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
    return index


def _parse_days(spec: str, shift: str) -> frozenset[int]:
    days: set[int] = set()
    for item in spec.split(","):
        if not item.strip():
            raise ValueError(f"shift {shift!r}: empty day in {spec!r}")
        if "-" in item:
            first, _, last = item.partition("-")
            start, end = _parse_day(first, shift), _parse_day(last, shift)
            # a range may wrap past Sunday: "Fri-Mon" is Fri, Sat, Sun, Mon
            span = (end - start) % 7
            days.update((start + step) % 7 for step in range(span + 1))
        else:
            days.add(_parse_day(item, shift))
    return frozenset(days)


def _parse_minute(text: str, shift: str) -> int:
    match = _TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"shift {shift!r}: {text.strip()!r} is not a time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"shift {shift!r}: {text.strip()!r} is not a time between 00:00 and 24:00")
    return hours * 60 + minutes


def parse_shift(text: str) -> ShiftWindow:
    """Return the weekly window `text` describes; an end at or before the start runs into the next day.

    Days are optional ("08:00-18:00" means every day). Raises ValueError on anything else.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a shift must be a text {_EXAMPLE}, got {text!r}")
    # the hours are the last word; whatever comes before is the days ("Mon, Wed 08:00-12:00" too)
    parts = text.strip().rsplit(None, 1)
    if len(parts) == 1 and ":" not in parts[0]:
        raise ValueError(f"shift {text!r}: no hours; write days then hours, {_EXAMPLE}")
    if len(parts) == 1:
        days, hours = frozenset(range(7)), parts[0]
    else:
        days, hours = _parse_days("".join(parts[0].split()), text), parts[1]
    start_text, dash, end_text = hours.partition("-")
    if not dash:
        raise ValueError(f"shift {text!r}: hours must be START-END, {_EXAMPLE}")
    start, end = _parse_minute(start_text, text), _parse_minute(end_text, text)
    if start == MINUTES_PER_DAY:
        raise ValueError(f"shift {text!r}: a shift cannot start at 24:00; write 00:00 on the next day")
    if end == start:
        raise ValueError(f"shift {text!r}: start and end are the same time; for all day write 00:00-24:00")
    if end < start:
        end += MINUTES_PER_DAY  # overnight: belongs to the day it starts on
    return ShiftWindow(weekdays=days, start_min=start, end_min=end)


def parse_shifts(texts: Iterable[str]) -> tuple[ShiftWindow, ...]:
    """Return the windows of every text, in order; raises ValueError on the first bad one."""
    return tuple(parse_shift(text) for text in texts)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_in_window(window: ShiftWindow, local: datetime) -> bool:
    """Return True iff the local wall-clock time `local` falls inside `window` (start included, end not)."""
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    weekday = local.weekday()
    if weekday in window.weekdays and window.start_min <= minute < window.end_min:
        return True
    # the tail of an overnight shift that began yesterday
    yesterday = (weekday - 1) % 7
    return yesterday in window.weekdays and minute + MINUTES_PER_DAY < window.end_min


def is_on_shift(tech: Technician | Supervisor, now: datetime, timezone: str) -> bool:
    """Return True iff `tech` is on shift at the aware instant `now` in the estate's `timezone`.

    A technician with no shifts (None) is always on shift. Raises ValueError on a naive `now`.
    """
    if tech.shifts is None:
        return True
    if now.tzinfo is None or now.utcoffset() is None:
        # a naive time would silently be read as the server's local time
        raise ValueError("is_on_shift needs a time-zone-aware now")
    local = now.astimezone(_zone(timezone))
    return any(is_in_window(window, local) for window in tech.shifts)
