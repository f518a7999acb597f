"""SLA arithmetic: deadlines from a creation time and a level's windows, warning times, raised urgency; pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from caretaker.estate.model import DEFAULT_SLA, Sla

WARNING_FRACTION = 0.8  # docs/operations.md, "Urgency and deadlines": warn when 80% of a deadline has passed


@dataclass(frozen=True, slots=True)
class Deadlines:
    accept_by: datetime
    arrive_by: datetime | None
    resolve_by: datetime


def sla_for(urgency: int, policy: dict[int, Sla]) -> Sla:
    """Return the site's windows for a level, falling back to the industry defaults."""
    return policy.get(urgency) or DEFAULT_SLA[urgency]


def deadlines_from(created_at: datetime, sla: Sla) -> Deadlines:
    """Return the accept, arrive and resolve deadlines of a ticket created at `created_at`."""
    return Deadlines(
        accept_by=created_at + sla.accept,
        arrive_by=created_at + sla.arrive if sla.arrive is not None else None,
        resolve_by=created_at + sla.resolve,
    )


def warning_time(start: datetime, deadline: datetime) -> datetime:
    """Return when 80% of the time from `start` to `deadline` has passed."""
    return start + (deadline - start) * WARNING_FRACTION


def raised_urgency(urgency: int, vulnerable_resident: bool) -> int:
    """Return the level after raising it one step for a vulnerable resident (a 3 becomes a 2, never past 1)."""
    return max(1, urgency - 1) if vulnerable_resident else urgency
