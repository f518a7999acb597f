"""Technician bots: they report where they are, swipe badges, and answer dispatches like the app would."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from typing import Any, Literal

from caretaker.estate.model import Place, Site, Technician

from caretaker.simulators.broker import Publisher, Subscriber
from caretaker.simulators.clock import Scheduler, Timer
from caretaker.simulators.devices import DeviceFleet
from caretaker.simulators.payloads import DEFAULT_PREFIX, format_ts, location_payload, reply_payload, technician_topic

log = logging.getLogger(__name__)

Behaviour = Literal["accept", "decline", "ignore"]
LOCATION_QOS = 1
REPLY_QOS = 1
DISPATCH_QOS = 1


@dataclass(frozen=True, slots=True)
class BotConfig:
    """How a bot behaves; durations are in simulated seconds and divided by `speed`, except the
    location heartbeat, which is real time because the service ages locations in real time."""

    behaviour: Behaviour = "accept"
    accept_delay_s: tuple[float, float] = (3.0, 10.0)
    walk_s: tuple[float, float] = (10.0, 30.0)
    wander_s: tuple[float, float] = (120.0, 300.0)  # idle time before moving to another building
    stay_s: tuple[float, float] = (180.0, 360.0)  # time at a job after arriving, before wandering on
    location_period_s: float = 60.0
    speed: float = 1.0


def default_behaviours(site: Site) -> dict[str, Behaviour]:
    """Return who does not simply accept, so the demo shows a reassignment: the last technician (by id)
    whose every skill at least two others also hold declines; everyone else accepts."""
    ids = sorted(site.technicians)
    behaviours: dict[str, Behaviour] = {tid: "accept" for tid in ids}
    for tid in reversed(ids):
        others = [t for t in site.technicians.values() if t.id != tid]
        if all(sum(skill in t.skills for t in others) >= 2 for skill in site.technicians[tid].skills):
            behaviours[tid] = "decline"
            break
    return behaviours


class TechnicianBot:
    """One technician's phone app. Its dispatch handler may be called on any thread: it only
    schedules, and all the bot's state changes on the scheduler's thread."""

    def __init__(self, tech: Technician, site: Site, fleet: DeviceFleet, publisher: Publisher,
                 scheduler: Scheduler, rng: random.Random, prefix: str = DEFAULT_PREFIX,
                 config: BotConfig = BotConfig()) -> None:
        self.tech = tech
        self.site = site
        self.fleet = fleet
        self.publisher = publisher
        self.scheduler = scheduler
        self.rng = rng
        self.config = config
        self.place: Place | None = None
        self.busy_with: Any = None  # ticket id being walked to or worked on
        self._timers: dict[Any, list[Timer]] = {}  # ticket -> pending steps, cancelled on withdrawal
        self._wander: Timer | None = None
        self._heartbeat: Timer | None = None
        self.dispatch_topic = technician_topic(prefix, site.id, tech.id, "dispatch")
        self._location_topic = technician_topic(prefix, site.id, tech.id, "location")
        self._reply_topic = technician_topic(prefix, site.id, tech.id, "reply")

    # --- timing -----------------------------------------------------------------------------

    def _delay(self, bounds: tuple[float, float]) -> float:
        return self.rng.uniform(*bounds) / self.config.speed

    def _later(self, ticket: Any, delay_s: float, fn: Any) -> None:
        self._timers.setdefault(ticket, []).append(self.scheduler.call_later(delay_s, fn))

    # --- what the app sends -----------------------------------------------------------------

    def _ts(self) -> str:
        return format_ts(self.scheduler.wall_now())

    def publish_location(self) -> None:
        if self.place is not None:
            self.publisher.publish(self._location_topic, location_payload(
                self._ts(), self.place.building, self.place.floor, self.place.zone), qos=LOCATION_QOS)

    def reply(self, ticket: Any, action: str) -> None:
        self.publisher.publish(self._reply_topic, reply_payload(self._ts(), ticket, action), qos=REPLY_QOS)

    def move_to(self, place: Place) -> None:
        self.place = place
        self.publish_location()

    def enter_building(self, building: str) -> None:
        """Walk in through the building's door: swipe the badge there and report the place."""
        door = self.fleet.door_in(building)
        b = self.site.buildings.get(building)
        floor = door.device.place.floor if door else (b.ground_floor if b else 1)
        self.move_to(Place(building, floor, door.device.place.zone if door else None))
        if door is not None and self.tech.badge:
            door.emit_event("badge_granted", {"badge": self.tech.badge})

    # --- life cycle -------------------------------------------------------------------------

    def start(self, subscriber: Subscriber | None = None) -> None:
        """Appear in a building, then report the location and wander; listen for dispatches."""
        if subscriber is not None:
            subscriber.subscribe(self.dispatch_topic, DISPATCH_QOS, self.on_message)
        if self.site.buildings:
            self.enter_building(self.rng.choice(sorted(self.site.buildings)))
        self._heartbeat = self.scheduler.every(self.config.location_period_s, self.publish_location)
        self._schedule_wander()

    def stop(self) -> None:
        for timers in self._timers.values():
            for timer in timers:
                timer.cancel()
        self._timers.clear()
        for timer in (self._wander, self._heartbeat):
            if timer is not None:
                timer.cancel()

    def _schedule_wander(self, bounds: tuple[float, float] | None = None) -> None:
        if self._wander is not None:
            self._wander.cancel()
        self._wander = self.scheduler.call_later(self._delay(bounds or self.config.wander_s), self._wander_once)

    def _wander_once(self) -> None:
        others = sorted(b for b in self.site.buildings if self.place is None or b != self.place.building)
        if self.busy_with is None and others:
            self.enter_building(self.rng.choice(others))
        self._schedule_wander()

    # --- dispatches -------------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes) -> None:
        """paho's message callback: parse, then hand the dispatch to the scheduler's thread."""
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("%s: dispatch is not JSON: %r", self.tech.id, payload[:200])
            return
        if isinstance(message, dict):
            self.scheduler.call_later(0.0, lambda: self.handle_dispatch(message))

    def handle_dispatch(self, message: dict[str, Any]) -> None:
        kind, ticket = message.get("type"), message.get("ticket")
        if ticket is None:
            return
        if kind == "assigned":
            self._on_assigned(ticket, message.get("location") or {})
        elif kind == "withdrawn":
            self._drop(ticket)
        # "reminder": the bot is already on its way or deliberately ignoring

    def _on_assigned(self, ticket: Any, location: dict[str, Any]) -> None:
        behaviour = self.config.behaviour
        if behaviour == "ignore" or ticket in self._timers:
            return
        delay = self._delay(self.config.accept_delay_s)
        if behaviour == "decline":
            self._later(ticket, delay, lambda: self._finish(ticket, "decline"))
            return
        target = self._target(location)
        self._later(ticket, delay, lambda: self._accept(ticket, target))

    def _target(self, location: dict[str, Any]) -> Place:
        building = str(location.get("building") or (self.place.building if self.place else ""))
        b = self.site.buildings.get(building)
        floor = location.get("floor")
        if not isinstance(floor, int):
            floor = b.ground_floor if b else 1
        zone = location.get("zone")
        return Place(building, floor, zone if isinstance(zone, str) else None)

    def _accept(self, ticket: Any, target: Place) -> None:
        self.reply(ticket, "accept")
        if self.busy_with is not None and self.busy_with != ticket:
            self._drop(self.busy_with)  # a more urgent ticket took this technician off the last one
        self.busy_with = ticket
        walk = self._delay(self.config.walk_s)
        if self.place is None or self.place.building != target.building:
            self._later(ticket, walk * 0.6, lambda: self.enter_building(target.building))
        self._later(ticket, walk, lambda: self._arrive(ticket, target))

    def _arrive(self, ticket: Any, target: Place) -> None:
        self.move_to(target)
        self.reply(ticket, "arrive")
        self._timers.pop(ticket, None)
        # stay on the job for a while before wandering again; the control room resolves it
        self._schedule_wander(self.config.stay_s)
        self._later(ticket, self._delay(self.config.stay_s), lambda: self._drop(ticket))

    def _finish(self, ticket: Any, action: str) -> None:
        self.reply(ticket, action)
        self._timers.pop(ticket, None)

    def _drop(self, ticket: Any) -> None:
        for timer in self._timers.pop(ticket, []):
            timer.cancel()
        if self.busy_with == ticket:
            self.busy_with = None
