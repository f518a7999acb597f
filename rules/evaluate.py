"""Evaluate readings against indexed rules; pure: rules, a reading, state and `now` in, new state and decisions out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from caretaker.estate.model import DEVICE_EVENTS, DEVICE_METRICS, DEVICE_TYPES, Device
from caretaker.rules.model import (
    IDLE,
    AbsentCondition,
    AlertCondition,
    ChangeCondition,
    Chattering,
    Clear,
    CountCondition,
    Decision,
    Episode,
    EventCondition,
    Raise,
    Reading,
    Rule,
    RuleState,
    StatusCondition,
    Value,
    alert_id,
)


@dataclass(frozen=True, slots=True)
class _Lookup:
    """The rules one device (or device type) answers to, by what can change them."""

    by_metric: dict[str, tuple[Rule, ...]]
    by_event: dict[str, tuple[Rule, ...]]
    status: tuple[Rule, ...]
    timed: tuple[Rule, ...]
    absent: tuple[Rule, ...]


def _lookup(device_type: str, rules: Sequence[Rule]) -> _Lookup:
    by_metric = {
        metric: tuple(r for r in rules if metric in r.metrics) for metric in DEVICE_METRICS[device_type]
    }
    by_event = {
        event: tuple(r for r in rules if r.event_type == event) for event in DEVICE_EVENTS.get(device_type, ())
    }
    return _Lookup(
        by_metric=by_metric,
        by_event=by_event,
        status=tuple(r for r in rules if isinstance(r.condition, StatusCondition)),
        timed=tuple(r for r in rules if not isinstance(r.condition, AbsentCondition) and (
            r.is_event_rule or r.hold_for or r.clear_for or r.chatter or r.active
            or isinstance(r.condition, ChangeCondition))),
        absent=tuple(r for r in rules if isinstance(r.condition, AbsentCondition)),
    )


class RuleIndex:
    """Rules looked up per device by metric, event or status, so a reading costs the few rules that can
    change, never a scan of all rules; scopes are resolved once, when the index is built."""

    def __init__(self, rules: Sequence[Rule], devices: Mapping[str, Device] | None = None,
                 timezone: str = "UTC") -> None:
        self.rules: dict[str, Rule] = {r.id: r for r in rules}
        self.zone = ZoneInfo(timezone)
        self.composites: tuple[Rule, ...] = tuple(r for r in rules if isinstance(r.condition, AlertCondition))
        plain = [r for r in rules if not isinstance(r.condition, AlertCondition)]
        by_type = {t: [r for r in plain if r.applies_to(t)] for t in DEVICE_TYPES}
        self._by_type = {t: _lookup(t, by_type[t]) for t in DEVICE_TYPES}
        self._by_device: dict[str, _Lookup] = {}
        interned: dict[tuple[str, tuple[str, ...]], _Lookup] = {}
        for device in (devices or {}).values():
            place = device.place
            applicable = [r for r in by_type[device.type]
                          if r.scope is None or r.scope.includes(device.id, place.building, place.floor, place.zone)]
            key = (device.type, tuple(r.id for r in applicable))
            if key not in interned:  # devices with the same rules share one lookup
                interned[key] = _lookup(device.type, applicable)
            self._by_device[device.id] = interned[key]

    def _for(self, device_type: str, device_id: str | None) -> _Lookup:
        if device_id is not None:
            found = self._by_device.get(device_id)
            if found is not None:
                return found
        return self._by_type[device_type]

    def for_reading(self, device_type: str, reading: Reading, device_id: str | None = None) -> tuple[Rule, ...]:
        """Return the rules a reading of this device can change, each once."""
        lookup = self._for(device_type, device_id)
        if reading.event is not None:
            return lookup.by_event.get(reading.event, ())
        if reading.online is not None:
            return lookup.status
        if len(reading.values) == 1:
            (metric,) = reading.values
            return lookup.by_metric.get(metric, ())
        seen: dict[str, Rule] = {}
        for metric in reading.values:
            for rule in lookup.by_metric.get(metric, ()):
                seen.setdefault(rule.id, rule)
        return tuple(seen.values())

    def timed(self, device_type: str, device_id: str | None = None) -> tuple[Rule, ...]:
        """Return the rules whose state can change with time alone (durations, auto-clear, windows)."""
        return self._for(device_type, device_id).timed

    def absent(self, device_type: str, device_id: str | None = None) -> tuple[Rule, ...]:
        return self._for(device_type, device_id).absent

    def ticks_always(self, device_type: str, device_id: str | None = None) -> bool:
        """Return whether time alone can raise a rule on this device even while all is quiet (silence,
        a rule's hours beginning), so the tick must look at it every time."""
        lookup = self._for(device_type, device_id)
        return bool(lookup.absent) or any(r.active and not r.is_event_rule for r in lookup.timed)

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What evaluation knows of a device: id, type, last values, online state, rule overrides, last message."""

    id: str
    type: str
    values: Mapping[str, Value]
    online: bool = True
    overrides: Mapping[str, Mapping[str, Any]] | None = None
    last_seen: datetime | None = None
    interval_s: int | None = None

    def params(self, rule_id: str) -> Mapping[str, Any]:
        if not self.overrides:
            return {}
        return self.overrides.get(rule_id, {})


def _holds(rule: Rule, condition, device: DeviceView, state: RuleState, now: datetime) -> bool | None:
    if condition is None:
        return None
    if isinstance(condition, StatusCondition):
        return not device.online
    if isinstance(condition, AbsentCondition):
        if device.last_seen is None:
            return None
        return now - device.last_seen > condition.limit(device.interval_s)
    if isinstance(condition, ChangeCondition):
        samples = state.memory
        if not samples:
            return None
        current = samples[-1][1]
        values = [value for _, value in samples]
        if condition.direction == "drop":
            return max(values) - current >= condition.amount
        return current - min(values) >= condition.amount
    if isinstance(condition, (EventCondition, CountCondition, AlertCondition)):
        return None
    return condition.holds(device.values, device.params(rule.id))


def _recent(times: tuple[datetime, ...], now: datetime, window: timedelta) -> tuple[datetime, ...]:
    return tuple(t for t in times if now - t < window)


def _recurred(rule: Rule, device_id: str, state: RuleState, now: datetime) -> tuple[RuleState, list[Decision]]:
    """The condition of an active alert held again before its clear delay ran out: count the occurrence,
    and flag the alert chattering when such flips (like raises) reach the rule's count within its window."""
    recurred = replace(state, clearing_since=None, occurrences=state.occurrences + 1)
    if rule.chatter is None or state.chattering:
        return recurred, []
    flips = _recent(state.raises, now, rule.chatter.within) + (now,)
    if len(flips) < rule.chatter.flips:
        return replace(recurred, raises=flips), []
    return replace(recurred, raises=flips, chattering=True), [Chattering(state.alert, rule, device_id, now)]  # type: ignore[arg-type]


def step(rule: Rule, device_id: str, holds: bool | None, clears: bool | None, state: RuleState, now: datetime,
         local: datetime) -> tuple[RuleState, list[Decision]]:
    """Advance one state-based rule for one device, given whether its condition (and its clear condition,
    for a deadband) holds now."""
    if holds is None and not state.is_active:
        return state, []
    if state.is_active:
        wants_clear = clears is True if rule.clear_condition is not None else holds is False
        if not wants_clear:
            if state.clearing_since:  # it held again before the alert cleared: one more occurrence
                return _recurred(rule, device_id, state, now)
            return state, []
        since = state.clearing_since or now
        needed = rule.clear_for
        if state.chattering and rule.chatter is not None:
            needed = max(needed, rule.chatter.within)  # held until it has been quiet for a while
        if now - since >= needed:
            return RuleState(raises=state.raises, memory=state.memory), [Clear(state.alert, rule, device_id, now)]  # type: ignore[arg-type]
        return (state if state.clearing_since else replace(state, clearing_since=since)), []
    if not holds:
        return (replace(state, pending_since=None) if state.pending_since else state), []
    since = state.pending_since or now
    if now - since < rule.hold_for:
        return (state if state.pending_since else replace(state, pending_since=since)), []
    alert = alert_id(rule.id, device_id, now)
    raises = state.raises
    chattering = False
    if rule.chatter is not None:
        raises = _recent(raises, now, rule.chatter.within) + (now,)
        chattering = len(raises) >= rule.chatter.flips
    # a chattering alert stands for its whole episode: it counts the raises that made it chatter
    occurrences = len(raises) if chattering else 1
    decisions: list[Decision] = [Raise(alert, rule, device_id, now, rule.urgency_at(local), occurrences)]
    if chattering:
        decisions.append(Chattering(alert, rule, device_id, now))
    return RuleState(alert=alert, memory=state.memory, raises=raises, chattering=chattering,
                     occurrences=occurrences), decisions


def _event_step(rule: Rule, device: DeviceView, reading: Reading, state: RuleState, now: datetime,
                local: datetime) -> tuple[RuleState, list[Decision]]:
    condition = rule.condition
    count, within = 1, None
    if isinstance(condition, CountCondition):
        count, within, condition = condition.count, condition.within, condition.event
    assert isinstance(condition, EventCondition)
    if not condition.matches(reading):
        return state, []
    clear_due = now + rule.clear_after
    if state.is_active:
        # a repeated event keeps the one alert alive rather than raising another (a late one never shortens it)
        if state.clear_due is not None:
            clear_due = max(clear_due, state.clear_due)
        return replace(state, clear_due=clear_due, memory=()), []
    if within is not None:
        seen = _recent(state.memory, now, within) + (now,)
        if len(seen) < count:
            return replace(state, memory=seen), []
    alert = alert_id(rule.id, device.id, now)
    return RuleState(alert=alert, clear_due=clear_due), [Raise(alert, rule, device.id, now, rule.urgency_at(local))]


def _with_sample(rule: Rule, reading: Reading, state: RuleState, now: datetime) -> RuleState:
    condition = rule.condition
    assert isinstance(condition, ChangeCondition)
    value = reading.values.get(condition.metric)
    if value is None or isinstance(value, (bool, str)):
        return state
    kept = tuple(sample for sample in state.memory if now - sample[0] <= condition.within)
    return replace(state, memory=kept + ((now, float(value)),))


def _advance(rule: Rule, device: DeviceView, reading: Reading | None, state: RuleState, now: datetime,
             local: datetime) -> tuple[RuleState, list[Decision]]:
    if reading is not None and rule.is_event_rule:
        if not rule.is_active_at(local):
            return state, []
        return _event_step(rule, device, reading, state, now, local)
    if reading is not None and isinstance(rule.condition, ChangeCondition):
        state = _with_sample(rule, reading, state, now)
    if not rule.is_active_at(local):
        holds, clears = False, True  # outside its hours a rule lets its alert go
    else:
        holds = _holds(rule, rule.condition, device, state, now)
        clears = _holds(rule, rule.clear_condition, device, state, now)
    return step(rule, device.id, holds, clears, state, now, local)


def evaluate(
    index: RuleIndex,
    device: DeviceView,
    reading: Reading,
    states: Mapping[str, RuleState],
    now: datetime,
) -> tuple[dict[str, RuleState], list[Decision]]:
    """Return the changed rule states (by rule id) and the decisions this reading triggers.

    `device.values` must already include the reading's values (the device's merged last values)."""
    changed: dict[str, RuleState] = {}
    decisions: list[Decision] = []
    local = index.local(now)
    for rule in index.for_reading(device.type, reading, device.id):
        state = states.get(rule.id, IDLE)
        new_state, made = _advance(rule, device, reading, state, now, local)
        if new_state != state:
            changed[rule.id] = new_state
        decisions.extend(made)
    return changed, decisions


def tick(
    index: RuleIndex,
    device: DeviceView,
    states: Mapping[str, RuleState],
    now: datetime,
) -> tuple[dict[str, RuleState], list[Decision]]:
    """Return the state changes and decisions that time alone brings: a held condition's `for` ran out, a
    clear delay ran out, an event alert's auto-clear came due, a device fell silent, windows moved on."""
    changed: dict[str, RuleState] = {}
    decisions: list[Decision] = []
    local = index.local(now)
    for rule in index.timed(device.type, device.id) + index.absent(device.type, device.id):
        state = states.get(rule.id, IDLE)
        # an idle rule changes with time only if it watches silence or its hours may just have begun
        if state == IDLE and not isinstance(rule.condition, AbsentCondition) and not (rule.active and not rule.is_event_rule):
            continue
        if rule.is_event_rule:
            if state.is_active and state.clear_due is not None and now >= state.clear_due:
                new_state, made = IDLE, [Clear(state.alert, rule, device.id, now)]  # type: ignore[arg-type]
            elif not state.is_active and isinstance(rule.condition, CountCondition):
                kept = _recent(state.memory, now, rule.condition.within)
                new_state, made = (replace(state, memory=kept) if kept else IDLE), []
            else:
                new_state, made = state, []
        else:
            if isinstance(rule.condition, ChangeCondition) and state.memory:
                kept = tuple(s for s in state.memory if now - s[0] <= rule.condition.within)
                state = replace(state, memory=kept or state.memory[-1:])  # keep the latest value as "now"
            new_state, made = _advance(rule, device, None, state, now, local)
            if not new_state.is_active and new_state.raises and rule.chatter is not None:
                new_state = replace(new_state, raises=_recent(new_state.raises, now, rule.chatter.within))
        if new_state != states.get(rule.id, IDLE):
            changed[rule.id] = new_state
        decisions.extend(made)
    return changed, decisions


def evaluate_late(
    index: RuleIndex,
    device: DeviceView,
    reading: Reading,
    states: Mapping[str, RuleState],
    episodes: Mapping[str, Sequence[Episode]],
    superseded: Mapping[str, datetime | None],
    now: datetime,
) -> tuple[dict[str, RuleState], list[Decision], dict[str, tuple[Episode, ...]]]:
    """Evaluate a reading older than one already applied at its own time `reading.ts` (docs/rules.md, "Late
    readings"). `device.values` are the device's values as they stood then (its last values with the
    reading's laid over them); `superseded` gives per metric when a later applied reading replaced the
    reading's value (None: it is still the newest); `episodes` are the alerts each rule raised on the
    device recently. An alarm that held then is raised at its time, and cleared where the later reading
    already cleared it; a reading inside (or just before) an alert already known raises nothing and moves
    that alert's known start back to it, returned as the rule's new episodes."""
    changed: dict[str, RuleState] = {}
    decisions: list[Decision] = []
    extended: dict[str, tuple[Episode, ...]] = {}
    at = reading.ts
    local = index.local(at)
    for rule in index.for_reading(device.type, reading, device.id):
        state = states.get(rule.id, IDLE)
        known = tuple(episodes.get(rule.id, ()))
        covering: Episode | None = None
        if rule.is_event_rule:
            new_state, made, covering = _late_event(rule, device, reading, state, known, now, local)
        else:
            ends = [superseded[m] for m in rule.metrics if m in reading.values and superseded.get(m) is not None]
            if not ends:  # the reading's values are the newest this rule has: applied as in order
                new_state, made = _advance(rule, device, reading, state, at, local)
            elif isinstance(rule.condition, ChangeCondition):
                new_state, made = _late_sample(rule, reading, state), []
            else:
                new_state, made, covering = _late_episode(index, rule, device, state, known, at, min(ends), now,  # type: ignore[type-var]
                                                          local)
        if covering is not None and at < covering.start:
            extended[rule.id] = tuple(replace(e, start=at) if e == covering else e for e in known)
        if new_state != state:
            changed[rule.id] = new_state
        decisions.extend(made)
    return changed, decisions, extended


def _late_event(rule: Rule, device: DeviceView, reading: Reading, state: RuleState, known: Sequence[Episode],
                now: datetime, local: datetime) -> tuple[RuleState, list[Decision], Episode | None]:
    at = reading.ts
    if not rule.is_active_at(local):
        return state, [], None
    covering = next((e for e in known if e.meets(at, at + rule.clear_after, now)), None)
    if covering is not None:
        return state, [], covering  # the press belongs to an alert already raised
    new_state, made = _event_step(rule, device, reading, state, at, local)
    if made and new_state.clear_due is not None and new_state.clear_due <= now:
        # it was over before we heard of it: raised at its time and cleared when it would have cleared
        alert = made[0].alert
        return replace(state, memory=()), [*made, Clear(alert, rule, device.id, new_state.clear_due)], None
    return new_state, made, None


def _late_sample(rule: Rule, reading: Reading, state: RuleState) -> RuleState:
    # a change rule keeps its samples in time order; a late one joins them where it belongs
    condition = rule.condition
    assert isinstance(condition, ChangeCondition)
    value = reading.values.get(condition.metric)
    if value is None or isinstance(value, (bool, str)) or not state.memory:
        return state
    if state.memory[-1][0] - reading.ts > condition.within:
        return state
    return replace(state, memory=tuple(sorted(state.memory + ((reading.ts, float(value)),), key=lambda s: s[0])))


def _late_episode(index: RuleIndex, rule: Rule, device: DeviceView, state: RuleState, known: Sequence[Episode],
                  at: datetime, end: datetime, now: datetime,
                  local: datetime) -> tuple[RuleState, list[Decision], Episode | None]:
    """The reading's values held from `at` until `end`: raise what held that long, clear it at `end`."""
    if not rule.is_active_at(local) or not _holds(rule, rule.condition, device, state, at):
        return state, [], None
    covering = next((e for e in known if e.meets(at, end + rule.hold_for, now)), None)
    if covering is not None:
        return state, [], covering  # the alarm is known: the reading only says it began earlier or held longer
    if not state.is_active and state.pending_since is not None and at < state.pending_since <= end:
        # the condition held from this reading on into the pending run: its `for` began earlier
        return replace(state, pending_since=at), [], None
    if end - at < rule.hold_for:
        return state, [], None  # too short to raise, as it would have been in order
    raised_at = at + rule.hold_for
    alert = alert_id(rule.id, device.id, raised_at)
    decisions: list[Decision] = [Raise(alert, rule, device.id, raised_at, rule.urgency_at(index.local(raised_at)))]
    cleared_at = end + rule.clear_for
    if cleared_at <= now:
        return state, [*decisions, Clear(alert, rule, device.id, cleared_at)], None
    if not state.is_active and state.pending_since is None:
        # the later reading started the clear delay; time (the tick) finishes it
        return RuleState(alert=alert, clearing_since=end, memory=state.memory, raises=state.raises), decisions, None
    return state, [*decisions, Clear(alert, rule, device.id, now)], None
