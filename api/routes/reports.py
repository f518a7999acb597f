"""Help for the report form (docs/api.md#reports): the trade and level a description points to, and the
earlier tickets of a unit and of a resident's number (历史工单关联查询), before the report is filed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from caretaker.api import intake
from caretaker.api.deps import Ctx, Operator
from caretaker.api.schemas import UtcTime
from caretaker.api.tables import AuditRow
from caretaker.dispatch import reads_tickets

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
    kind: str = Field("repair", description="repair, complaint or suggestion, from the words")
    complaint_type: str | None = Field(None, description="service or safety for a complaint; null otherwise")
    kind_word: str | None = Field(None, description="the word that made it a complaint or suggestion")


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
    found, word, kind = intake.suggest_all(body.description)
    return {"category": found.category, "urgency": found.urgency, "word": word, "kind": kind.kind,
            "complaint_type": kind.complaint_type, "kind_word": kind.word}


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
        # dispatch's reads (dispatch/reads_tickets.py)
        by_phone: set[str] = reads_tickets.reported_from(session, phone) if phone else set()
        rows = reads_tickets.earlier(session, by_phone, unit, limit)
        if not rows:
            return []
        session.add_all(AuditRow(at=now, actor=user.subject, role=user.role, action="report.earlier",
                                 what="reporter_phone(matched)", ticket_id=r.id) for r in rows if r.id in by_phone)
        return [{"id": r.id, "title": r.title, "status": r.status, "category": r.category, "urgency": r.urgency,
                 "created_at": r.created_at, "unit": r.unit_id,
                 "matched": [m for m, hit in (("unit", unit is not None and r.unit_id == unit),
                                              ("phone", r.id in by_phone))
                             if hit]} for r in rows]
