"""Dispatch's reads of tickets as the API shows and finds them: one ticket, a page of a search, a date range, a
ticket's history, alerts and reporters, the call-back queue's candidates, a unit's or a number's earlier tickets,
the live stream's changes.

Reads only, each the query the API ran itself before (docs/code-map.md, "How the API reads the rooms"): one query
per read however many tickets, ids bound a chunk at a time. The rows returned are the caller's to read, not to
change: a change to a ticket is a step of the Dispatcher (dispatch/service.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from caretaker import i18n
from caretaker.dispatch import complaints, lookup
from caretaker.i18n import stored
from caretaker.dispatch.lifecycle import ACTIVE, FINAL, TicketStatus
from caretaker.dispatch.tables import TicketAlertRow, TicketHistoryRow, TicketReporterRow, TicketRow

# the row types these reads return, by the names the API uses
Ticket = TicketRow
HistoryLine = TicketHistoryRow
Reporter = TicketReporterRow

MAX_PAGE = 500
IDS_PER_QUERY = 500  # ids bound in one IN (...): SQLite caps the parameters of one statement


def ticket(session: Session, ticket_id: str) -> TicketRow | None:
    """The ticket, or None."""
    return session.get(TicketRow, ticket_id)


def tickets_by_ids(session: Session, ids: Sequence[str], chunk: int = IDS_PER_QUERY) -> list[TicketRow]:
    """The tickets of these ids (unknown ones left out, in no order), a chunk of ids a query."""
    ids = list(ids)
    return [row for at in range(0, len(ids), chunk)
            for row in session.scalars(select(TicketRow).where(TicketRow.id.in_(ids[at:at + chunk])))]


def latest(session: Session, *, statuses: Sequence[str] = (), urgency: int | None = None,
           building: str | None = None, assignee: str | None = None, limit: int = 100) -> list[TicketRow]:
    """Tickets matching every given filter, newest first, at most MAX_PAGE."""
    query = select(TicketRow)
    if statuses:
        query = query.where(TicketRow.status.in_(statuses))
    if urgency is not None:
        query = query.where(TicketRow.urgency == urgency)
    if building:
        query = query.where(TicketRow.building == building)
    if assignee:
        query = query.where(TicketRow.assignee == assignee)
    query = query.order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(min(limit, MAX_PAGE))
    return list(session.scalars(query))


# --- a search: every filter of GET /api/v1/tickets ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TicketFilter:
    statuses: Sequence[str] = ()
    urgency: int | None = None
    category: str | None = None
    building: str | None = None
    assignee: str | None = None
    text: str | None = None  # in the id, title or description, any case
    created_from: datetime | None = None  # inclusive
    created_to: datetime | None = None  # exclusive
    limit: int = 100
    offset: int = 0
    kind: str | None = None  # repair, complaint, suggestion, enquiry (dispatch/complaints.py)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(f: TicketFilter) -> list:
    clauses = []
    if f.statuses:
        clauses.append(TicketRow.status.in_(list(f.statuses)))
    if f.urgency is not None:
        clauses.append(TicketRow.urgency == f.urgency)
    if f.category:
        clauses.append(TicketRow.category == f.category)
    if f.building:
        clauses.append(TicketRow.building == f.building)
    if f.assignee:
        # the tickets the technician owns or holds a support assignment of
        clauses.append(or_(TicketRow.assignee == f.assignee, TicketRow.id.in_(lookup.held_tickets(f.assignee))))
    if f.kind:
        clauses.append(complaints.kind_clause(f.kind))
    if f.created_from is not None:
        clauses.append(TicketRow.created_at >= f.created_from)
    if f.created_to is not None:
        clauses.append(TicketRow.created_at < f.created_to)
    if f.text and f.text.strip():
        pattern = f"%{_escape_like(f.text.strip().lower())}%"
        clauses.append(or_(func.lower(TicketRow.id).like(pattern, escape="\\"),
                           func.lower(TicketRow.title).like(pattern, escape="\\"),
                           func.lower(func.coalesce(TicketRow.description, "")).like(pattern, escape="\\")))
    return clauses


def search(session: Session, f: TicketFilter) -> tuple[list[TicketRow], int]:
    """One page of the tickets matching every filter, newest first, and how many match in all."""
    clauses = _where(f)
    total = session.scalar(select(func.count()).select_from(TicketRow).where(*clauses)) or 0
    rows = session.scalars(select(TicketRow).where(*clauses)
                           .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
                           .offset(max(0, f.offset)).limit(min(max(1, f.limit), MAX_PAGE)))
    return list(rows), total


def created_in(session: Session, start: datetime, end: datetime, limit: int | None = None) -> list[TicketRow]:
    """The tickets created in [start, end): with a limit, the oldest `limit` of them in order (an export);
    without, all of them in no order (the KPIs)."""
    query = select(TicketRow).where(TicketRow.created_at >= start, TicketRow.created_at < end)
    if limit is not None:
        query = query.order_by(TicketRow.created_at, TicketRow.id).limit(limit)
    return list(session.scalars(query))


# --- what showing tickets needs besides their rows: one query each for any number of tickets ----------------

_HISTORY_COLUMNS = tuple(TicketHistoryRow.__table__.columns.keys())


def histories_of(session: Session, ids: Sequence[str]) -> dict[str, list[TicketHistoryRow]]:
    """Each ticket's history lines, oldest first: read-only rows with the table's columns as attributes (not
    ORM objects: a storm's ticket has hundreds of lines, and every ticket list shows them all)."""
    result: dict[str, list[TicketHistoryRow]] = defaultdict(list)
    if ids:
        query = (select(*(getattr(TicketHistoryRow, name) for name in _HISTORY_COLUMNS))
                 .where(TicketHistoryRow.ticket_id.in_(ids)).order_by(TicketHistoryRow.id))
        for row in session.execute(query):
            result[row.ticket_id].append(row)
    return result


def note_of(line: TicketHistoryRow) -> str | i18n.Said | None:
    """Return what a history line says: the system's own wording as a `Said`, to be said in its reader's
    language (a person's words inside it as typed); a person's note, or a line written before the wording was
    kept (no `note_said`), as stored (docs/operators.md, "Languages")."""
    return stored.load(line.note_said, line.note)


# history lines never change once written: each one's words in a language are said once and kept, so a control
# room polling a storm's tickets (hundreds of lines each) does not say them all again every time
_SAID: dict[tuple, str | None] = {}
_SAID_KEPT = 50_000


def note_in(line: TicketHistoryRow, lang: str) -> str | None:
    """Return `note_of` said in `lang` (the same words, said straight from the stored JSON)."""
    if line.note_said is None:
        return line.note
    # the row and what it holds: two databases in one process (tests) never share a line's words
    key = (line.ticket_id, line.id, line.at, line.note, lang)
    said = _SAID.get(key)
    if said is None:
        if len(_SAID) >= _SAID_KEPT:
            _SAID.clear()
        said = _SAID[key] = stored.say(line.note_said, line.note, lang)
    return said


def alerts_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    """Each ticket's alert ids, in the order they were attached (the link is stored once, in ticket_alerts)."""
    result: dict[str, list[str]] = defaultdict(list)
    if ids:
        query = (select(TicketAlertRow.ticket_id, TicketAlertRow.alert_id)
                 .where(TicketAlertRow.ticket_id.in_(ids)).order_by(TicketAlertRow.attached_at))
        for ticket_id, alert_id in session.execute(query):
            result[ticket_id].append(alert_id)
    return result


def reporters_of(session: Session, ids: Sequence[str]) -> dict[str, list[TicketReporterRow]]:
    """Each ticket's later reporters (the first is on the ticket row), oldest first."""
    result: dict[str, list[TicketReporterRow]] = defaultdict(list)
    if ids:
        query = select(TicketReporterRow).where(TicketReporterRow.ticket_id.in_(ids)).order_by(TicketReporterRow.id)
        for row in session.scalars(query):
            result[row.ticket_id].append(row)
    return result


# --- queues and look-ups of the control room ---------------------------------------------------------------

def oldest_resolved(session: Session, limit: int) -> list[TicketRow]:
    """Up to `limit` resolved tickets, the earliest resolved first (the call-back queue picks from these)."""
    return list(session.scalars(select(TicketRow).where(TicketRow.status == TicketStatus.RESOLVED.value)
                                .order_by(TicketRow.resolved_at, TicketRow.id).limit(limit)))


def active_assigned(session: Session) -> list:
    """(id, assignee, urgency, status, title) of every active ticket with an owner, the most urgent and oldest
    first: who is working on what."""
    return list(session.execute(
        select(TicketRow.id, TicketRow.assignee, TicketRow.urgency, TicketRow.status, TicketRow.title)
        .where(TicketRow.status.in_(ACTIVE), TicketRow.assignee.is_not(None))
        .order_by(TicketRow.urgency, TicketRow.created_at)))


def reported_from(session: Session, phone: str) -> set[str]:
    """Ids of the tickets this number reported, as first or later reporter."""
    return set(session.scalars(select(TicketRow.id).where(TicketRow.reporter_phone == phone))) | set(
        session.scalars(select(TicketReporterRow.ticket_id).where(TicketReporterRow.phone == phone)))


def earlier(session: Session, ids: Iterable[str], unit: str | None, limit: int) -> list[TicketRow]:
    """The newest `limit` tickets among these ids or of the unit, newest first."""
    ids = set(ids)
    clauses = [TicketRow.id.in_(ids)] if ids else []
    if unit:
        clauses.append(TicketRow.unit_id == unit)
    if not clauses:
        return []
    return list(session.scalars(select(TicketRow).where(or_(*clauses))
                                .order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(limit)))


# --- the live stream ---------------------------------------------------------------------------------------

def open_of(session: Session, tech: str) -> set[str]:
    """Ids of the tickets not yet final that the technician owns or holds a support assignment of."""
    return set(session.scalars(select(TicketRow.id).where(
        or_(TicketRow.assignee == tech, TicketRow.id.in_(lookup.held_tickets(tech))), TicketRow.status.notin_(FINAL))))


def changed_since(session: Session, since: datetime, limit: int, tech: str | None = None,
                  theirs: Iterable[str] = ()) -> list:
    """(id, updated_at, status, assignee, breached) of the tickets changed since a time, newest first, at most
    `limit`; with a technician, only theirs: owned, held, or in `theirs` (they hear once of one taken away)."""
    query = select(TicketRow.id, TicketRow.updated_at, TicketRow.status, TicketRow.assignee, TicketRow.breached) \
        .where(TicketRow.updated_at >= since)
    if tech:
        query = query.where(or_(TicketRow.assignee == tech, TicketRow.id.in_(list(theirs) or [""]),
                                TicketRow.id.in_(lookup.held_tickets(tech))))
    return list(session.execute(query.order_by(TicketRow.updated_at.desc()).limit(limit)))
