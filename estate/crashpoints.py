"""Named crash points for fault tests: `CARETAKER_CRASH_AT=name` (or `name@N`, the Nth time it is reached)
makes the process exit at once there, as `kill -9` would, so a test hits the exact window it means to."""

from __future__ import annotations

import os
import threading

_hits: dict[str, int] = {}
_lock = threading.Lock()


def _target() -> tuple[str, int] | None:
    raw = os.environ.get("CARETAKER_CRASH_AT", "").strip()
    if not raw:
        return None
    name, _, nth = raw.partition("@")
    return name, int(nth) if nth.isdigit() and int(nth) > 0 else 1


def crash_point(name: str) -> None:
    """Exit the process with status 137 (no clean-up, no flush) when the environment names this point."""
    target = _target()
    if target is None or target[0] != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        reached = _hits[name]
    if reached == target[1]:
        os._exit(137)
