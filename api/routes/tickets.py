"""Tickets: list, read, report, and the technician and control-room steps; dispatch decides, this only translates."""

from __future__ import annotations

from typing import Annotated, Any, Callable

from pydantic import AwareDatetime

from fastapi import APIRouter, Body, HTTPException, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError

from caretaker import i18n
from caretaker.api import intake, report_kinds
from caretaker.api.deps import ApiContext, Ctx, Operator, Technician, TicketReader, User
from caretaker.api.language import Lang
from caretaker.api.residents import with_check_on
from caretaker.api.routes.photos import check_resolve_photos
from caretaker.api.schemas import AssignIn, Category, NoteIn, ReportIn, ReportKind, ResolveIn, TicketOut, VerifyIn
from caretaker.api.ticket_search import TicketFilter, search_tickets
from caretaker.dispatch import complaints
from caretaker.api.tickets import MAX_LIST, for_technician, get_ticket_or_raise, may_read, render, show

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])
TicketId = Annotated[str, Path(max_length=32)]
STEP_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not your ticket, or not your role"},
    404: {"description": "no such ticket"},
    409: {"description": "the step is not allowed in the ticket's current status"},
}


@router.get("", response_model=list[TicketOut])
def get_tickets(
    ctx: Ctx, user: TicketReader, response: Response, lang: Lang,
    status_: Annotated[str | None, Query(alias="status", description="one status or several, comma-separated")] = None,
    urgency: Annotated[int | None, Query(ge=1, le=4)] = None,
    building: str | None = None,
    assignee: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 100,
    personal: Annotated[bool, Query(description="false leaves out the reporter (and writes no audit row)")] = True,
    category: Annotated[Category | None, Query(description="the trade")] = None,
    q: Annotated[str | None, Query(max_length=100, description="words in the id, title or description")] = None,
    created_from: Annotated[AwareDatetime | None, Query(alias="from", description="created at or after")] = None,
    created_to: Annotated[AwareDatetime | None, Query(alias="to", description="created before")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    kind: Annotated[ReportKind | None, Query(description="repair, complaint, suggestion or enquiry")] = None,
) -> list[dict[str, Any]]:
    """Tickets matching every filter, newest first, `limit` from `offset`; the header X-Total-Count says how
    many match in all. A technician sees only the tickets assigned to them."""
    if user.is_technician:
        assignee = user.subject
    statuses = [s.strip() for s in status_.split(",") if s.strip()] if status_ else []
    found = TicketFilter(statuses=statuses, urgency=urgency, category=category, building=building, assignee=assignee,
                         text=q, created_from=created_from, created_to=created_to, limit=limit, offset=offset,
                         kind=kind)
    if not personal:  # a wall screen needs no resident's number: nothing personal shown, nothing to audit
        with ctx.sessions() as session:
            rows, total = search_tickets(session, found)
            response.headers["X-Total-Count"] = str(total)
            return render(session, rows, None, lang=lang)
    with ctx.sessions.begin() as session:  # writes the audit rows
        (rows, total), now = search_tickets(session, found), ctx.clock.now()
        response.headers["X-Total-Count"] = str(total)
        return with_check_on(session, ctx.site, user, rows,
                             for_technician(session, ctx.site, user, show(session, user, rows, "ticket.list", now, lang=lang)), now)


@router.get("/{ticket_id}", response_model=TicketOut, responses={403: STEP_ERRORS[403], 404: STEP_ERRORS[404]})
def get_ticket(ticket_id: TicketId, ctx: Ctx, user: TicketReader, lang: Lang) -> dict[str, Any]:
    """One ticket with its history; a technician may read it only while it is assigned to them."""
    with ctx.sessions.begin() as session:
        ticket = get_ticket_or_raise(session, ticket_id)
        if not may_read(user, ticket):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                i18n.said("error.ticket_not_assigned_to_you", ticket=ticket_id))
        now = ctx.clock.now()
        shown = for_technician(session, ctx.site, user, show(session, user, [ticket], "ticket.read", now, lang=lang))
        return with_check_on(session, ctx.site, user, [ticket], shown, now)[0]


REPORT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": TicketOut, "description": "the same problem is already reported: merged into that ticket "
                                             "(`merged: true`, `Location` names it)"},
    201: {"description": "a new ticket (`merged: false`, `Location` names it)"},
}


@router.post("", response_model=TicketOut, status_code=status.HTTP_201_CREATED, responses=REPORT_ANSWERS)
def report_ticket(body: ReportIn, ctx: Ctx, user: Operator, response: Response, lang: Lang) -> dict[str, Any]:
    """Open a ticket for a person's report; category and urgency are suggested from the description when absent.
    A repeat of an open ticket's problem (same unit and trade within 7 days) joins it: 200, `merged: true`."""
    kind, kind_problems = report_kinds.report_kind(body)  # docs/api.md, "Kinds of report"
    problems = intake.report_problems(body, ctx.site) + kind_problems
    if problems:  # every missing or wrong field at once, in FastAPI's own 422 shape
        raise RequestValidationError([
            {"type": kind, "loc": ("body", field), "msg": msg, "input": getattr(body, field, None)}
            for field, kind, msg in problems
        ])
    report = report_kinds.with_kind(intake.to_report(body, ctx.site), kind, body)
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        if report_kinds.for_desk(kind, body):  # a suggestion, a conduct complaint: no technician
            ticket_id = complaints.file_for_desk(ctx.dispatcher, session, report, kind, now, by=user.subject)
        elif complaints.desk_ticket_in_the_way(session, report, now):  # no repair joins a suggestion
            ticket_id = complaints.file_apart(ctx.dispatcher, session, report, now, by=user.subject)
            complaints.record(session, get_ticket_or_raise(session, ticket_id), kind, now, user.subject)
        else:
            ticket_id = ctx.dispatcher.report(session, report, now, by=user.subject)
            complaints.record(session, get_ticket_or_raise(session, ticket_id), kind, now, user.subject)
        # answered at once: a `received` notice to the reporter's unit, with the progress link (docs/residents.md)
        link = ctx.dispatcher.residents.received(session, ticket_id, report.unit_id, now)
        ticket = get_ticket_or_raise(session, ticket_id)
        result = show(session, user, [ticket], "ticket.report", now, lang=lang)[0]
        result["progress_link"] = link
        result["merged"] = ticket.created_at < now  # opened before this report: it joined that ticket
    ctx.wake_outbox()
    response.headers["Location"] = f"/api/v1/tickets/{ticket_id}"
    if result["merged"]:
        response.status_code = status.HTTP_200_OK
    return result


def _step(ctx: ApiContext, user: User, ticket_id: str, act: Callable[..., None], lang: str) -> dict[str, Any]:
    """Run one step in its own transaction, return the ticket as it now stands, then wake the outbox."""
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        act(session, now)
        ticket = get_ticket_or_raise(session, ticket_id)
        shown = for_technician(session, ctx.site, user, show(session, user, [ticket], "ticket.step", now, lang=lang))
        result = with_check_on(session, ctx.site, user, [ticket], shown, now)[0]
    ctx.wake_outbox()
    return result


# --- the assigned technician ---------------------------------------------------------------------

@router.post("/{ticket_id}/accept", response_model=TicketOut, responses=STEP_ERRORS)
def accept(ticket_id: TicketId, ctx: Ctx, user: Technician, lang: Lang) -> dict[str, Any]:
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.accept(s, ticket_id, user.subject, now), lang)


@router.post("/{ticket_id}/decline", response_model=TicketOut, responses=STEP_ERRORS)
def decline(ticket_id: TicketId, ctx: Ctx, user: Technician, lang: Lang,
            body: Annotated[NoteIn | None, Body()] = None) -> dict[str, Any]:
    note = body.note if body else None
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.decline(s, ticket_id, user.subject, now, note), lang)


@router.post("/{ticket_id}/arrive", response_model=TicketOut, responses=STEP_ERRORS)
def arrive(ticket_id: TicketId, ctx: Ctx, user: Technician, lang: Lang) -> dict[str, Any]:
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.arrive(s, ticket_id, user.subject, now), lang)


@router.post("/{ticket_id}/resolve", response_model=TicketOut, responses=STEP_ERRORS)
def resolve(ticket_id: TicketId, body: ResolveIn, ctx: Ctx, user: Technician, lang: Lang) -> dict[str, Any]:
    """Resolve with a note on what was done and at least one photo: an uploaded photo of this ticket
    (POST /tickets/{id}/photos), an http(s) URL, or a data URI holding an image."""
    check_resolve_photos(ctx, ticket_id, body.photos)
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.resolve(
        s, ticket_id, user.subject, now, body.note, body.photos), lang)


# --- the control room ----------------------------------------------------------------------------

@router.post("/{ticket_id}/verify", response_model=TicketOut, responses=STEP_ERRORS)
def verify(ticket_id: TicketId, ctx: Ctx, user: Operator, lang: Lang,
           body: Annotated[VerifyIn | None, Body()] = None) -> dict[str, Any]:
    """Record the call-back; with a satisfaction score (1-5) the ticket closes."""
    body = body or VerifyIn()

    def act(s, now) -> None:  # a complaint closes only once answered: 409 naming the answer
        complaints.refuse_unanswered_close(s, ticket_id, closing=body.satisfaction is not None)
        ctx.dispatcher.verify(s, ticket_id, user.subject, now, body.satisfaction, body.note)

    return _step(ctx, user, ticket_id, act, lang)


@router.post("/{ticket_id}/reopen", response_model=TicketOut, responses=STEP_ERRORS)
def reopen(ticket_id: TicketId, ctx: Ctx, user: Operator, lang: Lang,
           body: Annotated[NoteIn | None, Body()] = None) -> dict[str, Any]:
    """Not fixed: the same ticket goes back to the technician who owns it."""
    note = body.note if body else None
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.reopen(s, ticket_id, user.subject, now, note), lang)


@router.post("/{ticket_id}/assign", response_model=TicketOut, responses=STEP_ERRORS)
def assign(ticket_id: TicketId, body: AssignIn, ctx: Ctx, user: Operator, lang: Lang) -> dict[str, Any]:
    if body.technician not in ctx.site.technicians:
        raise RequestValidationError([{"type": "unknown", "loc": ("body", "technician"), "input": body.technician,
                                       "msg": i18n.said("error.technician_not_in_site", technician=body.technician)}])
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.assign(
        s, ticket_id, body.technician, user.subject, now), lang)


@router.post("/{ticket_id}/cancel", response_model=TicketOut, responses=STEP_ERRORS)
def cancel(ticket_id: TicketId, ctx: Ctx, user: Operator, lang: Lang,
           body: Annotated[NoteIn | None, Body()] = None) -> dict[str, Any]:
    note = body.note if body else None
    return _step(ctx, user, ticket_id, lambda s, now: ctx.dispatcher.cancel(s, ticket_id, user.subject, now, note), lang)
