"""Figures and exports on the page, in Chinese and in English (docs/operators.md#figures): the KPIs by trade,
building, technician and month for a date range, four charts drawn as inline SVG (response on time per
week, alarms per day, top faulty devices, satisfaction per trade), and the monthly report, tickets and
alarms downloaded as Excel and CSV. No console error; screenshots kept."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401

WORDS = {"zh-CN": {"plumbing": "给排水", "report": "汇总"}, "en": {"plumbing": "plumbing", "report": "Summary"}}


@pytest.fixture(scope="module")
def history(room):
    leak = room.resolve(room.report(unit="A-0302", description="厨房漏水", category="plumbing", urgency=2), "t-chen")
    assert room.call("POST", f"/api/v1/tickets/{leak['id']}/verify", json={"satisfaction": 4}).status_code == 200
    room.report(building="B", floor=1, description="电梯异响", category="elevator", urgency=3)
    room.reading("A-B2-LEAK-1", {"leak": True})
    room.wait_alert("A-B2-LEAK-1")
    return leak


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_figures_by_group_with_charts_and_the_exports(open_room, room, history, lang, tmp_path):
    page = open_room(lang)
    page.click("#views [data-view=figures]")
    page.wait_for_selector("#view-figures[data-loaded^='trade|']")
    trade = page.inner_text("#figures-table tr[data-key=plumbing]")
    assert WORDS[lang]["plumbing"] in trade and "80" in trade, trade  # rated 4 of 5: 80 / 100
    for chart in ("response", "alarms", "devices", "satisfaction"):
        assert page.locator(f"#chart-{chart} svg, #chart-{chart} p").count() == 1, chart
    assert page.locator("#chart-alarms svg rect").count() >= 1 and page.locator("#chart-devices svg rect").count() >= 1
    screenshot(page, f"figures-{lang}")
    page.select_option("#figures-form select[name=by]", "building")
    page.click("#figures-form [data-action=show]")
    page.wait_for_selector("#view-figures[data-loaded^='building|']")
    assert "Tower A (1号楼)" in page.inner_text("#figures-table")

    with page.expect_download() as got:
        page.click("#figures-exports [data-export='report.xlsx']")
    saved = tmp_path / "report.xlsx"
    got.value.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames[0] == WORDS[lang]["report"] and got.value.suggested_filename.startswith("report-")
    with page.expect_download() as got:
        page.click("#figures-exports [data-export='tickets.csv']")
    text = open(got.value.path(), encoding="utf-8-sig").read()
    assert history["id"] in text and "13700137001" not in text
