"""Alarms: the list the control room watches, and acknowledging one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, status

from caretaker import i18n
from caretaker.api.alerts import alert_json, alerts_json, publish_transition
from caretaker.api.deps import Ctx, Operator
from caretaker.api.language import Lang
from caretaker.api.schemas import AckIn, AlertDetailOut, AlertOut, ShelveIn
from caretaker.rules.store import AlertNotFound, acknowledge, alert_log, list_alerts, note_of, shelve, unshelve
from caretaker.rules import alert_reads

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
MAX_ALERTS = 1000


@router.get("", response_model=list[AlertOut])
def get_alerts(ctx: Ctx, _user: Operator, state: Literal["raised", "cleared"] | None = None,
               device: str | None = None,
               limit: Annotated[int, Query(ge=1, le=MAX_ALERTS)] = 200) -> list[dict[str, Any]]:
    """Alerts, newest first, optionally only raised or only cleared ones, or one device's."""
    with ctx.sessions() as session:
        return alerts_json(session, list_alerts(session, state=state, device_id=device, limit=limit))


@router.get("/{alert_id}", response_model=AlertDetailOut, responses={404: {"description": "no such alert"}})
def get_alert(alert_id: Annotated[str, Path(max_length=32)], ctx: Ctx, _user: Operator, lang: Lang) -> dict[str, Any]:
    """One alert with its audited log of transitions, the rules' own notes in the request's language."""
    with ctx.sessions() as session:
        row = alert_reads.alert(session, alert_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.alert_unknown", alert=alert_id))
        entries = [{"state": e.state, "at": e.at, "by": e.by, "note": i18n.render(note_of(e), lang)}
                   for e in alert_log(session, alert_id)]
        shown = alert_json(row)
    return {**shown, "log": entries}


@router.post("/{alert_id}/ack", response_model=AlertOut, responses={404: {"description": "no such alert"}})
def ack_alert(alert_id: Annotated[str, Path(max_length=32)], ctx: Ctx, user: Operator,
              body: Annotated[AckIn | None, Body()] = None) -> dict[str, Any]:
    """Record that an operator has seen the alert; the first acknowledgement counts."""
    now = ctx.clock.now()
    try:
        with ctx.sessions.begin() as session:
            row, first = acknowledge(session, alert_id, user.subject, now, body.note if body else None)
            if first:  # tell the integrations once
                _publish(ctx, session, row, "acknowledged", user.subject, now)
            result = alert_json(row)
    except AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.spoken(exc)) from exc
    ctx.wake_outbox()
    return result


def _publish(ctx, session, row, state: str, by: str, now) -> None:
    publish_transition(session, prefix=ctx.dispatcher.prefix, site=ctx.site.id, row=row, state=state, by=by, now=now)


@router.post("/{alert_id}/shelve", response_model=AlertOut,
             responses={404: {"description": "no such alert"}, 409: {"description": "the alert is not active"}})
def shelve_alert(alert_id: Annotated[str, Path(max_length=32)], body: ShelveIn, ctx: Ctx,
                 user: Operator) -> dict[str, Any]:
    """Put an active alert aside until a time, with a reason (audited); it comes back when it clears or the
    time is up. Its ticket is untouched: shelving quiets the screen, not the work."""
    now = ctx.clock.now()
    try:
        with ctx.sessions.begin() as session:
            row = shelve(session, alert_id, user.subject, body.until, body.reason, now)
            _publish(ctx, session, row, "shelved", user.subject, now)
            result = alert_json(row)
    except AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.spoken(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    ctx.wake_outbox()
    return result


@router.post("/{alert_id}/unshelve", response_model=AlertOut, responses={404: {"description": "no such alert"}})
def unshelve_alert(alert_id: Annotated[str, Path(max_length=32)], ctx: Ctx, user: Operator) -> dict[str, Any]:
    """Bring a shelved alert back now."""
    now = ctx.clock.now()
    try:
        with ctx.sessions.begin() as session:
            row = unshelve(session, alert_id, user.subject, now)
            _publish(ctx, session, row, "unshelved", user.subject, now)
            result = alert_json(row)
    except AlertNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.spoken(exc)) from exc
    ctx.wake_outbox()
    return result
