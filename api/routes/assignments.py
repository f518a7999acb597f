"""One assignment's steps (docs/api.md, "Assignments"): its technician accepts, declines, arrives, or finishes
a support assignment with done; an operator may confirm an arrival the location does not show."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, status

from caretaker import i18n
from caretaker.api.language import Lang
from caretaker.api.deps import Ctx, TicketReader, User
from caretaker.api.residents import with_check_on
from caretaker.api.schemas import AssignmentStepIn, TicketOut
from caretaker.api.tickets import for_technician, get_ticket_or_raise, show

router = APIRouter(prefix="/api/v1/assignments", tags=["assignments"])
AssignmentId = Annotated[str, Path(max_length=32, description="AS-…")]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not your assignment, or not your role"},
    404: {"description": "no such assignment"},
    409: {"description": "the step is not allowed in the assignment's status, or an arrive from elsewhere"},
}


def _step(ctx: Ctx, user: User, ref: str, step: str, body: AssignmentStepIn | None,
          lang: str | None = None) -> dict[str, Any]:
    body = body or AssignmentStepIn()
    if not user.is_technician and not (step == "arrive" and body.confirmed_by_operator):
        raise HTTPException(status.HTTP_403_FORBIDDEN, i18n.said("error.operator_confirms_arrival",
                                                                 example='{"confirmed_by_operator": true}'))
    now = ctx.clock.now()
    tech = user.subject if user.is_technician else None
    confirmed_by = None if user.is_technician else user.subject
    with ctx.sessions.begin() as session:
        ticket_id = ctx.dispatcher.assignment_step(session, ref, step, tech, now, note=body.note,
                                                   confirmed_by=confirmed_by)
        ticket = get_ticket_or_raise(session, ticket_id)
        shown = for_technician(session, ctx.site, user, show(session, user, [ticket], "ticket.step", now,
                                                             lang=lang))
        result = with_check_on(session, ctx.site, user, [ticket], shown, now)[0]
    ctx.wake_outbox()
    return result


@router.post("/{assignment_id}/accept", response_model=TicketOut, responses=ERRORS)
def accept(assignment_id: AssignmentId, ctx: Ctx, user: TicketReader, lang: Lang) -> dict[str, Any]:
    """Accept the assignment; answers its ticket as it now stands."""
    return _step(ctx, user, assignment_id, "accept", None, lang)


@router.post("/{assignment_id}/decline", response_model=TicketOut, responses=ERRORS)
def decline(assignment_id: AssignmentId, ctx: Ctx, user: TicketReader, lang: Lang,
            body: Annotated[AssignmentStepIn | None, Body()] = None) -> dict[str, Any]:
    """Decline it (with a note saying why); the same trade goes to the next nearest at once."""
    return _step(ctx, user, assignment_id, "decline", body, lang)


@router.post("/{assignment_id}/arrive", response_model=TicketOut, responses=ERRORS)
def arrive(assignment_id: AssignmentId, ctx: Ctx, user: TicketReader, lang: Lang,
           body: Annotated[AssignmentStepIn | None, Body()] = None) -> dict[str, Any]:
    """On site: counted when the technician's last location (app or badge) is in the ticket's building, else
    refused with 409 and the reason; an operator's `{"confirmed_by_operator": true}` counts it anyway."""
    return _step(ctx, user, assignment_id, "arrive", body, lang)


@router.post("/{assignment_id}/done", response_model=TicketOut, responses=ERRORS)
def done(assignment_id: AssignmentId, ctx: Ctx, user: TicketReader, lang: Lang,
         body: Annotated[AssignmentStepIn | None, Body()] = None) -> dict[str, Any]:
    """A support assignment's work is finished (the owner resolves the ticket instead, with evidence)."""
    return _step(ctx, user, assignment_id, "done", body, lang)
