"""The KPI figures from plain rows; pure and table-driven."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from caretaker.api.kpis import KpiAlert, KpiTicket, compute_kpis

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
START, END = T0, T0 + timedelta(hours=1)
NOW = END + timedelta(hours=5)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(id: str, created: float = 0, **kw) -> KpiTicket:
    """A level-1 ticket: accept in 2 min, arrive in 30, resolve in 120."""
    base = KpiTicket(id=id, urgency=1, status="closed", created_at=at(created), accept_by=at(created + 2),
                     arrive_by=at(created + 30), resolve_by=at(created + 120))
    return replace(base, **kw)


ON_TIME = dict(accepted_at=at(1), arrived_at=at(10), resolved_at=at(60), closed_at=at(70), satisfaction=5)

CASES = [
    ("nothing", [], [], {"tickets": 0, "response_compliance_pct": None, "first_time_fix_pct": None,
                         "satisfaction": None, "alarms": 0, "alarms_per_10min": 0.0}),
    ("all on time", [ticket("a", **ON_TIME)], [],
     {"response_compliance_pct": 100.0, "steps_due": 3, "first_time_fix_pct": 100.0, "satisfaction": 100.0,
      "mean_accept_s": 60.0, "mean_arrive_s": 600.0, "mean_resolve_s": 3600.0,
      "breaches_by_level": {"1": 0, "2": 0, "3": 0, "4": 0}}),
    ("late accept", [ticket("a", **{**ON_TIME, "accepted_at": at(3)})], [],
     {"response_compliance_pct": 66.7, "steps_on_time": 2, "breaches_by_level": {"1": 1, "2": 0, "3": 0, "4": 0}}),
    ("deadline passed, not done",
     [ticket("a", status="accepted", accepted_at=at(1), satisfaction=None)], [],
     # accept on time; arrive and resolve overdue by NOW: 1 of 3
     {"response_compliance_pct": 33.3, "steps_due": 3, "first_time_fix_pct": None, "closed": 0}),
    ("not yet due", [ticket("a", created=50, status="assigned", urgency=4, accept_by=at(50 + 600), arrive_by=None,
                            resolve_by=at(50 + 48 * 60))], [],
     {"steps_due": 0, "response_compliance_pct": None}),
    ("reopened ticket is no first-time fix",
     [ticket("a", **ON_TIME), ticket("b", **ON_TIME, reopened=True)], [],
     {"first_time_fix_pct": 50.0, "closed": 2}),
    ("satisfaction is mean x 20", [ticket("a", **{**ON_TIME, "satisfaction": 4}),
                                   ticket("b", **{**ON_TIME, "satisfaction": 5})], [],
     {"satisfaction": 90.0, "rated": 2}),
    ("cancelled tickets do not count", [ticket("a", status="cancelled")], [], {"tickets": 0, "steps_due": 0}),
    ("breach flag counts by level", [ticket("a", urgency=2, breached=True, **ON_TIME)], [],
     {"breaches_by_level": {"1": 0, "2": 1, "3": 0, "4": 0}}),
    ("repeat within 7 days on the same device",
     [ticket("old", created=-3 * 24 * 60, device_id="D1", **ON_TIME), ticket("new", device_id="D1", **ON_TIME),
      ticket("other", device_id="D2", **ON_TIME)], [],
     {"repeat_reports": 1, "repeat_tickets": ["new"], "tickets": 2}),
    ("repeat from the same unit", [ticket("a", unit_id="A-1203"), ticket("b", created=5, unit_id="A-1203")], [],
     {"repeat_tickets": ["b"]}),
    ("eight days apart is no repeat",
     [ticket("old", created=-8 * 24 * 60, device_id="D1"), ticket("new", device_id="D1")], [],
     {"repeat_reports": 0}),
    ("alarm rate and top devices", [],
     [KpiAlert("D1", at(1)), KpiAlert("D1", at(2)), KpiAlert("D2", at(3)), KpiAlert("D3", at(45)),
      KpiAlert("D9", at(-5))],
     {"alarms": 4, "alarms_per_10min": 0.67, "alarms_peak_10min": 3,
      "top_faulty_devices": [{"device": "D1", "alerts": 2}, {"device": "D2", "alerts": 1},
                             {"device": "D3", "alerts": 1}]}),
]


@pytest.mark.parametrize(("tickets", "alerts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compute_kpis(tickets, alerts, expected):
    result = compute_kpis(tickets, alerts, START, END, NOW)
    assert {k: result[k] for k in expected} == expected
