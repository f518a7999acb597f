"""When time alone next changes a device's rules: the schedule the pipeline's tick keeps (docs/rules.md,
"Time-only changes"). Pure: rules, a device, its rule states and `now` in, an instant (or None) out.

`next_due` answers with the earliest instant at which `evaluate.tick` may bring a state change or a decision
for the device, were nothing to arrive from it before then. It may answer early (a tick then finds nothing
and asks again), never late: a late answer would be an alarm raised late."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

from caretaker.estate.model import ShiftWindow
from caretaker.rules.evaluate import DeviceView, RuleIndex, _holds
from caretaker.rules.model import (
    IDLE,
    AbsentCondition,
    ChangeCondition,
    CountCondition,
    Rule,
    RuleState,
)

_JUST_AFTER = timedelta(microseconds=1)  # for conditions tested with a strict ">" (silence, a change's window)
_WEEK_AHEAD = 8  # windows repeat weekly: the next boundary is within eight local days


def next_due(index: RuleIndex, device: DeviceView, states: Mapping[str, RuleState],
             now: datetime) -> datetime | None:
    """Return the earliest instant (at or after `now`) at which `tick` may change something on this device,
    or None when only a message can. `now` and the times in `device` and `states` are the device's time, as
    the tick uses them."""
    due: datetime | None = None
    local = index.local(now)
    for rule in index.timed(device.type, device.id) + index.absent(device.type, device.id):
        state = states.get(rule.id, IDLE)
        # the tick's own skip: an idle rule changes with time only if it watches silence or has hours
        if state == IDLE and not isinstance(rule.condition, AbsentCondition) and not (
                rule.active and not rule.is_event_rule):
            continue
        found = _event_due(rule, state) if rule.is_event_rule else _state_due(index, rule, device, state, now, local)
        if found is not None and (due is None or found < due):
            due = found
    return due


def _event_due(rule: Rule, state: RuleState) -> datetime | None:
    if state.is_active:
        return state.clear_due  # the auto-clear
    if isinstance(rule.condition, CountCondition) and state.memory:
        return min(state.memory) + rule.condition.within  # the oldest event leaves the window
    return None


def _state_due(index: RuleIndex, rule: Rule, device: DeviceView, state: RuleState, now: datetime,
               local: datetime) -> datetime | None:
    times: list[datetime] = []
    condition = rule.condition
    if isinstance(condition, ChangeCondition) and len(state.memory) > 1:
        # the oldest sample leaves the window (the latest always stays as "now")
        times.append(min(t for t, _ in state.memory) + condition.within + _JUST_AFTER)
    if isinstance(condition, AbsentCondition) and device.last_seen is not None:
        silent = device.last_seen + condition.limit(device.interval_s) + _JUST_AFTER
        if silent > now:  # once past, the silence is in `holds` below
            times.append(silent)
    if rule.active:
        boundary = next_window_change(rule.active, local, index.zone)
        if boundary is not None:
            times.append(boundary)
    if rule.is_active_at(local):
        holds = _holds(rule, condition, device, state, now)
        clears = _holds(rule, rule.clear_condition, device, state, now)
    else:
        holds, clears = False, True  # outside its hours a rule lets its alert go
    held = held_due(rule, holds, clears, state, now)
    if held is not None:
        times.append(held)
    if not state.is_active and state.raises and rule.chatter is not None:
        times.append(min(state.raises) + rule.chatter.within)  # a raise leaves the chatter window
    return min(times) if times else None


def held_due(rule: Rule, holds: bool | None, clears: bool | None, state: RuleState,
             now: datetime) -> datetime | None:
    """When `evaluate.step` next acts on a state-based rule whose condition stays as it is now: its `for` or
    its clear delay runs out, or `now` when the state does not yet reflect the condition."""
    if state.is_active:
        wants_clear = clears is True if rule.clear_condition is not None else holds is False
        if not wants_clear:
            return now if state.clearing_since else None  # it held again: one more occurrence
        if state.clearing_since is None:
            return now
        needed = rule.clear_for
        if state.chattering and rule.chatter is not None:
            needed = max(needed, rule.chatter.within)
        return state.clearing_since + needed
    if holds is None:
        return None
    if not holds:
        return now if state.pending_since else None
    if state.pending_since is None:
        return now
    return state.pending_since + rule.hold_for


def composite_due(rule: Rule, state: RuleState) -> datetime | None:
    """When a rule over other alerts (rules/topology.py) next acts by time alone: its `for` or clear delay
    runs out. Otherwise only an alert raised or cleared changes it, and that is a batch of its own."""
    if state.pending_since is not None and not state.is_active:
        return state.pending_since + rule.hold_for
    if state.clearing_since is not None and state.is_active:
        needed = rule.clear_for
        if state.chattering and rule.chatter is not None:
            needed = max(needed, rule.chatter.within)
        return state.clearing_since + needed
    return None


def next_window_change(windows: tuple[ShiftWindow, ...], local: datetime, zone: ZoneInfo) -> datetime | None:
    """Return the first instant (in UTC) after `local` at which being inside one of the weekly `windows` may
    change: a window's start or end in wall-clock time, or a clock change (DST) before it, when the wall
    clock jumps."""
    after = local.astimezone(timezone.utc)  # instants compared in UTC: aware times in one zone compare as wall times
    found: datetime | None = None
    today = local.replace(tzinfo=None).date()
    for offset in range(-1, _WEEK_AHEAD):
        day = today + timedelta(days=offset)
        for window in windows:
            if day.weekday() not in window.weekdays:
                continue
            for minute in (window.start_min, window.end_min):
                for instant in _instants(day, minute, zone):
                    if instant > after and (found is None or instant < found):
                        found = instant
    if found is not None and found.astimezone(zone).utcoffset() != after.astimezone(zone).utcoffset():
        found = min(found, _offset_change(after, found, zone))  # the wall clock jumps before the boundary
    return found


def _instants(day: date, minute: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (UTC) a wall-clock time can be: two on the night the clocks go back, one (twice)
    otherwise; in the hour skipped when they go forward, both readings, the earlier of which is before the jump."""
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return (wall.replace(tzinfo=zone).astimezone(timezone.utc),
            wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc))


def _offset_change(start: datetime, end: datetime, zone: ZoneInfo) -> datetime:
    """The first instant (UTC, to the second) after `start` whose offset in `zone` differs from `start`'s,
    `end` having another offset."""
    low, high = start, end
    offset = start.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    return high
