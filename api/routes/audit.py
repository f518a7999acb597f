"""The audit of personal-data reads, for admins: who saw which resident's data, on which ticket, when."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime
from sqlalchemy import select

from caretaker.api.deps import Admin, Ctx
from caretaker.api.schemas import AuditOut, AuditPage
from caretaker.api.tables import AuditRow

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
MAX_PAGE = 500


def _utc(name: str, value: datetime | None) -> datetime | None:
    """The time in UTC; 422 for one that has no UTC form (year 9999 at -10:00 is year 10000 in UTC)."""
    try:
        return None if value is None else value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise RequestValidationError([{"type": "value_error", "loc": ("query", name), "input": str(value),
                                       "msg": "a time between the years 1 and 9999 in UTC"}]) from None


@router.get("", response_model=AuditPage)
def get_audit(
    ctx: Ctx, _admin: Admin,
    subject: Annotated[str | None, Query(max_length=64, description="who read (a token's subject)")] = None,
    ticket: Annotated[str | None, Query(max_length=32, description="which ticket")] = None,
    from_: Annotated[AwareDatetime | None, Query(alias="from", description="at or after, RFC 3339")] = None,
    to: Annotated[AwareDatetime | None, Query(description="before, RFC 3339")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="the `next_before` of the last page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> AuditPage:
    """Reads of personal data, newest first, a page at a time; the rows themselves can never be changed."""
    from_, to = _utc("from", from_), _utc("to", to)
    query = select(AuditRow)
    if subject:
        query = query.where(AuditRow.actor == subject)
    if ticket:
        query = query.where(AuditRow.ticket_id == ticket)
    if from_ is not None:
        query = query.where(AuditRow.at >= from_)
    if to is not None:
        query = query.where(AuditRow.at < to)
    if before is not None:
        query = query.where(AuditRow.id < before)
    with ctx.sessions() as session:
        rows = list(session.scalars(query.order_by(AuditRow.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    entries = [AuditOut(id=r.id, at=r.at, actor=r.actor, role=r.role, action=r.action, what=r.what,
                        ticket_id=r.ticket_id) for r in rows]
    return AuditPage(entries=entries, next_before=rows[-1].id if more else None)
