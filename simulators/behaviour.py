"""Normal behaviour of each device type: the next telemetry values from the last ones (pure)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from caretaker.estate.model import Building

Values = dict[str, Any]

# seconds between two telemetry messages when the site file gives no `interval_s`; battery sensors
# that only change on an incident send a heartbeat less often
DEFAULT_PERIOD_SECONDS: dict[str, float] = {
    "water_leak": 30.0,
    "access_door": 30.0,
    "water_pressure": 10.0,
    "water_tank": 15.0,
    "water_pump": 15.0,
    "power_meter": 10.0,
    "generator": 30.0,
    "ups": 15.0,
    "transformer": 15.0,
    "elevator": 10.0,
}


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _walk(value: float, step: float, low: float, high: float, rng: random.Random) -> float:
    """A bounded random walk: slow drift, reflected at the bounds."""
    nxt = value + rng.gauss(0.0, step)
    if nxt < low:
        nxt = 2 * low - nxt
    elif nxt > high:
        nxt = 2 * high - nxt
    return _clamp(nxt, low, high)


def _water_leak(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    return {"leak": False}


def _water_pressure(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    return {"pressure_kpa": round(_clamp(rng.gauss(300.0, 4.0), 290.0, 310.0), 1)}


def _water_tank(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    level = rng.uniform(65.0, 85.0) if prev is None else float(prev["level_pct"])
    return {"level_pct": round(_walk(level, 0.4, 60.0, 90.0, rng), 1)}


def _water_pump(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    return {"running": True, "fault": False}


def _power_meter(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    current = rng.uniform(60.0, 120.0) if prev is None or not prev["mains_ok"] else float(prev["current_a"])
    return {
        "mains_ok": True,
        "voltage_v": round(_clamp(rng.gauss(220.0, 2.0), 214.0, 226.0), 1),
        "current_a": round(_walk(current, 3.0, 30.0, 180.0, rng), 1),
    }


def _generator(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    fuel = rng.uniform(85.0, 98.0) if prev is None else float(prev["fuel_pct"])
    return {"running": False, "fuel_pct": round(_walk(fuel, 0.05, 80.0, 100.0, rng), 1)}


def _ups(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    return {"on_battery": False, "battery_pct": round(rng.uniform(98.0, 100.0), 1)}


def _transformer(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    temp = rng.uniform(50.0, 60.0) if prev is None else float(prev["temp_c"])
    return {"temp_c": round(_walk(temp, 0.6, 45.0, 65.0, rng), 1)}


def _elevator(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    low, high = (building.lowest_floor, building.highest_floor) if building else (1, 10)
    floors = [f for f in range(low, high + 1) if f != 0] or [low]  # Chinese buildings skip floor 0
    floor = rng.choice(floors) if prev is None or rng.random() < 0.6 else int(prev["floor"])
    door_open = rng.random() < 0.3
    return {"state": "normal", "floor": floor, "door_open": door_open, "occupied": rng.random() < 0.4}


def _access_door(prev: Values | None, rng: random.Random, building: Building | None) -> Values:
    return {"open": rng.random() < 0.1}


MODELS: dict[str, Callable[[Values | None, random.Random, Building | None], Values]] = {
    "water_leak": _water_leak,
    "water_pressure": _water_pressure,
    "water_tank": _water_tank,
    "water_pump": _water_pump,
    "power_meter": _power_meter,
    "generator": _generator,
    "ups": _ups,
    "transformer": _transformer,
    "elevator": _elevator,
    "access_door": _access_door,
}


def next_values(device_type: str, prev: Values | None, rng: random.Random,
                building: Building | None = None) -> Values:
    """Return the next normal telemetry values of a device of `device_type` (first ones when `prev`
    is None); raises KeyError for a type docs/device-protocol.md does not list."""
    return MODELS[device_type](prev, rng, building)
