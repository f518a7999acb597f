"""Simulated devices: normal telemetry, heartbeats, status and events, with state scenarios can change."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from caretaker.estate.model import Building, Device, Site
from caretaker.estate.travel import floors_apart

from caretaker.simulators.behaviour import DEFAULT_PERIOD_SECONDS, Values, next_values
from caretaker.simulators.broker import Publisher, Will
from caretaker.simulators.clock import Scheduler, Timer
from caretaker.simulators.payloads import (
    DEFAULT_PREFIX, device_topic, event_payload, format_ts, status_payload, telemetry_payload,
)

TELEMETRY_QOS = 0
EVENT_QOS = 1
STATUS_QOS = 1

PublisherFor = Callable[[Device], Publisher]


def device_will(prefix: str, site_id: str, device_id: str) -> Will:
    """Return the MQTT will that marks the device offline when its connection drops."""
    return Will(device_topic(prefix, site_id, device_id, "status"), status_payload(None, online=False),
                qos=STATUS_QOS, retain=True)


class DeviceSim:
    """One device: its normal behaviour plus values a scenario forces on it.

    All methods run on the scheduler's thread."""

    def __init__(self, device: Device, site_id: str, publisher: Publisher, scheduler: Scheduler,
                 rng: random.Random, prefix: str = DEFAULT_PREFIX, building: Building | None = None,
                 period_s: float | None = None, telemetry_qos: int = TELEMETRY_QOS) -> None:
        self.device = device
        self.publisher = publisher
        self.scheduler = scheduler
        self.rng = rng
        self.building = building
        self.period_s = period_s or float(device.interval_s or DEFAULT_PERIOD_SECONDS[device.type])
        self.telemetry_qos = telemetry_qos
        self.seq = 0
        self.forced: Values = {}  # metric -> value held by a scenario, without noise
        self.values: Values = {}  # last values sent
        self._topics = {kind: device_topic(prefix, site_id, device.id, kind)
                        for kind in ("telemetry", "event", "status")}
        self._timer: Timer | None = None

    @property
    def id(self) -> str:
        return self.device.id

    def _next_seq(self) -> int:
        seq = self.seq
        self.seq += 1
        return seq

    def _ts(self) -> str:
        return format_ts(self.scheduler.wall_now())

    def start(self, first_s: float | None = None) -> None:
        """Announce the device online, send its first telemetry, then keep sending every period."""
        self.publish_status(online=True)
        self.send_telemetry()
        # a random phase spreads many devices' messages over the period instead of bursts
        first = self.rng.uniform(0.0, self.period_s) if first_s is None else first_s
        self._timer = self.scheduler.every(self.period_s, self.send_telemetry, first_s=first)

    def stop(self, publish_offline: bool = False) -> None:
        """Stop sending; the device stays as it was (online) unless `publish_offline` says it went away."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if publish_offline:
            self.publish_status(online=False)

    def publish_status(self, online: bool) -> None:
        self.publisher.publish(self._topics["status"], status_payload(self._ts(), online),
                               qos=STATUS_QOS, retain=True)

    def current_values(self) -> Values:
        """Return the next values: normal behaviour with noise, overridden by forced ones."""
        normal = next_values(self.device.type, self.values or None, self.rng, self.building)
        return {**normal, **self.forced}

    def send_telemetry(self) -> None:
        self.values = self.current_values()
        self.publisher.publish(self._topics["telemetry"],
                               telemetry_payload(self._ts(), self._next_seq(), self.values),
                               qos=self.telemetry_qos)

    def emit_event(self, type_: str, data: dict[str, Any] | None = None) -> None:
        self.publisher.publish(self._topics["event"], event_payload(self._ts(), self._next_seq(), type_, data),
                               qos=EVENT_QOS)

    def force(self, **values: Any) -> None:
        """Hold these metric values (no noise) until released, and report them at once."""
        self.forced.update(values)
        self.send_telemetry()

    def release(self, *metrics: str) -> None:
        """Give the named metrics (all when none are named) back to normal behaviour, at once."""
        if not self.forced:
            return
        for metric in metrics or tuple(self.forced):
            self.forced.pop(metric, None)
        self.send_telemetry()


class DeviceFleet:
    """All simulated devices of a site, found by id, type and building."""

    def __init__(self, site: Site, publisher_for: PublisherFor, scheduler: Scheduler, seed: int = 0,
                 prefix: str = DEFAULT_PREFIX, telemetry_qos: int = TELEMETRY_QOS) -> None:
        self.site = site
        self.sims: dict[str, DeviceSim] = {}
        for device in sorted(site.devices.values(), key=lambda d: d.id):
            # one generator per device, seeded by name: a device's noise does not depend on the others
            rng = random.Random(f"{seed}:device:{device.id}")
            self.sims[device.id] = DeviceSim(device, site.id, publisher_for(device), scheduler, rng,
                                             prefix=prefix, building=site.buildings.get(device.place.building),
                                             telemetry_qos=telemetry_qos)

    def __getitem__(self, device_id: str) -> DeviceSim:
        return self.sims[device_id]

    def __iter__(self) -> Iterator[DeviceSim]:
        return iter(self.sims.values())

    def of_type(self, device_type: str, building: str | None = None) -> list[DeviceSim]:
        """Return the devices of this type (in this building), ordered by id."""
        return [s for s in self.sims.values()
                if s.device.type == device_type and (building is None or s.device.place.building == building)]

    def door_in(self, building: str, floor: int | None = None) -> DeviceSim | None:
        """Return the access door of `building` nearest to `floor` (its ground floor by default)."""
        doors = self.of_type("access_door", building)
        if not doors:
            return None
        b = self.site.buildings.get(building)
        target = floor if floor is not None else (b.ground_floor if b else 1)
        return min(doors, key=lambda s: (floors_apart(s.device.place.floor, target), s.id))

    def start(self) -> None:
        for sim in self:
            sim.start()

    def stop(self, publish_offline: bool = False) -> None:
        for sim in self:
            sim.stop(publish_offline)

    def restore_all(self) -> None:
        """Release every value a scenario still holds."""
        for sim in self:
            sim.release()
