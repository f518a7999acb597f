"""Complaints and suggestions on the page, in Chinese and in English (docs/api.md, "Kinds of report"): a service
complaint and a suggestion filed from the report form (the kind chosen, or read from the words), seen in the
投诉与建议 view (the complaint first, with the time left on its 12-hour answer clock; names, not ids; the
estate's time), answered there (a blank answer refused in the form with the API's own words), then shown as
answered with its rectification plan; on a phone too. Checked in the API; no console error; screenshots kept."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.control_room_support import (BROWSER_ZONE, Console, chromium, open_room, room,  # noqa: F401
                                                 screenshot)

PHONE = {"width": 390, "height": 844}
# a unit of its own per report: a second report of the same unit may join the first
UNITS = {"zh-CN": ("A-0302", "A-1203"), "en": ("A-2801", "B-0501")}
WORDS = {
    "zh-CN": {"complaint": "服务投诉", "suggestion": "建议", "left": "答复剩余", "committee": "汇总给业委会",
              "answered": "由 op-li 答复", "phone": "（电话）", "unit": "房号"},
    "en": {"complaint": "Service complaint", "suggestion": "Suggestion", "left": "left to answer",
           "committee": "for the owners' committee", "answered": "by op-li", "phone": "(phone)", "unit": "unit"},
}
BUILDING = {"A": "Tower A (1号楼)", "B": "Tower B (2号楼)"}
FORM = "#form-dialog form[data-form=intake]"


def _file(page, unit: str, name: str, phone: str, description: str, kind: str | None = None) -> str:
    """File a report from the form; `kind` None leaves it to the words (and the form follows them)."""
    page.click("#new-report")
    page.wait_for_selector(FORM)
    page.fill(f"{FORM} [name=reporter_name]", name)
    page.fill(f"{FORM} [name=reporter_phone]", phone)
    page.fill(f"{FORM} [name=unit]", unit)
    page.fill(f"{FORM} [name=description]", description)
    if kind:
        page.select_option(f"{FORM} [name=kind]", kind)
    else:
        page.wait_for_selector("#intake-suggestion[data-kind]")
    page.click(f"{FORM} [data-action=submit]")
    page.wait_for_selector("#detail-dialog[open]")
    filed = page.get_attribute("#detail-dialog", "data-ticket")
    page.click("#detail-dialog .actions button[type=submit]")
    page.wait_for_selector("#detail-dialog", state="hidden")
    return filed


def _shanghai(instant: str) -> str:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_file_see_and_answer_a_complaint_and_a_suggestion(open_room, room, chromium, lang):
    words = WORDS[lang]
    complaint_unit, idea_unit = UNITS[lang]
    page = open_room(lang)
    complaint_id = _file(page, complaint_unit, "Qian Hui", "13700137001",
                         f"前台客服态度差，敷衍了事 / the front desk was rude ({lang})", kind="complaint:service")
    idea_id = _file(page, idea_unit, "Zhao Min", "13700137000", f"建议增设儿童游乐设施 / suggest a playground ({lang})")

    complaint = room.call("GET", f"/api/v1/tickets/{complaint_id}").json()
    assert (complaint["kind"], complaint["complaint_type"], complaint["assignee"]) == ("complaint", "service", None), complaint
    assert complaint["answer_by"] and complaint["answered_at"] is None
    idea = room.call("GET", f"/api/v1/tickets/{idea_id}").json()
    assert idea["kind"] == "suggestion", idea

    page.click("#views [data-view=complaints]")
    page.wait_for_selector("#view-complaints[data-loaded]")
    open_item = f"#complaints-open li[data-id='{complaint_id}']"
    idea_item = f"#complaints-suggestions li[data-id='{idea_id}']"
    page.wait_for_selector(open_item)
    page.wait_for_selector(idea_item)
    # open complaints come before the suggestions
    order = page.eval_on_selector_all("#complaint-list li.report", "els => els.map(e => e.dataset.id)")
    assert order.index(complaint_id) < order.index(idea_id), order
    text = page.inner_text(open_item)
    for expected in (words["complaint"], words["left"], "态度差", BUILDING[complaint_unit[0]], words["unit"], complaint_unit,
                     "Qian Hui", "13700137001", words["phone"], _shanghai(complaint["created_at"]),
                     _shanghai(complaint["answer_by"])):
        assert expected in text, (expected, text)
    assert complaint_unit[0] + " ·" not in text  # the building's name, never its bare id
    clock = page.inner_text(f"{open_item} .answer-clock b")
    assert "11:5" in clock or "12:00" in clock, clock  # just filed: about 12 hours left
    assert page.get_attribute(open_item, "data-state") == "open"
    idea_text = page.inner_text(idea_item)
    for expected in (words["suggestion"], words["committee"], "儿童游乐设施", BUILDING[idea_unit[0]], "Zhao Min"):
        assert expected in idea_text, (expected, idea_text)
    screenshot(page, f"complaints-{lang}")

    # a blank answer: refused in the form, with the API's words for the field, and nothing recorded
    page.click(f"{open_item} [data-action=answer]")
    answer_form = "#form-dialog form[data-form=answer]"
    page.wait_for_selector(answer_form)
    page.click(f"{answer_form} [data-action=submit]")
    page.wait_for_selector(f"{answer_form} [data-field=answer].bad")
    refusal = page.inner_text(f"{answer_form} [data-error-for=answer]")
    assert refusal.strip(), "the API's refusal is shown"
    assert page.is_visible(answer_form)
    assert room.call("GET", f"/api/v1/tickets/{complaint_id}").json()["answered_at"] is None
    screenshot(page, f"complaints-answer-refused-{lang}")

    plan = f"已约谈前台客服，停岗培训三天，本周内回访住户 / front desk retrained, call-back this week ({lang})"
    page.fill(f"{answer_form} textarea[name=answer]", plan)
    page.click(f"{answer_form} [data-action=submit]")
    done_item = f"#complaints-answered li[data-id='{complaint_id}'][data-state=answered]"
    page.wait_for_selector(done_item)
    assert page.locator(open_item).count() == 0
    done_text = page.inner_text(done_item)
    assert plan in done_text and words["answered"] in done_text, done_text
    assert page.locator(f"{done_item} [data-action=answer]").count() == 0
    answered = room.call("GET", f"/api/v1/tickets/{complaint_id}").json()
    assert answered["answer"] == plan and answered["answered_by"] == "op-li" and answered["status"] == "resolved"
    screenshot(page, f"complaints-answered-{lang}")

    # a phone-sized screen: the same view fits its width and the suggestion can still be answered
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                   locale="en-GB" if lang == "en" else "zh-CN", timezone_id=BROWSER_ZONE)
    try:
        phone = context.new_page()
        console = Console(phone)
        phone.goto(f"{room.base}/?lang={lang}#token={room.operator}")
        phone.wait_for_selector("body[data-ready='1']", timeout=15000)
        phone.click("#views [data-view=complaints]")
        phone.wait_for_selector(idea_item)
        phone.wait_for_selector(f"#complaints-answered li[data-id='{complaint_id}']")
        assert phone.is_visible(f"{idea_item} [data-action=answer]")
        screenshot(phone, f"complaints-phone-{lang}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        wide = phone.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392)
            .slice(0, 12).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))""")
        assert width <= PHONE["width"] + 1, (width, wide)
        assert not console.errors, console.errors
    finally:
        context.close()


DETAIL_WORDS = {
    "zh-CN": {"kind": "类型", "complaint": "服务投诉", "left": "答复剩余", "answered": "由 op-li 答复"},
    "en": {"kind": "Kind", "complaint": "Service complaint", "left": "left to answer", "answered": "by op-li"},
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_complaints_details_show_its_kind_and_clock_and_take_its_answer(open_room, room, lang):
    words = DETAIL_WORDS[lang]
    page = open_room(lang)
    floor = {"zh-CN": "11", "en": "17"}[lang]  # no unit: the building and floor say where
    page.click("#new-report")
    page.wait_for_selector(FORM)
    page.fill(f"{FORM} [name=reporter_name]", "Sun Li")
    page.fill(f"{FORM} [name=reporter_phone]", "13700137002")
    page.select_option(f"{FORM} [name=building]", "B")
    page.fill(f"{FORM} [name=floor]", floor)
    page.fill(f"{FORM} [name=description]", f"保安值班时睡觉，叫不醒 / the guard was asleep on duty ({lang})")
    page.select_option(f"{FORM} [name=kind]", "complaint:service")
    page.click(f"{FORM} [data-action=submit]")
    page.wait_for_selector("#detail-dialog[open]")
    filed = page.get_attribute("#detail-dialog", "data-ticket")
    ticket = room.call("GET", f"/api/v1/tickets/{filed}").json()
    details = page.inner_text("#detail-body")
    for expected in (words["kind"], words["complaint"], words["left"], _shanghai(ticket["answer_by"])):
        assert expected in details, (expected, details)
    screenshot(page, f"complaint-details-{lang}")

    page.click("#detail-note [data-action=answer]")
    answer_form = "#form-dialog form[data-form=answer]"
    page.wait_for_selector(answer_form)
    plan = f"已更换夜班保安并加强巡查 / night guard replaced, rounds checked ({lang})"
    page.fill(f"{answer_form} textarea[name=answer]", plan)
    page.click(f"{answer_form} [data-action=submit]")
    page.wait_for_selector("#form-dialog", state="hidden")
    page.wait_for_function("(plan) => document.querySelector('#detail-body').innerText.includes(plan)", arg=plan)
    details = page.inner_text("#detail-body")
    assert words["answered"] in details and words["left"] not in details, details
    assert page.locator("#detail-note [data-action=answer]").count() == 0  # answered: nothing left to answer
    answered = room.call("GET", f"/api/v1/tickets/{filed}").json()
    assert answered["answer"] == plan and answered["answered_by"] == "op-li"
    screenshot(page, f"complaint-details-answered-{lang}")
