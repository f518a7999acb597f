"""The site's devices in list order (building, floor, id), filtered and cut into pages; pure, no I/O.

The devices API (docs/api.md, "Devices and telemetry") pages through the site file's devices, not through rows of
the database: the order and the building and type filters are known here, so a page costs its own rows to read.
The index is built once per site (the site does not change while it is served) and keeps, for each building and
each type, its devices in list order, so a filtered page is found by bisection, not by a scan of the estate."""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from caretaker.estate.model import Device, Site


@dataclass(frozen=True, slots=True)
class Listing:
    """Devices in list order and each one's position in the whole list (to find where a cursor falls)."""

    devices: tuple[Device, ...]
    positions: tuple[int, ...]
    building: str | None = None  # the filters that made it
    device_type: str | None = None

    def holds(self, device: Device) -> bool:
        return ((self.building is None or device.place.building == self.building)
                and (self.device_type is None or device.type == self.device_type))

    def after(self, position: int | None) -> int:
        """Index of the first device past the whole-list `position` (None: the start)."""
        return 0 if position is None else bisect_right(self.positions, position)


@dataclass(slots=True)
class DeviceIndex:
    site: Site
    everything: Listing
    position: dict[str, int]  # device id → its place in the whole list
    _by_building: dict[str, Listing] = field(default_factory=dict)
    _by_type: dict[str, Listing] = field(default_factory=dict)

    def listing(self, building: str | None, device_type: str | None) -> Listing:
        """The devices of a building, of a type, of both or all, in list order."""
        if building is None and device_type is None:
            return self.everything
        if building is not None and device_type is not None:
            inside = self.listing(building, None)
            return _listing([d for d in inside.devices if d.type == device_type], self.position, building, device_type)
        if building is not None:
            if building not in self._by_building:
                self._by_building[building] = _listing(
                    [d for d in self.everything.devices if d.place.building == building], self.position, building)
            return self._by_building[building]
        if device_type not in self._by_type:
            self._by_type[device_type] = _listing(
                [d for d in self.everything.devices if d.type == device_type], self.position, None, device_type)
        return self._by_type[device_type]

    def in_order(self, device_ids: Sequence[str], listing: Listing, start: int) -> list[Device]:
        """The devices among `device_ids` that are in `listing` at or past index `start`, in list order."""
        if start >= len(listing.positions):
            return []
        first, devices = listing.positions[start], self.everything.devices
        found = sorted(p for p in (self.position.get(i) for i in device_ids)
                       if p is not None and p >= first and listing.holds(devices[p]))
        return [devices[p] for p in found]


def list_key(device: Device) -> tuple[str, int, str]:
    return device.place.building, device.place.floor, device.id


def _listing(devices: Sequence[Device], position: dict[str, int], building: str | None = None,
             device_type: str | None = None) -> Listing:
    return Listing(tuple(devices), tuple(position[d.id] for d in devices), building, device_type)


_INDEXES: dict[int, DeviceIndex] = {}  # by id(site); the entry holds the site, so the id is not reused
_KEPT = 16  # sites served by one process at most before the oldest index is dropped (tests make many)
_LOCK = threading.Lock()


def device_index(site: Site) -> DeviceIndex:
    """The site's device index, built on first use."""
    found = _INDEXES.get(id(site))
    if found is not None and found.site is site:
        return found
    devices = tuple(sorted(site.devices.values(), key=list_key))
    position = {d.id: n for n, d in enumerate(devices)}
    index = DeviceIndex(site, Listing(devices, tuple(range(len(devices)))), position)
    with _LOCK:
        if len(_INDEXES) >= _KEPT:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[id(site)] = index
    return index
