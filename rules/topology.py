"""Alerts across devices, by building: what explains an alarm (suppression) and combined conditions; pure."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Iterable, Mapping

from caretaker.estate.model import Device
from caretaker.rules.evaluate import RuleIndex, step
from caretaker.rules.model import IDLE, AlertCondition, Decision, Rule, RuleState

StateKey = tuple[str, str]  # (device id, rule id)


class ActiveAlerts:
    """The active alerts of the estate, looked up by building or zone and rule.

    `supply` gives each building the buildings whose mains loss reaches it, nearest first (itself, then
    the plant building that feeds it: estate/supply.py); without it a building is fed by itself alone.
    `rules` gives each rule's trade, so an alarm that has a real incident of its own trade in its building
    joins that incident rather than being explained by an outage."""

    def __init__(self, states: Iterable[tuple[StateKey, RuleState]], devices: Mapping[str, Device],
                 supply: Mapping[str, tuple[str, ...]] | None = None, rules: Mapping[str, Rule] | None = None) -> None:
        self.by_building: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (building, rule) -> device -> alert
        self.by_zone: dict[tuple[str, str | None, str], dict[str, str]] = defaultdict(dict)
        self.on_device: dict[StateKey, str] = {}
        self.rules_in: dict[str, set[str]] = defaultdict(set)  # building -> rules with an active alert there
        self.supply = supply or {}
        self.rules = rules or {}
        for (device_id, rule_id), state in states:
            device = devices.get(device_id)
            if state.alert is None or device is None:
                continue
            self.on_device[(device_id, rule_id)] = state.alert
            self.by_building[(device.place.building, rule_id)][device_id] = state.alert
            self.by_zone[(device.place.building, device.place.zone, rule_id)][device_id] = state.alert
            self.rules_in[device.place.building].add(rule_id)

    def fed_from(self, building: str) -> tuple[str, ...]:
        """The buildings whose mains loss reaches `building`: itself first, then up its supply."""
        return self.supply.get(building) or (building,)


def _cause(rule: Rule, building: str, active: ActiveAlerts) -> tuple[str, str] | None:
    """The (rule, alert) that explains this rule's alarm in the building, nearest supply first."""
    for cause in rule.suppressed_by:
        for source in active.fed_from(building):
            holders = active.by_building.get((source, cause))
            if holders:
                return cause, min(holders.values())  # the same cause every time, whichever device holds it
    return None


def real_incident_of_trade(rule: Rule, building: str, active: ActiveAlerts) -> bool:
    """Whether an alarm of the rule's own trade that no outage explains is active in the building (a leak
    for a pressure alarm): evidence of that trade's own incident, which suppression must not take away."""
    for other_id in active.rules_in.get(building, ()):
        other = active.rules.get(other_id)
        if other is None or other.id == rule.id or other.id in rule.suppressed_by:
            continue  # the outage itself is not another incident (a UPS on battery is part of it)
        if other.category == rule.category and _cause(other, building, active) is None:
            return True
    return False


def explaining_alert(rule: Rule, device: Device, active: ActiveAlerts) -> str | None:
    """Return the active alert that explains this rule's alarm on this device (e.g. the building's mains
    lost, or the mains lost in the plant building that feeds it, explains a stopped pump), or None when
    nothing does, or when a real incident of the alarm's own trade is active in its building (the pressure
    falling where a pipe burst belongs to the plumbing incident, not to the electrician's outage)."""
    building = device.place.building
    found = _cause(rule, building, active)
    if found is None:
        return None
    cause_rule, cause = found
    outage = active.rules.get(cause_rule)
    if (outage is None or outage.category != rule.category) and real_incident_of_trade(rule, building, active):
        return None  # evidence of its own trade's incident stays with it; of the outage's trade it joins the outage
    return cause


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
