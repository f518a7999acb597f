"""Tickets, alarms and the monthly report (月报) as CSV and as an Excel workbook, in the estate's language and
time zone (docs/operators.md#export). No resident's name, number or unit: an export leaves the service
(docs/api.md, "Personal data"). Pure: rows in, bytes out."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Iterable, Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from caretaker.api.vocabulary import catalogue

__all__ = ["catalogue", "to_csv", "to_xlsx", "ticket_sheet", "alert_sheet", "report_sheets"]

Sheet = tuple[str, list[str], list[list[Any]]]  # title, header, rows

TICKET_COLUMNS = ("id", "created", "urgency", "category", "title", "building", "floor", "zone", "device", "source",
                  "status", "assignee", "accept_by", "accepted", "arrive_by", "arrived", "resolve_by", "resolved",
                  "closed", "breached", "satisfaction", "resolution")
ALERT_COLUMNS = ("id", "raised", "cleared", "urgency", "category", "title", "rule", "device", "building", "state",
                 "acked_by", "acked", "ticket", "silence", "suppressed_by", "chattering", "occurrences")
FIGURES = ("tickets", "response_compliance_pct", "steps_due", "steps_on_time", "first_time_fix_pct", "closed",
           "satisfaction", "rated", "mean_accept_s", "mean_arrive_s", "mean_resolve_s", "breaches", "repeat_reports",
           "callback_rate_pct", "callbacks_due", "alarms", "alarms_peak_10min")


def local(at: datetime | None, zone: str) -> str:
    """"2026-12-01 08:30" in the estate's zone; blank for no time."""
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") if at else ""


def _word(lang: str, key: str, fallback: str) -> str:
    return catalogue(lang).get(key, fallback)


def ticket_sheet(rows: Iterable[Any], lang: str, zone: str, names: dict[str, str], buildings: dict[str, str]) -> Sheet:
    """One row per ticket (TicketRow-like objects), labels and names in `lang`, times in `zone`."""
    out = []
    for t in rows:
        out.append([t.id, local(t.created_at, zone), t.urgency, _word(lang, f"category.{t.category}", t.category),
                    t.title,
                    buildings.get(t.building, t.building), t.floor, t.zone or "", t.device_id or "",
                    _word(lang, f"source.{t.source}", t.source), _word(lang, f"status.{t.status}", t.status),
                    names.get(t.assignee, t.assignee) if t.assignee else "", local(t.accept_by, zone),
                    local(t.accepted_at, zone), local(t.arrive_by, zone), local(t.arrived_at, zone),
                    local(t.resolve_by, zone), local(t.resolved_at, zone), local(t.closed_at, zone),
                    _word(lang, "export.yes" if t.breached else "export.no", ""), t.satisfaction or "",
                    t.resolution_note or ""])
    header = [_word(lang, f"export.t_{c}", c) for c in TICKET_COLUMNS]
    return (_word(lang, "export.sheet_tickets", "tickets"), header, out)


def alert_sheet(rows: Iterable[Any], lang: str, zone: str, buildings: dict[str, str], tickets: dict[str, str]
                ) -> Sheet:
    """One row per alarm; `tickets`: each alarm's ticket (dispatch/lookup.py `alert_tickets`)."""
    out = []
    for a in rows:
        out.append([a.id, local(a.raised_at, zone), local(a.cleared_at, zone), a.urgency,
                    _word(lang, f"category.{a.category}", a.category), a.title, a.rule_id, a.device_id or "",
                    buildings.get(a.building, a.building or ""), _word(lang, f"alert_state.{a.state}", a.state),
                    a.acked_by or "", local(a.acked_at, zone), tickets.get(a.id, ""), a.silence_id or "",
                    a.suppressed_by or "",
                    _word(lang, "export.yes" if a.chattering else "export.no", ""), a.occurrences or 1])
    return (_word(lang, "export.sheet_alerts", "alarms"), [_word(lang, f"export.a_{c}", c) for c in ALERT_COLUMNS], out)


def _figures(k: dict[str, Any]) -> list[Any]:
    values = []
    for name in FIGURES:
        if name == "breaches":
            values.append(sum(k["breaches_by_level"].values()))
        else:
            v = k.get(name)
            values.append("" if v is None else round(v / 60, 1) if name.startswith("mean_") else v)
    return values


def report_sheets(total: dict[str, Any], groups: dict[str, list[dict[str, Any]]], lang: str,
                  names: dict[str, dict[str, str]], period: str) -> list[Sheet]:
    """The monthly report: the totals, then the figures by month, trade, building and technician."""
    header = [_word(lang, f"export.k_{f}", f) for f in FIGURES]
    sheets: list[Sheet] = [(_word(lang, "export.sheet_summary", "summary"),
                            [_word(lang, "export.period", "period"), *header], [[period, *_figures(total)]])]
    for by in ("month", "trade", "building", "technician"):
        label = names.get(by, {})
        rows = [[label.get(g["key"], g["key"]) or _word(lang, "export.nobody", "—"), *_figures(g["kpis"])]
                for g in groups.get(by, [])]
        sheets.append((_word(lang, f"export.sheet_{by}", by), [_word(lang, f"export.by_{by}", by), *header], rows))
    return sheets


def to_csv(sheets: Sequence[Sheet]) -> bytes:
    """CSV with a byte-order mark, so Excel opens the Chinese as Chinese; several sheets follow each other,
    each under its title."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for i, (title, header, rows) in enumerate(sheets):
        if len(sheets) > 1:
            if i:
                writer.writerow([])
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """An Excel workbook, one sheet per table, the header bold and frozen."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        sheet.freeze_panes = "A2"
        for i, name in enumerate(header, 1):
            width = max([len(str(name))] + [len(str(r[i - 1])) for r in rows[:200]])
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, width * 1.6 + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
