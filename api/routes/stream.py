"""Server-Sent Events: ticket and alert changes as they happen, polled from the database twice a second."""

from __future__ import annotations

import json
import logging
import time
from typing import Annotated, AsyncIterator

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from caretaker import i18n
from caretaker.api.language import language
from caretaker.api.deps import Ctx, User, stream_token, user_for_token
from caretaker.api.stream import Batch, ChangeFeed, hello, sse

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/stream", tags=["stream"])
KEEPALIVE_SECONDS = 15.0  # a comment line now and then keeps proxies from closing an idle stream
RETRY_MS = 3000


class AuditFailed(Exception):
    """The audit of a poll's personal data could not be written: its events must not be sent."""


@router.get("", response_class=StreamingResponse, response_model=None,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: ticket` and `event: alert`, data the JSON of each; "
                                            "`event: withdrawn` ({\"ticket\": id}) when a technician's ticket "
                                            "is taken away; `event: unauthorized` before the stream ends "
                                            "when its token is revoked or expires"},
                       401: {"description": "no token, or an unknown, revoked or expired one"},
                       403: {"description": "an integrator's token"}})
async def stream(
    request: Request, ctx: Ctx, token: Annotated[str | None, Depends(stream_token)],
    personal: Annotated[bool, Query(description="true: each ticket as GET /api/v1/tickets/{id} shows it to "
                                                "you, reporters included, each event audited; false (the "
                                                "default): no reporters and free text masked")] = False,
) -> StreamingResponse:
    """Live changes: operators get tickets and alerts; a technician gets their own tickets. Token by header or ?token=."""
    user = await run_in_threadpool(user_for_token, ctx, token)
    if user.role not in ("admin", "operator", "technician"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, i18n.said("error.role_forbidden", role=user.role))
    feed = ChangeFeed(user, personal, language(request))  # history lines in the reader's language

    def poll(prime: bool = False) -> Batch | None:
        """One poll; None when the token no longer lets its bearer in (revoked, expired)."""
        try:
            if user_for_token(ctx, token) != user:
                return None
        except HTTPException:
            return None
        with ctx.sessions() as session:
            if prime:
                feed.prime(session, ctx.clock.now())
                return Batch()
            batch = feed.poll(session, ctx.clock.now())
        if batch.audit:  # audited before it is sent, as a REST read is; a short write of its own
            try:
                with ctx.sessions.begin() as session:
                    session.add_all(batch.audit)
            except Exception as exc:
                raise AuditFailed(exc.__class__.__name__) from None
        return batch

    async def events() -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        if await run_in_threadpool(poll, True) is None:
            yield sse("unauthorized", json.dumps({"detail": "token revoked or expired"}))
            return
        yield hello(ctx.stream_poll_seconds)
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            await anyio.sleep(ctx.stream_poll_seconds)
            try:
                batch = await run_in_threadpool(poll)
            except AuditFailed as exc:  # unaudited personal data is never sent: end, the client reconnects
                log.warning("stream: the audit could not be written (%s); stream ended", exc)
                return
            except Exception as exc:  # the database blinked: keep the stream, try again next tick
                log.warning("stream: poll failed (%s); trying again", exc.__class__.__name__)
                continue
            if batch is None:
                yield sse("unauthorized", json.dumps({"detail": "token revoked or expired"}))
                return
            for event, data in batch.events:
                yield sse(event, data)
            if batch.events:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
