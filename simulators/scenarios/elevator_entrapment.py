"""Elevator entrapment: an occupied car stops between floors and the passenger presses the alarm."""

from __future__ import annotations

from caretaker.simulators.scenarios.base import ScenarioContext, ScenarioUnavailable

DESCRIPTION = "an occupied elevator stops between floors and the passenger presses the alarm button; released later"
HOLD_S = 150.0


def play(ctx: ScenarioContext) -> None:
    cars = ctx.devices("elevator")
    if not cars:
        raise ScenarioUnavailable("the site has no elevator")
    car = ctx.rng.choice(cars)
    building = ctx.site.buildings.get(car.device.place.building)
    low, high = (building.lowest_floor, building.highest_floor) if building else (1, 10)
    floor = ctx.rng.choice([f for f in range(max(low, 1), high + 1)] or [low])

    ctx.log(f"elevator-entrapment: {car.id} stuck near floor {floor} with a passenger inside")
    car.force(state="normal", occupied=True, door_open=False, floor=floor)
    ctx.sleep(ctx.rng.uniform(2.0, 5.0))
    car.force(state="stopped")  # between floors: the car reports the last floor it passed
    ctx.sleep(ctx.rng.uniform(5.0, 15.0))
    car.emit_event("alarm_button", {"floor": floor})
    ctx.sleep(ctx.rng.uniform(40.0, 60.0))
    car.emit_event("alarm_button", {"floor": floor})  # still nobody: the passenger presses again

    ctx.sleep(HOLD_S)
    ctx.log(f"elevator-entrapment: {car.id} passenger released, back in service")
    car.force(state="normal", door_open=True)
    ctx.sleep(5.0)
    car.release()
