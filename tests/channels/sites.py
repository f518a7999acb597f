"""Site files for the channel tests: the shared small estate, copied with channels added."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings
from caretaker.dispatch.notify.policy import Backoff
from tests.service.harness import SMALL_SITE

# short waits, so that a receiver's recovery shows within a test's time (the service's own: 1 s to 5 min)
FAST = Backoff(first=timedelta(milliseconds=200), cap=timedelta(seconds=1))


def site_with(tmp_path: Path, channels_yaml: str, *, locale: str | None = None, name: str = "site.yaml") -> Path:
    """Write the small estate with these `channels:` lines (YAML, indented two spaces) and return its path."""
    text = SMALL_SITE.read_text(encoding="utf-8")
    if locale:
        text += f"locale: {locale}\n"
    path = tmp_path / name
    path.write_text(text + "channels:\n" + channels_yaml, encoding="utf-8")
    return path


def start(broker_url: str, database_url: str, site_file: Path, backoff: Backoff = FAST) -> Service:
    """The real service (without HTTP), with the channels' back-off set before they start."""
    settings = Settings(mqtt_url=broker_url, database_url=database_url, site_file=site_file, tick_seconds=0.2,
                        mqtt_client_id=f"caretaker-test-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings))
    service.channels.backoff = backoff
    service.start(with_http=False)
    return service
