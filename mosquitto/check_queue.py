#!/usr/bin/env python3
"""Check that the broker's queue for the service holds a whole tolerated outage at the peak rate.

While the Caretaker service is away (a restart, an upgrade, a database failover) the broker queues its
messages, up to `max_queued_messages`; beyond that Mosquitto drops them (the service then raises a
"messages lost" alarm, docs/operations.md). The limit must therefore be at least

    peak rate (messages a second for the whole estate) × tolerated outage (seconds)

Figures used (docs/deploy.md, "What mosquitto.conf changes, and why"): an estate makes tens to hundreds
of messages a second; PEAK_MSG_PER_S defaults to 500 (a large estate in an alarm storm), and
TOLERATED_OUTAGE_S to 180 (an upgrade with a migration, or a database failover, without losing a
message): 90,000 messages. Set both for your estate:

    PEAK_MSG_PER_S=800 TOLERATED_OUTAGE_S=300 ./mosquitto/check_queue.py [mosquitto.conf]

Exit 0 when the limit is enough, 1 when it is not (saying by how much), 2 when the file cannot be read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PEAK_MSG_PER_S = 500
TOLERATED_OUTAGE_S = 180
AVERAGE_MESSAGE_BYTES = 300  # a device's JSON with topic and broker overhead, for max_queued_bytes


def settings(conf: Path) -> dict[str, str]:
    """The file's settings (the last occurrence wins, as in Mosquitto); comments and blanks skipped."""
    found: dict[str, str] = {}
    for line in conf.read_text(encoding="utf-8").splitlines():
        parts = line.split(None, 1)
        if parts and not parts[0].startswith("#"):
            found[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return found


def check(conf: Path, peak: float, outage: float) -> tuple[bool, str]:
    """Return whether the queue limit is enough and a line saying why."""
    values = settings(conf)
    needed = int(peak * outage)
    limit = int(values.get("max_queued_messages", "1000"))  # Mosquitto's default when unset
    if limit == 0:
        held = "no message limit"
    elif limit < needed:
        return False, (f"max_queued_messages {limit} holds {limit / peak:.0f} s at {peak:g} msg/s; a "
                       f"{outage:g} s outage needs {needed}: raise it to at least {needed}")
    else:
        held = f"max_queued_messages {limit} holds {limit / peak:.0f} s"
    limit_bytes = int(values.get("max_queued_bytes", "0"))
    if limit_bytes and limit_bytes < needed * AVERAGE_MESSAGE_BYTES:
        return False, (f"max_queued_bytes {limit_bytes} holds about {limit_bytes // AVERAGE_MESSAGE_BYTES} messages; "
                       f"a {outage:g} s outage at {peak:g} msg/s needs {needed * AVERAGE_MESSAGE_BYTES} bytes")
    if values.get("persistence", "false") != "true":
        return False, "persistence is off: a broker restart loses every queued message"
    return True, f"{held} at {peak:g} msg/s; a {outage:g} s outage needs {needed}"


def main(argv: list[str]) -> int:
    conf = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "mosquitto.conf"
    try:
        peak = float(os.environ.get("PEAK_MSG_PER_S", PEAK_MSG_PER_S))
        outage = float(os.environ.get("TOLERATED_OUTAGE_S", TOLERATED_OUTAGE_S))
        ok, why = check(conf, peak, outage)
    except (OSError, ValueError) as exc:
        print(f"FAIL: cannot check {conf}: {exc}", file=sys.stderr)
        return 2
    print(f"{'ok' if ok else 'FAIL'}: queue for the service: {why}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
