"""Alerts across devices, by building: what explains an alarm (suppression) and combined conditions; pure."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterable, Mapping

from estate.model import Device
from rules.evaluate import RuleIndex, step
from rules.model import IDLE, AlertCondition, Decision, Rule, RuleState

StateKey = tuple[str, str]  # (device id, rule id)


class ActiveAlerts:
    """The active alerts of the estate, looked up by building or zone and rule."""

    def __init__(self, states: Iterable[tuple[StateKey, RuleState]], devices: Mapping[str, Device]) -> None:
        self.by_building: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (building, rule) -> device -> alert
        self.by_zone: dict[tuple[str, str | None, str], dict[str, str]] = defaultdict(dict)
        self.on_device: dict[StateKey, str] = {}
        for (device_id, rule_id), state in states:
            device = devices.get(device_id)
            if state.alert is None or device is None:
                continue
            self.on_device[(device_id, rule_id)] = state.alert
            self.by_building[(device.place.building, rule_id)][device_id] = state.alert
            self.by_zone[(device.place.building, device.place.zone, rule_id)][device_id] = state.alert


def explaining_alert(rule: Rule, device: Device, active: ActiveAlerts) -> str | None:
    """Return the active alert that explains this rule's alarm on this device (e.g. the building's mains
    lost explains a stopped pump), or None when nothing does."""
    for cause in rule.suppressed_by:
        holders = active.by_building.get((device.place.building, cause))
        if holders:
            return min(holders.values())  # the same cause every time, whichever device holds it
    return None


def evaluate_composites(
    index: RuleIndex,
    active: ActiveAlerts,
    devices: Mapping[str, Device],
    states: Mapping[StateKey, RuleState],
    now: datetime,
) -> tuple[dict[StateKey, RuleState], list[Decision]]:
    """Return the state changes and decisions of rules that combine alerts of several devices."""
    changed: dict[StateKey, RuleState] = {}
    decisions: list[Decision] = []
    local = index.local(now)
    for rule in index.composites:
        condition = rule.condition
        assert isinstance(condition, AlertCondition)
        subjects = {d for (d, r) in active.on_device if r == condition.subject}
        watched = subjects | {d for (d, r), s in states.items() if r == rule.id and s != IDLE}
        for device_id in watched:
            device = devices.get(device_id)
            if device is None or not rule.applies_to(device.type):
                continue
            place = device.place
            if condition.same == "building":
                context = active.by_building.get((place.building, condition.context))
            else:
                context = active.by_zone.get((place.building, place.zone, condition.context))
            holds = device_id in subjects and bool(context)
            state = states.get((device_id, rule.id), IDLE)
            new_state, made = step(rule, device_id, holds, None, state, now, local)
            if new_state != state:
                changed[(device_id, rule.id)] = new_state
            decisions.extend(made)
    return changed, decisions
