"""The control room on a deployment of two estates (docs/operators.md, "Estates"): the real service started on a
directory of two site files, the admin token that sees both. The page shows an estate switcher; switching shows
the other estate's tickets, live (its stream), in its language and time zone (the browser's own language, French,
is neither, so the estate's decides); every API call names the estate; a reload keeps the choice. With one
estate there is no switcher. A desktop and a phone-sized screen; no console error; screenshots."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest

from caretaker.service import Service, load_estates
from caretaker.settings import Settings
from tests.browser.control_room_support import (  # noqa: F401
    ADMIN, BROWSER_ZONE, DESKTOP, Console, chromium, open_room, room, screenshot)
from tests.conftest import EXAMPLE_SITE, free_port

HOME, OTHER = "harbor-view", "river-park"  # the example estate (zh-CN, Asia/Shanghai) and a copy in English
OTHER_ZONE = "Asia/Tokyo"
PHONE = {"width": 390, "height": 844}


def _other_estate(folder: Path) -> None:
    text = EXAMPLE_SITE.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^site: harbor-view$", f"site: {OTHER}", text, count=1)
    text = re.sub(r"(?m)^name: .*$", "name: River Park Estate", text, count=1)
    text = re.sub(r"(?m)^timezone: .*$", f"timezone: {OTHER_ZONE}\nlocale: en", text, count=1)
    (folder / f"{OTHER}.yaml").write_text(text, encoding="utf-8")
    (folder / f"{HOME}.yaml").write_text(EXAMPLE_SITE.read_text(encoding="utf-8"), encoding="utf-8")


class Estates:
    def __init__(self, base: str) -> None:
        self.base = base

    def call(self, method: str, path: str, site: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.base}{path}", params={"site": site}, timeout=10,
                             headers={"Authorization": f"Bearer {ADMIN}"}, **kwargs)

    def report(self, site: str, description: str) -> dict[str, Any]:
        answer = self.call("POST", "/api/v1/tickets", site, json={
            "reporter_name": "Qian Hui", "reporter_phone": "13700137001", "source": "phone", "building": "B",
            "floor": 4, "description": description, "category": "plumbing"})
        assert answer.status_code == 201, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def estates(mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estates]:
    """`caretaker run` on a directory of two site files: one API serving both, an SQLite file each."""
    folder = tmp_path_factory.mktemp("estates")
    sites = folder / "sites"
    sites.mkdir()
    _other_estate(sites)
    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=f"sqlite:///{folder / 'caretaker.db'}", site_file=sites,
                        tick_seconds=0.2, http_port=port, admin_token=ADMIN,
                        mqtt_client_id=f"estates-{time.monotonic_ns()}")
    service = Service(settings, load_estates(settings))
    service.start()
    world = Estates(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                listed = httpx.get(world.base + "/api/v1/sites", headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the service's HTTP never answered"
                time.sleep(0.1)
        assert [s["id"] for s in listed.json()] == [HOME, OTHER], listed.text
        yield world
    finally:
        service.stop()


@pytest.fixture
def browse(chromium) -> Iterator[Any]:
    """browse(viewport) -> a page in a French browser in London (neither estate's language nor zone)."""
    opened: list[tuple[Any, Console]] = []

    def _open(viewport: dict[str, int] = DESKTOP) -> Any:
        context = chromium.new_context(viewport=viewport, locale="fr-FR", timezone_id=BROWSER_ZONE,
                                       is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        page = context.new_page()
        opened.append((page, Console(page)))
        return page

    yield _open
    errors = [e for _, console in opened for e in console.errors]
    for page, _ in opened:
        page.context.close()
    assert not errors, errors


def _clock_in(zone: str) -> set[str]:
    now = datetime.now(ZoneInfo(zone))
    return {(now + timedelta(seconds=d)).strftime("%H:%M") for d in (-60, 0, 60)}


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_switch_estates_see_the_others_tickets_live_and_a_reload_keeps_it(browse, estates, screen):
    home = estates.report(HOME, f"海景苑厨房漏水 / Harbor View kitchen leak ({screen})")
    other = estates.report(OTHER, f"River Park bathroom leak ({screen})")
    page = browse(PHONE if screen == "phone" else DESKTOP)
    calls: list[Any] = []
    page.on("request", lambda r: "/api/v1/" in r.url and calls.append(r))
    page.goto(f"{estates.base}/#token={ADMIN}")
    page.wait_for_selector("body[data-ready='1']")

    # the first estate listed, in its own language and zone
    assert page.is_visible("#site")
    assert page.eval_on_selector_all("#site option", "os => os.map(o => [o.value, o.textContent])") == [
        [HOME, "Harbor View Estate"], [OTHER, "River Park Estate"]]
    assert page.input_value("#site") == HOME
    page.wait_for_selector(f"article.ticket[data-id='{home['id']}']")
    assert page.locator(f"article.ticket[data-id='{other['id']}']").count() == 0
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.inner_text("#clock")[:5] in _clock_in("Asia/Shanghai")
    screenshot(page, f"estates-home-{screen}")

    # switch: the other estate's tickets, in English and Tokyo's time, live
    calls.clear()
    with page.expect_navigation():
        page.select_option("#site", OTHER)
    page.wait_for_selector("body[data-ready='1']")
    page.wait_for_selector(f"article.ticket[data-id='{other['id']}']")
    assert page.locator(f"article.ticket[data-id='{home['id']}']").count() == 0
    assert page.get_attribute("html", "lang") == "en"
    assert page.input_value("#site") == OTHER
    assert page.inner_text("#clock")[:5] in _clock_in(OTHER_ZONE)
    page.wait_for_selector("#link[data-mode=live]")
    named = [(r.url, r.headers.get("x-caretaker-site")) for r in calls if "/api/v1/sites" not in r.url]
    assert named and all(site == OTHER for _, site in named), named
    assert any("/api/v1/stream" in url for url, _ in named), named
    later = estates.report(OTHER, f"River Park corridor leak, seen live ({screen})")
    page.wait_for_selector(f"article.ticket[data-id='{later['id']}']")  # through the other estate's stream
    screenshot(page, f"estates-other-{screen}")

    # a reload keeps the choice
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#site") == OTHER
    page.wait_for_selector(f"article.ticket[data-id='{later['id']}']")
    assert page.locator(f"article.ticket[data-id='{home['id']}']").count() == 0
    for ticket in (home, other, later):  # the board of the next run starts empty
        site = HOME if ticket is home else OTHER
        assert estates.call("POST", f"/api/v1/tickets/{ticket['id']}/cancel", site, json={"note": "test over"}).status_code == 200


def test_one_estate_shows_no_switcher(open_room, room):
    page = open_room("en")
    assert page.locator("#site").is_hidden()
    assert page.get_attribute("html", "lang") == "en"
    screenshot(page, "estates-one-no-switcher")
