"""Call-backs on the page, in Chinese and in English (docs/operators.md#call-backs): the queue of resolved
tickets with the time left of their 24-hour (repair) or 48-hour (other request) deadline and the number to
call; satisfied closes with the rating, not fixed reopens to the same technician, no answer leaves a note
and keeps the ticket in the queue. Each outcome checked in the API; no console error; screenshots kept."""

from __future__ import annotations

import pytest

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401

UNITS = {"zh-CN": ("A-0302", "A-1203", "B-0501"), "en": ("A-2801", "A-0302", "A-1203")}
WORDS = {"zh-CN": {"left": "剩余", "no_answer": "回访：未接通", "not_fixed": "回访：未修好："},
         "en": {"left": "left", "no_answer": "call-back: no answer", "not_fixed": "call-back: not fixed:"}}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_call_back_queue_and_its_three_outcomes(open_room, room, lang):
    leak_unit, clean_unit, tap_unit = UNITS[lang]
    leak = room.resolve(room.report(unit=leak_unit, description=f"厨房漏水 {lang}", category="plumbing", urgency=2), "t-chen")
    bins = room.resolve(room.report(unit=clean_unit, description=f"楼道垃圾没人清 {lang}", category="cleaning", urgency=4,
                                    reporter_phone="13700137000", reporter_name="Zhao Min"), "t-ma")
    tap = room.resolve(room.report(unit=tap_unit, description=f"水龙头滴水 {lang}", category="plumbing", urgency=3,
                                   reporter_phone="13700137004", reporter_name="Wu Lei"), "t-chen")
    page = open_room(lang)
    page.click("#views [data-view=callbacks]")
    page.wait_for_selector("#view-callbacks[data-loaded]")
    for ticket in (leak, bins, tap):
        page.wait_for_selector(f"#callback-list tr[data-id='{ticket['id']}']")
    leak_row = page.inner_text(f"#callback-list tr[data-id='{leak['id']}']")
    assert WORDS[lang]["left"] in leak_row and "24" in leak_row and "13700137001" in leak_row, leak_row
    assert "48" in page.inner_text(f"#callback-list tr[data-id='{bins['id']}']")
    screenshot(page, f"callbacks-{lang}")

    page.click(f"#callback-list tr[data-id='{leak['id']}'] [data-action=satisfied]")
    page.select_option("#form-dialog select[name=satisfaction]", "4")
    page.click("#form-dialog [data-action=submit]")
    page.wait_for_selector(f"#callback-list tr[data-id='{leak['id']}']", state="detached")
    closed = room.call("GET", f"/api/v1/tickets/{leak['id']}").json()
    assert (closed["status"], closed["satisfaction"]) == ("closed", 4)

    page.click(f"#callback-list tr[data-id='{tap['id']}'] [data-action=not-fixed]")
    page.fill("#form-dialog textarea[name=note]", "还在滴水 / still dripping")
    page.click("#form-dialog [data-action=submit]")
    page.wait_for_selector(f"#callback-list tr[data-id='{tap['id']}']", state="detached")
    reopened = room.call("GET", f"/api/v1/tickets/{tap['id']}").json()
    assert reopened["status"] in ("open", "assigned") and reopened["assignee"] in ("t-chen", None)
    assert any(WORDS[lang]["not_fixed"] in (e["note"] or "") and "still dripping" in e["note"] for e in reopened["history"])

    page.click(f"#callback-list tr[data-id='{bins['id']}'] [data-action=no-answer]")
    page.wait_for_selector(f"#callback-list tr[data-id='{bins['id']}']")
    history = room.call("GET", f"/api/v1/tickets/{bins['id']}").json()["history"]
    assert history[-1]["status"] == "note" and history[-1]["note"] == WORDS[lang]["no_answer"]
    assert room.call("POST", f"/api/v1/tickets/{bins['id']}/verify", json={"satisfaction": 5}).status_code == 200
