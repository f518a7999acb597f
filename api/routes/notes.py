"""An operator's note on a ticket ("resident called again, says the water is off"): one line of its history,
status unchanged, seen by everyone who reads the ticket (docs/api.md#notes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from caretaker.api.language import Lang
from caretaker.api.deps import Ctx, Operator
from caretaker.api.schemas import TicketOut
from caretaker.api.tickets import get_ticket_or_raise, show

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
NOTE = "note"  # the history entry's `status`: a note changes no status (the vocabulary's `history_kinds`)


class OperatorNoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=4000)

    @field_validator("note")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a note needs words")
        return value.strip()


@router.post("/{ticket_id}/notes", response_model=TicketOut, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "no such ticket"}})
def add_note(ticket_id: Annotated[str, Path(max_length=32)], body: OperatorNoteIn, ctx: Ctx,
             user: Operator, lang: Lang) -> dict[str, Any]:
    """Add a note to the ticket's history, by the caller, now; the ticket's status does not change, and the
    control room sees the ticket change on the live stream."""
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        ticket = get_ticket_or_raise(session, ticket_id)
        ticket.updated_at = now
        ctx.dispatcher.history(session, ticket, now, NOTE, user.subject, body.note)  # dispatch's history line
        session.flush()
        return show(session, user, [ticket], "ticket.note", now, lang=lang)[0]
