"""The site file's shape as strict pydantic models; each field check says what is wrong in words."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, model_validator

from caretaker.estate.durations import format_duration, parse_duration
from caretaker.estate.model import (
    CHANNEL_KINDS, DEVICE_TYPES, LOCALES, MESSAGE_KINDS, SKILLS, SUPERVISOR_ROLES, ShiftWindow,
)
from caretaker.estate.shifts import parse_shift

ID_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_PHONE = re.compile(r"\+?[0-9]{3,20}")


def _check_id(value: Any) -> str:
    # YAML reads `1` as a number; building "1" (1号楼) is common, so whole numbers count as ids
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError(f"an id must be text, got {value!r}")
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"id {value!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return value


def _check_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected some text, got {value!r}")
    return value


def _check_duration(value: Any) -> timedelta:
    duration = parse_duration(value)
    if duration <= timedelta(0):
        raise ValueError(f"a duration must be longer than zero, got {value!r}")
    return duration


def _check_seconds(value: Any) -> int:
    # whole seconds; "2m" reads as well as 120
    return max(1, round(_check_duration(value).total_seconds()))


def _check_timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"a time zone must be an IANA name like Asia/Shanghai, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like Asia/Shanghai") from exc
    return value


def _check_phone(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # unquoted, YAML makes it a number: a leading 0 or + would already be lost
        raise ValueError(f'write the phone number in quotes, like "{value}"')
    if not isinstance(value, str) or not _PHONE.fullmatch(value):
        raise ValueError(f"a phone number is 3 to 20 digits with an optional leading +, got {value!r}")
    return value


def _check_device_type(value: Any) -> str:
    if value not in DEVICE_TYPES:
        raise ValueError(f"unknown device type {value!r}; expected one of {', '.join(DEVICE_TYPES)}")
    return value


def _check_skill(value: Any) -> str:
    if value not in SKILLS:
        raise ValueError(f"unknown skill {value!r}; expected one of {', '.join(SKILLS)}")
    return value


def _check_shift(value: Any) -> ShiftWindow:
    return parse_shift(value)


def _check_floors(value: Any) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"floors must be [lowest, highest], two whole numbers, got {value!r}")
    lowest, highest = value
    if lowest > highest:
        raise ValueError(f"lowest floor {lowest} is above highest floor {highest}")
    return lowest, highest


def _check_walk(value: Any) -> tuple[str, str, int]:
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"a walk is [building, building, seconds], got {value!r}")
    first, second = _check_id(value[0]), _check_id(value[1])
    if first == second:
        raise ValueError(f"a walk from building {first!r} to itself")
    try:
        seconds = _check_seconds(value[2])
    except ValueError as exc:
        raise ValueError(f"walk {first}-{second}: the time must be a positive number of seconds "
                         f"or a duration like 2m, got {value[2]!r}") from exc
    return first, second, seconds


def _check_level(value: Any) -> int:
    # `"1":` in quotes is a fair way to write a level too
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in (1, 2, 3, 4):
        raise ValueError(f"urgency level must be 1, 2, 3 or 4, got {value!r}")
    return value


def _check_channel_kind(value: Any) -> str:
    if value not in CHANNEL_KINDS:
        raise ValueError(f"unknown channel kind {value!r}; expected one of {', '.join(CHANNEL_KINDS)}")
    return value


def _check_message_kind(value: Any) -> str:
    if value not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {value!r}; expected one of {', '.join(MESSAGE_KINDS)}")
    return value


def _check_locale(value: Any) -> str:
    if value not in LOCALES:
        raise ValueError(f"unknown locale {value!r}; expected one of {', '.join(LOCALES)}")
    return value


def _check_secret_text(value: Any) -> str:
    # a url or secret may hold a token: its value is never echoed back (docs/channels.md, "Secrets")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected some text (write a secret as ${VARIABLE}, read from the environment)")
    return value


def _check_delay(value: Any) -> timedelta:
    # an escalation level may start at once: 0m is allowed here, unlike other durations
    return parse_duration(value)


def _check_supervisor_role(value: Any) -> str:
    if value not in SUPERVISOR_ROLES:
        raise ValueError(f"unknown role {value!r}; expected one of {', '.join(SUPERVISOR_ROLES)}")
    return value


SupervisorRole = Annotated[str, PlainValidator(_check_supervisor_role)]
Id = Annotated[str, PlainValidator(_check_id)]
Text = Annotated[str, PlainValidator(_check_text)]
Duration = Annotated[timedelta, PlainValidator(_check_duration)]
Seconds = Annotated[int, PlainValidator(_check_seconds)]
Timezone = Annotated[str, PlainValidator(_check_timezone)]
Phone = Annotated[str, PlainValidator(_check_phone)]
DeviceTypeName = Annotated[str, PlainValidator(_check_device_type)]
SkillName = Annotated[str, PlainValidator(_check_skill)]
Shift = Annotated[ShiftWindow, PlainValidator(_check_shift)]
Floors = Annotated[tuple[int, int], PlainValidator(_check_floors)]
Walk = Annotated[tuple[str, str, int], PlainValidator(_check_walk)]
Level = Annotated[int, PlainValidator(_check_level)]
ChannelKind = Annotated[str, PlainValidator(_check_channel_kind)]
MessageKind = Annotated[str, PlainValidator(_check_message_kind)]
Locale = Annotated[str, PlainValidator(_check_locale)]
SecretText = Annotated[str, PlainValidator(_check_secret_text)]


class _Strict(BaseModel):
    # unknown keys are errors (a typo must not silently drop a setting); no "3" -> 3 guessing
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TravelIn(_Strict):
    floor_s: Seconds
    buildings: list[Walk] = []
    location_ttl: Duration = timedelta(minutes=30)


class BuildingIn(_Strict):
    id: Id
    floors: Floors
    name: str = ""
    supplies: list[Id] = []  # the buildings this one's supply feeds (docs/site-file.md, "Supplies")
    fed_by: Id | None = None  # the building whose supply feeds this one


class DeviceIn(_Strict):
    id: Id
    type: DeviceTypeName
    building: Id
    floor: int
    zone: str | None = None
    interval: Duration | None = None
    overrides: dict[str, dict[str, Any]] = {}


class TechnicianIn(_Strict):
    id: Id
    name: Text
    phone: Phone
    skills: Annotated[list[SkillName], Field(min_length=1)]
    badge: Id | None = None
    shifts: Annotated[list[Shift], Field(min_length=1)] | None = None
    notify: list[Id] = []  # channel ids (docs/channels.md)


class SupervisorIn(_Strict):
    id: Id
    name: Text
    phone: Phone
    notify: list[Id] = []  # channel ids (docs/channels.md)
    shifts: Annotated[list[Shift], Field(min_length=1)] | None = None  # absent: always on duty
    role: SupervisorRole = "supervisor"


class EscalationLevelIn(_Strict):
    """One level of `escalation:` (docs/site-file.md, "Escalation"); ids are checked in estate.site."""

    after: Annotated[timedelta, PlainValidator(_check_delay)]
    notify: Annotated[list[Id], Field(min_length=1)]


class ContractorIn(_Strict):
    """An outside firm with a rapid-response agreement (docs/site-file.md, "Contractors")."""

    id: Id
    name: Text
    phone: Phone
    trades: Annotated[list[SkillName], Field(min_length=1)]
    arrive: Duration = timedelta(minutes=30)
    notify: list[Id] = []  # channel ids (docs/channels.md)


class ChannelIn(_Strict):
    """Where messages go beyond MQTT (docs/channels.md); `${VAR}` in url and secret is expanded at load."""

    id: Id
    kind: ChannelKind
    url: SecretText
    secret: SecretText | None = None
    takes: Annotated[list[MessageKind], Field(min_length=1)]
    to: list[Id] | None = None


class ResidentIn(_Strict):
    name: Text
    phone: Phone
    vulnerable: bool = False


class UnitIn(_Strict):
    id: Id
    building: Id
    floor: int
    residents: list[ResidentIn] = []


class SlaIn(_Strict):
    accept: Duration
    arrive: Duration | None = None  # absent: no on-site deadline at this level
    resolve: Duration

    @model_validator(mode="after")
    def _in_order(self) -> SlaIn:
        steps = [("accept", self.accept), ("arrive", self.arrive), ("resolve", self.resolve)]
        given = [(name, value) for name, value in steps if value is not None]
        for (name_a, a), (name_b, b) in zip(given, given[1:]):
            if a > b:
                raise ValueError(f"{name_a} ({format_duration(a)}) is later than {name_b} ({format_duration(b)})")
        return self


class SiteIn(_Strict):
    site: Id
    name: Text
    timezone: Timezone
    travel: TravelIn
    buildings: Annotated[list[BuildingIn], Field(min_length=1)]
    devices: list[DeviceIn]
    technicians: Annotated[list[TechnicianIn], Field(min_length=1)]
    supervisors: Annotated[list[SupervisorIn], Field(min_length=1)]
    units: list[UnitIn] = []
    sla: dict[Level, SlaIn] = {}
    channels: list[ChannelIn] = []
    locale: Locale = "zh-CN"
    escalation: list[EscalationLevelIn] = []  # absent: every supervisor hears every notice at once
    contractors: list[ContractorIn] = []
