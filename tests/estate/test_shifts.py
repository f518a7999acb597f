"""Shift parsing and is_on_shift, including overnight shifts and the estate's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.estate.model import ShiftWindow, Technician
from caretaker.estate.shifts import is_on_shift, parse_shift, parse_shifts

ALL_DAYS = frozenset(range(7))
SHANGHAI = timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon-Sun 00:00-24:00", ShiftWindow(ALL_DAYS, 0, 1440)),
        ("Mon-Fri 08:00-18:00", ShiftWindow(frozenset({0, 1, 2, 3, 4}), 480, 1080)),
        ("Mon,Wed,Fri 08:00-17:00", ShiftWindow(frozenset({0, 2, 4}), 480, 1020)),
        ("Sat 22:00-06:00", ShiftWindow(frozenset({5}), 1320, 1800)),
        ("Fri-Mon 08:00-12:00", ShiftWindow(frozenset({4, 5, 6, 0}), 480, 720)),
        ("08:00-18:00", ShiftWindow(ALL_DAYS, 480, 1080)),
        ("monday 08:00-09:30", ShiftWindow(frozenset({0}), 480, 570)),
        ("Mon, Wed 8:00-9:00", ShiftWindow(frozenset({0, 2}), 480, 540)),
        ("Sun 20:00-00:00", ShiftWindow(frozenset({6}), 1200, 1440)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_parse_shift(text: str, expected: ShiftWindow) -> None:
    assert parse_shift(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "a shift must be a text"),
        ("Mon-Fri", "no hours"),
        ("Mon-Fri 08:00", "hours must be START-END"),
        ("Mon-Fri 8-18", "not a time HH:MM"),
        ("Mon-Fri 08:00-25:00", "between 00:00 and 24:00"),
        ("Mon-Fri 08:60-09:00", "between 00:00 and 24:00"),
        ("Xyz 08:00-09:00", "unknown day 'Xyz'"),
        ("Mo 08:00-09:00", "unknown day 'Mo'"),
        ("Mon,,Tue 08:00-09:00", "empty day"),
        ("Mon-Fri 08:00-08:00", "the same time"),
        ("Mon-Fri 24:00-06:00", "cannot start at 24:00"),
        (123, "a shift must be a text"),
    ],
    ids=repr,
)
def test_parse_shift_refuses(text: object, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_shift(text)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


def _tech(*shifts: str) -> Technician:
    return Technician(id="t-1", name="Wang Jun", phone="13800138000", skills=frozenset({"plumbing"}),
                      shifts=parse_shifts(shifts))


def _shanghai(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in Shanghai; day 23 is Monday 2026-11-23."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=timezone.utc) - SHANGHAI


@pytest.mark.parametrize(
    ("shifts", "now", "zone", "expected"),
    [
        # day shift, start included and end excluded
        (("Mon-Fri 08:00-18:00",), _shanghai(23, 8), "Asia/Shanghai", True),
        (("Mon-Fri 08:00-18:00",), _shanghai(23, 7, 59, 59), "Asia/Shanghai", False),
        (("Mon-Fri 08:00-18:00",), _shanghai(23, 17, 59, 59), "Asia/Shanghai", True),
        (("Mon-Fri 08:00-18:00",), _shanghai(23, 18), "Asia/Shanghai", False),
        (("Mon-Fri 08:00-18:00",), _shanghai(28, 10), "Asia/Shanghai", False),  # Saturday
        (("Mon,Wed,Fri 08:00-17:00",), _shanghai(24, 10), "Asia/Shanghai", False),  # Tuesday
        (("Mon,Wed,Fri 08:00-17:00",), _shanghai(25, 10), "Asia/Shanghai", True),  # Wednesday
        # overnight: Saturday 22:00 to Sunday 06:00
        (("Sat 22:00-06:00",), _shanghai(28, 21, 59), "Asia/Shanghai", False),
        (("Sat 22:00-06:00",), _shanghai(28, 23), "Asia/Shanghai", True),
        (("Sat 22:00-06:00",), _shanghai(29, 5, 59), "Asia/Shanghai", True),
        (("Sat 22:00-06:00",), _shanghai(29, 6), "Asia/Shanghai", False),
        (("Sat 22:00-06:00",), _shanghai(27, 23), "Asia/Shanghai", False),  # Friday night
        (("Sat 22:00-06:00",), _shanghai(30, 1), "Asia/Shanghai", False),  # Monday early: Sunday not listed
        # overnight from Sunday runs into Monday (the week wraps)
        (("Sun 22:00-06:00",), _shanghai(30, 1), "Asia/Shanghai", True),
        # all day, every day
        (("Mon-Sun 00:00-24:00",), _shanghai(29, 23, 59, 59), "Asia/Shanghai", True),
        (("Mon-Sun 00:00-24:00",), _shanghai(23, 0), "Asia/Shanghai", True),
        # two windows: either one counts
        (("Mon-Fri 08:00-12:00", "Mon-Fri 14:00-18:00"), _shanghai(23, 13), "Asia/Shanghai", False),
        (("Mon-Fri 08:00-12:00", "Mon-Fri 14:00-18:00"), _shanghai(23, 15), "Asia/Shanghai", True),
        # the same instant is 08:30 Monday in Shanghai but 00:30 Monday in UTC
        (("Mon-Fri 08:00-18:00",), datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc), "Asia/Shanghai", True),
        (("Mon-Fri 08:00-18:00",), datetime(2026, 11, 23, 0, 30, tzinfo=timezone.utc), "UTC", False),
        # Sunday 23:30 UTC is already Monday 07:30 in Shanghai: the local weekday decides
        (("Sun 08:00-24:00",), datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc), "UTC", True),
        (("Sun 08:00-24:00",), datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc), "Asia/Shanghai", False),
        # daylight saving: 07:30 UTC is 09:30 in a Berlin summer, 08:30 in a Berlin winter
        (("Mon-Sun 09:00-17:00",), datetime(2026, 7, 1, 7, 30, tzinfo=timezone.utc), "Europe/Berlin", True),
        (("Mon-Sun 09:00-17:00",), datetime(2026, 1, 7, 7, 30, tzinfo=timezone.utc), "Europe/Berlin", False),
    ],
    ids=[
        "day-start-included", "day-before-start", "day-last-second", "day-end-excluded", "day-saturday-off",
        "list-tuesday-off", "list-wednesday-on",
        "night-before", "night-evening", "night-next-morning", "night-end-excluded", "night-wrong-evening",
        "night-sunday-tail-not-listed",
        "night-wraps-sunday-to-monday",
        "all-day-last-second", "all-day-midnight",
        "two-windows-gap", "two-windows-second",
        "zone-shanghai", "zone-utc",
        "zone-weekday-utc", "zone-weekday-shanghai",
        "dst-summer", "dst-winter",
    ],
)
def test_is_on_shift(shifts: tuple[str, ...], now: datetime, zone: str, expected: bool) -> None:
    assert is_on_shift(_tech(*shifts), now, zone) is expected


def test_no_shifts_means_always_on_shift() -> None:
    tech = Technician(id="t-1", name="Zhao Gang", phone="13800138007", skills=frozenset({"security"}))
    assert all(is_on_shift(tech, _shanghai(23, 0) + timedelta(hours=h), "Asia/Shanghai") for h in range(168))


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_on_shift(_tech("Mon-Fri 08:00-18:00"), datetime(2026, 11, 23, 9, 0), "Asia/Shanghai")


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        is_on_shift(_tech("Mon-Fri 08:00-18:00"), _shanghai(23, 9), "Mars/Olympus")
