"""Help for the report form (docs/api.md#reports): the trade and level a description points to, and the
earlier tickets of a unit and of a resident's number (历史工单关联查询), before the report is filed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select

from api import intake
from api.deps import Ctx, Operator
from api.schemas import UtcTime
from api.tables import AuditRow
from dispatch.tables import TicketReporterRow, TicketRow

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
EARLIER = 20  # the newest ones; the form shows what the caller may be calling about again
MAX_EARLIER = 200


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(max_length=4000)


class SuggestOut(BaseModel):
    category: str
    urgency: int
    word: str | None = Field(description="the word that decided; null when none matched (the default)")


class EarlierTicket(BaseModel):
    id: str
    title: str
    status: str
    category: str
    urgency: int
    created_at: UtcTime
    unit: str | None
    matched: list[str] = Field(description="`unit`, `phone` or both: why it is listed")


@router.post("/suggest", response_model=SuggestOut)
def suggest(body: SuggestIn, _ctx: Ctx, _user: Operator) -> dict[str, Any]:
    """The trade and level the words point to (api/intake_words.yaml), as the report form shows them."""
    found, word = intake.suggest_why(body.description)
    return {"category": found.category, "urgency": found.urgency, "word": word}


@router.get("/earlier", response_model=list[EarlierTicket])
def earlier(ctx: Ctx, user: Operator, unit: Annotated[str | None, Query(max_length=64)] = None,
            phone: Annotated[str | None, Query(max_length=32)] = None,
            limit: Annotated[int, Query(ge=1, le=MAX_EARLIER)] = EARLIER) -> list[dict[str, Any]]:
    """The newest tickets of the unit and of the number (as first or later reporter), newest first; no
    personal data in the answer. A match by number is audited, one row per ticket it found."""
    unit = (unit or "").strip() or None
    phone = (phone or "").strip() or None
    if not unit and not phone:
        return []
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        by_phone: set[str] = set()
        if phone:
            by_phone = set(session.scalars(select(TicketRow.id).where(TicketRow.reporter_phone == phone))) | set(
                session.scalars(select(TicketReporterRow.ticket_id).where(TicketReporterRow.phone == phone)))
        clauses = [TicketRow.id.in_(by_phone)] if by_phone else []
        if unit:
            clauses.append(TicketRow.unit_id == unit)
        if not clauses:
            return []
        rows = list(session.scalars(select(TicketRow).where(or_(*clauses))
                                    .order_by(TicketRow.created_at.desc(), TicketRow.id.desc()).limit(limit)))
        session.add_all(AuditRow(at=now, actor=user.subject, role=user.role, action="report.earlier",
                                 what="reporter_phone(matched)", ticket_id=r.id) for r in rows if r.id in by_phone)
        return [{"id": r.id, "title": r.title, "status": r.status, "category": r.category, "urgency": r.urgency,
                 "created_at": r.created_at, "unit": r.unit_id,
                 "matched": [m for m, hit in (("unit", unit is not None and r.unit_id == unit),
                                              ("phone", r.id in by_phone))
                             if hit]} for r in rows]
