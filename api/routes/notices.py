"""Supervisors' notices (docs/api.md#notices): listing them, and acknowledging one: someone has it in hand, so
the ticket's escalation stops climbing to the next level."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel

from caretaker import i18n
from caretaker.api.deps import Ctx, User, require
from caretaker.dispatch import notices

router = APIRouter(prefix="/api/v1/notices", tags=["notices"])
# operators acknowledge any notice; a supervisor's own token, the notices sent to them
Acknowledger = Annotated[User, Depends(require("operator", "supervisor"))]


class NoticeOut(BaseModel):
    id: str  # the Notice's `id`, as pushed
    ticket: str
    supervisor: str
    type: str
    level: int | None
    at: datetime
    acked_at: datetime | None
    acked_by: str | None


class NoticeAckOut(BaseModel):
    notice: str  # the Notice's `id`, as pushed
    ticket: str
    acked_by: str  # the first to acknowledge it
    acked_at: datetime
    stopped: bool  # whether this acknowledgement stopped a climb under way


@router.get("", response_model=list[NoticeOut])
def list_notices(ctx: Ctx, user: Acknowledger,
                 ticket: Annotated[str | None, Query(max_length=32, description="one ticket's notices")] = None,
                 unacked: Annotated[bool, Query(description="only those nobody acknowledged")] = False,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[NoticeOut]:
    """The notices sent, newest first: what to acknowledge. A supervisor's token lists only their own."""
    mine = user.subject if user.role == "supervisor" else None
    with ctx.sessions() as session:
        rows = notices.find(session, ticket_id=ticket, supervisor=mine, unacked=unacked, limit=limit)
        return [NoticeOut(id=r.id, ticket=r.ticket_id, supervisor=r.supervisor, type=r.type, level=r.level, at=r.at,
                          acked_at=r.acked_at, acked_by=r.acked_by) for r in rows]


@router.post("/{notice_id}/ack", response_model=NoticeAckOut,
             responses={404: {"description": "no such notice"}})
def ack_notice(notice_id: Annotated[str, Path(max_length=40)], ctx: Ctx, user: Acknowledger) -> NoticeAckOut:
    """Acknowledge a notice by the `id` of its push: the ticket's escalation stops (no further level is told)
    and its history says who acknowledged it. Acknowledging again answers the first acknowledgement. A
    supervisor's token acknowledges only the notices sent to them (403 otherwise)."""
    now = ctx.clock.now()
    try:
        with ctx.sessions.begin() as session:
            done = notices.ack(session, notice_id, user.subject, now,
                               sent_to=user.subject if user.role == "supervisor" else None)
    except notices.NoticeNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.spoken(exc)) from None
    except notices.NotYourNotice as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, i18n.spoken(exc)) from None
    ctx.wake_outbox()
    return NoticeAckOut(notice=done.notice, ticket=done.ticket, acked_by=done.acked_by, acked_at=done.acked_at,
                        stopped=done.stopped)
