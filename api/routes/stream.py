"""Server-Sent Events: ticket and alert changes as they happen, polled from the database every second."""

from __future__ import annotations

import logging
import time
from typing import Annotated, AsyncIterator

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import Ctx, User, stream_user
from api.stream import ChangeFeed, hello, sse

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/stream", tags=["stream"])
KEEPALIVE_SECONDS = 15.0  # a comment line now and then keeps proxies from closing an idle stream
RETRY_MS = 3000


@router.get("", response_class=StreamingResponse, response_model=None,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`event: ticket` and `event: alert`, data the JSON of each"}})
async def stream(request: Request, ctx: Ctx, user: Annotated[User, Depends(stream_user)]) -> StreamingResponse:
    """Live changes: operators get tickets and alerts; a technician gets their own tickets. Token by header or ?token=."""
    if user.role not in ("admin", "operator", "technician"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not do this")
    feed = ChangeFeed(user.subject if user.is_technician else None)

    def poll(prime: bool = False) -> list[tuple[str, str]]:
        with ctx.sessions() as session:
            if prime:
                feed.prime(session, ctx.clock.now())
                return []
            return feed.poll(session, ctx.clock.now())

    async def events() -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        await run_in_threadpool(poll, True)
        yield hello(ctx.stream_poll_seconds)
        quiet_since = time.monotonic()
        while not await request.is_disconnected():
            await anyio.sleep(ctx.stream_poll_seconds)
            try:
                batch = await run_in_threadpool(poll)
            except Exception:  # the database blinked: keep the stream, try again next tick
                log.exception("stream: poll failed")
                continue
            for event, data in batch:
                yield sse(event, data)
            if batch:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
