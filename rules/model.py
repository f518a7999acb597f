"""Rules, conditions, readings, per-device rule state and the decisions evaluation returns."""

from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Mapping

from caretaker.estate.model import ShiftWindow
from caretaker.estate.shifts import is_in_window

Value = bool | float | int | str
Op = Literal[">", ">=", "<", "<=", "==", "!=", "between"]


@dataclass(frozen=True, slots=True)
class Reading:
    """What rules see of one accepted device message: telemetry values, an event, or a status."""

    device: str
    ts: datetime
    values: Mapping[str, Value] = field(default_factory=dict)
    event: str | None = None
    event_data: Mapping[str, Any] = field(default_factory=dict)
    online: bool | None = None


@dataclass(frozen=True, slots=True)
class MetricCondition:
    metric: str
    op: Op
    value: Value | tuple[float, float]

    def holds(self, values: Mapping[str, Value], params: Mapping[str, Any]) -> bool | None:
        """Return whether it holds on the device's last values; None while the metric is unknown."""
        actual = values.get(self.metric)
        if actual is None:
            return None
        expected = params.get(self.metric, self.value)
        try:
            match self.op:
                case "==":
                    return actual == expected
                case "!=":
                    return actual != expected
                case ">":
                    return actual > expected  # type: ignore[operator]
                case ">=":
                    return actual >= expected  # type: ignore[operator]
                case "<":
                    return actual < expected  # type: ignore[operator]
                case "<=":
                    return actual <= expected  # type: ignore[operator]
                case "between":
                    low, high = expected  # type: ignore[misc]
                    return low <= actual <= high  # type: ignore[operator]
        except TypeError:
            return False
        return False

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset({self.metric})


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[MetricCondition | AnyOf | AllOf, ...]

    def holds(self, values: Mapping[str, Value], params: Mapping[str, Any]) -> bool | None:
        results = [c.holds(values, params) for c in self.conditions]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset().union(*(c.metrics for c in self.conditions))


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[MetricCondition | AnyOf | AllOf, ...]

    def holds(self, values: Mapping[str, Value], params: Mapping[str, Any]) -> bool | None:
        results = [c.holds(values, params) for c in self.conditions]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset().union(*(c.metrics for c in self.conditions))


@dataclass(frozen=True, slots=True)
class EventCondition:
    """Holds for the instant of an event of this type whose `data` has the given key/values."""

    type: str
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def matches(self, reading: Reading) -> bool:
        if reading.event != self.type:
            return False
        return all(reading.event_data.get(k) == v for k, v in self.data.items())


@dataclass(frozen=True, slots=True)
class StatusCondition:
    """Holds while the device's last status (or MQTT will) says offline."""

    state: Literal["offline"] = "offline"


@dataclass(frozen=True, slots=True)
class ChangeCondition:
    """Holds while a metric has fallen (or risen) by at least `amount` within the last `within`."""

    metric: str
    direction: Literal["drop", "rise"]
    amount: float
    within: timedelta

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset({self.metric})


@dataclass(frozen=True, slots=True)
class CountCondition:
    """Holds when `count` events of a type (with the given data) arrive within `within` on one device."""

    event: EventCondition
    count: int
    within: timedelta


@dataclass(frozen=True, slots=True)
class AbsentCondition:
    """Holds while the device has sent nothing for `intervals` times its usual interval (site file `interval`,
    else `fallback`)."""

    intervals: float
    fallback: timedelta

    def limit(self, interval_s: int | None) -> timedelta:
        base = timedelta(seconds=interval_s) if interval_s else self.fallback
        return base * self.intervals


@dataclass(frozen=True, slots=True)
class AlertCondition:
    """Across devices: this device has alert `subject` active while a device in the same building (or zone)
    has alert `context` active, e.g. an occupied elevator stopped while the building's mains are lost."""

    subject: str
    context: str
    same: Literal["building", "zone"] = "building"


StateCondition = MetricCondition | AllOf | AnyOf
Condition = StateCondition | EventCondition | StatusCondition | ChangeCondition | CountCondition | AbsentCondition \
    | AlertCondition


@dataclass(frozen=True, slots=True)
class Scope:
    """Which devices of the rule's types it watches; None means any."""

    buildings: frozenset[str] | None = None
    floors: tuple[int, int] | None = None
    zones: frozenset[str] | None = None
    device_pattern: str | None = None  # shell-style, e.g. "A-*-LEAK-*"

    def includes(self, device_id: str, building: str, floor: int, zone: str | None) -> bool:
        if self.buildings is not None and building not in self.buildings:
            return False
        if self.floors is not None and not self.floors[0] <= floor <= self.floors[1]:
            return False
        if self.zones is not None and zone not in self.zones:
            return False
        return self.device_pattern is None or fnmatch.fnmatchcase(device_id, self.device_pattern)


@dataclass(frozen=True, slots=True)
class TimedUrgency:
    """A level that applies inside weekly windows in the site's time zone (a door open at night is level 1)."""

    windows: tuple[ShiftWindow, ...]
    urgency: int


@dataclass(frozen=True, slots=True)
class Chatter:
    """A condition that raises `flips` times within `within` is chattering: its alert is held active (one
    ticket, no re-raise spam) until the condition has stayed false for `within`."""

    flips: int = 4
    within: timedelta = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    device_types: frozenset[str]  # "*" matches every type
    condition: Condition
    urgency: int
    category: str
    hold_for: timedelta = timedelta(0)  # the condition must hold this long before raising
    clear_for: timedelta = timedelta(0)  # and be false this long before clearing
    clear_after: timedelta = timedelta(minutes=15)  # event rules: clear this long after the last event
    description: str = ""
    clear_condition: StateCondition | None = None  # deadband: once raised, clear only when this holds
    scope: Scope | None = None
    timed_urgency: tuple[TimedUrgency, ...] = ()
    active: tuple[ShiftWindow, ...] = ()  # evaluated only inside these windows; empty: always
    chatter: Chatter | None = None  # the rules file turns it on by default
    suppressed_by: tuple[str, ...] = ()  # rules whose active alert in the same building explains this one
    titles: tuple[tuple[str, str], ...] = ()  # (locale, title) when the title differs by language (rules/load.py)

    def applies_to(self, device_type: str) -> bool:
        return "*" in self.device_types or device_type in self.device_types

    @property
    def is_event_rule(self) -> bool:
        return isinstance(self.condition, (EventCondition, CountCondition))

    @property
    def event_type(self) -> str | None:
        if isinstance(self.condition, EventCondition):
            return self.condition.type
        if isinstance(self.condition, CountCondition):
            return self.condition.event.type
        return None

    @property
    def metrics(self) -> frozenset[str]:
        """The metrics whose readings can change this rule (for the index)."""
        found: frozenset[str] = frozenset()
        for condition in (self.condition, self.clear_condition):
            if isinstance(condition, (MetricCondition, AllOf, AnyOf, ChangeCondition)):
                found |= condition.metrics
        return found

    def urgency_at(self, local: datetime) -> int:
        """Return the level that applies at a local time: the first timed level whose window holds, else `urgency`."""
        for timed in self.timed_urgency:
            if any(is_in_window(window, local) for window in timed.windows):
                return timed.urgency
        return self.urgency

    def is_active_at(self, local: datetime) -> bool:
        return not self.active or any(is_in_window(window, local) for window in self.active)


@dataclass(frozen=True, slots=True)
class RuleState:
    """Where one rule stands for one device; saved when it changes so a restart resumes it."""

    alert: str | None = None  # the active alert's id
    pending_since: datetime | None = None  # condition true since, not yet raised
    clearing_since: datetime | None = None  # condition false since, alert still active
    clear_due: datetime | None = None  # event rules: when the alert clears by itself
    memory: tuple = ()  # recent event times (count rules) or (time, value) samples (change rules)
    raises: tuple[datetime, ...] = ()  # recent raise times, to notice chattering
    chattering: bool = False
    occurrences: int = 0  # times the condition held during the active alert (it came back before clearing)

    @property
    def is_active(self) -> bool:
        return self.alert is not None


IDLE = RuleState()


@dataclass(frozen=True, slots=True)
class Raise:
    alert: str
    rule: Rule
    device: str
    at: datetime
    urgency: int | None = None  # the level at this time of day, when the rule has timed levels
    occurrences: int = 1  # a chattering alert starts with the raises of its episode

    @property
    def level(self) -> int:
        return self.urgency if self.urgency is not None else self.rule.urgency


@dataclass(frozen=True, slots=True)
class Clear:
    alert: str
    rule: Rule
    device: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Chattering:
    """The alert's condition keeps flipping: flag it for maintenance; it stays active until stable."""

    alert: str
    rule: Rule
    device: str
    at: datetime


Decision = Raise | Clear | Chattering


@dataclass(frozen=True, slots=True)
class Episode:
    """One alert a rule raised on a device, from `start` to `end` (None while active): what a late reading
    is checked against, so a reading from inside a known alarm raises nothing new."""

    alert: str
    start: datetime
    end: datetime | None = None

    def meets(self, start: datetime, end: datetime, now: datetime) -> bool:
        return self.start <= end and (self.end or now) >= start


def alert_id(rule_id: str, device: str, at: datetime) -> str:
    """Return the id of the alert a rule raises on a device at a time; the same inputs give the same id,
    so a replayed message cannot raise a second alert."""
    digest = hashlib.blake2s(f"{rule_id}|{device}|{at.isoformat()}".encode(), digest_size=6).hexdigest()
    return f"AL-{digest}"
