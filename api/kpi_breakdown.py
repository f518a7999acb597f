"""The figures by trade, building, technician and month, and their trends for the charts (docs/api.md#kpis):
the same computation as the totals (api/kpis.py) over each group's tickets and alarms; pure."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from typing import Callable, Literal, Sequence
from zoneinfo import ZoneInfo

from caretaker.api.kpis import KpiAlert, KpiTicket, compute_kpis

By = Literal["trade", "building", "technician", "month"]
BY: tuple[str, ...] = ("trade", "building", "technician", "month")
UNASSIGNED = ""  # the technician group of tickets nobody took


def _month_start(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def months(start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """The calendar months (in the estate's zone) that [start, end) touches, each clipped to it, as
    ("2026-11", from, to) in UTC."""
    out = []
    month = _month_start(start, zone)
    while month.astimezone(timezone.utc) < end:
        following = (month + timedelta(days=32)).replace(day=1)
        following = following.replace(tzinfo=None).replace(tzinfo=zone)  # the zone's offset on the 1st
        out.append((f"{month.year:04d}-{month.month:02d}", max(start, month.astimezone(timezone.utc)),
                    min(end, following.astimezone(timezone.utc))))
        month = following
    return out


def breakdown(tickets: Sequence[KpiTicket], alerts: Sequence[KpiAlert], start: datetime, end: datetime,
              now: datetime, by: By, zone: str) -> list[dict]:
    """Return [{"key": ..., "kpis": {...}}] for each group, in key order; `tickets` may reach 7 days before
    `start` (earlier reports for repeats), as for the totals. Alarms count by building and month only."""
    tz = ZoneInfo(zone)
    if by == "month":
        return [{"key": key, "kpis": compute_kpis(tickets, alerts, lo, hi, now)}
                for key, lo, hi in months(start, end, tz)]
    key_of: Callable[[KpiTicket], str | None] = {
        "trade": lambda t: t.category, "building": lambda t: t.building,
        "technician": lambda t: t.assignee or UNASSIGNED}[by]
    groups: dict[str, list[KpiTicket]] = defaultdict(list)
    for t in tickets:
        groups[key_of(t) or UNASSIGNED].append(t)
    in_window = {k for k, ts in groups.items() if any(start <= t.created_at < end for t in ts)}
    alarms_by_building: dict[str, list[KpiAlert]] = defaultdict(list)
    for a in alerts:
        alarms_by_building[a.building or UNASSIGNED].append(a)
    if by == "building":
        in_window |= {b for b, found in alarms_by_building.items() if any(start <= a.raised_at < end for a in found)}
    return [{"key": key, "kpis": compute_kpis(groups.get(key, []),
                                              alarms_by_building.get(key, []) if by == "building" else [],
                                              start, end, now)}
            for key in sorted(in_window)]


def _week_start(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def trends(tickets: Sequence[KpiTicket], alerts: Sequence[KpiAlert], start: datetime, end: datetime, now: datetime,
           zone: str) -> dict:
    """The charts' series: response on time per week, alarms per day (both in the estate's zone), the top
    faulty devices and satisfaction per service (trade)."""
    tz = ZoneInfo(zone)
    weeks = []
    week = _week_start(start, tz)
    while week.astimezone(timezone.utc) < end:
        following = (week.replace(tzinfo=None) + timedelta(days=7)).replace(tzinfo=tz)
        lo, hi = max(start, week.astimezone(timezone.utc)), min(end, following.astimezone(timezone.utc))
        k = compute_kpis(tickets, [], lo, hi, now)
        weeks.append({"week": week.date().isoformat(), "response_compliance_pct": k["response_compliance_pct"],
                      "steps_due": k["steps_due"], "tickets": k["tickets"]})
        week = following
    per_day = Counter(a.raised_at.astimezone(tz).date().isoformat() for a in alerts if start <= a.raised_at < end)
    days = []
    day = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last:
        days.append({"day": day.isoformat(), "alarms": per_day.get(day.isoformat(), 0)})
        day += timedelta(days=1)
    by_trade = breakdown(tickets, [], start, end, now, "trade", zone)
    total = compute_kpis(tickets, alerts, start, end, now)
    return {
        "weeks": weeks, "days": days, "top_faulty_devices": total["top_faulty_devices"],
        "satisfaction_by_trade": [{"trade": g["key"], "satisfaction": g["kpis"]["satisfaction"],
                                   "rated": g["kpis"]["rated"]} for g in by_trade],
    }
