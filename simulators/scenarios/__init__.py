"""Incident scenarios, by name: each plays on whatever devices the site has, seeded, and ends normal."""

from __future__ import annotations

from caretaker.simulators.scenarios import burst_pipe, door_forced, elevator_entrapment, power_outage
from caretaker.simulators.scenarios.base import Scenario, ScenarioContext, ScenarioUnavailable

REGISTRY: dict[str, Scenario] = {
    s.name: s for s in (
        Scenario("burst-pipe", burst_pipe.DESCRIPTION, burst_pipe.play),
        Scenario("elevator-entrapment", elevator_entrapment.DESCRIPTION, elevator_entrapment.play),
        Scenario("power-outage", power_outage.DESCRIPTION, power_outage.play),
        Scenario("door-forced", door_forced.DESCRIPTION, door_forced.play),
    )
}

__all__ = ["REGISTRY", "Scenario", "ScenarioContext", "ScenarioUnavailable"]
