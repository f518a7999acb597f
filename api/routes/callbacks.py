"""GET /api/v1/callbacks: the call-back queue (回访), each ticket with its deadline; the outcome is recorded
with the ticket's own steps: verify with the rating (satisfied) or reopen (not fixed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from caretaker.api.callbacks import QUEUE, callback_due, callback_queue, callback_window
from caretaker.api.language import Lang
from caretaker.api.deps import Ctx, Operator
from caretaker.api.schemas import TicketOut, UtcTime
from caretaker.api.tickets import show

router = APIRouter(prefix="/api/v1/callbacks", tags=["call-backs"])


class CallbackOut(BaseModel):
    ticket: TicketOut = Field(description="with the reporter to call (audited)")
    due_at: UtcTime
    window_h: int = Field(description="24 for a repair, 48 for another request")
    overdue: bool


@router.get("", response_model=list[CallbackOut])
def get_callbacks(ctx: Ctx, user: Operator, lang: Lang,
                  limit: Annotated[int, Query(ge=1, le=QUEUE)] = QUEUE) -> list[dict[str, Any]]:
    """Resolved tickets a person reported, waiting for their call-back, the earliest due first."""
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:  # writes the audit rows: the list carries the numbers to call
        rows = callback_queue(session, limit)
        shown = show(session, user, rows, "callback.list", now, lang=lang)
    out = []
    for row, ticket in zip(rows, shown):
        due = callback_due(row.resolved_at, row.category)
        hours = int(callback_window(row.category).total_seconds() // 3600)
        out.append({"ticket": ticket, "due_at": due, "window_h": hours,
                    "overdue": now > due})
    return out
