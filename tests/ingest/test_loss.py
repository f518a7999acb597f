"""The loss decision (ingest/loss.py): which gaps are news, what the alarm says, when it clears."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from caretaker.ingest.loss import QUIET, Mark, account, closed, loss_title, should_clear

BUILDING = {"A-1": "A", "A-2": "A", "A-3": "A", "B-1": "B", "C-1": "C"}
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_new_gaps_raise_one_alarm_naming_devices_and_building():
    result = account({"A-1": 3, "A-2": 1, "B-1": 0}, {}, BUILDING)
    assert result.loss is not None
    assert loss_title(result.loss) == "messages lost from 2 devices in building A (4 messages)"
    assert result.loss.building == "A" and result.loss.new_messages == 4 and not result.loss.renew
    assert result.marks == {"A-1": Mark(3, 3), "A-2": Mark(1, 1)}


def test_gaps_already_reported_are_not_news_and_later_ones_add_up():
    marks = {"A-1": Mark(3, 3)}
    assert account({"A-1": 3}, marks, BUILDING).loss is None
    result = account({"A-1": 5, "B-1": 2}, marks, BUILDING)
    assert result.loss.new_messages == 4
    assert loss_title(result.loss) == "messages lost from 2 devices in buildings A (1), B (1) (7 messages)"
    assert result.loss.building is None


def test_a_loss_after_the_alarm_was_acknowledged_starts_a_new_alarm_with_only_the_new_loss():
    marks = {"A-1": Mark(3, 3), "A-2": Mark(1, 1)}
    result = account({"A-1": 3, "A-2": 1, "B-1": 1}, marks, BUILDING, acknowledged=True)
    assert result.loss.renew
    assert loss_title(result.loss) == "messages lost from 1 device in building B (1 message)"
    assert result.marks["A-1"] == Mark(3, 0) and result.marks["A-2"] == Mark(1, 0)


def test_a_count_that_went_down_lowers_the_mark_so_a_later_loss_shows():
    result = account({"A-1": 1}, {"A-1": Mark(3, 3)}, BUILDING)
    assert result.loss is None and result.marks == {"A-1": Mark(1, 1)}
    assert account({"A-1": 2}, result.marks, BUILDING).loss.new_messages == 1


def test_devices_not_on_the_site_are_ignored():
    assert account({"X-9": 40}, {}, BUILDING).loss is None


def test_many_buildings_stay_within_the_title_length():
    building_of = {f"D-{i}": f"building-number-{i:03d}" for i in range(60)}
    result = account({d: 1 for d in building_of}, {}, building_of)
    title = loss_title(result.loss)
    assert len(title) <= 200 and title.endswith("more (60 messages)") and "60 devices" in title


def test_clears_only_once_acknowledged_and_quiet():
    last = NOW - QUIET
    assert not should_clear(None, last - timedelta(days=3), NOW)  # never by itself
    assert not should_clear(NOW, NOW - QUIET + timedelta(seconds=1), NOW)
    assert should_clear(NOW - timedelta(minutes=1), last, NOW)
    assert closed({"A-1": Mark(3, 3), "A-2": Mark(1, 0)}) == {"A-1": Mark(3, 0)}
