"""Residents' notices and links at the edge (docs/residents.md): reads and writes the supply cuts and
progress links, and queues each ResidentNotice in the outbox, inside the caller's transaction. The
decisions are dispatch/residents.py's."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker.dispatch import residents
from caretaker.dispatch.lookup import FINAL
from caretaker.dispatch.outbox import enqueue, iso, message_id
from caretaker.dispatch.privacy import mask_text
from caretaker.dispatch.resident_tables import ProgressLinkRow, SupplyCutRow
from caretaker.dispatch.residents import Cut, NoticeType, ResidentNotice
from caretaker.dispatch.tables import TechnicianLocationRow, TicketReporterRow, TicketRow
from caretaker.estate.model import Place, Site
from caretaker.estate.travel import travel_seconds

LINK_TTL = timedelta(days=7)  # a link works this long after its ticket closes (CARETAKER_RESIDENT_LINK_DAYS)
TOKEN_BYTES = 24  # 192 bits: no one finds a link by trying
PAGE_PATH = "/r/"


def hash_link_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Found:
    link: ProgressLinkRow
    ticket: TicketRow


def ends_at(ticket: TicketRow, ttl: timedelta) -> datetime | None:
    """When a ticket's links stop working: `ttl` after it closed or was cancelled; None while it is open."""
    if ticket.status not in FINAL:
        return None
    return (ticket.closed_at or ticket.updated_at) + ttl


def eta_seconds(site: Site, ticket: TicketRow, origin: TechnicianLocationRow | None, now: datetime) -> int | None:
    """Seconds until the technician who accepted is expected: the travel time from their last known place,
    less the time since they set out (or were last seen); None when not on the way or nowhere known."""
    if ticket.status != "accepted" or origin is None or now - origin.ts > site.travel.location_ttl:
        return None
    seconds = travel_seconds(site, Place(origin.building, origin.floor, origin.zone),
                             Place(ticket.building, ticket.floor, ticket.zone))
    if seconds is None:
        return None
    start = max(t for t in (ticket.accepted_at, origin.ts) if t is not None)
    return max(0, int(seconds - (now - start).total_seconds()))


class ResidentDesk:
    """Tells residents: supply cuts to every unit of the building, a report's progress to its reporters."""

    def __init__(self, site: Site, prefix: str, public_url: str | None = None, link_ttl: timedelta = LINK_TTL) -> None:
        self.site = site
        self.prefix = prefix
        self.public_url = (public_url or "").rstrip("/")
        self.link_ttl = link_ttl

    # --- notices ---------------------------------------------------------------------------------

    def _send(self, session: Session, unit: str, kind: NoticeType, building: str, text: str, now: datetime,
              ticket: str | None = None, link: str | None = None) -> None:
        notice = ResidentNotice(id=message_id(), type=kind, ticket=ticket, building=building, text=text,
                                link=link, ts=iso(now) or "")
        enqueue(session, residents.notice_topic(self.prefix, self.site.id, unit), notice.model_dump(mode="json"), now)

    # --- supply cuts -----------------------------------------------------------------------------

    def _open_cut(self, session: Session, building: str, supply: str) -> SupplyCutRow | None:
        return session.scalars(select(SupplyCutRow).where(
            SupplyCutRow.site == self.site.id, SupplyCutRow.building == building, SupplyCutRow.supply == supply,
            SupplyCutRow.ended_at.is_(None)).order_by(SupplyCutRow.id).with_for_update()).first()

    def on_alert(self, session: Session, state: str, rule_id: str, alert: str, building: str,
                 ticket: str | None, now: datetime, silenced: bool = False) -> bool:
        """An alarm was raised or cleared (caretaker/pipeline.py): tell the building's units when it starts
        or ends a supply cut; return whether notices were queued. A silenced alarm (a planned shutdown,
        announced beforehand) starts none."""
        supply = residents.supply_of(rule_id)
        if supply is None or state not in ("raised", "cleared") or (silenced and state == "raised"):
            return False
        row = self._open_cut(session, building, supply)
        cut = Cut(row.building, row.supply, row.since, frozenset(row.alerts or ())) if row is not None else None
        if state == "raised":
            change = residents.on_raised(cut, building, supply, alert, now)
        else:
            change = residents.on_cleared(cut, alert)
        if change.cut is not None and row is None:
            row = SupplyCutRow(site=self.site.id, building=building, supply=supply, since=change.cut.since,
                               alerts=sorted(change.cut.alerts), ticket_id=ticket, units=0)
            session.add(row)
        elif row is not None:
            if change.cut is None:
                row.ended_at, row.alerts = now, []
            else:
                row.alerts = sorted(change.cut.alerts)
                row.ticket_id = row.ticket_id or ticket
        if change.notice is None:
            return False
        # a unit another open cut of this supply already reaches was told, and is not back yet
        session.flush()
        others = session.scalars(select(SupplyCutRow.building).where(
            SupplyCutRow.site == self.site.id, SupplyCutRow.supply == supply, SupplyCutRow.ended_at.is_(None),
            SupplyCutRow.id != row.id)).all() if row is not None else []
        units = residents.units_to_tell(self.site, building, others)
        for unit, where in units:
            text = residents.cut_text(self.site, change.notice, supply, where)
            self._send(session, unit, change.notice, where, text, now, ticket=row.ticket_id if row else ticket)
        if row is not None and change.notice is NoticeType.OUTAGE:
            row.units = len(units)
        return bool(units)

    # --- links -----------------------------------------------------------------------------------

    def new_link(self, session: Session, ticket_id: str, unit: str | None, now: datetime) -> str:
        """Return a new progress link of the ticket; only its token's hash is stored."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session.add(ProgressLinkRow(token_hash=hash_link_token(token), site=self.site.id, ticket_id=ticket_id,
                                    unit_id=unit, created_at=now))
        return f"{self.public_url}{PAGE_PATH}{token}"

    def find(self, session: Session, token: str, now: datetime, lock: bool = False) -> Found | None:
        """Return the link and its ticket, or None for a token that is unknown, of another site or expired."""
        if not token or len(token) > 128:
            return None
        link = session.get(ProgressLinkRow, hash_link_token(token))
        if link is None or link.site != self.site.id:
            return None
        query = select(TicketRow).where(TicketRow.id == link.ticket_id)
        ticket = session.scalars(query.with_for_update() if lock else query).first()
        if ticket is None:
            return None
        end = ends_at(ticket, self.link_ttl)
        if end is not None and now >= end:
            return None
        return Found(link, ticket)

    # --- a report's progress ---------------------------------------------------------------------

    def received(self, session: Session, ticket_id: str, unit: str | None, now: datetime) -> str:
        """Answer a resident's report at once: a `received` notice with the ticket number and a progress link
        to the unit (when the report names one the site file knows); return the link."""
        ticket = session.get(TicketRow, ticket_id)
        link = self.new_link(session, ticket_id, unit, now)
        if unit and unit in self.site.units and ticket is not None:
            text = residents.progress_text(self.site, "received", ticket_id, None, None)
            self._send(session, unit, NoticeType.RECEIVED, ticket.building, text, now, ticket_id, link)
        return link

    def step(self, session: Session, ticket: TicketRow, step: str, now: datetime) -> None:
        """Tell the ticket's reporters that the technician set out, arrived, or resolved it (dispatch hooks)."""
        more = session.scalars(select(TicketReporterRow.unit_id).where(TicketReporterRow.ticket_id == ticket.id))
        units = residents.reporter_units(self.site, [ticket.unit_id, *more])
        if not units:
            return
        tech = self.site.technicians.get(ticket.assignee or "")
        origin = session.get(TechnicianLocationRow, ticket.assignee) if ticket.assignee else None
        travel = eta_seconds(self.site, ticket, origin, now) if step == "accepted" else None
        note = mask_text(ticket.resolution_note) if step == "resolved" else None
        text = residents.progress_text(self.site, step, ticket.id, tech.name if tech else None, travel, note)
        kind = NoticeType.RESOLVED if step == "resolved" else NoticeType.PROGRESS
        for unit in units:
            # each notice carries a link of its own: the first one's token was never stored to be sent again
            self._send(session, unit, kind, ticket.building, text, now, ticket.id,
                       self.new_link(session, ticket.id, unit, now))
