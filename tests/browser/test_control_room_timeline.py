"""A ticket's assignments in the control room, each with its own timeline (docs/operators.md, "Tickets"): the
ticket waits for someone on site, goes to Wang Jun by hand, is reassigned to Chen Lei, who accepts, arrives and
resolves it. The detail shows each assignment (who, trade, owner, status) with offered, accepted, arrived, done,
withdrawn and "reassigned to" at the estate's times (Asia/Shanghai while the browser is in London), in Chinese
and in English. No console error; screenshots."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401

ZONE = ZoneInfo("Asia/Shanghai")  # the example estate's time zone
WORDS = {"zh-CN": {"offered": "派单", "accepted": "接单", "arrived": "到场", "done": "完成", "withdrawn": "撤回",
                   "reassigned": "改派给 Chen Lei", "owner": "主责", "plumbing": "给排水"},
         "en": {"offered": "offered", "accepted": "accepted", "arrived": "arrived on site", "done": "done",
                "withdrawn": "withdrawn", "reassigned": "reassigned to Chen Lei", "owner": "owner",
                "plumbing": "plumbing"}}


def _local(iso: str) -> str:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZONE).strftime("%H:%M")


@pytest.fixture(scope="module")
def reassigned(room):
    """Reported with nobody on site, assigned to Wang Jun, then to Chen Lei, who resolves it."""
    ticket = room.report(building="B", floor=4, description="厨房下水堵塞 / kitchen drain blocked", category="plumbing")
    given = room.call("POST", f"/api/v1/tickets/{ticket['id']}/assign", json={"technician": "t-wang"})
    assert given.status_code == 200, given.text
    room.resolve(given.json(), "t-chen")
    return room.call("GET", f"/api/v1/tickets/{ticket['id']}").json()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_each_assignment_shows_its_own_timeline_in_the_estates_time(open_room, room, reassigned, lang):
    by_tech = {a["technician"]: a for a in reassigned["assignments"]}
    wang, chen = by_tech["t-wang"], by_tech["t-chen"]
    assert (wang["status"], chen["status"]) == ("withdrawn", "done"), reassigned["assignments"]
    page = open_room(lang)
    page.click("#views [data-view=tickets]")
    page.click(f"#search-results tr[data-id='{reassigned['id']}']")
    page.wait_for_selector(f"#detail-assignments li[data-assignment='{chen['id']}']")
    words = WORDS[lang]

    items = page.locator("#detail-assignments > li")
    assert items.count() == len(reassigned["assignments"])  # the first, waiting one too
    ids = [items.nth(i).get_attribute("data-assignment") for i in range(items.count())]
    assert ids.index(wang["id"]) < ids.index(chen["id"])  # in the order they were made

    first = f"#detail-assignments li[data-assignment='{wang['id']}']"
    head = page.text_content(f"{first} .head")
    assert "Wang Jun" in head and words["plumbing"] in head and words["owner"] in head, head
    steps = page.locator(f"{first} .timeline li")
    assert [steps.nth(i).get_attribute("data-step") for i in range(steps.count())] == ["offered", "withdrawn", "reassigned"]
    assert page.text_content(f"{first} [data-step=offered]") == f"{_local(wang['offered_at'])} {words['offered']}"
    assert page.text_content(f"{first} [data-step=withdrawn]") == f"{_local(wang['ended_at'])} {words['withdrawn']}"
    assert page.text_content(f"{first} [data-step=reassigned]").endswith(words["reassigned"])

    second = f"#detail-assignments li[data-assignment='{chen['id']}']"
    assert "Chen Lei" in page.text_content(f"{second} .head")
    for step, stamp in (("offered", "offered_at"), ("accepted", "accepted_at"), ("arrived", "arrived_at"),
                        ("done", "done_at")):
        assert page.text_content(f"{second} [data-step={step}]") == f"{_local(chen[stamp])} {words[step]}", step
    screenshot(page, f"assignment-timeline-{lang}")


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_a_burst_pipe_shows_the_plumbing_owner_and_the_security_support_apart(open_room, room, lang):
    """A level-1 leak alarm calls for a plumber (owner) and security (support): one assignment each, each with
    its own status in the meta's words."""
    device = {"zh-CN": "A-L10-LEAK-1", "en": "A-L20-LEAK-1"}[lang]
    room.reading(device, {"leak": True})
    alert = room.wait_alert(device)
    assert alert["ticket"], alert
    ticket = room.call("GET", f"/api/v1/tickets/{alert['ticket']}").json()
    roles = {a["role"]: a for a in ticket["assignments"]}
    assert set(roles) == {"owner", "support"} and roles["support"]["trade"] == "security", ticket["assignments"]
    meta = room.call("GET", "/api/v1/meta").json()
    words = {(kind, e["id"]): e["label"][lang] for kind in ("categories", "assignment_statuses") for e in meta[kind]}
    page = open_room(lang)
    page.click(f"article.ticket[data-id='{ticket['id']}'] [data-action=details]")
    for role, trade in (("owner", "plumbing"), ("support", "security")):
        item = f"#detail-assignments li[data-role={role}]"
        page.wait_for_selector(item)
        head = page.text_content(f"{item} .head")
        assert words[("categories", trade)] in head, head
        assert page.text_content(f"{item} .head .status") == words[("assignment_statuses", roles[role]["status"])]
    assert page.locator("#detail-assignments li[data-role=support]").count() == 1
    screenshot(page, f"assignment-owner-and-support-{lang}")
    assert room.call("POST", f"/api/v1/tickets/{ticket['id']}/cancel", json={"note": "test over"}).status_code == 200
