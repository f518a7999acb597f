"""Exports (docs/api.md#exports): tickets, alarms and the monthly report as CSV (with a byte-order mark, so
Excel reads the Chinese) and as Excel workbooks, for any date range, in the site's language or ?lang=, with
the site file's names and no resident's personal data."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from api_support import LEAK_REPORT, place_technician


def _tickets(client, ctx, operator):
    place_technician(ctx, "t-wang")
    leak = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator).json()
    lift = client.post("/api/v1/tickets", json={**LEAK_REPORT, "unit": None, "building": "B", "floor": 1,
                                                "description": "电梯门关不上", "category": "elevator", "urgency": 2},
                       headers=operator).json()
    return leak, lift


def test_tickets_as_csv_in_chinese_with_names_and_no_personal_data(client, ctx, operator):
    leak, lift = _tickets(client, ctx, operator)
    got = client.get("/api/v1/exports/tickets.csv", headers=operator)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith('attachment; filename="tickets-2026-11-01-2026-11-23.csv"')
    assert got.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["工单号", "报修时间", "级别"]
    by_id = {r[0]: r for r in rows[1:]}
    assert set(by_id) == {leak["id"], lift["id"]}
    assert by_id[leak["id"]][1] == "2026-11-23 10:00"  # the estate's time, not UTC
    assert "Tower A (1号楼)" in by_id[leak["id"]] and "给排水" in by_id[leak["id"]] and "Wang Jun" in by_id[leak["id"]]
    text = got.content.decode("utf-8-sig")
    assert LEAK_REPORT["reporter_phone"] not in text and LEAK_REPORT["reporter_name"] not in text and "A-0302" not in text


def test_tickets_as_an_excel_workbook_in_english_and_the_range(client, ctx, operator):
    _tickets(client, ctx, operator)
    got = client.get("/api/v1/exports/tickets.xlsx", params={"lang": "en"}, headers=operator)
    assert got.status_code == 200 and "spreadsheetml" in got.headers["content-type"]
    sheet = load_workbook(io.BytesIO(got.content))["Tickets"]
    assert [c.value for c in sheet[1]][:3] == ["Ticket", "Reported", "Level"] and sheet.max_row == 3
    empty = client.get("/api/v1/exports/tickets.xlsx",
                       params={"from": "2026-10-01T00:00:00+08:00", "to": "2026-11-01T00:00:00+08:00"}, headers=operator)
    assert load_workbook(io.BytesIO(empty.content)).active.max_row == 1  # the header only
    bad = client.get("/api/v1/exports/tickets.csv", params={"from": "2026-11-30T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
                     headers=operator)
    assert bad.status_code == 422
    assert client.get("/api/v1/exports/tickets.pdf", headers=operator).status_code == 422
    alarms = client.get("/api/v1/exports/alerts.csv", params={"lang": "en"}, headers=operator)
    assert alarms.status_code == 200 and alarms.content.decode("utf-8-sig").startswith("Alarm,Raised,Cleared")


def test_the_monthly_report_has_the_totals_and_each_breakdown(client, ctx, operator):
    _tickets(client, ctx, operator)
    got = client.get("/api/v1/exports/report.xlsx", headers=operator)
    book = load_workbook(io.BytesIO(got.content))
    assert book.sheetnames == ["汇总", "按月", "按专业", "按楼栋", "按人员"]
    summary = [c.value for c in book["汇总"][2]]
    assert summary[0] == "2026-11-01 – 2026-11-23" and summary[1] == 2  # two tickets
    trades = {r[0].value: r[1].value for r in book["按专业"].iter_rows(min_row=2)}
    assert trades == {"给排水": 1, "电梯": 1}
    assert {r[0].value for r in book["按楼栋"].iter_rows(min_row=2)} == {"Tower A (1号楼)", "Tower B (2号楼)"}
    assert [r[0].value for r in book["按月"].iter_rows(min_row=2)] == ["2026-11"]
    as_csv = client.get("/api/v1/exports/report.csv", params={"lang": "en"}, headers=operator).content.decode("utf-8-sig")
    assert "By trade" in as_csv and "plumbing" in as_csv
