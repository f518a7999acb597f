"""What a scenario sees: the site's simulated devices, a seeded random generator and a sleep."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from caretaker.simulators.broker import SimulatorError
from caretaker.simulators.clock import Scheduler
from caretaker.simulators.devices import DeviceFleet, DeviceSim


class ScenarioUnavailable(SimulatorError):
    """The site lacks the devices a scenario needs."""


class ScenarioContext:
    """Handed to a scenario's `play`: devices by type and building, `rng`, and `sleep`, which
    keeps the rest of the simulation running while the scenario waits."""

    def __init__(self, fleet: DeviceFleet, scheduler: Scheduler, rng: random.Random,
                 speed: float = 1.0, log: Callable[[str], None] = print) -> None:
        self.fleet = fleet
        self.site = fleet.site
        self.scheduler = scheduler
        self.rng = rng
        self.speed = speed
        self.log = log

    def sleep(self, sim_seconds: float) -> None:
        """Let `sim_seconds` of simulated time pass (divided by speed); raises Stopped on stop."""
        self.scheduler.run_for(sim_seconds / self.speed)

    def devices(self, device_type: str, building: str | None = None) -> list[DeviceSim]:
        return self.fleet.of_type(device_type, building)

    def buildings_with(self, device_type: str, at_least: int = 1) -> list[str]:
        """Return the buildings (sorted) holding at least `at_least` devices of this type."""
        counts: dict[str, int] = {}
        for sim in self.devices(device_type):
            counts[sim.device.place.building] = counts.get(sim.device.place.building, 0) + 1
        return sorted(b for b, n in counts.items() if n >= at_least)

    def ramp(self, sims: Sequence[DeviceSim], metric: str, start: float, end: float, steps: int,
             over_s: float) -> None:
        """Force `metric` on `sims` from `start` to `end` in `steps` reports spread over `over_s` s."""
        for i in range(1, steps + 1):
            value = start + (end - start) * i / steps
            if i < steps:  # a real reading wobbles on its way down
                value += self.rng.gauss(0.0, abs(end - start) / (8 * steps))
            for sim in sims:
                sim.force(**{metric: round(value, 1)})
            if i < steps:
                self.sleep(over_s / steps)


def choose(rng: random.Random, items: Sequence[str], what: str) -> str:
    """Return one of `items` (sorted, so the choice depends only on the seed), or raise."""
    if not items:
        raise ScenarioUnavailable(f"the site has no {what}")
    return rng.choice(sorted(items))


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    play: Callable[[ScenarioContext], None]
