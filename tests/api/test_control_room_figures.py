"""The figures by trade, building, technician and month and their trends (docs/api.md#kpis): each group is
the totals' computation over its own tickets; months and days are the estate's (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from caretaker.api.kpi_breakdown import months
from caretaker.api.kpis import KpiAlert, KpiTicket
from caretaker.api.kpi_breakdown import breakdown, trends
from zoneinfo import ZoneInfo

from api_support import LEAK_REPORT, place_technician

UTC = timezone.utc
SH = "Asia/Shanghai"


def test_months_are_the_estates_calendar_months_clipped_to_the_range():
    start = datetime(2026, 10, 20, tzinfo=UTC)
    end = datetime(2026, 12, 5, tzinfo=UTC)
    got = months(start, end, ZoneInfo(SH))
    assert [m[0] for m in got] == ["2026-10", "2026-11", "2026-12"]
    assert got[0][1] == start and got[-1][2] == end
    assert got[1][1] == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 1 November 00:00 in Shanghai
    assert got[1][2] == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    london = months(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 30, tzinfo=UTC), ZoneInfo("Europe/London"))
    assert london[1][1] == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)  # April begins in summer time


def _ticket(i: str, at: datetime, category: str, building: str, assignee: str | None, score: int | None) -> KpiTicket:
    return KpiTicket(id=i, urgency=3, status="closed" if score else "assigned", created_at=at,
                     accept_by=at + timedelta(minutes=30), arrive_by=None, resolve_by=at + timedelta(hours=8),
                     accepted_at=at + timedelta(minutes=5), satisfaction=score, category=category, building=building,
                     assignee=assignee, closed_at=at + timedelta(hours=1) if score else None)


def test_each_group_has_its_own_figures_and_the_trends_their_series():
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC)
    now = end
    tickets = [_ticket("a", start + timedelta(days=1), "plumbing", "A", "t-wang", 5),
               _ticket("b", start + timedelta(days=2), "plumbing", "B", "t-chen", 3),
               _ticket("c", start + timedelta(days=9), "elevator", "B", None, None)]
    alerts = [KpiAlert("B-EL-1", start + timedelta(days=9, hours=h), "B") for h in range(3)]
    trade = {g["key"]: g["kpis"] for g in breakdown(tickets, alerts, start, end, now, "trade", SH)}
    assert set(trade) == {"plumbing", "elevator"}
    assert (trade["plumbing"]["tickets"], trade["plumbing"]["satisfaction"]) == (2, 80.0)
    assert trade["elevator"]["alarms"] == 0  # alarms belong to buildings, not trades
    building = {g["key"]: g["kpis"] for g in breakdown(tickets, alerts, start, end, now, "building", SH)}
    assert (building["B"]["tickets"], building["B"]["alarms"]) == (2, 3)
    tech = {g["key"]: g["kpis"]["tickets"] for g in breakdown(tickets, alerts, start, end, now, "technician", SH)}
    assert tech == {"t-wang": 1, "t-chen": 1, "": 1}
    series = trends(tickets, alerts, start, end, now, SH)
    assert [w["week"] for w in series["weeks"]] == ["2026-10-26", "2026-11-02", "2026-11-09"]
    assert len(series["days"]) == 15 and sum(d["alarms"] for d in series["days"]) == 3
    assert series["top_faulty_devices"] == [{"device": "B-EL-1", "alerts": 3}]
    assert {s["trade"]: s["satisfaction"] for s in series["satisfaction_by_trade"]} == {"plumbing": 80.0, "elevator": None}


def test_the_breakdown_and_trends_routes(client, ctx, operator, clock):
    place_technician(ctx, "t-wang")
    client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator)
    by = client.get("/api/v1/kpis/breakdown", params={"by": "technician"}, headers=operator)
    assert by.status_code == 200 and [g["key"] for g in by.json()] == ["t-wang"]
    assert by.json()[0]["kpis"]["tickets"] == 1
    month = client.get("/api/v1/kpis/breakdown", params={"by": "month"}, headers=operator).json()
    assert [g["key"] for g in month] == ["2026-11"]
    assert client.get("/api/v1/kpis/breakdown", params={"by": "colour"}, headers=operator).status_code == 422
    got = client.get("/api/v1/kpis/trends", headers=operator).json()
    assert len(got["days"]) in (7, 8) and got["weeks"]
