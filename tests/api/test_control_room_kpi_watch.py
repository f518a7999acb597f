"""A KPI that misses its target three days running raises an alarm for the management team (docs/operations.md,
"Service figures"): `system.kpi_missed` for the figure, in the control room like any alarm, cleared once a
day of the three is back on target. Days are the estate's (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime, timezone

from caretaker.api.kpi_watch import last_days, missed_every_day, title
from api_support import LEAK_REPORT, place_technician
from caretaker.kpi_watch import KpiWatch

PHOTO = "https://photos.example/fixed.jpg"


def test_the_last_three_whole_days_of_the_estate():
    now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai
    days = last_days(now, "Asia/Shanghai")
    assert days[0] == (datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc), datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc))
    assert days[-1][1] == datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)  # up to today's midnight there


def test_a_figure_must_miss_on_every_day_and_a_day_without_data_breaks_the_run():
    assert missed_every_day([{"satisfaction": 80.0}, {"satisfaction": 84.9}, {"satisfaction": 70.0}]) == {
        "satisfaction": [80.0, 84.9, 70.0]}
    assert missed_every_day([{"satisfaction": 80.0}, {"satisfaction": None}, {"satisfaction": 70.0}]) == {}
    assert missed_every_day([{"response_compliance_pct": 89.6}] * 2 + [{"response_compliance_pct": 90.0}]) == {}
    assert title("satisfaction", [80, 84.9], 85) == "KPI satisfaction below its target 85 for 2 days running: 80, 84.9"


def test_three_late_days_raise_the_alarm_and_a_good_day_clears_it(client, ctx, operator, issue, clock):
    watch = KpiWatch(ctx.sessions, clock, "caretaker", ctx.site.id, ctx.site.timezone)
    clock.advance(days=-3)
    for day in range(3):  # nobody on site: each day's report is accepted by nobody, its accept step late
        assert client.post("/api/v1/tickets", json={**LEAK_REPORT, "unit": None, "building": "C", "floor": 1 + day,
                                                    "description": f"门禁坏了 {day}"}, headers=operator).status_code == 201
        clock.advance(days=1)
    assert watch.run() is True
    alarms = [a for a in client.get("/api/v1/alerts", headers=operator).json() if a["rule"] == "system.kpi_missed"]
    assert [(a["device"], a["state"], a["category"]) for a in alarms] == [("response_compliance_pct", "raised", "system")]
    assert alarms[0]["title"].startswith("KPI response_compliance_pct below its target 90 for 3 days running: 0")
    assert watch.run() is False  # once an hour, whoever runs it

    place_technician(ctx, "t-wang")  # today: a report handled in time
    ticket = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator).json()
    wang = issue("technician", "t-wang")
    for step, body in (("accept", None), ("arrive", None), ("resolve", {"note": "fixed", "photos": [PHOTO]})):
        assert client.post(f"/api/v1/tickets/{ticket['id']}/{step}", json=body, headers=wang).status_code == 200
    clock.advance(days=1)
    assert watch.run() is True
    states = {a["state"] for a in client.get("/api/v1/alerts", headers=operator).json() if a["rule"] == "system.kpi_missed"}
    assert states == {"cleared"}
