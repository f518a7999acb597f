"""Assigning by hand, in Chinese and in English (docs/operators.md#assign): the ranked candidates with trade,
shift, on-site state, travel time, current work and dispatch's reasons; choosing anyone but dispatch's
own choice asks first and says why it is worse; dispatch's choice goes at once. The plumbers' shifts cover
every hour, so the test finds an available and an off-shift plumber whatever the time."""

from __future__ import annotations

import pytest

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401
from tests.service.harness import now_iso, wait_until

BUILDING = {"zh-CN": "C", "en": "B"}
OFF_SHIFT = {"zh-CN": "非当班", "en": "off shift"}


@pytest.fixture(scope="module")
def on_site(room):
    for tech in ("t-wang", "t-chen", "t-guo", "t-liu"):  # three plumbers (one always on shift), an electrician
        room.watcher.publish(f"harbor-view/technicians/{tech}/location", {"ts": now_iso(), "building": "A", "floor": 1})
    wait_until(lambda: all(x["on_site"] for x in room.call("GET", "/api/v1/technicians").json()
                           if x["id"] in ("t-wang", "t-chen", "t-guo", "t-liu")), timeout=15, what="technicians on site")
    return True


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_assign_from_the_ranked_candidates_with_a_confirmation_when_worse(open_room, room, on_site, lang):
    ticket = room.report(building=BUILDING[lang], floor=5, description=f"走廊水管漏水 ({lang})", category="plumbing",
                         urgency=2)
    try:
        _assign_by_hand(open_room, room, ticket, lang)
    finally:  # the plumber it went to is free again for the next run
        room.call("POST", f"/api/v1/tickets/{ticket['id']}/cancel", json={"note": "test over"})


def _assign_by_hand(open_room, room, ticket, lang):
    ranked = room.call("GET", f"/api/v1/tickets/{ticket['id']}/candidates").json()
    automatic = ranked["automatic"]
    assert automatic is not None, ranked
    off = next(c for c in ranked["candidates"] if c["has_trade"] and c["reason_code"] == "off_shift")
    page = open_room(lang)
    card = f"article.ticket[data-id='{ticket['id']}']"
    page.click(f"{card} [data-action=assign]")
    page.wait_for_selector(f"#form-dialog .assign[data-ticket='{ticket['id']}']")
    rows = page.locator("#form-dialog .candidates tbody tr")
    assert rows.count() == len(ranked["candidates"])
    assert page.get_attribute("#form-dialog .candidates tbody tr >> nth=0", "data-id") == automatic
    off_row = f"#form-dialog .candidates tr[data-id='{off['technician']}']"
    assert OFF_SHIFT[lang] in page.inner_text(off_row)
    screenshot(page, f"assign-candidates-{lang}")

    page.click(f"{off_row} [data-action=choose]")
    page.wait_for_selector("#assign-confirm:not([hidden])")
    confirm = page.inner_text("#assign-confirm")
    assert off["name"] in confirm and OFF_SHIFT[lang] in confirm, confirm
    assert room.call("GET", f"/api/v1/tickets/{ticket['id']}").json()["assignee"] == ticket["assignee"]  # not yet
    page.click("#assign-confirm [data-action=back]")
    assert page.locator("#assign-confirm").is_hidden()
    page.click(f"{off_row} [data-action=choose]")
    screenshot(page, f"assign-confirm-{lang}")
    page.click("#assign-confirm [data-action=confirm]")
    page.wait_for_selector("#form-dialog", state="hidden")
    assert room.call("GET", f"/api/v1/tickets/{ticket['id']}").json()["assignee"] == off["technician"]
    page.wait_for_selector(f"{card} .assignee >> text={off['name']}")

    # back to dispatch's own choice: no confirmation
    page.click(f"{card} [data-action=assign]")
    page.wait_for_selector(f"#form-dialog .candidates tr[data-id='{automatic}'] [data-action=choose]")
    page.click(f"#form-dialog .candidates tr[data-id='{automatic}'] [data-action=choose]")
    page.wait_for_selector("#form-dialog", state="hidden")
    assert room.call("GET", f"/api/v1/tickets/{ticket['id']}").json()["assignee"] == automatic
