"""Evaluate readings against indexed rules; pure: rules, a reading, state and `now` in, new state and decisions out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Mapping, Sequence

from estate.model import DEVICE_EVENTS, DEVICE_METRICS, DEVICE_TYPES
from rules.model import (
    IDLE,
    Clear,
    Decision,
    EventCondition,
    Raise,
    Reading,
    Rule,
    RuleState,
    StatusCondition,
    Value,
    alert_id,
)


class RuleIndex:
    """Rules looked up by (device type, metric), (device type, event) and device type for status,
    so a reading costs the rules that can change, never a scan of all rules."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules: dict[str, Rule] = {r.id: r for r in rules}
        self._by_metric: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self._by_event: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self._by_status: dict[str, tuple[Rule, ...]] = {}
        self._timed: dict[str, tuple[Rule, ...]] = {}
        for device_type in DEVICE_TYPES:
            applicable = [r for r in rules if r.applies_to(device_type)]
            for metric in DEVICE_METRICS[device_type]:
                self._by_metric[(device_type, metric)] = tuple(
                    r for r in applicable if not r.is_event_rule and not isinstance(r.condition, StatusCondition)
                    and metric in r.condition.metrics  # type: ignore[union-attr]
                )
            for event in DEVICE_EVENTS.get(device_type, ()):
                self._by_event[(device_type, event)] = tuple(
                    r for r in applicable if isinstance(r.condition, EventCondition) and r.condition.type == event
                )
            self._by_status[device_type] = tuple(r for r in applicable if isinstance(r.condition, StatusCondition))
            self._timed[device_type] = tuple(
                r for r in applicable if r.is_event_rule or r.hold_for or r.clear_for
            )

    def for_reading(self, device_type: str, reading: Reading) -> tuple[Rule, ...]:
        """Return the rules a reading of this device type can change, each once."""
        if reading.event is not None:
            return self._by_event.get((device_type, reading.event), ())
        if reading.online is not None:
            return self._by_status.get(device_type, ())
        if len(reading.values) == 1:
            (metric,) = reading.values
            return self._by_metric.get((device_type, metric), ())
        seen: dict[str, Rule] = {}
        for metric in reading.values:
            for rule in self._by_metric.get((device_type, metric), ()):
                seen.setdefault(rule.id, rule)
        return tuple(seen.values())

    def timed(self, device_type: str) -> tuple[Rule, ...]:
        """Return the rules whose state can change with time alone (durations, event auto-clear)."""
        return self._timed.get(device_type, ())


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What evaluation knows of a device: its id, type, last values, online state and rule overrides."""

    id: str
    type: str
    values: Mapping[str, Value]
    online: bool = True
    overrides: Mapping[str, Mapping[str, Any]] | None = None

    def params(self, rule_id: str) -> Mapping[str, Any]:
        if not self.overrides:
            return {}
        return self.overrides.get(rule_id, {})


def _condition_holds(rule: Rule, device: DeviceView) -> bool | None:
    if isinstance(rule.condition, StatusCondition):
        return not device.online
    if isinstance(rule.condition, EventCondition):
        return None
    return rule.condition.holds(device.values, device.params(rule.id))


def _step(rule: Rule, device: DeviceView, holds: bool | None, state: RuleState, now: datetime) -> tuple[RuleState, Decision | None]:
    """Advance one state-based rule for one device given whether its condition holds now."""
    if holds is None:
        return state, None
    if holds:
        if state.is_active:
            return (replace(state, clearing_since=None) if state.clearing_since else state), None
        since = state.pending_since or now
        if now - since >= rule.hold_for:
            alert = alert_id(rule.id, device.id, now)
            return RuleState(alert=alert), Raise(alert, rule, device.id, now)
        return (state if state.pending_since else replace(state, pending_since=since)), None
    if not state.is_active:
        return (IDLE if state.pending_since else state), None
    since = state.clearing_since or now
    if now - since >= rule.clear_for:
        return IDLE, Clear(state.alert, rule, device.id, now)  # type: ignore[arg-type]
    return (state if state.clearing_since else replace(state, clearing_since=since)), None


def _event_step(rule: Rule, device: DeviceView, reading: Reading, state: RuleState, now: datetime) -> tuple[RuleState, Decision | None]:
    assert isinstance(rule.condition, EventCondition)
    if not rule.condition.matches(reading):
        return state, None
    clear_due = now + rule.clear_after
    if state.is_active:
        # a repeated event keeps the one alert alive rather than raising another
        return replace(state, clear_due=clear_due), None
    alert = alert_id(rule.id, device.id, now)
    return RuleState(alert=alert, clear_due=clear_due), Raise(alert, rule, device.id, now)


def evaluate(
    index: RuleIndex,
    device: DeviceView,
    reading: Reading,
    states: Mapping[str, RuleState],
    now: datetime,
) -> tuple[dict[str, RuleState], list[Decision]]:
    """Return the changed rule states (by rule id) and the raise/clear decisions this reading triggers.

    `device.values` must already include the reading's values (the device's merged last values)."""
    changed: dict[str, RuleState] = {}
    decisions: list[Decision] = []
    for rule in index.for_reading(device.type, reading):
        state = states.get(rule.id, IDLE)
        if rule.is_event_rule:
            new_state, decision = _event_step(rule, device, reading, state, now)
        else:
            new_state, decision = _step(rule, device, _condition_holds(rule, device), state, now)
        if new_state != state:
            changed[rule.id] = new_state
        if decision is not None:
            decisions.append(decision)
    return changed, decisions


def tick(
    index: RuleIndex,
    device: DeviceView,
    states: Mapping[str, RuleState],
    now: datetime,
) -> tuple[dict[str, RuleState], list[Decision]]:
    """Return the state changes and decisions that time alone brings: a held condition's `for` ran out,
    a clear delay ran out, an event alert's auto-clear came due."""
    changed: dict[str, RuleState] = {}
    decisions: list[Decision] = []
    for rule in index.timed(device.type):
        state = states.get(rule.id)
        if state is None or state == IDLE:
            continue
        if rule.is_event_rule:
            if state.is_active and state.clear_due is not None and now >= state.clear_due:
                changed[rule.id] = IDLE
                decisions.append(Clear(state.alert, rule, device.id, now))  # type: ignore[arg-type]
            continue
        if state.pending_since is None and state.clearing_since is None:
            continue
        new_state, decision = _step(rule, device, _condition_holds(rule, device), state, now)
        if new_state != state:
            changed[rule.id] = new_state
        if decision is not None:
            decisions.append(decision)
    return changed, decisions
