"""Fixtures for the control room's browser tests (tests/browser/test_control_room_*.py): Debian's Chromium
through Playwright (never a downloaded browser), the real service on the example estate answering HTTP on a
free port, an operator's token, a desktop page (1366×900) in a given language that fails the test on any
console error, and screenshots kept under test-artifacts/control-room/."""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from tests.conftest import EXAMPLE_SITE, REPO, free_port, missing
from tests.service.harness import Watcher, now_iso

CHROMIUM = os.environ.get("CARETAKER_TEST_CHROMIUM", "/usr/bin/chromium")
ADMIN = "control-room-test-admin-token-0123456789"
ARTIFACTS = REPO / "test-artifacts" / "control-room"
DESKTOP = {"width": 1366, "height": 900}
# the browser runs in London while the estate is in Shanghai: every time on the page must be Shanghai's
BROWSER_ZONE = "Europe/London"
SITE = "harbor-view"
PHOTO = "https://photos.example.com/fixed.jpg"  # the company's own file store: resolve takes http(s) URLs


@dataclass
class Room:
    """The running service, its address, an operator's token and a broker client to play devices."""

    service: Service
    base: str
    operator: str
    admin: str
    watcher: Watcher
    seq: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.operator}"}
        return httpx.request(method, self.base + path, headers=headers, timeout=10, **kwargs)

    def report(self, **body: Any) -> dict[str, Any]:
        """File a person's report through the API and return the ticket."""
        body = {"reporter_name": "Qian Hui", "reporter_phone": "13700137001", "source": "phone", **body}
        response = self.call("POST", "/api/v1/tickets", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def technician(self, tech: str) -> str:
        """A technician's token (issued once per technician)."""
        if tech not in self.tokens:
            response = self.call("POST", "/api/v1/tokens", token=self.admin, json={"role": "technician", "subject": tech})
            assert response.status_code == 201, response.text
            self.tokens[tech] = response.json()["token"]
        return self.tokens[tech]

    def resolve(self, ticket: dict[str, Any], tech: str) -> dict[str, Any]:
        """Assign the ticket to `tech` and walk it to resolved as their phone would."""
        step = lambda name, **body: self.call("POST", f"/api/v1/tickets/{ticket['id']}/{name}",  # noqa: E731
                                              token=self.technician(tech) if name != "assign" else None, json=body)
        if ticket.get("assignee") != tech:
            assert step("assign", technician=tech).status_code == 200
        self.place(tech, ticket["location"]["building"], ticket["location"]["floor"])  # arriving needs a location
        for name, body in (("accept", {}), ("arrive", {}),
                           ("resolve", {"note": "换了阀门 / valve replaced", "photos": [PHOTO]})):
            response = step(name, **body)
            assert response.status_code == 200, response.text
        return response.json()

    def place(self, tech: str, building: str, floor: int) -> None:
        """The technician's phone reports where they are; returns once the service has it."""
        sent = now_iso()
        self.watcher.publish(f"{SITE}/technicians/{tech}/location", {"ts": sent, "building": building, "floor": floor})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            seen = next(x for x in self.call("GET", "/api/v1/technicians").json() if x["id"] == tech)
            if seen["seen_at"] and seen["seen_at"][:19] >= sent[:19] and seen["location"]["building"] == building:
                return
            time.sleep(0.05)
        raise AssertionError(f"{tech}'s location never arrived")

    def reading(self, device: str, values: dict[str, Any]) -> None:
        """A device's reading over MQTT, in its own order (seq)."""
        self.seq[device] = self.seq.get(device, 0) + 1
        self.watcher.publish(f"{SITE}/devices/{device}/telemetry",
                             {"ts": now_iso(), "seq": self.seq[device], "values": values})

    def wait_alert(self, device: str, state: str = "raised", timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for alert in self.call("GET", f"/api/v1/alerts?device={device}").json():
                if alert["state"] == state:
                    return alert
            time.sleep(0.1)
        raise AssertionError(f"no {state} alert of {device} within {timeout} s")


@pytest.fixture(scope="session")
def chromium(browser):
    """The session's one Chromium (tests/browser/conftest.py): a second Playwright in the same process
    fails with "Sync API inside the asyncio loop"."""
    return browser


@pytest.fixture(scope="module")
def room(mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Room]:
    """The real service on the example estate (names like "Tower A (1号楼)", Asia/Shanghai) with HTTP."""
    port = free_port()
    db = tmp_path_factory.mktemp("control-room") / "caretaker.db"
    settings = Settings(mqtt_url=mosquitto.url, database_url=f"sqlite:///{db}", site_file=EXAMPLE_SITE,
                        tick_seconds=0.2, http_port=port, admin_token=ADMIN,
                        mqtt_client_id=f"control-room-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    base = f"http://127.0.0.1:{port}"
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"control-room-watcher-{time.monotonic_ns()}")
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.post(base + "/api/v1/tokens", json={"role": "operator", "subject": "op-li"},
                                      headers={"Authorization": f"Bearer {ADMIN}"}, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the service's HTTP never answered"
                time.sleep(0.1)
        assert response.status_code == 201, response.text
        yield Room(service, base, response.json()["token"], ADMIN, watcher)
    finally:
        watcher.close()
        service.stop()


# a refusal the page asked for and shows in its form (422: what is missing; 409: not in this status) is
# logged by Chromium as a failed load; every other console error fails the test
EXPECTED = re.compile(r"^Failed to load resource: the server responded with a status of (409|422) ")


class Console:
    """Every console error and uncaught exception of a page; the test fails if any is left at its end."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and not EXPECTED.match(message.text):
            self.errors.append(f"console.{message.type}: {message.text}")


@pytest.fixture
def open_room(chromium, room: Room) -> Iterator[Any]:
    """open_room(lang) -> a desktop page on the control room in that language, signed in as an operator."""
    opened: list[tuple[Any, Console]] = []

    def _open(lang: str, path: str = "/", token: str | None = None) -> Any:
        context = chromium.new_context(viewport=DESKTOP, locale="en-GB" if lang == "en" else "zh-CN",
                                       timezone_id=BROWSER_ZONE)
        page = context.new_page()
        console = Console(page)
        opened.append((page, console))
        separator = "&" if "?" in path else "?"
        page.goto(f"{room.base}{path}{separator}lang={lang}#token={token or room.operator}")
        page.wait_for_selector("body[data-ready='1']", timeout=15000)
        return page

    yield _open
    errors = [e for _, console in opened for e in console.errors]
    for page, _ in opened:
        page.context.close()
    assert not errors, errors


def screenshot(page: Any, name: str) -> Path:
    """Keep a PNG of the page under test-artifacts/control-room/ (CI keeps the folder as an artefact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
