"""The JSON the API takes and gives (docs/api.md), as pydantic models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, field_validator

from caretaker.dispatch.outbox import iso

# RFC 3339 UTC with milliseconds and a Z, the same shape the MQTT side uses
UtcTime = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

Role = Literal["admin", "operator", "technician", "integrator", "supervisor"]
Source = Literal["phone", "app", "wechat", "desk"]
Category = Literal["plumbing", "electrical", "elevator", "security", "cleaning", "general"]
ReportKind = Literal["repair", "complaint", "suggestion", "enquiry"]  # dispatch/complaints.py
ComplaintType = Literal["service", "safety"]
ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
# a URL, or a thumbnail as a data URI: a resolve's whole body is at most 64 KiB (api/limits.py), so photo
# files go to object storage (or the upload route) and resolve names them
MAX_PHOTO_CHARS = 48 * 1024
# or a photo uploaded to this service (POST /api/v1/tickets/{id}/photos), by the URL that route returned
_PHOTO = re.compile(r"^(https?://\S+|data:image/[a-z0-9.+-]+;base64,[A-Za-z0-9+/=\s]+|/api/v1/photos/[A-Za-z0-9_-]+)$",
                    re.IGNORECASE)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- in ------------------------------------------------------------------------------------------

MAX_TOKEN_TTL_S = 5 * 366 * 86400  # five years: a token that must outlive that is one to rotate


class TokenExpiry(Strict):
    """When a token stops working: at `expires_at`, or `ttl` seconds after it is issued; neither: never."""

    expires_at: AwareDatetime | None = Field(None, description="RFC 3339, in the future (at most 5 years)")
    ttl: int | None = Field(None, ge=60, le=MAX_TOKEN_TTL_S, description="seconds from now (60 to 5 years)")


class TokenIn(TokenExpiry):
    role: Role
    subject: str = Field(pattern=ID_PATTERN)


class ReportIn(Strict):
    """A person's report; mandatory fields are checked together so one 422 names every missing one."""

    reporter_name: str | None = Field(None, max_length=100)
    reporter_phone: str | None = Field(None, max_length=32)
    building: str | None = None
    floor: int | None = None
    unit: str | None = None
    zone: str | None = Field(None, max_length=64)
    description: str | None = Field(None, max_length=4000)
    source: Source | None = None
    category: Category | None = None
    urgency: int | None = Field(None, ge=1, le=4)
    title: str | None = Field(None, max_length=200)
    # docs/api.md, "Kinds of report": suggested from the description when absent (POST /api/v1/reports/suggest)
    kind: ReportKind | None = None
    complaint_type: ComplaintType | None = Field(None, description="a complaint's: service or safety")


class AnswerIn(Strict):
    """The answer to a complaint (its rectification plan, 整改措施) or a suggestion."""

    answer: str = Field(min_length=1, max_length=4000)

    @field_validator("answer")
    @classmethod
    def _answer_says_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say what the answer is")
        return value.strip()


class NoteIn(Strict):
    note: str | None = Field(None, max_length=4000)


class ResolveIn(Strict):
    note: str = Field(min_length=1, max_length=4000)
    photos: list[str] = Field(min_length=1, max_length=20)

    @field_validator("note")
    @classmethod
    def _note_says_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say what was done")
        return value

    @field_validator("photos")
    @classmethod
    def _photos_are_urls(cls, value: list[str]) -> list[str]:
        for photo in value:
            if len(photo) > MAX_PHOTO_CHARS or not _PHOTO.match(photo):
                raise ValueError("each photo must be an uploaded photo's /api/v1/photos/... URL, an http(s) URL "
                                 "or a data:image/...;base64 URI under 48 KiB")
        return value


class VerifyIn(Strict):
    satisfaction: int | None = Field(None, ge=1, le=5)
    note: str | None = Field(None, max_length=4000)


class AssignIn(Strict):
    technician: str = Field(pattern=ID_PATTERN)


class AckIn(Strict):
    note: str | None = Field(None, max_length=4000)


# --- out -----------------------------------------------------------------------------------------

class TokenOut(BaseModel):
    token: str
    role: str
    subject: str
    id: str = Field(description="the token's id (the start of its hash), to revoke it later")
    expires_at: UtcTime | None = None


class TokenInfo(BaseModel):
    id: str
    role: str
    subject: str
    created_at: UtcTime
    revoked: bool
    expires_at: UtcTime | None = None
    expired: bool = False
    last_used_at: UtcTime | None = Field(None, description="recorded at most once a minute")
    replaced_by: str | None = Field(None, description="the id of the token a rotation issued in its place")


class AuditOut(BaseModel):
    id: int
    at: UtcTime
    actor: str = Field(description="who read: the token's subject")
    role: str
    action: str = Field(description="ticket.read, ticket.list, ticket.report, ticket.step, stream.ticket")
    what: str = Field(description="the personal data shown, e.g. reporter_name,reporter_phone,unit")
    ticket_id: str


class AuditPage(BaseModel):
    entries: list[AuditOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page; null: no more")


class Location(BaseModel):
    building: str
    floor: int
    zone: str | None = None


class Whereabouts(BaseModel):
    building: str
    floor: int
    zone: str | None = None
    at: UtcTime = Field(description="when the technician was last placed there (app or badge)")


class TechRoute(BaseModel):
    """Where the ticket is, in words a technician reads, and how far it is from where they were last seen."""

    building: str
    building_name: str = Field(description="the building's name in the site file (its id when it has none)")
    floor: int
    zone: str | None = None
    origin: Whereabouts | None = Field(default=None, description="the caller's last known location; null: none")
    travel_s: int | None = Field(default=None, description="seconds from `origin` by the estate's travel times")


class DeviceValues(BaseModel):
    """The ticket's device as last heard from."""

    values: dict[str, Any]
    online: bool | None = None
    last_seen: UtcTime | None = None


class SiteInfo(BaseModel):
    id: str
    name: str
    locale: str
    timezone: str


class MeOut(BaseModel):
    role: str
    subject: str
    name: str | None = Field(default=None, description="a technician's name in the site file")
    site: SiteInfo


class PhotoOut(BaseModel):
    url: str = Field(description="what `resolve` takes in `photos`; GET serves it to those allowed")
    id: str
    content_type: str
    size: int


class HistoryEntry(BaseModel):
    at: UtcTime
    status: str
    by: str
    note: str | None = None


class Reporter(BaseModel):
    name: str | None = None  # null for a technician not working the ticket, as the unit
    phone: str | None = None  # masked (138****8000) for a technician not working the ticket
    unit: str | None = None


class ReporterEntry(Reporter):
    """One resident who reported the ticket's problem: the first, then each repeat report merged into it."""

    source: str | None = None
    at: UtcTime | None = None


class CheckOnOut(BaseModel):
    """A vulnerable resident to call during a supply cut (docs/residents.md); masked like `reporter`."""

    unit: str | None
    floor: int
    name: str | None
    phone: str | None


class AssignmentOut(BaseModel):
    """One trade's work on a ticket (docs/api.md, "Assignments")."""

    id: str = Field(description="AS-…")
    technician: str | None = Field(description="null while waiting for someone qualified on site")
    trade: str
    role: Literal["owner", "support"]
    status: Literal["waiting", "offered", "accepted", "on_site", "done", "declined", "timed_out", "withdrawn"]
    cycle: int = 1
    offered_at: UtcTime | None = None
    accept_by: UtcTime | None = None
    accepted_at: UtcTime | None = None
    arrived_at: UtcTime | None = None
    done_at: UtcTime | None = None
    ended_at: UtcTime | None = None
    travel_s: int = 0
    reason: str = ""


class AssignmentStepIn(BaseModel):
    """An assignment step's body: a decline's or a done's note; an operator's confirmation of an arrival."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)
    confirmed_by_operator: bool = False


class EscalationOut(BaseModel):
    level: int = Field(description="the escalation level reached, 0 first")
    started_at: UtcTime
    stopped_at: UtcTime | None = Field(None, description="when someone acted; null while it climbs")
    stopped_by: str | None = None


class TicketOut(BaseModel):
    id: str
    status: str
    urgency: int
    category: str
    title: str
    device: str | None
    location: Location
    assignee: str | None
    alerts: list[str]
    created_at: UtcTime
    updated_at: UtcTime
    accept_by: UtcTime
    arrive_by: UtcTime | None
    resolve_by: UtcTime
    accepted_at: UtcTime | None = None
    arrived_at: UtcTime | None = None
    resolved_at: UtcTime | None = None
    closed_at: UtcTime | None = None
    breached: bool
    source: str
    description: str | None = None
    reporter: Reporter | None = None
    reporters: list[ReporterEntry] = Field(default=[], description="every reporter, the first one first; "
                                           "masked like `reporter`, empty where `reporter` is null")
    resolution_note: str | None = None
    photos: list[str] = []
    satisfaction: int | None = None
    history: list[HistoryEntry] = []
    # the owner's and each support trade's work, every cycle (docs/api.md, "Assignments")
    assignments: list[AssignmentOut] = []
    # for a technician only (docs/api.md, "What a technician's ticket adds"); null for everyone else
    route: TechRoute | None = None
    device_values: DeviceValues | None = None
    # a building's mains or water cut: its vulnerable residents to call (docs/residents.md); null otherwise
    check_on: list[CheckOnOut] | None = None
    # a report's answer only: the resident's progress page (docs/residents.md)
    progress_link: str | None = None
    # a report's answer only: true when it joined the open ticket of the same problem (200), false when new (201)
    merged: bool | None = None
    # the outside contractor the ticket was offered to (docs/operations.md, "Contractors"); null: none
    contractor: str | None = None
    # the ticket's escalation (docs/operations.md, "Escalation levels"); null: it never climbed
    escalation: EscalationOut | None = None
    # the kind of report and its answer (docs/api.md, "Kinds of report"); a sensor's ticket is a repair
    kind: str = "repair"
    complaint_type: str | None = None
    answer_by: UtcTime | None = Field(None, description="a service complaint's answer deadline; null otherwise")
    answered_at: UtcTime | None = None
    answered_by: str | None = None
    answer: str | None = None


class AlertOut(BaseModel):
    id: str
    rule: str
    device: str | None = Field(description="the device; null for the service's own alarms (rule system.*)")
    urgency: int
    category: str
    title: str
    state: str
    raised_at: UtcTime
    cleared_at: UtcTime | None = None
    acked_by: str | None = None
    acked_at: UtcTime | None = None
    ticket: str | None = None
    building: str | None = None
    suppressed_by: str | None = Field(default=None, description="the alert that explains it (a building's outage)")
    silence: int | None = Field(default=None, description="the silence it fell in: recorded, no ticket")
    chattering: bool = False
    occurrences: int = Field(default=1, description="how often its condition held while it was active; a "
                                                    "chattering alert counts every flip of its episode")
    shelved_until: UtcTime | None = None
    shelved_by: str | None = None
    shelve_reason: str | None = None


class AlertLogEntry(BaseModel):
    state: str
    at: UtcTime
    by: str | None = None
    note: str | None = None


class AlertDetailOut(AlertOut):
    log: list[AlertLogEntry] = Field(description="every transition: raised, acknowledged, shelved, unshelved, "
                                                  "chattering, cleared — who and when")


class ShelveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: AwareDatetime = Field(description="when the alert comes back, RFC 3339")
    reason: str = Field(min_length=1, max_length=500)


class SilenceMatchers(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str | None = Field(default=None, max_length=64, description="rule id or shell pattern")
    device: str | None = Field(default=None, max_length=64, description="device id or shell pattern, e.g. B-*")
    device_type: str | None = None
    building: str | None = None
    floor: int | None = None
    zone: str | None = None


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    matchers: SilenceMatchers
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=500)


class SilenceOut(BaseModel):
    id: int
    matchers: dict
    starts_at: UtcTime
    ends_at: UtcTime
    reason: str
    author: str
    created_at: UtcTime
    active: bool
    expired_by: str | None = None


class DeviceOut(BaseModel):
    id: str
    type: str
    family: str
    location: Location
    online: bool | None  # None: never heard from
    values: dict[str, Any]
    last_seen: UtcTime | None = None
    last_ts: UtcTime | None = None
    gaps: int = 0
    open_alerts: list[str] = []
    faults_30d: int = Field(default=0, description="its own alerts in the last 30 days (not silenced or explained)")
    needs_inspection: bool = Field(default=False, description="3 or more faults in 30 days: for the inspection plan")


class TelemetryPoint(BaseModel):
    ts: UtcTime
    metric: str
    value: bool | int | float | str | None


class TelemetryOut(BaseModel):
    device: str
    metric: str | None
    points: list[TelemetryPoint]


class TicketBrief(BaseModel):
    id: str
    status: str
    urgency: int
    title: str
    role: Literal["owner", "support"] = "owner"  # the technician's assignment of it (docs/api.md, "Assignments")
    trade: str | None = None


class TechnicianOut(BaseModel):
    id: str
    name: str
    phone: str
    skills: list[str]
    location: Location | None
    source: str | None  # app | badge | arrive
    seen_at: UtcTime | None
    on_site: bool
    on_shift: bool
    current: list[TicketBrief]


class DeadLetterOut(BaseModel):
    id: int
    topic: str
    reason: str
    stage: str = Field(description="where it was refused: validate (the message itself), apply (a step the "
                                   "ticket does not allow) or process (a fault of the service)")
    detail: str
    payload_b64: str
    received_at: UtcTime


# --- errors (docs/api.md#errors) ----------------------------------------------------------------

class ErrorOut(BaseModel):
    detail: str


class ValidationProblem(BaseModel):
    model_config = ConfigDict(extra="allow")  # FastAPI adds `input` and `ctx` where it has them
    type: str
    loc: list[str | int] = Field(description='where: ["body", "description"], ["query", "building"], ...')
    msg: str


class ValidationErrorOut(BaseModel):
    detail: list[ValidationProblem]
