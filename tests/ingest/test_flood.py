"""The flood guard's decisions (ingest/flood.py): a token bucket per source, committed only with its batch."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from caretaker.ingest.flood import FloodGuard, FloodPolicy, source_of

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
NOISY = "caretaker/test-estate/devices/A-LEAK-1/telemetry"
QUIET = "caretaker/test-estate/devices/A-PRESS-1/telemetry"


def test_source_is_the_topic_without_its_kind() -> None:
    assert source_of(NOISY) == source_of("caretaker/test-estate/devices/A-LEAK-1/status")
    assert source_of(NOISY) != source_of(QUIET)


def test_a_burst_passes_and_the_excess_is_dropped_while_others_pass() -> None:
    guard = FloodGuard(FloodPolicy(rate=10, burst=50))
    verdict = guard.admit([NOISY] * 80 + [QUIET] * 5, T0)
    assert len(verdict.admitted) == 55 and verdict.dropped == 30
    assert verdict.admitted[-5:] == list(range(80, 85))  # the quiet device's messages all go on, in order
    assert verdict.started == [source_of(NOISY)]


def test_the_bucket_refills_at_the_rate() -> None:
    guard = FloodGuard(FloodPolicy(rate=10, burst=50))
    guard.commit(guard.admit([NOISY] * 50, T0), T0)
    later = T0 + timedelta(seconds=2)
    verdict = guard.admit([NOISY] * 30, later)
    assert len(verdict.admitted) == 20 and verdict.dropped == 10


def test_an_uncommitted_batch_spends_nothing() -> None:
    """A batch retried after a database error is judged again as if the first try never happened."""
    guard = FloodGuard(FloodPolicy(rate=1, burst=10))
    first = guard.admit([NOISY] * 10, T0)
    again = guard.admit([NOISY] * 10, T0)
    assert len(first.admitted) == len(again.admitted) == 10


def test_flooding_is_announced_once_and_calms_after_a_quiet_spell() -> None:
    guard = FloodGuard(FloodPolicy(rate=1, burst=5, quiet=timedelta(minutes=10)))
    first = guard.admit([NOISY] * 20, T0)
    guard.commit(first, T0)
    second = guard.admit([NOISY] * 20, T0 + timedelta(seconds=1))
    guard.commit(second, T0 + timedelta(seconds=1))
    assert first.started == [source_of(NOISY)] and second.started == []
    still = guard.admit([QUIET], T0 + timedelta(minutes=5))
    assert still.calmed == []
    calm = guard.admit([QUIET], T0 + timedelta(minutes=11))
    assert calm.calmed == [source_of(NOISY)]
    guard.commit(calm, T0 + timedelta(minutes=11))
    assert guard.flooding == set()
