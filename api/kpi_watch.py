"""Figures that slip (docs/operations.md, "Service figures"): a KPI that misses its target three days running
is told to the management team as an alarm. Which days, and which figures missed on each of them; pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Sequence
from zoneinfo import ZoneInfo

from caretaker import i18n

# the figure -> its target (docs/operations.md targets as the control room shows them)
TARGETS: dict[str, float] = {"response_compliance_pct": 90.0, "first_time_fix_pct": 90.0, "satisfaction": 85.0,
                             # DOMAIN: complaints that miss their target three days running are told too
                             "complaints_answered_on_time_pct": 90.0}
DAYS = 3


def last_days(now: datetime, zone: str, days: int = DAYS) -> list[tuple[datetime, datetime]]:
    """The last `days` whole calendar days before today in the estate's zone, oldest first, as UTC [from, to)."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    out = []
    for back in range(days, 0, -1):
        start = (today.replace(tzinfo=None) - timedelta(days=back)).replace(tzinfo=tz)
        end = (today.replace(tzinfo=None) - timedelta(days=back - 1)).replace(tzinfo=tz)
        out.append((start.astimezone(timezone.utc), end.astimezone(timezone.utc)))
    return out


def missed_every_day(daily: Sequence[dict[str, Any]], targets: dict[str, float] = TARGETS) -> dict[str, list[float]]:
    """The figures below their target on every one of the days, with each day's value; a day without data
    (the figure is None) is no miss, so it breaks the run."""
    out: dict[str, list[float]] = {}
    for name, target in targets.items():
        values = [day.get(name) for day in daily]
        if daily and all(v is not None and v < target for v in values):
            out[name] = [float(v) for v in values]  # type: ignore[arg-type]
    return out


def title(name: str, values: Sequence[float], target: float) -> str:
    """The alarm's title (the service's own words, like its other alarms): the figure, the days' values, the target."""
    shown = ", ".join(f"{v:g}" for v in values)
    return i18n.said("alarm.kpi_missed", name=name, target=f"{target:g}", days=len(values), values=shown)
