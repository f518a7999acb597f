"""The figures the service is judged by, over a time range (default: the last 7 days)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field

from caretaker.api.deps import Ctx, Operator
from caretaker.api.kpi_breakdown import breakdown, trends
from caretaker.api.kpis import compute_kpis, load_kpi_rows
from caretaker.api.schemas import UtcTime

router = APIRouter(prefix="/api/v1/kpis", tags=["kpis"])
DEFAULT_RANGE = timedelta(days=7)
MAX_RANGE = timedelta(days=366)
MAX_GROUPS = 1000  # a page of groups: an estate has far fewer trades, buildings, technicians or months


class DeviceAlerts(BaseModel):
    device: str
    alerts: int


class KpisOut(BaseModel):
    from_: UtcTime = Field(alias="from")
    to: UtcTime
    tickets: int
    response_compliance_pct: float | None  # steps done by their deadline / steps due; target >= 90
    steps_due: int
    steps_on_time: int
    first_time_fix_pct: float | None  # closed and never reopened; target >= 90
    closed: int
    satisfaction: float | None  # mean score x 20, out of 100; target >= 85
    rated: int
    mean_accept_s: float | None
    mean_arrive_s: float | None
    mean_resolve_s: float | None
    breaches_by_level: dict[str, int]
    repeat_reports: int
    repeat_tickets: list[str]
    top_faulty_devices: list[DeviceAlerts]
    alarms: int
    alarms_per_10min: float
    alarms_peak_10min: int
    callback_rate_pct: float | None  # call-backs made by their deadline (24 h repair, 48 h other) / due
    callbacks_due: int
    callbacks_on_time: int
    complaints: int = 0
    suggestions: int = 0
    # service complaints answered by their deadline (12 h) / answers due (docs/api.md, "Kinds of report")
    complaints_answered_on_time_pct: float | None = None
    complaint_answers_due: int = 0
    complaint_answers_on_time: int = 0


def _bad(name: str, value: object, msg: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("query", name), "input": str(value), "msg": msg}])


def window(from_: datetime | None, to: datetime | None, now: datetime) -> tuple[datetime, datetime]:
    """The half-open range [from, to) a request asks for: the last 7 days by default, at most 366 days."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise _bad(name, value, "an RFC 3339 time with a zone, e.g. 2026-11-23T02:00:00Z")
    # the window is half-open [from, to); without a `to` it must still hold what happened this instant
    end = to or now + timedelta(microseconds=1)
    start = from_ or end - DEFAULT_RANGE
    if start >= end:
        raise _bad("from", start, "must be before to")
    if end - start > MAX_RANGE:
        raise _bad("from", start, "the range may span at most 366 days")
    return start, end


From = Annotated[datetime | None, Query(alias="from", description="RFC 3339")]
To = Annotated[datetime | None, Query(description="RFC 3339")]


@router.get("", response_model=KpisOut)
def get_kpis(ctx: Ctx, _user: Operator, from_: From = None, to: To = None) -> dict[str, Any]:
    """Response-time compliance, first-time fix, satisfaction, mean times, breaches, repeats, faulty devices,
    alarm rate, call-backs on time, complaints answered on time."""
    now = ctx.clock.now()
    start, end = window(from_, to, now)
    with ctx.sessions() as session:
        tickets, alerts = load_kpi_rows(session, start, end)
    return compute_kpis(tickets, alerts, start, end, now)


class GroupOut(BaseModel):
    key: str = Field(description="the trade, building id, technician id (empty: nobody took it) or month (2026-11)")
    kpis: KpisOut


@router.get("/breakdown", response_model=list[GroupOut])
def get_breakdown(ctx: Ctx, _user: Operator, by: Literal["trade", "building", "technician", "month"],
                  from_: From = None, to: To = None,
                  limit: Annotated[int, Query(ge=1, le=MAX_GROUPS)] = MAX_GROUPS) -> list[dict[str, Any]]:
    """The same figures for each trade, building, technician or calendar month (in the estate's time zone),
    at most `limit` groups; alarms count by building and by month only."""
    now = ctx.clock.now()
    start, end = window(from_, to, now)
    with ctx.sessions() as session:
        tickets, alerts = load_kpi_rows(session, start, end)
    return breakdown(tickets, alerts, start, end, now, by, ctx.site.timezone)[:limit]


@router.get("/trends")
def get_trends(ctx: Ctx, _user: Operator, from_: From = None, to: To = None) -> dict[str, Any]:
    """The charts' series: response on time per week, alarms per day, the top faulty devices, satisfaction
    per trade (weeks from Monday and days in the estate's time zone)."""
    now = ctx.clock.now()
    start, end = window(from_, to, now)
    with ctx.sessions() as session:
        tickets, alerts = load_kpi_rows(session, start, end)
    return {"from": start, "to": end, **trends(tickets, alerts, start, end, now, ctx.site.timezone)}
