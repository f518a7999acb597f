"""Parse and build the topics of docs/device-protocol.md; pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

InboundKind = Literal["telemetry", "event", "status", "location", "reply"]
_DEVICE_KINDS = {"telemetry", "event", "status"}
_TECH_KINDS = {"location", "reply"}


@dataclass(frozen=True, slots=True)
class InboundTopic:
    site: str
    subject: str  # a device id or a technician id
    kind: InboundKind


def parse_inbound_topic(topic: str, prefix: str) -> InboundTopic | None:
    """Return the parts of a device or technician topic, or None when it is not one we accept."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != prefix:
        return None
    _, site, collection, subject, kind = parts
    if not ID_PATTERN.match(site) or not ID_PATTERN.match(subject):
        return None
    if collection == "devices" and kind in _DEVICE_KINDS:
        return InboundTopic(site, subject, kind)  # type: ignore[arg-type]
    if collection == "technicians" and kind in _TECH_KINDS:
        return InboundTopic(site, subject, kind)  # type: ignore[arg-type]
    return None


def inbound_subscriptions(prefix: str, site: str) -> list[str]:
    """Return the topic filters the service subscribes to: its own site's only. A broker is often shared by
    several estates; subscribing to `{prefix}/+/...` would receive every other estate's traffic and fill
    the dead letters with it (docs/deploy.md, "Scaling out")."""
    return [
        f"{prefix}/{site}/devices/+/telemetry",
        f"{prefix}/{site}/devices/+/event",
        f"{prefix}/{site}/devices/+/status",
        f"{prefix}/{site}/technicians/+/location",
        f"{prefix}/{site}/technicians/+/reply",
    ]


def deadletter_topic(prefix: str, site: str) -> str:
    return f"{prefix}/{site}/deadletter"
