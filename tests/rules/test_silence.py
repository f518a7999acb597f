"""Silences (maintenance windows): which alarms a silence covers, and when."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest

from caretaker.estate.model import Device, Place
from caretaker.rules.silence import Silence, silencing
from tests.rules.runner import T0, at

PUMP = Device("A-B1-PUMP-1", "water_pump", Place("A", -1, "plant"))
LEAK = Device("A-12-LEAK-3", "water_leak", Place("A", 12, "east"))
DOOR_B = Device("B-1-DOOR-1", "access_door", Place("B", 1))
HOUR = 3600


def silence(matchers: dict[str, Any], starts: float = 0, ends: float = HOUR, id: int = 1) -> Silence:
    return Silence(id, matchers, at(starts), at(ends))


COVERS = [
    # (id, matchers, rule, device, covered)
    ("rule-exact", {"rule": "pump-fault"}, "pump-fault", PUMP, True),
    ("rule-other", {"rule": "pump-fault"}, "water-leak", LEAK, False),
    ("rule-glob", {"rule": "elevator-*"}, "elevator-stopped", PUMP, True),
    ("rule-glob-no-match", {"rule": "elevator-*"}, "pump-fault", PUMP, False),
    ("device-exact", {"device": "A-B1-PUMP-1"}, "pump-fault", PUMP, True),
    ("device-glob", {"device": "A-*"}, "water-leak", LEAK, True),
    ("device-glob-other-building", {"device": "A-*"}, "door-forced", DOOR_B, False),
    ("device-glob-case-sensitive", {"device": "a-*"}, "water-leak", LEAK, False),
    ("device-glob-question-mark", {"device": "A-12-LEAK-?"}, "water-leak", LEAK, True),
    ("device-type", {"device_type": "water_pump"}, "pump-fault", PUMP, True),
    ("device-type-other", {"device_type": "water_pump"}, "water-leak", LEAK, False),
    ("building", {"building": "A"}, "water-leak", LEAK, True),
    ("building-other", {"building": "A"}, "door-forced", DOOR_B, False),
    ("floor", {"floor": 12}, "water-leak", LEAK, True),
    ("basement-floor", {"floor": -1}, "pump-fault", PUMP, True),
    ("floor-other", {"floor": 11}, "water-leak", LEAK, False),
    ("zone", {"zone": "east"}, "water-leak", LEAK, True),
    ("zone-other", {"zone": "plant"}, "water-leak", LEAK, False),
    ("zone-of-a-device-without-one", {"zone": "east"}, "door-forced", DOOR_B, False),
    ("all-matchers-must-match", {"building": "A", "rule": "pump-fault"}, "water-leak", LEAK, False),
    ("all-matchers-match", {"building": "A", "floor": -1, "zone": "plant", "rule": "pump-*", "device": "A-B1-*",
                            "device_type": "water_pump"}, "pump-fault", PUMP, True),
    ("no-matchers-covers-everything", {}, "door-forced", DOOR_B, True),
    ("unknown-matcher-covers-nothing", {"colour": "red"}, "pump-fault", PUMP, False),
]


@pytest.mark.parametrize(("matchers", "rule_id", "device", "covered"), [c[1:] for c in COVERS], ids=[c[0] for c in COVERS])
def test_matchers(matchers: dict[str, Any], rule_id: str, device: Device, covered: bool) -> None:
    assert silence(matchers).covers(rule_id, device, at(60)) is covered


WINDOW = [
    # (id, seconds after T0, covered) for a silence from T0 + 1 h to T0 + 3 h
    ("before", HOUR - 1, False),
    ("at-the-start", HOUR, True),
    ("inside", 2 * HOUR, True),
    ("just-before-the-end", 3 * HOUR - 0.001, True),
    ("at-the-end", 3 * HOUR, False),
    ("after", 4 * HOUR, False),
]


@pytest.mark.parametrize(("seconds", "covered"), [w[1:] for w in WINDOW], ids=[w[0] for w in WINDOW])
def test_time_window_includes_the_start_not_the_end(seconds: float, covered: bool) -> None:
    assert silence({"building": "A"}, HOUR, 3 * HOUR).covers("pump-fault", PUMP, at(seconds)) is covered


def test_time_window_compares_instants_not_wall_clocks() -> None:
    shanghai = timezone(timedelta(hours=8))
    window = Silence(1, {}, T0.astimezone(shanghai), (T0 + timedelta(hours=1)).astimezone(shanghai))
    assert window.covers("pump-fault", PUMP, T0 + timedelta(minutes=30))  # 02:30 UTC is 10:30 in Shanghai
    assert not window.covers("pump-fault", PUMP, T0 + timedelta(hours=2))


SILENCES = [
    silence({"building": "B"}, id=1),
    silence({"rule": "pump-fault"}, ends=60, id=2),             # over at T0 + 60 s
    silence({"device": "A-B1-*"}, id=3),
    silence({"building": "A"}, id=4),
]
PICKS = [
    # (id, rule, device, seconds after T0, the silence picked or None)
    ("first-covering-in-order", "pump-fault", PUMP, 30, 2),
    ("an-ended-silence-is-skipped", "pump-fault", PUMP, 60, 3),
    ("device-pattern-before-building", "pump-fault", PUMP, 120, 3),
    ("building-A", "water-leak", LEAK, 120, 4),
    ("building-B", "door-forced", DOOR_B, 120, 1),
    ("none-in-force", "water-leak", LEAK, 2 * HOUR, None),
]


@pytest.mark.parametrize(("rule_id", "device", "seconds", "picked"), [p[1:] for p in PICKS], ids=[p[0] for p in PICKS])
def test_silencing_picks_a_covering_silence(rule_id: str, device: Device, seconds: float, picked: int | None) -> None:
    found = silencing(SILENCES, rule_id, device, at(seconds))
    assert (found.id if found else None) == picked
    if found is not None:
        assert found.covers(rule_id, device, at(seconds))


def test_silencing_with_no_silences() -> None:
    assert silencing([], "pump-fault", PUMP, T0) is None
