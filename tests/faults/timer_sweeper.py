"""For T13: one instance's timer sweep, as a process of its own with its own engine.

`python -m tests.faults.timer_sweeper DB_URL SITE_FILE SKEW_S TICK_S STOP_FILE` builds the real `Service`
(not started: no broker, no API) with a clock `SKEW_S` seconds off the true time and calls its
`sweep_timers()` every `TICK_S`, as the service's scheduler does, until STOP_FILE exists. A
`CARETAKER_CRASH_AT=timers_fired_before_commit@N` in the environment kills it with 137 in the middle of
its N-th sweep that fired something.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from caretaker.service import Service, load_configuration
from caretaker.settings import Settings


class SkewedClock:
    """An instance clock that runs `offset` ahead (or behind) the true time."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


def main(argv: list[str]) -> None:
    database_url, site_file, skew, tick, stop = argv[0], Path(argv[1]), float(argv[2]), float(argv[3]), Path(argv[4])
    settings = Settings(database_url=database_url, site_file=site_file, tick_seconds=tick,
                        mqtt_client_id=f"t13-sweeper-{time.monotonic_ns()}")
    service = Service(settings, load_configuration(settings), clock=SkewedClock(timedelta(seconds=skew)))
    print("sweeping", flush=True)
    while not stop.exists():
        started = time.monotonic()
        service.sweep_timers()
        time.sleep(max(0.0, tick - (time.monotonic() - started)))  # the scheduler's interval
    service.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
