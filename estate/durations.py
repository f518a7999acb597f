"""Durations written the way people write them in site and rule files: 90s, 2m, 1h30m, 500ms, 1d."""

from __future__ import annotations

import math
import re
from datetime import timedelta

# largest unit first: a duration lists its parts in this order, each at most once
_UNIT_SECONDS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_UNIT_ORDER: tuple[str, ...] = tuple(_UNIT_SECONDS)
# "ms" before "m" in the alternation, or "500ms" would read as 500 minutes and a stray "s"
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|d|h|m|s))+")
_EXAMPLES = "like 90s, 2m, 1h30m, 500ms or 1d"


def parse_duration(text: str | int | float) -> timedelta:
    """Return the non-negative duration `text` names; a bare number counts seconds.

    Raises ValueError naming the text when it is not a duration.
    """
    # bool is an int in Python; `true` in YAML is never meant as one second
    if isinstance(text, bool):
        raise ValueError(f"expected a duration {_EXAMPLES}, got {text!r}")
    if isinstance(text, (int, float)):
        if not math.isfinite(text) or text < 0:
            raise ValueError(f"a duration must be a finite number of seconds >= 0, got {text!r}")
        return timedelta(seconds=text)
    if not isinstance(text, str):
        raise ValueError(f"expected a duration {_EXAMPLES}, got {text!r}")
    compact = "".join(text.split())
    if compact.isdigit():
        return timedelta(seconds=int(compact))
    if not compact or not _WHOLE.fullmatch(compact):
        raise ValueError(f"{text!r} is not a duration; write one {_EXAMPLES} (units d, h, m, s, ms)")
    total = 0.0
    last_rank = -1
    for number, unit in _PART.findall(compact):
        rank = _UNIT_ORDER.index(unit)
        # "30m1h" or "1m1m" is almost always a typo, so refuse it rather than guess
        if rank <= last_rank:
            raise ValueError(f"{text!r}: write units from largest to smallest, each once, like 1h30m")
        last_rank = rank
        total += float(number) * _UNIT_SECONDS[unit]
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    """Return `value` in the file syntax, e.g. "1h30m", so messages echo what people write."""
    millis = round(value.total_seconds() * 1000)
    if millis < 0:
        return "-" + format_duration(-value)
    if millis == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        size = int(_UNIT_SECONDS[unit] * 1000)
        count, millis = divmod(millis, size)
        if count:
            parts.append(f"{count}{unit}")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)
