"""Exports for a property manager (docs/api.md#exports): tickets, alarms and the monthly report (月报) for any
date range, as CSV or as an Excel workbook, in the page's language (?lang=, default the site's locale)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response
from caretaker.api import exports
from caretaker.api.deps import Ctx, Operator
from caretaker.api.kpi_breakdown import BY, breakdown
from caretaker.api.kpis import compute_kpis, load_kpi_rows
from caretaker.api.routes.kpis import MAX_RANGE, _bad
from caretaker.dispatch import lookup, reads_tickets
from caretaker.estate.model import LOCALES, SKILLS
from caretaker.rules import alert_reads

router = APIRouter(prefix="/api/v1/exports", tags=["exports"])
MAX_ROWS = 100_000  # a year of a large estate; more is a database export, not a spreadsheet
Format = Literal["csv", "xlsx"]
TYPES = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
From = Annotated[datetime | None, Query(alias="from", description="RFC 3339; default the start of this month")]
To = Annotated[datetime | None, Query(description="RFC 3339; default now")]
Lang = Annotated[Literal["zh-CN", "en"] | None, Query(description="default the site's locale")]


def export_window(from_: datetime | None, to: datetime | None, now: datetime, zone: str) -> tuple[datetime, datetime]:
    """[from, to): by default this month so far, in the estate's zone; at most 366 days."""
    for name, value in (("from", from_), ("to", to)):
        if value is not None and value.tzinfo is None:
            raise _bad(name, value, "an RFC 3339 time with a zone, e.g. 2026-11-01T00:00:00+08:00")
    end = to or now + timedelta(microseconds=1)
    start = from_ or end.astimezone(ZoneInfo(zone)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start >= end:
        raise _bad("from", start, "must be before to")
    if end - start > MAX_RANGE:
        raise _bad("from", start, "the range may span at most 366 days")
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _send(sheets: list[exports.Sheet], fmt: Format, name: str, start: datetime, end: datetime, zone: str) -> Response:
    tz = ZoneInfo(zone)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    filename = f"{name}-{start.astimezone(tz).date().isoformat()}-{last.isoformat()}.{fmt}"
    body = exports.to_csv(sheets) if fmt == "csv" else exports.to_xlsx(sheets)
    return Response(body, media_type=TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                                          "Cache-Control": "no-store"})


def _lang(ctx, lang: str | None) -> str:
    return lang or (ctx.site.locale if ctx.site.locale in LOCALES else "zh-CN")


def _names(ctx) -> tuple[dict[str, str], dict[str, str]]:
    return ({t.id: t.name for t in ctx.site.technicians.values()},
            {b.id: b.name or b.id for b in ctx.site.buildings.values()})


@router.get("/tickets.{fmt}", response_class=Response, responses={200: {"content": {t: {} for t in TYPES.values()}}})
def export_tickets(fmt: Format, ctx: Ctx, _user: Operator, from_: From = None, to: To = None,
                   lang: Lang = None) -> Response:
    """Tickets reported in [from, to), oldest first, without residents' personal data."""
    start, end = export_window(from_, to, ctx.clock.now(), ctx.site.timezone)
    with ctx.sessions() as session:
        rows = reads_tickets.created_in(session, start, end, MAX_ROWS)  # dispatch's read
    technicians, buildings = _names(ctx)
    sheet = exports.ticket_sheet(rows, _lang(ctx, lang), ctx.site.timezone, technicians, buildings)
    return _send([sheet], fmt, "tickets", start, end, ctx.site.timezone)


@router.get("/alerts.{fmt}", response_class=Response, responses={200: {"content": {t: {} for t in TYPES.values()}}})
def export_alerts(fmt: Format, ctx: Ctx, _user: Operator, from_: From = None, to: To = None,
                  lang: Lang = None) -> Response:
    """Alarms raised in [from, to), oldest first."""
    start, end = export_window(from_, to, ctx.clock.now(), ctx.site.timezone)
    with ctx.sessions() as session:
        rows = alert_reads.raised_in(session, start, end, MAX_ROWS)  # rules' read
        tickets = lookup.alert_tickets(session, [r.id for r in rows])
    sheet = exports.alert_sheet(rows, _lang(ctx, lang), ctx.site.timezone, _names(ctx)[1], tickets)
    return _send([sheet], fmt, "alarms", start, end, ctx.site.timezone)


@router.get("/report.{fmt}", response_class=Response, responses={200: {"content": {t: {} for t in TYPES.values()}}})
def export_report(fmt: Format, ctx: Ctx, _user: Operator, from_: From = None, to: To = None,
                  lang: Lang = None) -> Response:
    """The monthly report (月报) for [from, to): the figures in all, then by month, trade, building and
    technician, as the owners' committee reads them."""
    now = ctx.clock.now()
    start, end = export_window(from_, to, now, ctx.site.timezone)
    with ctx.sessions() as session:
        tickets, alerts = load_kpi_rows(session, start, end)
    language = _lang(ctx, lang)
    groups = {by: breakdown(tickets, alerts, start, end, now, by, ctx.site.timezone)  # type: ignore[arg-type]
              for by in BY}
    technicians, buildings = _names(ctx)
    names = {"technician": technicians, "building": buildings,
             "trade": {c: exports.catalogue(language).get(f"category.{c}", c) for c in SKILLS}}
    tz = ZoneInfo(ctx.site.timezone)
    period = (f"{start.astimezone(tz):%Y-%m-%d} – {(end - timedelta(microseconds=1)).astimezone(tz):%Y-%m-%d}")
    sheets = exports.report_sheets(compute_kpis(tickets, alerts, start, end, now), groups, language, names, period)
    return _send(sheets, fmt, "report", start, end, ctx.site.timezone)
