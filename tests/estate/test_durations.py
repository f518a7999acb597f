"""parse_duration: the duration syntax of site and rule files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from caretaker.estate.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("2m", timedelta(minutes=2)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("1d", timedelta(days=1)),
        ("1d2h3m4s5ms", timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)),
        ("1.5h", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        (" 2m ", timedelta(minutes=2)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("45", timedelta(seconds=45)),
        (90, timedelta(seconds=90)),
        (0, timedelta(0)),
        (2.5, timedelta(seconds=2.5)),
    ],
    ids=lambda value: repr(value) if not isinstance(value, timedelta) else "",
)
def test_parse_duration_accepts(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "not a duration"),
        ("abc", "not a duration"),
        ("5x", "not a duration"),
        ("m", "not a duration"),
        ("1M", "not a duration"),
        ("1.h", "not a duration"),
        ("-5s", "not a duration"),
        ("30m1h", "largest to smallest"),
        ("1m1m", "largest to smallest"),
        (-5, ">= 0"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (True, "expected a duration"),
        (None, "expected a duration"),
        ([1], "expected a duration"),
    ],
    ids=repr,
)
def test_parse_duration_refuses_with_a_clear_message(text: object, fragment: str) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        parse_duration(text)  # type: ignore[arg-type]
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=2), "2h"),
        (timedelta(days=1, minutes=5), "1d5m"),
        (timedelta(milliseconds=1500), "1s500ms"),
        (timedelta(seconds=-30), "-30s"),
    ],
    ids=lambda value: str(value),
)
def test_format_duration_writes_file_syntax_that_parses_back(value: timedelta, text: str) -> None:
    assert format_duration(value) == text
    if value >= timedelta(0):
        assert parse_duration(text) == value
