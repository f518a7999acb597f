"""Whether a silence (maintenance window) covers an alarm; pure."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from caretaker.estate.model import Device


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    matchers: Mapping[str, Any]  # rule, device (shell patterns), device_type, building, floor, zone
    starts_at: datetime
    ends_at: datetime

    def covers(self, rule_id: str, device: Device, now: datetime) -> bool:
        """Return true iff the silence is in force at `now` and every matcher matches the alarm."""
        if not self.starts_at <= now < self.ends_at:
            return False
        facts = {"rule": rule_id, "device": device.id, "device_type": device.type,
                 "building": device.place.building, "floor": device.place.floor, "zone": device.place.zone}
        for key, wanted in self.matchers.items():
            actual = facts.get(key)
            if key in ("rule", "device") and isinstance(wanted, str):
                if not fnmatch.fnmatchcase(str(actual), wanted):
                    return False
            elif actual != wanted:
                return False
        return True


def silencing(silences: Iterable[Silence], rule_id: str, device: Device, now: datetime) -> Silence | None:
    """Return the first silence that covers this alarm now, or None."""
    for silence in silences:
        if silence.covers(rule_id, device, now):
            return silence
    return None
