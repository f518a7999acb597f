"""Rules, conditions, readings, per-device rule state and the decisions evaluation returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Mapping

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


StateCondition = MetricCondition | AllOf | AnyOf
Condition = StateCondition | EventCondition | StatusCondition


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

    def applies_to(self, device_type: str) -> bool:
        return "*" in self.device_types or device_type in self.device_types

    @property
    def is_event_rule(self) -> bool:
        return isinstance(self.condition, EventCondition)


@dataclass(frozen=True, slots=True)
class RuleState:
    """Where one rule stands for one device; saved when it changes so a restart resumes it."""

    alert: str | None = None  # the active alert's id
    pending_since: datetime | None = None  # condition true since, not yet raised
    clearing_since: datetime | None = None  # condition false since, alert still active
    clear_due: datetime | None = None  # event rules: when the alert clears by itself

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


@dataclass(frozen=True, slots=True)
class Clear:
    alert: str
    rule: Rule
    device: str
    at: datetime


Decision = Raise | Clear


def alert_id(rule_id: str, device: str, at: datetime) -> str:
    """Return the id of the alert a rule raises on a device at a time; the same inputs give the same id,
    so a replayed message cannot raise a second alert."""
    digest = hashlib.blake2s(f"{rule_id}|{device}|{at.isoformat()}".encode(), digest_size=6).hexdigest()
    return f"AL-{digest}"
