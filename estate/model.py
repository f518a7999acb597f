"""The estate as immutable values: buildings, devices, people, travel rules and SLA policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

Skill = Literal["plumbing", "electrical", "elevator", "security", "cleaning", "general"]
SKILLS: tuple[str, ...] = ("plumbing", "electrical", "elevator", "security", "cleaning", "general")

DeviceType = Literal[
    "water_leak", "water_pressure", "water_tank", "water_pump",
    "power_meter", "generator", "ups", "transformer",
    "elevator", "access_door",
]

# family -> device types, as in docs/device-protocol.md, "Device types"
DEVICE_FAMILIES: dict[str, tuple[str, ...]] = {
    "water": ("water_leak", "water_pressure", "water_tank", "water_pump"),
    "power": ("power_meter", "generator", "ups", "transformer"),
    "elevator": ("elevator",),
    "access": ("access_door",),
}
DEVICE_TYPES: tuple[str, ...] = tuple(t for types in DEVICE_FAMILIES.values() for t in types)

# device type -> metric name -> value kind ("bool", "number", "int", or a tuple of allowed strings)
DEVICE_METRICS: dict[str, dict[str, object]] = {
    "water_leak": {"leak": "bool"},
    "water_pressure": {"pressure_kpa": "number"},
    "water_tank": {"level_pct": "number"},
    "water_pump": {"running": "bool", "fault": "bool"},
    "power_meter": {"mains_ok": "bool", "voltage_v": "number", "current_a": "number"},
    "generator": {"running": "bool", "fuel_pct": "number"},
    "ups": {"on_battery": "bool", "battery_pct": "number"},
    "transformer": {"temp_c": "number"},
    "elevator": {
        "state": ("normal", "fault", "stopped", "out_of_service"),
        "floor": "int",
        "door_open": "bool",
        "occupied": "bool",
    },
    "access_door": {"open": "bool"},
}

# device type -> event types it may send
DEVICE_EVENTS: dict[str, tuple[str, ...]] = {
    "generator": ("start_failed",),
    "elevator": ("alarm_button", "fault"),
    "access_door": ("door_forced", "door_held_open", "badge_denied", "badge_granted"),
}


# channels beyond MQTT (docs/channels.md): how they deliver, and the kinds of message they may take
CHANNEL_KINDS: tuple[str, ...] = ("webhook", "apprise")
MESSAGE_KINDS: tuple[str, ...] = ("notice", "dispatch", "alert", "resident")
LOCALES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"


@dataclass(frozen=True, slots=True)
class Building:
    id: str
    lowest_floor: int
    highest_floor: int
    name: str = ""
    fed_by: str | None = None  # the building whose supply feeds this one (estate/supply.py)

    @property
    def ground_floor(self) -> int:
        """The floor people walk in on: 1 when the building has it, else its lowest floor."""
        if self.lowest_floor <= 1 <= self.highest_floor:
            return 1
        return self.lowest_floor


@dataclass(frozen=True, slots=True)
class Place:
    """Where something is on the estate."""

    building: str
    floor: int
    zone: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    id: str
    type: str
    place: Place
    # per-device overrides of rule thresholds, keyed by rule id then parameter name (optional key)
    overrides: dict[str, dict[str, object]] = field(default_factory=dict, hash=False, compare=False)
    # expected seconds between two messages from this device (heartbeat), optional key
    interval_s: int | None = None

    @property
    def family(self) -> str:
        for family, types in DEVICE_FAMILIES.items():
            if self.type in types:
                return family
        raise KeyError(self.type)


@dataclass(frozen=True, slots=True)
class ShiftWindow:
    """One weekly window: on `weekdays` (0=Mon .. 6=Sun) from `start_min` to `end_min` minutes after
    midnight; `end_min` may exceed 1440 for a shift that runs past midnight."""

    weekdays: frozenset[int]
    start_min: int
    end_min: int


@dataclass(frozen=True, slots=True)
class Technician:
    id: str
    name: str
    phone: str
    skills: frozenset[str]
    badge: str | None = None
    shifts: tuple[ShiftWindow, ...] | None = None  # None: always on shift
    notify: tuple[str, ...] = ()  # channel ids that carry this person's messages


SUPERVISOR_ROLES: tuple[str, ...] = ("supervisor", "manager")
ON_DUTY = "on_duty"  # in an escalation level's `notify`: the supervisors on shift now (docs/site-file.md)


@dataclass(frozen=True, slots=True)
class Supervisor:
    id: str
    name: str
    phone: str
    notify: tuple[str, ...] = ()  # channel ids that carry this person's messages
    shifts: tuple[ShiftWindow, ...] | None = None  # None: always on duty
    role: str = "supervisor"  # or "manager": named in a later escalation level, never `on_duty`


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """Who hears of a ticket that nobody acts on, `after` the escalation began (docs/site-file.md)."""

    after: timedelta
    notify: tuple[str, ...]  # supervisor ids, or ON_DUTY


@dataclass(frozen=True, slots=True)
class Contractor:
    """An outside firm with a rapid-response agreement (DOMAIN: 第三方维修机构), held to `arrive`."""

    id: str
    name: str
    phone: str
    trades: frozenset[str]
    arrive: timedelta = timedelta(minutes=30)
    notify: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel of the site file with its `${VAR}`s expanded. The url and secret may hold tokens: they are
    left out of repr, so that no log line or traceback shows them."""

    id: str
    kind: str  # one of CHANNEL_KINDS
    url: str = field(repr=False)
    takes: frozenset[str]  # of MESSAGE_KINDS
    secret: str | None = field(default=None, repr=False)
    to: frozenset[str] | None = None  # None: anyone's messages


@dataclass(frozen=True, slots=True)
class Resident:
    name: str
    phone: str
    vulnerable: bool = False


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    building: str
    floor: int
    residents: tuple[Resident, ...] = ()


@dataclass(frozen=True, slots=True)
class Sla:
    """Response-time windows of one urgency level; `arrive` is None where no on-site deadline applies."""

    accept: timedelta
    arrive: timedelta | None
    resolve: timedelta


DEFAULT_SLA: dict[int, Sla] = {
    1: Sla(timedelta(minutes=2), timedelta(minutes=30), timedelta(hours=2)),
    2: Sla(timedelta(minutes=5), timedelta(hours=1), timedelta(hours=2)),
    3: Sla(timedelta(minutes=30), None, timedelta(hours=24)),
    4: Sla(timedelta(hours=2), None, timedelta(hours=48)),
}


@dataclass(frozen=True, slots=True)
class TravelRules:
    floor_s: int
    # walking seconds between two buildings' ground floors, both directions, as given in the file
    walks: dict[frozenset[str], int] = field(default_factory=dict, hash=False)
    location_ttl: timedelta = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Site:
    id: str
    name: str
    timezone: str
    travel: TravelRules
    buildings: dict[str, Building]
    devices: dict[str, Device]
    technicians: dict[str, Technician]
    supervisors: dict[str, Supervisor]
    units: dict[str, Unit]
    sla: dict[int, Sla]
    channels: dict[str, Channel] = field(default_factory=dict)
    locale: str = DEFAULT_LOCALE
    escalation: tuple[EscalationLevel, ...] = ()  # empty: every supervisor hears every notice at once
    contractors: dict[str, Contractor] = field(default_factory=dict)

    def technician_by_badge(self, badge: str) -> Technician | None:
        """Return the technician who carries this badge, or None."""
        for tech in self.technicians.values():
            if tech.badge == badge:
                return tech
        return None
