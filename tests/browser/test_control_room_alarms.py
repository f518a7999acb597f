"""Alarms on the page, in Chinese and in English (docs/operators.md#alarms): acknowledge, shelve with a reason
until a time, silence what an alarm's device raises and a whole building, see the silences and end one early;
a cleared alarm has no Ack button. Each step checked in the API too; no console error; screenshots kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401

# one set of devices per language, so the two runs of each test do not meet
DEVICES = {"zh-CN": {"leak": "A-B2-LEAK-2", "pump": "A-B2-PUMP-1", "building": "C"},
           "en": {"leak": "A-L10-LEAK-1", "pump": "B-B1-PUMP-1", "building": "P"}}
WORDS = {"zh-CN": {"acked": "已确认", "shelved": "暂挂至", "silenced": "生效中", "building": "Block C (3号楼)"},
         "en": {"acked": "ack", "shelved": "shelved until", "silenced": "in force", "building": "Plant room (设备房)"}}


def _utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_acknowledge_then_shelve_an_alarm_with_a_reason_until_a_time(open_room, room, lang):
    device = DEVICES[lang]["leak"]
    room.reading(device, {"leak": True})
    alert = room.wait_alert(device)
    page = open_room(lang)
    row = f"#alerts li[data-id='{alert['id']}']"
    page.click(f"{row} [data-action=ack]")
    page.wait_for_selector(f"{row} >> text={WORDS[lang]['acked']}")
    assert room.call("GET", f"/api/v1/alerts/{alert['id']}").json()["acked_by"] == "op-li"
    assert page.locator(f"{row} [data-action=ack]").count() == 0

    page.click(f"{row} [data-action=shelve]")
    page.click("#form-dialog [data-action=submit]")  # no reason: the form does not go
    assert page.locator("#form-dialog").is_visible()
    page.fill("#form-dialog textarea[name=reason]", "管道井检修中 / riser under repair")
    page.select_option("#form-dialog select[name=minutes]", "120")
    before = datetime.now(timezone.utc)
    screenshot(page, f"alarms-shelve-form-{lang}")
    page.click("#form-dialog [data-action=submit]")
    page.wait_for_selector(f"{row} .tag.shelved")
    assert WORDS[lang]["shelved"] in page.inner_text(f"{row} .tag.shelved")
    shelved = room.call("GET", f"/api/v1/alerts/{alert['id']}").json()
    assert shelved["shelve_reason"] == "管道井检修中 / riser under repair"
    until = _utc(shelved["shelved_until"])
    assert before + timedelta(minutes=119) < until < datetime.now(timezone.utc) + timedelta(minutes=121), until
    page.click(f"{row} [data-action=unshelve]")
    page.wait_for_selector(f"{row} [data-action=shelve]")
    assert room.call("GET", f"/api/v1/alerts/{alert['id']}").json()["shelved_until"] is None


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_silence_an_alarms_device_and_a_building_then_end_one_early(open_room, room, lang):
    device, building = DEVICES[lang]["pump"], DEVICES[lang]["building"]
    room.reading(device, {"running": True, "fault": True})
    alert = room.wait_alert(device)
    page = open_room(lang)
    row = f"#alerts li[data-id='{alert['id']}']"
    page.click(f"{row} [data-action=silence]")
    page.select_option("#form-dialog select[name=scope]", "device")
    page.fill("#form-dialog textarea[name=reason]", "水泵更换 / pump replacement")
    page.click("#form-dialog [data-action=submit]")
    silences = room.call("GET", "/api/v1/silences").json()
    mine = next(s for s in silences if s["matchers"] == {"device": device})
    item = f"#silences li[data-id='{mine['id']}']"
    page.wait_for_selector(item)
    assert device in page.inner_text(item) and WORDS[lang]["silenced"] in page.inner_text(item)

    page.click("#new-silence")
    page.select_option("#form-dialog select[name=building]", building)
    page.select_option("#form-dialog select[name=device_type]", "water_pump")
    page.fill("#form-dialog textarea[name=reason]", "计划停水 / planned water shutdown")
    page.select_option("#form-dialog select[name=minutes]", "480")
    page.click("#form-dialog [data-action=submit]")
    whole = next(s for s in room.call("GET", "/api/v1/silences").json()
                 if s["matchers"] == {"building": building, "device_type": "water_pump"})
    page.wait_for_selector(f"#silences li[data-id='{whole['id']}']")
    assert WORDS[lang]["building"] in page.inner_text(f"#silences li[data-id='{whole['id']}']")
    screenshot(page, f"alarms-silences-{lang}")

    page.click(f"{item} [data-action=end-silence]")
    page.wait_for_selector(item, state="detached")
    assert all(s["id"] != mine["id"] for s in room.call("GET", "/api/v1/silences").json())  # no longer in force


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_cleared_alarm_has_no_ack_button(open_room, room, lang):
    device = DEVICES[lang]["pump"]
    room.reading(device, {"running": True, "fault": True})
    alert = room.wait_alert(device)
    page = open_room(lang)
    row = f"#alerts li[data-id='{alert['id']}']"
    page.wait_for_selector(f"{row} [data-action=ack]")
    room.reading(device, {"running": True, "fault": False})
    room.wait_alert(device, state="cleared")
    page.wait_for_selector(f"{row}.cleared", timeout=15000)  # the live stream brings the clear
    assert page.locator(f"{row} button").count() == 0
