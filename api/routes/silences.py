"""Silences (maintenance windows): alarms they cover are recorded but open no ticket."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from caretaker import i18n
from caretaker.api.alerts import silence_json
from caretaker.api.deps import Ctx, Operator
from caretaker.api.schemas import SilenceIn, SilenceOut
from caretaker.rules.store import SilenceNotFound, create_silence, expire_silence, list_silences

router = APIRouter(prefix="/api/v1/silences", tags=["silences"])
MAX_LIST = 1000
MAX_ID = 2**63 - 1  # ids are 64-bit: a larger one names no silence, and PostgreSQL would refuse to compare it
# a forgotten silence hides real alarms: an operator's lasts at most a month, an admin's at most a year
MAX_SILENCE = timedelta(days=31)
MAX_ADMIN_SILENCE = timedelta(days=366)


def too_long(starts_at: datetime, ends_at: datetime, is_admin: bool) -> str | None:
    """Return why a silence of this span may not be set by this caller, or None."""
    longest = MAX_ADMIN_SILENCE if is_admin else MAX_SILENCE
    if ends_at - starts_at <= longest:
        return None
    if is_admin:
        return f"a silence may last at most {longest.days} days"
    return f"a silence may last at most {longest.days} days; an admin may set one of up to {MAX_ADMIN_SILENCE.days}"


@router.get("", response_model=list[SilenceOut])
def get_silences(ctx: Ctx, _user: Operator, include_past: bool = False,
                 limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 200) -> list[dict[str, Any]]:
    """Silences in force or to come (with `include_past`, every silence on record), newest first."""
    now = ctx.clock.now()
    with ctx.sessions() as session:
        return [silence_json(r, now) for r in list_silences(session, None if include_past else now, limit=limit)]


@router.post("", response_model=SilenceOut, status_code=status.HTTP_201_CREATED)
def post_silence(body: SilenceIn, ctx: Ctx, user: Operator) -> dict[str, Any]:
    """Silence matching alarms from `starts_at` (default now) to `ends_at`, e.g. low pressure in building B
    during a planned water shutdown. Every matcher given must match; at least one is required."""
    now = ctx.clock.now()
    starts_at = body.starts_at or now
    if (problem := too_long(starts_at, body.ends_at, user.role == "admin")) is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", "ends_at"], "msg": problem, "type": "too_long"}])
    matchers = body.matchers.model_dump(exclude_none=True)
    unknown = [k for k in ("building",) if k in matchers and matchers[k] not in ctx.site.buildings]
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", "matchers", "building"], "msg": f"unknown building {matchers['building']!r}",
                              "type": "value_error"}])
    try:
        with ctx.sessions.begin() as session:
            row = create_silence(session, matchers=matchers, starts_at=starts_at, ends_at=body.ends_at,
                                 reason=body.reason, author=user.subject, now=now)
            return silence_json(row, now)
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]) from exc


@router.delete("/{silence_id}", response_model=SilenceOut, responses={404: {"description": "no such silence"}})
def delete_silence(silence_id: Annotated[int, Path(ge=1, le=MAX_ID)], ctx: Ctx, user: Operator) -> dict[str, Any]:
    """End a silence now; it stays on record with who ended it."""
    now = ctx.clock.now()
    try:
        with ctx.sessions.begin() as session:
            return silence_json(expire_silence(session, silence_id, user.subject, now), now)
    except SilenceNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.spoken(exc)) from exc
