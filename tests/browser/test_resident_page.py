"""The resident's progress page in a real Chromium on a phone-sized screen, in Chinese, against the real
service over HTTP: the status in words with the expected arrival, then the note, the photo and the rating,
which is taken once. Screenshots under test-artifacts/browser/<test>/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from caretaker.dispatch.tables import TechnicianLocationRow
from tests.browser.conftest import PHONE, PHONE_AGENT, ConsoleGuard
from tests.conftest import free_port
from tests.residents.support import PNG, site_with_units

ADMIN = "resident-page-admin-token"
REPORT = {"reporter_name": "Sun Li", "reporter_phone": "13600136000", "unit": "A-0502",
          "description": "厨房水管漏水", "source": "app"}


class Api:
    def __init__(self, url: str) -> None:
        self.url = url

    def token(self, role: str, subject: str) -> dict[str, str]:
        answer = httpx.post(f"{self.url}/api/v1/tokens", json={"role": role, "subject": subject},
                            headers={"Authorization": f"Bearer {ADMIN}"})
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs) -> httpx.Response:
        answer = httpx.request(method, self.url + path, headers=headers, timeout=10, **kwargs)
        assert answer.status_code < 300, answer.text
        return answer


@pytest.fixture
def estate(mosquitto, tmp_path: Path) -> Iterator[tuple[Api, object]]:
    from caretaker.service import Service, load_configuration
    from caretaker.settings import Settings

    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=f"sqlite:///{tmp_path / 'caretaker.db'}",
                        site_file=site_with_units(tmp_path), http_port=port, admin_token=ADMIN, tick_seconds=0.5,
                        public_url=f"http://127.0.0.1:{port}", mqtt_client_id=f"resident-page-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    try:
        yield Api(f"http://127.0.0.1:{port}"), service
    finally:
        service.stop()


@pytest.fixture
def chinese_phone(browser) -> Iterator[object]:
    """A phone set to Chinese (its browser asks for zh-CN), as a resident's is; any console error fails."""
    context = browser.new_context(viewport=PHONE, screen=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, user_agent=PHONE_AGENT, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = ConsoleGuard()
    console.watch(page)
    try:
        yield page
    finally:
        context.close()
    assert not console.unexpected(), "the page logged errors:\n" + "\n".join(console.unexpected())


def test_the_progress_page_in_chinese_on_a_phone(estate, chinese_phone, shoot):
    api, service = estate
    with service.sessions.begin() as session:  # 王军 is in building B's lobby: 160 s from A-0502
        session.add(TechnicianLocationRow(technician="t-near", building="B", floor=1, zone="lobby",
                                          ts=service.clock.now(), source="app"))
    operator = api.token("operator", "op-1")
    ticket = api.call("POST", "/api/v1/tickets", operator, json=REPORT).json()
    wang = api.token("technician", "t-near")
    api.call("POST", f"/api/v1/tickets/{ticket['id']}/accept", wang)

    page = chinese_phone
    page.goto(ticket["progress_link"])
    page.get_by_text("工程师王军已出发，预计3分钟到达").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("#ticket").inner_text() == ticket["id"]
    assert page.locator("#where").inner_text() == "A栋5层"
    assert "B栋1层" in page.locator("#last-seen").inner_text()
    assert page.locator("#rating").is_hidden()
    shoot(page, "on-the-way")

    with service.sessions.begin() as session:  # his phone now places him in the ticket's building
        session.merge(TechnicianLocationRow(technician="t-near", building="A", floor=5, zone=None,
                                            ts=service.clock.now(), source="app"))
    api.call("POST", f"/api/v1/tickets/{ticket['id']}/arrive", wang)
    photo = api.call("POST", f"/api/v1/tickets/{ticket['id']}/photos", wang,
                     files={"file": ("after.png", PNG, "image/png")}).json()
    api.call("POST", f"/api/v1/tickets/{ticket['id']}/resolve", wang,
             json={"note": "更换了厨房水管接头，已试水无渗漏", "photos": [photo["url"]]})
    page.reload()
    page.get_by_text("已处理完毕", exact=True).wait_for()
    assert page.locator("#note").inner_text() == "更换了厨房水管接头，已试水无渗漏"
    image = page.locator("#photos img")
    image.wait_for()
    page.wait_for_function("() => document.querySelector('#photos img').naturalWidth > 0")  # it loaded
    send = page.locator("[data-action=rate]")
    assert send.is_disabled()
    page.locator(".stars button[data-score='5']").click()
    shoot(page, "rating")
    send.click()
    page.get_by_text("感谢您的评分：5分").wait_for()
    assert page.locator("#rating").is_hidden()
    shoot(page, "rated")
    with service.sessions() as session:
        from caretaker.dispatch.tables import TicketRow
        assert session.get(TicketRow, ticket["id"]).satisfaction == 5
