"""The answer to a complaint or a suggestion (docs/api.md, "Kinds of report"): recorded in the ticket's
history, it stops the answer clock; a suggestion's answer closes it. Dispatch decides (dispatch/complaints.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from caretaker.api.language import Lang
from caretaker.api.deps import Ctx, Operator
from caretaker.api.routes.tickets import STEP_ERRORS, TicketId
from caretaker.api.schemas import AnswerIn, TicketOut
from caretaker.api.tickets import get_ticket_or_raise, show
from caretaker.dispatch import complaints

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
ANSWER_ERRORS: dict[int | str, dict[str, Any]] = {
    404: STEP_ERRORS[404],
    409: {"description": "a repair (nothing to answer), already answered, or closed or cancelled"},
}


@router.post("/{ticket_id}/answer", response_model=TicketOut, responses=ANSWER_ERRORS)
def answer(ticket_id: TicketId, body: AnswerIn, ctx: Ctx, user: Operator, lang: Lang) -> dict[str, Any]:
    """Answer a complaint with its rectification plan (整改措施), or a suggestion; the answer clock stops and
    any escalation with it. A suggestion closes; a complaint closes later, on its call-back."""
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        complaints.answer(session, ticket_id, user.subject, now, body.answer)
        result = show(session, user, [get_ticket_or_raise(session, ticket_id)], "ticket.step", now, lang=lang)[0]
    ctx.wake_outbox()
    return result
