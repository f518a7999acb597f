"""The control room's statuses come from GET /api/v1/meta (docs/operators.md, "Statuses"): the board asks for
every ticket status the meta does not call final, offers a ticket's buttons where the meta's lifecycle allows
the step, and counts the alarm states the meta calls active. The same page with a meta that says otherwise
follows it, so nothing of the vocabulary is the page's own. No console error; screenshots."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.control_room_support import (  # noqa: F401
    ADMIN, BROWSER_ZONE, DESKTOP, Console, chromium, room, screenshot)

LEAK = "A-L10-LEAK-1"


@pytest.fixture(scope="module")
def board(room):
    """An open leak, a resolved one waiting for its call-back, and a raised leak alarm."""
    leak = room.report(unit="A-0302", description="卫生间漏水 / bathroom leak", category="plumbing")
    fixed = room.resolve(room.report(building="B", floor=4, description="厨房水龙头滴水 / kitchen tap drips",
                                     category="plumbing"), "t-wang")
    assert fixed["status"] == "resolved", fixed["status"]
    room.reading(LEAK, {"leak": True})
    return {"leak": leak, "fixed": fixed, "alert": room.wait_alert(LEAK)}


@pytest.fixture
def open_page(chromium, room):
    """open_page(lang, meta_edit=None): the control room, its /api/v1/meta answer changed by meta_edit first."""
    opened = []

    def _open(lang, meta_edit=None):
        context = chromium.new_context(viewport=DESKTOP, locale="en-GB" if lang == "en" else "zh-CN",
                                       timezone_id=BROWSER_ZONE)
        page = context.new_page()
        opened.append(Console(page))
        if meta_edit is not None:
            def edit(route):
                answer = route.fetch()
                meta = answer.json()
                meta_edit(meta)
                route.fulfill(response=answer, body=json.dumps(meta), headers={**answer.headers,
                                                                              "content-type": "application/json"})
            page.route("**/api/v1/meta*", edit)
        with page.expect_request(lambda r: "/api/v1/tickets?" in r.url) as board_request:
            page.goto(f"{room.base}/?lang={lang}#token={room.operator}")
            page.wait_for_selector("body[data-ready='1']", timeout=15000)
        return page, parse_qs(urlparse(board_request.value.url).query)

    yield _open
    errors = [e for console in opened for e in console.errors]
    assert not errors, errors


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_the_board_reads_its_statuses_from_the_meta(open_page, room, board, lang):
    meta = room.call("GET", "/api/v1/meta").json()
    page, query = open_page(lang)
    not_final = [s["id"] for s in meta["ticket_statuses"] if "final" not in s["groups"]]
    assert query["status"] == [",".join(not_final)]
    leak, fixed = (f"article.ticket[data-id='{board[k]['id']}']" for k in ("leak", "fixed"))
    page.wait_for_selector(f"{leak} [data-action=assign]")
    assert page.locator(f"{leak} [data-action=cancel]").count() == 1
    assert page.locator(f"{fixed} [data-action=assign]").count() == 0  # resolved: the call-back's buttons
    assert page.locator(f"{fixed} select").count() == 1
    page.wait_for_selector(f"#alerts li[data-id='{board['alert']['id']}'] [data-action=ack]")
    assert int(page.inner_text("#alert-count")) >= 1
    label = next(s["label"][lang] for s in meta["ticket_statuses"] if s["id"] == board["fixed"]["status"])
    assert page.text_content(f"{fixed} .status") == label  # (CSS shows it in capitals)
    screenshot(page, f"statuses-board-{lang}")


def test_a_meta_that_says_otherwise_is_followed(open_page, room, board):
    def otherwise(meta):
        # resolved is final here; no step may assign or cancel; a raised alarm is not active
        for status in meta["ticket_statuses"]:
            if status["id"] == "resolved":
                status["groups"] = ["fixed", "final"]
        meta["lifecycle"]["ticket_steps"]["assign"] = []
        meta["lifecycle"]["ticket_steps"]["cancel"] = []
        for state in meta["alert_states"]:
            state["active"] = False

    page, query = open_page("en", otherwise)
    assert "resolved" not in query["status"][0].split(",") and "open" in query["status"][0].split(",")
    leak = f"article.ticket[data-id='{board['leak']['id']}']"
    page.wait_for_selector(f"{leak} [data-action=details]")
    assert page.locator(f"{leak} [data-action=assign], {leak} [data-action=cancel]").count() == 0
    assert page.locator(f"article.ticket[data-id='{board['fixed']['id']}']").count() == 0
    alarm = f"#alerts li[data-id='{board['alert']['id']}']"
    page.wait_for_selector(alarm)  # listed as raised in the last 10 minutes, but nothing left to do
    assert page.locator(f"{alarm} [data-action=ack]").count() == 0
    assert page.inner_text("#alert-count") == "0"
    screenshot(page, "statuses-meta-otherwise-en")
