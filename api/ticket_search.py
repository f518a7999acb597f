"""Finding tickets for the control room: every filter of GET /api/v1/tickets (status, level, trade, building,
technician, words, a date range of creation), newest first, a page at a time with the total. The query is
dispatch's read (dispatch/reads_tickets.py); the API names it here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from caretaker.dispatch import reads_tickets
from caretaker.dispatch.reads_tickets import MAX_PAGE, Ticket, TicketFilter

__all__ = ["MAX_PAGE", "TicketFilter", "search_tickets"]


def search_tickets(session: Session, f: TicketFilter) -> tuple[list[Ticket], int]:
    """Return one page of the tickets matching every filter, newest first, and how many match in all."""
    return reads_tickets.search(session, f)
