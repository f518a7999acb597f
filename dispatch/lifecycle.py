"""The ticket and assignment lifecycle in one place: the statuses, the steps, the table of which step is
allowed from which status, and the ticket's status as it follows from its owner's assignment; pure.

Every other module (Python and, through `GET /api/v1/meta`, the pages) reads the vocabulary from here
(docs/operations.md, "Assignments")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class TicketStatus(StrEnum):
    OPEN = "open"  # nobody has the owner's assignment yet
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class AssignmentStatus(StrEnum):
    WAITING = "waiting"  # nobody qualified on site yet
    OFFERED = "offered"
    ACCEPTED = "accepted"
    ON_SITE = "on_site"
    DONE = "done"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    OWNER = "owner"  # the first responsible keeps the ticket to the end (首问负责制)
    SUPPORT = "support"


class Step(StrEnum):
    """What someone does to a ticket or one of its assignments."""

    OFFER = "offer"
    ACCEPT = "accept"
    DECLINE = "decline"
    TIME_OUT = "time_out"
    ARRIVE = "arrive"
    DONE = "done"
    RESOLVE = "resolve"
    WITHDRAW = "withdraw"
    VERIFY = "verify"
    REOPEN = "reopen"
    ASSIGN = "assign"
    CANCEL = "cancel"


T, A = TicketStatus, AssignmentStatus

# groups of ticket statuses the reads and the pages filter by
# (plain strings, so that they go into SQL as they are)
OPEN: tuple[str, ...] = (T.OPEN.value, T.ASSIGNED.value, T.ACCEPTED.value, T.ON_SITE.value)
ACTIVE: tuple[str, ...] = (T.ASSIGNED.value, T.ACCEPTED.value, T.ON_SITE.value)
FIXED: tuple[str, ...] = (T.RESOLVED.value, T.VERIFIED.value, T.CLOSED.value)
FINAL: tuple[str, ...] = (T.CLOSED.value, T.CANCELLED.value)
# an assignment still in play, and one that holds its technician (busy for choosing)
LIVE: tuple[str, ...] = (A.WAITING.value, A.OFFERED.value, A.ACCEPTED.value, A.ON_SITE.value)
HELD: tuple[str, ...] = (A.OFFERED.value, A.ACCEPTED.value, A.ON_SITE.value)
ENDED: tuple[str, ...] = (A.DONE.value, A.DECLINED.value, A.TIMED_OUT.value, A.WITHDRAWN.value)

# step -> (the assignment statuses it is allowed from, the status it leads to)
ASSIGNMENT_STEPS: dict[Step, tuple[tuple[str, ...], AssignmentStatus]] = {
    Step.OFFER: ((A.WAITING,), A.OFFERED),
    Step.ACCEPT: ((A.OFFERED,), A.ACCEPTED),
    Step.DECLINE: ((A.OFFERED,), A.DECLINED),
    Step.TIME_OUT: ((A.OFFERED,), A.TIMED_OUT),
    Step.ARRIVE: ((A.ACCEPTED,), A.ON_SITE),
    Step.DONE: ((A.ACCEPTED, A.ON_SITE), A.DONE),
    Step.RESOLVE: ((A.ACCEPTED, A.ON_SITE), A.DONE),  # the owner's done, with evidence
    Step.WITHDRAW: (LIVE, A.WITHDRAWN),
}

# when a ticket's work stops, what each support assignment still in play becomes (docs/operations.md,
# "Assignments"): the owner resolving or the ticket closing finishes the work on site (done) and takes back
# the work not begun (withdrawn: its technician is told); a cancelled ticket takes everything back
_SUPPORT_ENDS: dict[Step, dict[AssignmentStatus, AssignmentStatus]] = {
    Step.RESOLVE: {A.WAITING: A.WITHDRAWN, A.OFFERED: A.WITHDRAWN, A.ACCEPTED: A.WITHDRAWN, A.ON_SITE: A.DONE},
    Step.VERIFY: {A.WAITING: A.WITHDRAWN, A.OFFERED: A.WITHDRAWN, A.ACCEPTED: A.WITHDRAWN, A.ON_SITE: A.DONE},
    Step.CANCEL: {A.WAITING: A.WITHDRAWN, A.OFFERED: A.WITHDRAWN, A.ACCEPTED: A.WITHDRAWN, A.ON_SITE: A.WITHDRAWN},
}

# step -> the ticket statuses it is allowed from (the steps that act on the ticket as a whole)
TICKET_STEPS: dict[Step, tuple[str, ...]] = {
    Step.ACCEPT: OPEN,  # the caller's own assignment decides (a support may accept while the owner's is open)
    Step.DECLINE: OPEN,
    Step.ARRIVE: OPEN,
    Step.DONE: OPEN,
    Step.RESOLVE: (T.ACCEPTED, T.ON_SITE),
    Step.VERIFY: (T.RESOLVED, T.VERIFIED),
    Step.REOPEN: FIXED,
    Step.ASSIGN: OPEN,
    Step.CANCEL: OPEN + (T.RESOLVED.value, T.VERIFIED.value),
}

# the owner's assignment status -> the ticket's status while it is being worked
_WORKING: dict[AssignmentStatus | None, TicketStatus] = {
    None: T.OPEN, A.WAITING: T.OPEN, A.OFFERED: T.ASSIGNED, A.ACCEPTED: T.ACCEPTED, A.ON_SITE: T.ON_SITE,
    A.DECLINED: T.OPEN, A.TIMED_OUT: T.OPEN, A.WITHDRAWN: T.OPEN, A.DONE: T.RESOLVED,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a step is not allowed: the API answers 409 with `reason`."""

    step: Step
    status: str
    reason: str


def assignment_step(status: AssignmentStatus | str, step: Step) -> AssignmentStatus | Refusal:
    """Return the status an assignment goes to by `step`, or why it may not."""
    status = AssignmentStatus(status)
    rule = ASSIGNMENT_STEPS.get(step)
    if rule is None:
        return Refusal(step, status, f"{step} is not a step of an assignment")
    allowed, result = rule
    if status not in allowed:
        return Refusal(step, status, f"cannot {step} an assignment while it is {status}")
    return result


def ticket_step_refusal(status: TicketStatus | str, step: Step) -> Refusal | None:
    """Return why `step` may not be taken on a ticket in `status`, or None when it may."""
    status = TicketStatus(status)
    allowed = TICKET_STEPS.get(step)
    if allowed is None:
        return Refusal(step, status, f"{step} is not a step of a ticket")
    if status not in allowed:
        return Refusal(step, status, f"cannot {step} a ticket while it is {status}")
    return None


def support_end(status: AssignmentStatus | str, step: Step) -> AssignmentStatus | None:
    """Return what a support assignment in `status` becomes when the ticket's work stops by `step` (the
    owner's resolve, a verify that closes it, a cancel), or None when it has already ended."""
    return _SUPPORT_ENDS[step].get(AssignmentStatus(status))


def ticket_status(stage: TicketStatus | str, owner: AssignmentStatus | str | None) -> TicketStatus:
    """Return the ticket's status from where it stands (`stage`: its stored status, which the operator's
    steps set: resolved, verified, closed, cancelled) and its owner's current assignment."""
    stage = TicketStatus(stage)
    if stage in (T.RESOLVED, T.VERIFIED, T.CLOSED, T.CANCELLED):
        return stage
    return _WORKING[AssignmentStatus(owner) if owner is not None else None]


def vocabulary() -> dict[str, Any]:
    """The lifecycle as the pages need it (served by `GET /api/v1/meta`): statuses with their groups, the
    assignment statuses, roles, and which step is allowed from which status."""
    groups = {"open": OPEN, "active": ACTIVE, "fixed": FIXED, "final": FINAL}
    return {
        "ticket_statuses": [{"id": s.value, "groups": [g for g, members in groups.items() if s in members]}
                            for s in TicketStatus],
        "assignment_statuses": [{"id": s.value, "live": s in LIVE} for s in AssignmentStatus],
        "roles": [r.value for r in Role],
        "ticket_steps": {step.value: [str(s) for s in allowed] for step, allowed in TICKET_STEPS.items()},
        "assignment_steps": {step.value: {"from": [str(s) for s in allowed], "to": to.value}
                             for step, (allowed, to) in ASSIGNMENT_STEPS.items()},
    }
