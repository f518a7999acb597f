"""The control room in Chinese and in English (docs/operators.md#language): the site file's names where ids
showed, statuses in the page's language from GET /api/v1/meta, and every time in the estate's time zone
(Asia/Shanghai) although the browser runs in London; no console error; screenshots kept."""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.service.harness import now_iso

from tests.browser.control_room_support import REPO, chromium, open_room, room, screenshot  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXTS = {
    "zh-CN": {"tickets": "未完成工单", "alarms": "告警：进行中及最近 10 分钟", "floor": "3 层", "accept": "接单时限",
              "ack": "确认", "status_labels": ("待派单", "已派单")},
    "en": {"tickets": "Open tickets", "alarms": "Alarms: active and last 10 minutes", "floor": "floor 3", "accept": "accept by",
           "ack": "Ack", "status_labels": ("open", "assigned")},
}


def _local(iso: str) -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(SHANGHAI).strftime("%H:%M")


@pytest.fixture(scope="module")
def live(room):
    """Two technicians on site, two reports and a leak alarm: tickets and an alarm on the page."""
    for tech, building, floor in (("t-chen", "A", 1), ("t-sun", "B", 1), ("t-zhou", "P", 1)):
        room.watcher.publish(f"harbor-view/technicians/{tech}/location",
                             {"ts": now_iso(), "building": building, "floor": floor})
    leak = room.report(unit="A-0302", description="厨房天花板漏水 / water dripping from the kitchen ceiling")
    lift = room.report(building="B", floor=1, description="B栋电梯困人", category="elevator", urgency=1)
    room.reading("A-B2-LEAK-1", {"leak": True})
    alert = room.wait_alert("A-B2-LEAK-1")
    return {"leak": leak, "lift": lift, "alert": alert}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_page_speaks_the_language_with_the_site_files_names_and_the_estates_time(open_room, live, lang):
    page = open_room(lang)
    words = TEXTS[lang]
    assert page.evaluate("document.documentElement.lang") == lang
    page.wait_for_selector(f"article.ticket[data-id='{live['leak']['id']}']")
    assert words["tickets"] in page.text_content("section.tickets h2")
    assert words["alarms"] in page.text_content("aside")
    card = page.inner_text(f"article.ticket[data-id='{live['leak']['id']}']")
    assert "Tower A (1号楼)" in card and words["floor"] in card, card  # the name, not the id "A"
    status = page.text_content(f"article.ticket[data-id='{live['leak']['id']}'] .status")
    assert status in words["status_labels"], status
    # the deadline's time is Shanghai's, not the browser's London time
    assert f"{words['accept']} {_local(live['leak']['accept_by'])}".lower() in card.lower().replace("\n", " "), card
    page.wait_for_selector(f"#alerts li[data-id='{live['alert']['id']}']")
    alarm = page.inner_text(f"#alerts li[data-id='{live['alert']['id']}']")
    assert _local(live["alert"]["raised_at"]) in alarm and words["ack"] in alarm, alarm
    clock = page.inner_text("#clock")
    assert clock[:2] == datetime.now(SHANGHAI).strftime("%H") or clock[:2] == _next_hour(), clock
    screenshot(page, f"language-{lang}")


def _next_hour() -> str:
    return f"{(datetime.now(SHANGHAI).hour + 1) % 24:02d}"


def test_the_language_switch_changes_every_text_at_once(open_room, live):
    page = open_room("zh-CN")
    page.wait_for_selector(f"article.ticket[data-id='{live['lift']['id']}']")
    page.select_option("#lang", "en")
    page.wait_for_selector("html[lang=en]")
    page.wait_for_selector("section.tickets h2 >> text=Open tickets")
    body = page.text_content("body")
    for chinese in ("未完成工单", "告警：进行中及最近 10 分钟", "维修人员", "服务指标", "新建报修"):
        assert chinese not in body, chinese
    # the choice stays for the next visit without ?lang=
    page.goto(page.url.split("?")[0])
    page.wait_for_selector("body[data-ready='1']")
    assert page.evaluate("document.documentElement.lang") == "en"


def test_readme_screenshot_of_the_control_room_with_live_tickets(open_room, live):
    """The README's picture, docs/images/control-room.png, is taken here: kept as an artefact on every run,
    written over the committed one with CARETAKER_UPDATE_README_IMAGE=1 (so a test run leaves the tree clean)."""
    page = open_room("zh-CN")
    page.wait_for_selector(f"article.ticket[data-id='{live['lift']['id']}']")
    page.wait_for_selector("#kpis .kpi")
    page.wait_for_selector("#technicians li")
    target = screenshot(page, "readme-control-room")
    assert target.stat().st_size > 20_000
    if os.environ.get("CARETAKER_UPDATE_README_IMAGE") == "1":
        shutil.copyfile(target, REPO / "docs" / "images" / "control-room.png")
