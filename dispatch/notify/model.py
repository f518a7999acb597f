"""The notification port: a typed outbound message, and what a channel says of one delivery of it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class MessageKind(StrEnum):
    """The kinds of message a channel may take (the site file's `takes`)."""

    NOTICE = "notice"  # to a supervisor
    DISPATCH = "dispatch"  # to a technician (or a contractor's offer)
    ALERT = "alert"  # an alert's life, for integrations
    RESIDENT = "resident"  # to a unit's residents


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message the service publishes on MQTT, as a channel sees it: its kind, who it is for, the topic
    and the payload exactly as pushed."""

    outbox_id: int
    message_id: str  # the payload's `id` (docs/device-protocol.md); the outbox row's id for older rows
    site: str
    kind: MessageKind
    topic: str
    payload: dict[str, Any] = field(hash=False)
    person: str | None = None  # the technician, supervisor or contractor it is for
    unit: str | None = None  # a resident notice's unit


def classify(outbox_id: int, topic: str, payload_text: str, prefix: str, site: str) -> Outbound | None:
    """Return the outbound message an outbox row is, or None for a row no channel takes (another site's, or a
    topic that is not a Notice, Dispatch, ResidentNotice or AlertEvent). Pure."""
    head = f"{prefix}/{site}/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head):].split("/")
    person = unit = None
    if len(parts) == 3 and parts[0] == "technicians" and parts[2] == "dispatch":
        kind, person = MessageKind.DISPATCH, parts[1]
    elif len(parts) == 3 and parts[0] == "contractors":  # an offer to an outside firm (docs/channels.md)
        kind, person = MessageKind.DISPATCH, parts[1]
    elif len(parts) == 3 and parts[0] == "supervisors" and parts[2] == "notify":
        kind, person = MessageKind.NOTICE, parts[1]
    elif len(parts) == 3 and parts[0] == "units" and parts[2] == "notice":
        kind, unit = MessageKind.RESIDENT, parts[1]
    elif parts == ["alerts"]:
        kind = MessageKind.ALERT
    else:
        return None
    try:
        payload = json.loads(payload_text)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        payload = {}  # the channel says it cannot format it; the row is given up, never stuck
    message_id = payload.get("id") if isinstance(payload.get("id"), str) else f"O-{outbox_id}"
    return Outbound(outbox_id=outbox_id, message_id=message_id, site=site, kind=kind, topic=topic,
                    payload=payload, person=person, unit=unit)


def delivery_id(site: str, channel: str, message_id: str) -> str:
    """The id a receiver sees: the same on every retry of one message to one channel, different per channel."""
    digest = hashlib.sha256(f"{site}\0{channel}\0{message_id}".encode()).hexdigest()
    return f"D-{digest[:32]}"


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # worth trying again later: the receiver is down, slow or busy
    GIVE_UP = "give_up"  # this message will not go through this channel, however often it is tried


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one attempt came to. `reason` is short and holds no personal data or url ("http 503"), for logs
    and the row. `at_once` gives up without the few confirming tries (a message the channel cannot format).
    `retry_after` is the receiver's own Retry-After, in seconds, when it gave one."""

    outcome: Outcome
    reason: str = ""
    at_once: bool = False
    retry_after: float | None = None

    @classmethod
    def sent(cls) -> Delivery:
        return cls(Outcome.SENT)

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> Delivery:
        return cls(Outcome.RETRY, reason, retry_after=retry_after)

    @classmethod
    def give_up(cls, reason: str, at_once: bool = False) -> Delivery:
        return cls(Outcome.GIVE_UP, reason, at_once=at_once)


class Channel(Protocol):
    """A way to reach people or systems (webhook.py, apprise_channel.py)."""

    id: str

    def send(self, message: Outbound, delivery: str) -> Delivery: ...

    def close(self) -> None: ...
