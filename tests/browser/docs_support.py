"""Fixtures for the /docs browser test: Debian's Chromium through Playwright (never a downloaded browser) and
the real service answering HTTP on a free port."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from tests.conftest import free_port, missing
from tests.service.harness import SMALL_SITE

CHROMIUM = os.environ.get("CARETAKER_TEST_CHROMIUM", "/usr/bin/chromium")
ADMIN = "docs-test-admin-token-0123456789"


@dataclass(frozen=True)
class Served:
    service: Service
    base: str


@pytest.fixture(scope="module")
def chromium(browser):
    """The session's one Chromium (tests/browser/conftest.py): a second Playwright in the same process
    fails with "Sync API inside the asyncio loop"."""
    return browser


@pytest.fixture
def served(mosquitto, sqlite_url) -> Iterator[Served]:
    """The real service with its HTTP API on a free loopback port."""
    port = free_port()
    settings = Settings(mqtt_url=mosquitto.url, database_url=sqlite_url, site_file=SMALL_SITE, tick_seconds=0.2,
                        http_port=port, admin_token=ADMIN, mqtt_client_id=f"docs-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.start()
    try:
        yield Served(service, f"http://127.0.0.1:{port}")
    finally:
        service.stop()
