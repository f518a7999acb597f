"""Door forced: somebody tries badges that do not work, then forces an access door at night."""

from __future__ import annotations

from caretaker.simulators.scenarios.base import ScenarioContext, ScenarioUnavailable

DESCRIPTION = "an access door is forced open at night, sometimes after a burst of denied badges"


def play(ctx: ScenarioContext) -> None:
    doors = ctx.devices("access_door")
    if not doors:
        raise ScenarioUnavailable("the site has no access_door")
    door = ctx.rng.choice(doors)
    attempts = ctx.rng.choice([0, 0, 2, 3, 4])
    # the simulator cannot move the clock: "night" is whatever the site's rules make of the real time
    ctx.log(f"door-forced: {door.id} forced after {attempts} denied badges")
    for _ in range(attempts):
        door.emit_event("badge_denied", {"badge": f"B-{ctx.rng.randint(9000, 9999)}"})
        ctx.sleep(ctx.rng.uniform(2.0, 5.0))
    door.emit_event("door_forced")
    door.force(open=True)
    ctx.sleep(ctx.rng.uniform(20.0, 40.0))
    door.force(open=False)
    ctx.sleep(ctx.rng.uniform(60.0, 90.0))
    ctx.log(f"door-forced: {door.id} secured")
    door.release()
