"""Burst pipe: a building's water pressure collapses and leak sensors on several floors turn wet."""

from __future__ import annotations

from caretaker.simulators.devices import DeviceSim
from caretaker.simulators.scenarios.base import ScenarioContext, choose

DESCRIPTION = ("water pressure collapses in a building, 3-6 leak sensors on several floors go wet, "
               "the pump may fault; clears later")
HOLD_S = 150.0


def _spread_over_floors(ctx: ScenarioContext, leaks: list[DeviceSim], count: int) -> list[DeviceSim]:
    """Return `count` sensors taken floor by floor in turn, so the water shows up on several floors."""
    by_floor: dict[int, list[DeviceSim]] = {}
    for sim in leaks:
        by_floor.setdefault(sim.device.place.floor, []).append(sim)
    floors = sorted(by_floor)
    ctx.rng.shuffle(floors)
    for sims in by_floor.values():
        ctx.rng.shuffle(sims)
    chosen: list[DeviceSim] = []
    while len(chosen) < count:
        for floor in floors:
            if by_floor[floor] and len(chosen) < count:
                chosen.append(by_floor[floor].pop())
    return chosen


def play(ctx: ScenarioContext) -> None:
    def floors(b: str) -> int:
        return len({s.device.place.floor for s in ctx.devices("water_leak", b)})

    # the best stage: three or more sensors over several floors, else whatever the site has
    candidates = ([b for b in ctx.buildings_with("water_leak", at_least=3) if floors(b) >= 2]
                  or [b for b in ctx.buildings_with("water_leak") if floors(b) >= 2]
                  or ctx.buildings_with("water_leak"))
    building = choose(ctx.rng, candidates, "water_leak sensor")
    leaks = ctx.devices("water_leak", building)
    wet = _spread_over_floors(ctx, leaks, min(len(leaks), ctx.rng.randint(3, 6)))
    pressures = ctx.devices("water_pressure", building)
    pumps = ctx.devices("water_pump", building)
    faulty_pump = ctx.rng.choice(pumps) if pumps and ctx.rng.random() < 0.6 else None
    spread_s = ctx.rng.uniform(10.0, 20.0)
    offsets = sorted(ctx.rng.uniform(0.0, spread_s) for _ in wet)

    ctx.log(f"burst-pipe: building {building}, pressure collapsing, "
            f"{len(wet)} leak sensors turning wet over {spread_s:.0f} s")
    ctx.ramp(pressures, "pressure_kpa", 300.0, ctx.rng.uniform(60.0, 110.0), steps=4, over_s=6.0)
    elapsed = 0.0
    for sim, at in zip(wet, offsets):
        ctx.sleep(at - elapsed)
        elapsed = at
        sim.force(leak=True)
        if faulty_pump is not None and sim is wet[len(wet) // 2]:
            ctx.log(f"burst-pipe: pump {faulty_pump.id} faults")
            faulty_pump.force(fault=True, running=False)
    ctx.ramp(pressures, "pressure_kpa", pressures[0].values.get("pressure_kpa", 90.0) if pressures else 90.0,
             ctx.rng.uniform(30.0, 50.0), steps=3, over_s=9.0)

    ctx.sleep(HOLD_S)
    ctx.log(f"burst-pipe: building {building} valve closed and repaired, clearing")
    if faulty_pump is not None:
        faulty_pump.release()
    for sim in pressures:
        sim.release()
    for sim in wet:
        ctx.sleep(ctx.rng.uniform(2.0, 6.0))
        sim.release()
