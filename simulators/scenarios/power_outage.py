"""Power outage: a building loses mains, the generator fails to start, lifts and pumps stop."""

from __future__ import annotations

from caretaker.simulators.scenarios.base import ScenarioContext, choose

DESCRIPTION = ("a building loses mains: UPS on battery, generator fails to start, elevators and pumps stop; "
               "restored later")
HOLD_S = 180.0


def play(ctx: ScenarioContext) -> None:
    building = choose(ctx.rng, ctx.buildings_with("power_meter"), "power_meter")
    meters = ctx.devices("power_meter", building)
    upses = ctx.devices("ups", building)
    generators = ctx.devices("generator", building)
    cars = ctx.devices("elevator", building)
    pumps = ctx.devices("water_pump", building)

    ctx.log(f"power-outage: building {building} loses mains "
            f"({len(cars)} elevators, {len(pumps)} pumps affected)")
    for sim in meters:
        sim.force(mains_ok=False, voltage_v=0.0, current_a=0.0)
    for sim in upses:
        sim.force(on_battery=True, battery_pct=99.0)
    for sim in cars:
        # whoever was in the car stays in it: occupancy no longer wanders while it is stopped
        sim.force(state="stopped", door_open=False, occupied=bool(sim.values.get("occupied", False)))
    for sim in pumps:
        sim.force(running=False, fault=False)
    ctx.sleep(ctx.rng.uniform(5.0, 10.0))
    for sim in generators:
        sim.force(running=False)
        sim.emit_event("start_failed", {"attempt": 1})
    ctx.sleep(ctx.rng.uniform(15.0, 25.0))
    for sim in generators:
        sim.emit_event("start_failed", {"attempt": 2})

    # the UPS drains while everyone waits for the electrician
    ctx.ramp(upses, "battery_pct", 99.0, ctx.rng.uniform(40.0, 60.0), steps=6, over_s=HOLD_S)

    ctx.log(f"power-outage: building {building} mains restored")
    for sim in meters:
        sim.release()
    ctx.sleep(2.0)
    for sim in [*upses, *generators, *pumps]:
        sim.release()
    ctx.sleep(ctx.rng.uniform(5.0, 15.0))  # lifts come back after their self-test
    for sim in cars:
        sim.release()
