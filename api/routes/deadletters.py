"""Messages the service refused, with why, for operators to chase misconfigured devices."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query

from caretaker.api.deps import Ctx, Operator
from caretaker.api.schemas import DeadLetterOut
from caretaker.ingest.payloads import stage_of
from caretaker.ingest.store import DEAD_LETTER_PAYLOAD_LIMIT, recent_dead_letters

router = APIRouter(prefix="/api/v1/deadletters", tags=["deadletters"])
PAYLOAD_SHOWN = DEAD_LETTER_PAYLOAD_LIMIT  # as stored and on the dead-letter topic: cut at 4 KiB


@router.get("", response_model=list[DeadLetterOut])
def get_dead_letters(ctx: Ctx, _user: Operator,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """The most recent refused messages, newest first, with the raw bytes in base64."""
    with ctx.sessions() as session:
        rows = recent_dead_letters(session, limit=limit)
    return [{"id": r.id, "topic": r.topic, "reason": r.reason, "stage": stage_of(r.reason), "detail": r.detail,
             "payload_b64": base64.b64encode(bytes(r.payload or b"")[:PAYLOAD_SHOWN]).decode("ascii"),
             "received_at": r.received_at} for r in rows]
