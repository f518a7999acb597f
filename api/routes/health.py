"""Liveness and Prometheus metrics; no token, so load balancers and scrapers need no secret."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from caretaker.api.deps import Estates
from caretaker.api.metrics import collect_metrics

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
REQUIRED = ("broker", "database")
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/healthz", response_model=dict[str, Any],
            responses={503: {"description": "the broker or the database is unreachable"}})
def healthz(estates: Estates) -> JSONResponse:
    """200 when the broker and the database are reachable, else 503 naming what is down."""
    try:
        checks = dict((estates.health or estates.first.health)())
    except Exception:  # a failing probe must answer 503, never a 500 the balancer misreads
        log.exception("health probe failed")
        checks = {name: False for name in REQUIRED}
    down = [name for name in REQUIRED if not checks.get(name)]
    body = {"status": "down" if down else "ok", "down": down, **checks}
    return JSONResponse(body, status_code=503 if down else 200)


@router.get("/metrics", response_class=PlainTextResponse, response_model=None)
def metrics(estates: Estates) -> PlainTextResponse:
    """Prometheus text: this room's gauges, then the lines the rest of the service adds. Many estates: the
    instance's text, each estate's series with its `site` label (docs/deploy.md, "Many estates")."""
    if estates.metrics is not None:
        return PlainTextResponse(estates.metrics(), media_type=PROMETHEUS_TEXT)
    ctx = estates.first
    with ctx.sessions() as session:
        text = collect_metrics(session, ctx.clock.now(), ctx.timers_late_after)
    try:
        extra = ctx.metrics() or ""
    except Exception:  # the room's own gauges still matter when another room's counters fail
        log.exception("extra metrics failed")
        extra = ""
    if extra and not extra.endswith("\n"):
        extra += "\n"
    return PlainTextResponse(text + extra, media_type=PROMETHEUS_TEXT)
