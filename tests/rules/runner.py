"""A hand-written runner for rule tests: what the pipeline does around evaluate() and tick(), on a fixed clock.

Step notation: (seconds after T0, what happens, the decisions expected), a decision written "+rule" (raise),
"-rule" (clear) or "~rule" (chattering)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from caretaker.rules.due import next_due
from caretaker.rules.evaluate import DeviceView, RuleIndex, evaluate, tick
from caretaker.rules.model import IDLE, Chattering, Clear, Decision, Raise, Reading, RuleState, alert_id

DEFAULT_RULES_FILE = Path(__file__).resolve().parents[2] / "rules" / "default_rules.yaml"
T0 = datetime(2026, 11, 23, 2, 0, 0, tzinfo=timezone.utc)  # the fixed clock: Monday 02:00 UTC, 10:00 in Shanghai


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def notation(decision: Decision) -> str:
    mark = "+" if isinstance(decision, Raise) else "~" if isinstance(decision, Chattering) else "-"
    return mark + decision.rule.id


def check_decisions(device_id: str, before: Mapping[str, RuleState], changed: Mapping[str, RuleState],
                    decisions: list[Decision]) -> None:
    """Decisions must follow the alert lifecycle, one after the other, and agree with the new states."""
    live = {rule_id: state.alert for rule_id, state in before.items() if state.is_active}
    for decision in decisions:
        rule_id = decision.rule.id
        assert decision.device == device_id
        if isinstance(decision, Raise):
            assert rule_id not in live, f"{rule_id} raised a second alert while one is active"
            assert decision.alert == alert_id(rule_id, device_id, decision.at)
            live[rule_id] = decision.alert
        elif isinstance(decision, Chattering):
            assert live.get(rule_id) == decision.alert, f"{rule_id} flagged chattering on an alert that is not active"
        else:
            assert isinstance(decision, Clear)
            assert live.get(rule_id) == decision.alert, f"{rule_id} cleared an alert that is not active"
            del live[rule_id]
    after = {**before, **changed}
    assert {r: s.alert for r, s in after.items() if s.is_active} == live, "states disagree with the decisions"


@dataclass
class FakeDevice:
    """One device's merged last values, online state, last message time and rule states."""

    index: RuleIndex
    id: str
    type: str
    overrides: Mapping[str, Mapping[str, Any]] | None = None
    interval_s: int | None = None
    last_seen: datetime | None = None  # None: never heard from (absence is unknown)
    values: dict[str, Any] = field(default_factory=dict)
    online: bool = True
    states: dict[str, RuleState] = field(default_factory=dict)
    log: list[Decision] = field(default_factory=list)
    # the pipeline's schedule (rules/due.py): when the tick must next look, worked out after every step, so
    # every rule test also proves that a tick the schedule would skip changes nothing
    due: datetime | None = None
    scheduled: bool = False

    def view(self) -> DeviceView:
        return DeviceView(self.id, self.type, dict(self.values), self.online, self.overrides, self.last_seen,
                          self.interval_s)

    def _apply(self, changed: dict[str, RuleState], decisions: list[Decision]) -> list[Decision]:
        check_decisions(self.id, self.states, changed, decisions)
        for rule_id, state in changed.items():
            if state == IDLE:
                self.states.pop(rule_id, None)  # as the pipeline does
            else:
                self.states[rule_id] = state
        self.log.extend(decisions)
        return decisions

    def _reschedule(self, now: datetime) -> None:
        self.due, self.scheduled = next_due(self.index, self.view(), self.states, now), True

    def _reading(self, reading: Reading) -> list[Decision]:
        self.last_seen = reading.ts
        decisions = self._apply(*evaluate(self.index, self.view(), reading, self.states, reading.ts))
        self._reschedule(reading.ts)
        return decisions

    def send(self, now: datetime, values: Mapping[str, Any]) -> list[Decision]:
        self.values.update(values)  # the snapshot merges first: DeviceView.values includes the reading
        return self._reading(Reading(self.id, now, values=dict(values)))

    def event(self, now: datetime, event: str, data: Mapping[str, Any] | None = None) -> list[Decision]:
        return self._reading(Reading(self.id, now, event=event, event_data=dict(data or {})))

    def status(self, now: datetime, online: bool) -> list[Decision]:
        self.online = online
        return self._reading(Reading(self.id, now, online=online))

    def tick(self, now: datetime) -> list[Decision]:
        changed, decisions = tick(self.index, self.view(), self.states, now)
        if self.scheduled and (changed or decisions):
            assert self.due is not None and self.due <= now, (
                f"the tick at {now} changed {sorted(changed)} but the schedule said {self.due}")
        decisions = self._apply(changed, decisions)
        self._reschedule(now)
        # and once the tick has looked, the device is not due again at once: a busy schedule saves nothing
        assert self.due is None or self.due > now, f"due again at once after the tick at {now}: {self.due}"
        return decisions

    @property
    def active(self) -> set[str]:
        return {rule_id for rule_id, state in self.states.items() if state.is_active}


def V(**values: Any) -> tuple[str, Any]:
    return ("values", values)


def E(event: str, **data: Any) -> tuple[str, Any]:
    return ("event", (event, data))


def S(online: bool) -> tuple[str, Any]:
    return ("status", online)


TICK = ("tick", None)


def do(device: FakeDevice, seconds: float, what: tuple[str, Any]) -> list[Decision]:
    now = at(seconds)
    kind, arg = what
    if kind == "values":
        return device.send(now, arg)
    if kind == "event":
        return device.event(now, arg[0], arg[1])
    if kind == "status":
        return device.status(now, arg)
    return device.tick(now)


def run(device: FakeDevice, steps: list[tuple[float, tuple[str, Any], list[str]]]) -> None:
    for n, (seconds, what, expected) in enumerate(steps):
        decisions = do(device, seconds, what)
        got = [notation(d) for d in decisions]
        assert got == expected, f"step {n} at {seconds}s {what}: expected {expected}, got {got}"
        assert all(d.at == at(seconds) for d in decisions)
