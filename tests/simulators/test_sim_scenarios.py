"""Scenarios: deterministic for a seed, on whatever devices the site has, back to normal at the end."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from caretaker.estate.model import DEVICE_EVENTS, DEVICE_METRICS, Site

from caretaker.simulators.clock import VirtualScheduler
from caretaker.simulators.runner import SCENARIOS, Simulation
from caretaker.simulators.scenarios import REGISTRY, ScenarioUnavailable


def _play(site: Site, name: str, seed: int, recorder, with_bots: bool = False) -> Simulation:
    sim = Simulation(site, VirtualScheduler(), lambda d: recorder,
                     (lambda t: recorder) if with_bots else None, seed=seed, speed=1.0, log=lambda s: None)
    sim.start()
    sim.play(name)
    return sim


def _telemetry(recorder, predicate: Callable[[str, dict], bool]) -> list[tuple[str, dict]]:
    found = []
    for m in recorder.on("/telemetry"):
        device = m.topic.split("/")[3]
        values = m.body["values"]
        if predicate(device, values):
            found.append((device, values))
    return found


def _events(recorder, event_type: str) -> list[tuple[str, dict]]:
    return [(m.topic.split("/")[3], m.body) for m in recorder.on("/event") if m.body["type"] == event_type]


def test_every_scenario_is_registered_with_a_one_line_description():
    assert set(SCENARIOS) == {"burst-pipe", "elevator-entrapment", "power-outage", "door-forced"}
    assert all(d and "\n" not in d for d in SCENARIOS.values())


@pytest.mark.parametrize("name", list(REGISTRY))
def test_scenario_is_deterministic_for_a_seed(name, small_site, new_recorder):
    first, second = new_recorder(), new_recorder()
    _play(small_site, name, 42, first, with_bots=True)
    _play(small_site, name, 42, second, with_bots=True)
    assert first.messages == second.messages
    assert len(first.messages) > len(small_site.devices)


def test_another_seed_plays_differently(small_site, new_recorder):
    runs = []
    for seed in (1, 2):
        rec = new_recorder()
        _play(small_site, "burst-pipe", seed, rec)
        runs.append(rec.messages)
    assert runs[0] != runs[1]


@pytest.mark.parametrize("name", list(REGISTRY))
def test_scenario_ends_normal_and_messages_keep_the_contract(name, small_site, recorder):
    sim = _play(small_site, name, 3, recorder)
    assert all(not s.forced for s in sim.fleet), "a scenario left a value forced"
    for m in recorder.messages:
        body = json.loads(m.payload)
        device_type = small_site.devices[m.topic.split("/")[3]].type
        if m.topic.endswith("/telemetry"):
            assert set(body["values"]) == set(DEVICE_METRICS[device_type])
        elif m.topic.endswith("/event"):
            assert body["type"] in DEVICE_EVENTS[device_type] and m.qos == 1


@pytest.mark.parametrize("seed", range(5))
def test_burst_pipe_wets_several_floors_of_one_building(seed, small_site, recorder):
    _play(small_site, "burst-pipe", seed, recorder)
    wet = {d for d, v in _telemetry(recorder, lambda d, v: v.get("leak") is True)}
    assert 3 <= len(wet) <= 6
    assert len({small_site.devices[d].place.building for d in wet}) == 1
    assert len({small_site.devices[d].place.floor for d in wet}) >= 2
    assert min(v["pressure_kpa"] for _, v in _telemetry(recorder, lambda d, v: "pressure_kpa" in v)) < 120


def test_elevator_entrapment_stops_an_occupied_car_then_alarms(small_site, recorder):
    _play(small_site, "elevator-entrapment", 5, recorder)
    stuck = _telemetry(recorder, lambda d, v: v.get("state") == "stopped")
    assert stuck and all(v["occupied"] and not v["door_open"] for _, v in stuck)
    alarms = _events(recorder, "alarm_button")
    assert alarms and alarms[0][0] == stuck[0][0]
    order = [m.topic for m in recorder.messages]
    first_stop = next(i for i, m in enumerate(recorder.messages)
                      if m.topic.endswith("/telemetry") and m.body["values"].get("state") == "stopped")
    assert order.index(next(m.topic for m in recorder.messages if m.topic.endswith("/event"))) > first_stop


@pytest.mark.parametrize("seed", range(4))
def test_power_outage_takes_down_one_building(seed, small_site, recorder):
    _play(small_site, "power-outage", seed, recorder)
    down = _telemetry(recorder, lambda d, v: v.get("mains_ok") is False)
    assert down and all(v["voltage_v"] == 0 for _, v in down)
    building = small_site.devices[down[0][0]].place.building
    local = {d.id: d.type for d in small_site.devices.values() if d.place.building == building}
    hit = {d for d, _ in _telemetry(recorder, lambda d, v: (
        v.get("on_battery") is True or v.get("state") == "stopped" or v.get("running") is False
        and "fault" in v))}
    expected = {d for d, t in local.items() if t in ("ups", "elevator", "water_pump")}
    assert hit == expected
    failed = {d for d, _ in _events(recorder, "start_failed")}
    assert failed == {d for d, t in local.items() if t == "generator"}


def test_door_forced_sends_the_event(small_site, recorder):
    _play(small_site, "door-forced", 1, recorder)
    forced = _events(recorder, "door_forced")
    assert len(forced) == 1
    assert _telemetry(recorder, lambda d, v: d == forced[0][0] and v.get("open") is True)


def test_a_scenario_without_its_devices_is_unavailable(small_site, recorder):
    from dataclasses import replace
    no_lifts = replace(small_site, devices={k: d for k, d in small_site.devices.items() if d.type != "elevator"})
    with pytest.raises(ScenarioUnavailable):
        _play(no_lifts, "elevator-entrapment", 0, recorder)
