"""A device's own order (docs/device-protocol.md, "Device order"): in order, late, duplicate; gaps that a late
message fills; a ts ahead of the clock; what survives a save and reload."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from caretaker.ingest.order import (
    DUPLICATE,
    GAP_SETTLE,
    IN_ORDER,
    LATE,
    RECENT_LIMIT,
    RUN_LIMIT,
    DeviceOrder,
    digest,
    place,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def feed(order: DeviceOrder, readings, now: datetime = NOW + timedelta(hours=1)):
    """Place (seconds, seq, values) readings one after another; return the final order and the kinds."""
    kinds = []
    for seconds, seq, values in readings:
        placed = place(order, at(seconds), seq, digest(values) if seq is None else "", tuple(values), now)
        kinds.append(placed.kind)
        order = placed.order
    return order, kinds


LEAK = {"leak": True}
DRY = {"leak": False}

PLACES = [
    # (id, applied before, the reading, its kind)
    ("first-ever", [], (0, 5, DRY), IN_ORDER),
    ("newer-ts", [(0, 5, DRY)], (1, 6, DRY), IN_ORDER),
    ("newer-ts-seq-went-back-device-restarted", [(0, 5, DRY)], (1, 0, DRY), IN_ORDER),
    ("newer-ts-no-seq", [(0, None, DRY)], (1, None, DRY), IN_ORDER),
    ("older-ts-is-late-not-a-replay", [(0, 5, DRY)], (-1, 4, LEAK), LATE),
    ("older-ts-no-seq-is-late", [(0, None, DRY)], (-1, None, LEAK), LATE),
    ("same-ts-lower-seq-is-late", [(0, 5, DRY)], (0, 4, LEAK), LATE),
    ("same-ts-higher-seq", [(0, 5, DRY)], (0, 6, DRY), IN_ORDER),
    ("same-seq-same-ts-duplicate", [(0, 5, DRY)], (0, 5, DRY), DUPLICATE),
    ("same-seq-inside-its-run-duplicate", [(0, 5, DRY), (1, 6, DRY), (2, 7, DRY)], (1, 6, DRY), DUPLICATE),
    ("same-seq-later-boot-is-news", [(0, 5, DRY), (10, 0, DRY)], (20, 5, DRY), IN_ORDER),
    ("no-seq-same-ts-same-values-duplicate", [(0, None, DRY)], (0, None, DRY), DUPLICATE),
    ("no-seq-same-ts-new-values-is-news", [(0, None, DRY)], (0, None, LEAK), IN_ORDER),
    ("no-seq-old-reading-seen-again", [(0, None, LEAK), (5, None, DRY)], (0, None, LEAK), DUPLICATE),
]


@pytest.mark.parametrize(("before", "reading", "kind"), [p[1:] for p in PLACES], ids=[p[0] for p in PLACES])
def test_place(before, reading, kind) -> None:
    order, _ = feed(DeviceOrder(), before)
    _, kinds = feed(order, [reading])
    assert kinds == [kind]


def test_a_ts_ahead_of_the_clock_is_applied_when_it_arrived_and_never_becomes_the_latest() -> None:
    ahead = place(DeviceOrder(), NOW + timedelta(minutes=4, seconds=50), 1, "", ("leak",), NOW)
    assert ahead.skewed and ahead.kind == IN_ORDER and ahead.at == NOW
    real = place(ahead.order, NOW + timedelta(seconds=2), 2, "", ("leak",), NOW + timedelta(seconds=3))
    assert real.kind == IN_ORDER and real.at == NOW + timedelta(seconds=2)
    # the same fast message again is still a duplicate (known by its own ts and seq)
    assert place(real.order, NOW + timedelta(minutes=4, seconds=50), 1, "", ("leak",), NOW).kind == DUPLICATE


def test_jitter_under_a_second_is_not_counted_as_skew() -> None:
    placed = place(DeviceOrder(), NOW + timedelta(milliseconds=400), 1, "", ("leak",), NOW)
    assert not placed.skewed and placed.at == NOW


def test_a_late_reading_learns_when_a_later_one_replaced_its_value() -> None:
    order, _ = feed(DeviceOrder(), [(5, 1, DRY), (20, 3, DRY), (30, 4, {"leak": False})])
    late = place(order, at(10), 2, "", ("leak",), at(60))
    assert late.kind == LATE and late.superseded == {"leak": at(20)}
    # a metric no later reading carried is still the newest
    order, _ = feed(DeviceOrder(), [(5, 1, {"state": "normal"}), (20, 3, {"state": "normal"})])
    late = place(order, at(10), 2, "", ("occupied", "state"), at(60))
    assert late.superseded == {"occupied": None, "state": at(20)}


def test_a_gap_counts_as_lost_once_it_has_stayed_open_for_the_settle_time() -> None:
    order, _ = feed(DeviceOrder(), [(0, 0, DRY), (1, 1, DRY), (4, 4, DRY)], now=at(10))
    assert order.missing == 2
    assert order.lost_by(at(10)) == 0 and order.settles_at(at(10)) == at(10) + GAP_SETTLE
    assert order.lost_by(at(10) + GAP_SETTLE) == 2 and order.settles_at(at(10) + GAP_SETTLE) is None
    # a late message fills part of it: it is no longer lost
    late = place(order, at(2), 2, "", ("leak",), at(60))
    assert late.order.missing == 1 and late.order.lost_by(at(60)) == 1
    late = place(late.order, at(3), 3, "", ("leak",), at(61))
    assert late.order.missing == 0 and late.order.lost_by(at(200)) == 0 and len(late.order.runs) == 1


def test_a_reordered_feed_never_reads_as_loss() -> None:
    readings = [(n * 0.5, n, DRY) for n in range(200)]
    shuffled = sorted(readings, key=lambda r: r[0] + random.Random(r[1]).uniform(0, 5))
    order = DeviceOrder()
    for seconds, seq, values in shuffled:
        arrival = at(seconds + 5)  # it arrives within 5 s of being sent
        order = place(order, at(seconds), seq, "", tuple(values), arrival).order
        assert order.lost_by(arrival) == 0


def test_a_device_restart_is_not_a_loss() -> None:
    order, _ = feed(DeviceOrder(), [(0, 500, DRY), (1, 501, DRY), (10, 0, DRY), (11, 1, DRY)])
    assert order.missing == 0


def test_500_dropped_messages_are_500_gaps_and_a_shuffle_leaves_none() -> None:
    readings = [(n * 0.5, n, DRY) for n in range(2000)]
    dropped = [r for r in readings if not 1000 <= r[1] < 1500]
    order, _ = feed(DeviceOrder(), dropped)
    assert order.missing == 500 and order.lost_by(at(3600) + GAP_SETTLE) == 500
    shuffled = sorted(readings, key=lambda r: r[0] + random.Random(r[1]).uniform(0, 30))
    order, kinds = feed(DeviceOrder(), shuffled)
    assert order.missing == 0 and DUPLICATE not in kinds and kinds.count(LATE) > 100


def test_holes_beyond_what_is_tracked_stay_counted_as_lost() -> None:
    readings = [(n, n * 2, DRY) for n in range(RUN_LIMIT + 10)]  # every other seq missing
    order, _ = feed(DeviceOrder(), readings)
    assert len(order.runs) <= RUN_LIMIT and order.missing == RUN_LIMIT + 9
    assert order.lost == 10  # pushed out of the runs: counted lost at once


def test_the_window_is_bounded_and_survives_a_save() -> None:
    order, _ = feed(DeviceOrder(), [(n, n, {"leak": n % 2 == 0}) for n in range(RECENT_LIMIT * 3)])
    assert len(order.recent) == RECENT_LIMIT
    assert DeviceOrder.from_text(order.to_text()) == order
    assert DeviceOrder.from_text(None) == DeviceOrder()
    no_seq, _ = feed(DeviceOrder(), [(1, None, DRY), (2, None, {}), (3, 4, LEAK)])
    assert DeviceOrder.from_text(no_seq.to_text()) == no_seq


def test_a_devices_metric_names_are_stored_once_per_run_of_marks_carrying_them() -> None:
    lift = {"state": "moving", "floor": 3, "occupied": True, "door_open": False}
    readings = [(n, n, lift) for n in range(10)] + [(10, 10, {"floor": 4})] + [(11, 11, {})] + \
        [(n, n, lift) for n in range(12, 20)]
    order, _ = feed(DeviceOrder(), readings)
    stored = order.to_text()
    assert stored.count("door_open") == 2  # the first of each run of readings carrying the four
    again = DeviceOrder.from_text(stored)
    assert again == order and [m.metrics for m in again.recent] == [tuple(v) for _, _, v in readings]
    # a late reading placed after a restart finds the metrics each later reading replaced, as before it
    late = place(again, at(9.5), None, digest({"floor": 9}), ("floor",), NOW + timedelta(hours=1))
    assert late.kind == LATE and late.superseded == {"floor": at(10)}
    # a row written before names were kept once still reads: every mark with its own names
    old = "/".join(stored.split("/")[:2] + [";".join(m.text for m in order.recent)])
    assert "=" not in old and DeviceOrder.from_text(old) == order


def test_the_stored_text_kept_as_readings_come_is_the_text_made_afresh() -> None:
    rng = random.Random(5)
    kinds = [{"floor": 1}, {"state": "moving", "floor": 2}, {}, {"state": "idle", "floor": 2, "occupied": False}]
    order = DeviceOrder()
    for n in range(RECENT_LIMIT * 4):
        seconds = n + (rng.uniform(-5, 0) if n % 7 == 3 else 0)  # now and then one late
        values = kinds[rng.randrange(len(kinds))] if n % 3 == 0 else kinds[1]
        seq = n if n % 11 else None
        order = place(order, at(seconds), seq, digest(values) if seq is None else "", tuple(values),
                      NOW + timedelta(hours=1)).order
        assert order.to_text() == DeviceOrder(order.runs, order.recent, order.lost).to_text()
    assert DeviceOrder.from_text(order.to_text()) == order


def test_a_reading_replayed_an_hour_later_is_a_duplicate() -> None:
    readings = [(n * 60, n, {"leak": n % 10 == 0}) for n in range(120)]  # two hours, one a minute
    order, _ = feed(DeviceOrder(), readings, now=at(7200))
    replayed = [place(order, at(s), q, "", tuple(v), at(7200)).kind for s, q, v in readings[:60]]
    assert replayed == [DUPLICATE] * 60
