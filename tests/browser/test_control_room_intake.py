"""A phone report on the page, in Chinese and in English (docs/operators.md#intake): filed empty, the form
lists every missing field the API named; the unit's and the caller's earlier tickets show before filing; the
suggested trade and level follow the words ("楼道灯不亮" is electrical) until the operator changes them."""

from __future__ import annotations

import pytest

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401

MISSING = {"zh-CN": ["姓名", "电话", "问题描述", "楼栋", "楼层"], "en": ["Name", "Phone", "What is wrong", "Building", "Floor"]}
# a unit of its own per language: a second report of the same problem in the same unit joins the first ticket
PHONES = {"zh-CN": "13700137001", "en": "13700137003"}
UNITS = {"zh-CN": ("A-0302", 3), "en": ("A-2801", 28)}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_phone_report_from_the_form(open_room, room, lang):
    unit, floor = UNITS[lang]
    before = room.report(unit=unit, reporter_phone=PHONES[lang], description=f"上周卫生间漏水 ({lang})")
    page = open_room(lang)
    page.click("#new-report")
    form = "#form-dialog form[data-form=intake]"
    page.wait_for_selector(form)
    page.click(f"{form} [data-action=submit]")
    page.wait_for_selector(f"{form} .form-error:not([hidden])")
    error = page.inner_text(f"{form} .form-error")
    for label in MISSING[lang]:
        assert label in error, (label, error)
    assert page.locator(f"{form} .field.bad").count() >= 4
    screenshot(page, f"intake-missing-{lang}")

    page.fill(f"{form} [name=reporter_phone]", PHONES[lang])
    page.wait_for_selector(f"#intake-earlier li[data-id='{before['id']}']")
    page.fill(f"{form} [name=description]", "3楼楼道灯不亮 / corridor light out on floor 3")
    page.wait_for_selector("#intake-suggestion[data-category=electrical]")
    assert page.input_value(f"{form} [name=category]") == "electrical"
    assert page.input_value(f"{form} [name=urgency]") == "3"
    page.select_option(f"{form} [name=urgency]", "2")  # the operator knows better: the whole floor is dark
    page.fill(f"{form} [name=description]", "3楼楼道灯不亮，整层都黑 / corridor light out, the whole floor dark")
    page.fill(f"{form} [name=reporter_name]", "Qian Hui")
    page.fill(f"{form} [name=unit]", unit)
    page.wait_for_selector(f"#intake-earlier li[data-id='{before['id']}'] >> text=/同一房号|same unit/")
    screenshot(page, f"intake-filled-{lang}")
    page.click(f"{form} [data-action=submit]")
    page.wait_for_selector("#detail-dialog[open]")
    filed_id = page.get_attribute("#detail-dialog", "data-ticket")
    filed = room.call("GET", f"/api/v1/tickets/{filed_id}").json()
    assert (filed["category"], filed["urgency"], filed["source"]) == ("electrical", 2, "phone"), filed
    assert filed["location"]["building"] == "A" and filed["location"]["floor"] == floor
    assert filed["reporter"]["phone"] == PHONES[lang]
