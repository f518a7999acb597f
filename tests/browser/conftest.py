"""Browser tests: Debian's Chromium driven by Playwright, against the real service (MQTT, SQLite, HTTP).

Fixtures any page's test can use:
- `browser`: one headless Chromium for the session, the system's own (`/usr/bin/chromium`, or
  CARETAKER_CHROMIUM); Playwright's own browser download is never used. Missing: skipped locally,
  a failure under CI=true (`missing()`).
- `phone`: a fresh phone-sized context (390×844, touch, a mobile user agent) and one page in it,
  watched by `console`: any console error or uncaught page error fails the test, unless the test
  says it expects it (`console.allow(pattern)`, e.g. for requests refused while offline).
- `live`: the service on a free HTTP port, against the tests' Mosquitto and a fresh SQLite file, with
  the estate of tests/browser/site.yaml; tokens, API calls and MQTT publishing for the test.
- `shoot(page, name)`: a screenshot under test-artifacts/browser/<test>/, to look at after the run.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.conftest import REPO, free_port, missing

SITE = Path(__file__).resolve().parent / "site.yaml"
ADMIN = "browser-test-admin-token"
ARTIFACTS = REPO / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}
PHONE_AGENT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/126.0 Mobile Safari/537.36")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CARETAKER_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    if executable is None:
        missing("no chromium (apt-get install chromium; `make test` and .ci/run install it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium refuses root without it
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class ConsoleGuard:
    """Every console error and uncaught error of a page; the test fails on any it did not expect."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"console: {message.text} ({message.location.get('url', '')})"))
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def allow(self, pattern: str) -> None:
        """Expect errors matching `pattern` from now on (a request that fails because the network is cut)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console() -> ConsoleGuard:
    return ConsoleGuard()


@dataclass
class Phone:
    context: Any
    page: Any


@pytest.fixture
def phone(browser, console: ConsoleGuard) -> Iterator[Phone]:
    # a technician's phone in China speaks Chinese; the page follows the phone's language before the
    # site's (docs/technicians.md)
    context = browser.new_context(viewport=PHONE, screen=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, user_agent=PHONE_AGENT, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    console.watch(page)
    try:
        yield Phone(context, page)
    finally:
        context.close()
    unexpected = console.unexpected()
    assert not unexpected, "the page logged errors:\n" + "\n".join(unexpected)


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """Save a screenshot of the page as test-artifacts/browser/<test>/<NN>-<name>.png."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    count = 0

    def _shoot(page: Any, name: str) -> Path:
        nonlocal count
        count += 1
        path = folder / f"{count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shoot


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Live:
    """The running service, as a test talks to it: over HTTP like the control room, over MQTT like a device."""

    url: str
    site: str
    service: Any
    watcher: Any
    seq: int = 0

    def token(self, role: str, subject: str) -> str:
        answer = httpx.post(f"{self.url}/api/v1/tokens", json={"role": role, "subject": subject},
                            headers={"Authorization": f"Bearer {ADMIN}"})
        assert answer.status_code == 201, answer.text
        return answer.json()["token"]

    def api(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10,
                             **kwargs)

    def place(self, technician: str, building: str, floor: int) -> None:
        """Where a technician's phone says they are (the location topic); returns once the service knows."""
        self.watcher.publish(f"{self.site}/technicians/{technician}/location",
                             {"ts": now_iso(), "building": building, "floor": floor})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for tech in self.api("GET", "/api/v1/technicians", ADMIN).json():
                if tech["id"] == technician and tech["location"] and (
                        tech["location"]["building"], tech["location"]["floor"]) == (building, floor):
                    return
            time.sleep(0.05)
        raise AssertionError(f"the service did not place {technician} at {building} {floor} within 10 s")

    def reading(self, device: str, values: dict[str, Any]) -> float:
        """Publish a device's reading; returns when it was sent (time.monotonic())."""
        self.seq += 1
        sent = time.monotonic()
        self.watcher.publish(f"{self.site}/devices/{device}/telemetry",
                             {"ts": now_iso(), "seq": self.seq, "values": values})
        return sent

    def wait_for_ticket(self, token: str, check: Callable[[dict[str, Any]], bool], timeout: float = 15.0,
                        what: str = "a ticket") -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ticket in self.api("GET", "/api/v1/tickets", token).json():
                if check(ticket):
                    return ticket
            time.sleep(0.1)
        raise AssertionError(f"{what} not seen within {timeout} s")


@pytest.fixture
def live(mosquitto, tmp_path: Path) -> Iterator[Live]:
    from caretaker.service import Service, load_configuration
    from caretaker.settings import Settings
    from tests.service.harness import Watcher

    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=f"sqlite:///{tmp_path / 'caretaker.db'}",
                        site_file=SITE, http_port=port, admin_token=ADMIN, tick_seconds=0.5,
                        mqtt_client_id=f"browser-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"browser-watcher-{time.monotonic_ns()}")
    try:
        yield Live(f"http://127.0.0.1:{port}", service.site.id, service, watcher)
    finally:
        watcher.close()
        service.stop()
