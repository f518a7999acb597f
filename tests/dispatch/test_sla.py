"""SLA arithmetic (docs/operations.md, "Urgency and deadlines"): deadlines per level, no arrive deadline for 3 and 4, 80% warnings, raised urgency."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from caretaker.dispatch.sla import Deadlines, deadlines_from, raised_urgency, sla_for, warning_time
from caretaker.estate.model import DEFAULT_SLA, Sla

CREATED = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
M = timedelta(minutes=1)
H = timedelta(hours=1)

DEADLINES = [
    (1, Deadlines(CREATED + 2 * M, CREATED + 30 * M, CREATED + 2 * H)),
    (2, Deadlines(CREATED + 5 * M, CREATED + 1 * H, CREATED + 2 * H)),
    (3, Deadlines(CREATED + 30 * M, None, CREATED + 24 * H)),
    (4, Deadlines(CREATED + 2 * H, None, CREATED + 48 * H)),
]


@pytest.mark.parametrize(("level", "expected"), DEADLINES, ids=[f"level-{d[0]}" for d in DEADLINES])
def test_default_deadlines_per_level(level: int, expected: Deadlines) -> None:
    assert deadlines_from(CREATED, DEFAULT_SLA[level]) == expected
    assert deadlines_from(CREATED, sla_for(level, {})) == expected


@pytest.mark.parametrize("level", [3, 4], ids=["level-3", "level-4"])
def test_no_arrive_deadline_for_levels_3_and_4(level: int) -> None:
    assert DEFAULT_SLA[level].arrive is None
    assert deadlines_from(CREATED, sla_for(level, {})).arrive_by is None


def test_deadlines_keep_the_time_zone() -> None:
    shanghai = timezone(timedelta(hours=8))
    local = CREATED.astimezone(shanghai)
    deadlines = deadlines_from(local, DEFAULT_SLA[1])
    assert deadlines.accept_by == CREATED + 2 * M  # the same instant
    assert deadlines.accept_by.utcoffset() == timedelta(hours=8)


SITE_POLICY = {1: Sla(timedelta(seconds=3), timedelta(minutes=20), timedelta(hours=1)), 2: DEFAULT_SLA[2]}


@pytest.mark.parametrize(
    ("level", "policy", "expected"),
    [
        (1, SITE_POLICY, SITE_POLICY[1]),
        (2, SITE_POLICY, DEFAULT_SLA[2]),
        (3, SITE_POLICY, DEFAULT_SLA[3]),  # a level the site leaves out keeps the default
        (4, {}, DEFAULT_SLA[4]),
    ],
    ids=["site-level-1", "site-level-2", "missing-level-3-falls-back", "empty-policy"],
)
def test_sla_for(level: int, policy: dict[int, Sla], expected: Sla) -> None:
    assert sla_for(level, policy) == expected


WARNINGS = [
    ("l1-accept-2m", DEFAULT_SLA[1].accept, timedelta(seconds=96)),
    ("l1-arrive-30m", DEFAULT_SLA[1].arrive, 24 * M),
    ("l1-resolve-2h", DEFAULT_SLA[1].resolve, 96 * M),
    ("l2-accept-5m", DEFAULT_SLA[2].accept, 4 * M),
    ("l2-arrive-1h", DEFAULT_SLA[2].arrive, 48 * M),
    ("l3-accept-30m", DEFAULT_SLA[3].accept, 24 * M),
    ("l3-resolve-24h", DEFAULT_SLA[3].resolve, timedelta(hours=19, minutes=12)),
    ("l4-accept-2h", DEFAULT_SLA[4].accept, 96 * M),
    ("l4-resolve-48h", DEFAULT_SLA[4].resolve, timedelta(hours=38, minutes=24)),
    ("zero-window", timedelta(0), timedelta(0)),
]


@pytest.mark.parametrize(("window", "after"), [w[1:] for w in WARNINGS], ids=[w[0] for w in WARNINGS])
def test_warning_at_80_percent(window: timedelta, after: timedelta) -> None:
    assert warning_time(CREATED, CREATED + window) == CREATED + after


def test_warning_counts_from_the_step_start() -> None:
    # the arrive window after a reassignment at 10 minutes: 80% of the 20 minutes still left
    start = CREATED + 10 * M
    assert warning_time(start, CREATED + 30 * M) == start + 16 * M


RAISED = [
    ("vulnerable-1-stays-1", 1, True, 1),
    ("vulnerable-2-becomes-1", 2, True, 1),
    ("vulnerable-3-becomes-2", 3, True, 2),
    ("vulnerable-4-becomes-3", 4, True, 3),
    ("not-vulnerable-1", 1, False, 1),
    ("not-vulnerable-3", 3, False, 3),
    ("not-vulnerable-4", 4, False, 4),
]


@pytest.mark.parametrize(("level", "vulnerable", "expected"), [r[1:] for r in RAISED], ids=[r[0] for r in RAISED])
def test_raised_urgency(level: int, vulnerable: bool, expected: int) -> None:
    assert raised_urgency(level, vulnerable) == expected


def test_raised_level_gets_the_tighter_deadlines() -> None:
    level = raised_urgency(3, vulnerable_resident=True)
    deadlines = deadlines_from(CREATED, sla_for(level, {}))
    assert deadlines.accept_by == CREATED + 5 * M
    assert deadlines.arrive_by == CREATED + 1 * H
