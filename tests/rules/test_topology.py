"""Alerts across devices by building: entrapment-risk (a combined rule) and suppression by an outage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from caretaker.estate.model import Device, Place
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import load_rules
from caretaker.rules.model import IDLE, Decision, RuleState, alert_id
from caretaker.rules.topology import ActiveAlerts, evaluate_composites, explaining_alert
from tests.rules.runner import DEFAULT_RULES_FILE, TICK, E, FakeDevice, V, at, check_decisions, do, notation

RULES = load_rules(DEFAULT_RULES_FILE)
BY_ID = {r.id: r for r in RULES}
DEVICES = {d.id: d for d in [
    Device("A-LIFT-1", "elevator", Place("A", 1, "core")),
    Device("A-LIFT-2", "elevator", Place("A", 1, "core")),
    Device("A-METER", "power_meter", Place("A", -1, "plant")),
    Device("A-PUMP-1", "water_pump", Place("A", -1, "plant")),
    Device("B-LIFT-1", "elevator", Place("B", 1, "core")),
    Device("B-METER", "power_meter", Place("B", -1, "plant")),
    Device("B-PUMP-1", "water_pump", Place("B", -1, "plant")),
]}
INDEX = RuleIndex(RULES, DEVICES)


@dataclass
class FakeEstate:
    """Every device of the site driven through evaluate/tick, then the combined rules, as the pipeline does."""

    index: RuleIndex
    devices: dict[str, FakeDevice] = field(default_factory=dict)
    composite: dict[tuple[str, str], RuleState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.devices = {d.id: FakeDevice(self.index, d.id, d.type, interval_s=3600) for d in DEVICES.values()}

    def states(self) -> dict[tuple[str, str], RuleState]:
        found = {(d.id, r): s for d in self.devices.values() for r, s in d.states.items()}
        return {**found, **self.composite}

    def step(self, seconds: float, device_id: str | None, what: tuple[str, Any]) -> list[Decision]:
        if device_id is None:  # a tick: time passes for every device
            decisions = [d for device in self.devices.values() for d in do(device, seconds, TICK)]
        else:
            decisions = do(self.devices[device_id], seconds, what)
        states = self.states()
        changed, combined = evaluate_composites(self.index, ActiveAlerts(states.items(), DEVICES), DEVICES, states,
                                                at(seconds))
        for device_id_ in {d.device for d in combined} | {k[0] for k in changed}:
            before = {r: s for (dev, r), s in self.composite.items() if dev == device_id_}
            mine = {r: s for (dev, r), s in changed.items() if dev == device_id_}
            check_decisions(device_id_, before, mine, [d for d in combined if d.device == device_id_])
        for key, state in changed.items():
            if state == IDLE:
                self.composite.pop(key, None)
            else:
                self.composite[key] = state
        return decisions + combined


# (seconds, device or None for a tick of every device, what happens, expected "+rule@device" / "-rule@device")
ENTRAPMENT = [
    ("occupied-lift-stopped-then-mains-lost-same-building", [
        (0, "A-LIFT-1", V(state="stopped", occupied=True), []),
        (20, None, TICK, ["+elevator-stopped-occupied@A-LIFT-1"]),
        (30, "A-METER", V(mains_ok=False), []),
        (35, None, TICK, ["+mains-power-lost@A-METER", "+entrapment-risk@A-LIFT-1"]),
        (40, None, TICK, []),
        (50, "A-LIFT-1", V(state="normal"), ["-elevator-stopped-occupied@A-LIFT-1", "-entrapment-risk@A-LIFT-1"]),
        (60, None, TICK, []),
    ]),
    ("mains-lost-first-then-lift-stops", [
        (0, "A-METER", V(mains_ok=False), []),
        (5, None, TICK, ["+mains-power-lost@A-METER"]),
        (10, "A-LIFT-2", V(state="stopped", occupied=True), []),
        (30, None, TICK, ["+elevator-stopped-occupied@A-LIFT-2", "+entrapment-risk@A-LIFT-2"]),
        (40, "A-METER", V(mains_ok=True), ["-mains-power-lost@A-METER", "-entrapment-risk@A-LIFT-2"]),
        (50, None, TICK, []),
    ]),
    ("mains-lost-in-another-building-does-not-combine", [
        (0, "A-LIFT-1", V(state="stopped", occupied=True), []),
        (20, None, TICK, ["+elevator-stopped-occupied@A-LIFT-1"]),
        (30, "B-METER", V(mains_ok=False), []),
        (35, None, TICK, ["+mains-power-lost@B-METER"]),
        (100, None, TICK, []),
    ]),
    ("each-occupied-lift-in-the-building-gets-its-own", [
        (0, "A-METER", V(mains_ok=False), []),
        (0, "A-LIFT-1", V(state="stopped", occupied=True), []),
        (0, "A-LIFT-2", V(state="stopped", occupied=True), []),
        (0, "B-LIFT-1", V(state="stopped", occupied=True), []),
        (5, None, TICK, ["+mains-power-lost@A-METER"]),
        (20, None, TICK, ["+elevator-stopped-occupied@A-LIFT-1", "+elevator-stopped-occupied@A-LIFT-2",
                          "+elevator-stopped-occupied@B-LIFT-1", "+entrapment-risk@A-LIFT-1",
                          "+entrapment-risk@A-LIFT-2"]),
    ]),
    ("an-alarm-button-is-not-a-stopped-occupied-lift", [
        (0, "A-METER", V(mains_ok=False), []),
        (5, None, TICK, ["+mains-power-lost@A-METER"]),
        (10, "A-LIFT-1", E("alarm_button"), ["+elevator-alarm-button@A-LIFT-1"]),
        (11, None, TICK, []),
    ]),
]


@pytest.mark.parametrize("steps", [s[1] for s in ENTRAPMENT], ids=[s[0] for s in ENTRAPMENT])
def test_entrapment_risk(steps: list) -> None:
    estate = FakeEstate(INDEX)
    for n, (seconds, device_id, what, expected) in enumerate(steps):
        got = [f"{notation(d)}@{d.device}" for d in estate.step(seconds, device_id, what)]
        assert sorted(got) == sorted(expected), f"step {n} at {seconds}s: expected {expected}, got {got}"


def test_entrapment_risk_alert_is_raised_and_cleared_by_the_same_id_at_level_1() -> None:
    estate = FakeEstate(INDEX)
    estate.step(0, "A-LIFT-1", V(state="stopped", occupied=True))
    estate.step(0, "A-METER", V(mains_ok=False))
    raised = [d for d in estate.step(20, None, TICK) if d.rule.id == "entrapment-risk"]
    (cleared,) = [d for d in estate.step(25, "A-METER", V(mains_ok=True)) if d.rule.id == "entrapment-risk"]
    assert raised[0].alert == cleared.alert == alert_id("entrapment-risk", "A-LIFT-1", at(20))
    assert raised[0].level == 1 and raised[0].rule.category == "elevator"


def test_composites_are_not_per_device_rules() -> None:
    assert [r.id for r in INDEX.composites] == ["entrapment-risk"]
    assert "entrapment-risk" not in {r.id for r in INDEX.timed("elevator", "A-LIFT-1")}


# -- suppression: what explains an alarm --------------------------------------------------------------

def active(*alerts: tuple[str, str, str]) -> ActiveAlerts:
    """Active alerts from (device, rule, alert id); an idle state is not an alert."""
    states = [((device, rule), RuleState(alert=alert)) for device, rule, alert in alerts]
    states.append((("B-METER", "mains-power-lost"), IDLE))
    return ActiveAlerts(states, DEVICES)


OUTAGE_A = ("A-METER", "mains-power-lost", "AL-outage-A")
SUPPRESSION = [
    # (id, rule, device, active alerts, the explaining alert)
    ("pump-fault-same-building", "pump-fault", "A-PUMP-1", [OUTAGE_A], "AL-outage-A"),
    ("pump-fault-other-building", "pump-fault", "B-PUMP-1", [OUTAGE_A], None),
    ("pump-fault-no-outage", "pump-fault", "A-PUMP-1", [], None),
    ("pump-fault-outage-on-its-own-device-type-elsewhere", "pump-fault", "B-PUMP-1",
     [("A-PUMP-1", "mains-power-lost", "AL-odd")], None),
    ("occupied-lift-never-suppressed", "elevator-stopped-occupied", "A-LIFT-1", [OUTAGE_A], None),
    ("entrapment-risk-never-suppressed", "entrapment-risk", "A-LIFT-1", [OUTAGE_A], None),
    ("empty-lift-stopped-explained", "elevator-stopped", "A-LIFT-1", [OUTAGE_A], "AL-outage-A"),
    ("device-offline-explained", "device-offline", "A-LIFT-2", [OUTAGE_A], "AL-outage-A"),
    ("device-silent-explained", "device-silent", "A-PUMP-1", [OUTAGE_A], "AL-outage-A"),
    ("water-leak-never-suppressed", "water-leak", "A-PUMP-1", [OUTAGE_A], None),
    ("another-alarm-is-not-a-cause", "pump-fault", "A-PUMP-1", [("A-LIFT-1", "elevator-fault", "AL-x")], None),
    ("two-meters-the-same-cause-every-time", "pump-fault", "A-PUMP-1",
     [OUTAGE_A, ("A-LIFT-1", "mains-power-lost", "AL-outage-0")], "AL-outage-0"),
]


@pytest.mark.parametrize(("rule_id", "device_id", "alerts", "expected"), [s[1:] for s in SUPPRESSION],
                         ids=[s[0] for s in SUPPRESSION])
def test_explaining_alert(rule_id: str, device_id: str, alerts: list, expected: str | None) -> None:
    assert explaining_alert(BY_ID[rule_id], DEVICES[device_id], active(*alerts)) == expected


def test_outage_raised_by_the_estate_explains_the_pump() -> None:
    estate = FakeEstate(INDEX)
    estate.step(0, "A-METER", V(mains_ok=False))
    estate.step(0, "A-PUMP-1", V(fault=True))
    decisions = estate.step(5, None, TICK)
    assert [notation(d) for d in decisions] == ["+mains-power-lost"]  # the pump waits for the outage rule
    (pump,) = estate.step(7, None, TICK)
    assert notation(pump) == "+pump-fault"
    outage = estate.devices["A-METER"].states["mains-power-lost"].alert
    assert explaining_alert(pump.rule, DEVICES["A-PUMP-1"], ActiveAlerts(estate.states().items(), DEVICES)) == outage


def test_active_alerts_index_by_building_and_zone() -> None:
    alerts = active(OUTAGE_A, ("A-LIFT-1", "elevator-stopped-occupied", "AL-1"))
    assert alerts.by_building[("A", "mains-power-lost")] == {"A-METER": "AL-outage-A"}
    assert alerts.by_zone[("A", "core", "elevator-stopped-occupied")] == {"A-LIFT-1": "AL-1"}
    assert ("B", "mains-power-lost") not in alerts.by_building
    assert alerts.on_device == {("A-METER", "mains-power-lost"): "AL-outage-A",
                                ("A-LIFT-1", "elevator-stopped-occupied"): "AL-1"}


def test_an_unknown_device_is_left_out() -> None:
    alerts = ActiveAlerts([(("GONE-1", "pump-fault"), RuleState(alert="AL-9"))], DEVICES)
    assert alerts.on_device == {} and not alerts.by_building


# -- suppression along the supply: a plant building's mains loss reaches the towers it feeds ------------

SUPPLIED = {**DEVICES, "P-METER": Device("P-METER", "power_meter", Place("P", -1, "substation")),
            "A-PRESS-1": Device("A-PRESS-1", "water_pressure", Place("A", -1, "plant")),
            "A-LEAK-1": Device("A-LEAK-1", "water_leak", Place("A", -1, "plant")),
            "B-LEAK-1": Device("B-LEAK-1", "water_leak", Place("B", -1, "plant"))}
SUPPLY = {"P": ("P",), "A": ("A", "P"), "B": ("B",)}  # P feeds A; B has its own supply
OUTAGE_P = ("P-METER", "mains-power-lost", "AL-outage-P")
ALONG_SUPPLY = [
    # (id, rule, device, active alerts, the explaining alert)
    ("plant-outage-explains-the-tower-it-feeds", "pump-fault", "A-PUMP-1", [OUTAGE_P], "AL-outage-P"),
    ("plant-outage-explains-a-stopped-lift", "elevator-stopped", "A-LIFT-1", [OUTAGE_P], "AL-outage-P"),
    ("plant-outage-explains-falling-pressure", "pressure-falling-fast", "A-PRESS-1", [OUTAGE_P], "AL-outage-P"),
    ("plant-outage-not-a-tower-it-does-not-feed", "pump-fault", "B-PUMP-1", [OUTAGE_P], None),
    ("the-tower-s-own-outage-comes-first", "pump-fault", "A-PUMP-1", [OUTAGE_P, OUTAGE_A], "AL-outage-A"),
    # a real incident of the alarm's own trade in its building keeps its evidence
    ("a-leak-keeps-falling-pressure-in-its-incident", "pressure-falling-fast", "A-PRESS-1",
     [OUTAGE_A, ("A-LEAK-1", "water-leak", "AL-leak")], None),
    ("a-leak-fed-from-the-plant-keeps-it-too", "pressure-falling-fast", "A-PRESS-1",
     [OUTAGE_P, ("A-LEAK-1", "water-leak", "AL-leak")], None),
    ("a-leak-in-another-building-does-not", "pressure-falling-fast", "A-PRESS-1",
     [OUTAGE_A, ("B-LEAK-1", "water-leak", "AL-leak")], "AL-outage-A"),
    ("another-trade-s-incident-does-not", "pump-fault", "A-PUMP-1",
     [OUTAGE_A, ("A-LIFT-1", "elevator-stopped-occupied", "AL-trapped")], "AL-outage-A"),
    ("an-explained-alarm-of-the-trade-is-no-incident", "pressure-falling-fast", "A-PRESS-1",
     [OUTAGE_A, ("A-PUMP-1", "pump-fault", "AL-pump")], "AL-outage-A"),
]


@pytest.mark.parametrize(("rule_id", "device_id", "alerts", "expected"), [s[1:] for s in ALONG_SUPPLY],
                         ids=[s[0] for s in ALONG_SUPPLY])
def test_explaining_alert_along_the_supply(rule_id: str, device_id: str, alerts: list, expected: str | None) -> None:
    states = [((device, rule), RuleState(alert=alert)) for device, rule, alert in alerts]
    found = ActiveAlerts(states, SUPPLIED, supply=SUPPLY, rules=BY_ID)
    assert explaining_alert(BY_ID[rule_id], SUPPLIED[device_id], found) == expected


def test_the_outage_itself_is_not_another_incident_of_its_trade() -> None:
    """A UPS on battery is electrical like the outage: the outage explains it, it is not a second incident."""
    states = [(("A-METER", "mains-power-lost"), RuleState(alert="AL-outage-A"))]
    ups = Device("A-UPS-1", "ups", Place("A", -1, "plant"))
    found = ActiveAlerts(states, {**SUPPLIED, ups.id: ups}, supply=SUPPLY, rules=BY_ID)
    assert "mains-power-lost" in BY_ID["ups-on-battery"].suppressed_by
    assert explaining_alert(BY_ID["ups-on-battery"], ups, found) == "AL-outage-A"


def test_an_alarm_of_the_outage_s_own_trade_stays_with_the_outage() -> None:
    """A generator that failed to start is a real electrical alarm, but a UPS on battery still belongs to
    the electrician's outage: nothing moves to another trade."""
    states = [(("A-METER", "mains-power-lost"), RuleState(alert="AL-outage-A")),
              (("A-GEN-1", "generator-start-failed"), RuleState(alert="AL-gen"))]
    more = {d.id: d for d in (Device("A-UPS-1", "ups", Place("A", -1)), Device("A-GEN-1", "generator", Place("A", -1)))}
    found = ActiveAlerts(states, {**SUPPLIED, **more}, supply=SUPPLY, rules=BY_ID)
    assert BY_ID["generator-start-failed"].category == BY_ID["ups-on-battery"].category == "electrical"
    assert explaining_alert(BY_ID["ups-on-battery"], more["A-UPS-1"], found) == "AL-outage-A"
