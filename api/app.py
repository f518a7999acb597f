"""The FastAPI application: routers, error translation, the control-room page, and log redaction."""

from __future__ import annotations

import importlib.resources
import importlib.util
import logging
import re
from pathlib import Path

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from caretaker import i18n

from caretaker.api import logsafe
from caretaker.api.deps import ApiContext, ApiEstates
from caretaker.api.inputs import RefuseUnstorableInput
from caretaker.api.language import language, validation_errors
from caretaker.api.limits import ApiLimits, VolumeGuard
from caretaker.api.routes import (alerts, audit, deadletters, devices, health, kpis, photos, silences, stream, tech,
                        technicians, tickets, tokens)
from caretaker.api.routes import callbacks, candidates, exports, meta, notes, reports  # the control room's routes (docs/operators.md)
from caretaker.api.routes import progress, residents  # residents' progress page, who to call in an outage
from caretaker.api.routes import sites  # many estates: which the caller may see (docs/api.md, "Estates")
from caretaker.api.routes import assignments  # one trade's work on a ticket (docs/api.md, "Assignments")
from caretaker.api.routes import notices  # acknowledging a supervisor's notice stops its escalation (docs/api.md#notices)
from caretaker.api.routes import answers  # a complaint's or suggestion's answer (docs/api.md, "Kinds of report")
from caretaker.api.schemas import ErrorOut, ValidationErrorOut
from caretaker.dispatch.errors import BadRequest, NotYourTicket, StepNotAllowed, TicketNotFound

STATIC = Path(__file__).resolve().parent / "static"
# the page loads nothing from elsewhere: the control room often has no internet
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'",
                "Cache-Control": "no-cache"}
_TOKEN_IN_QUERY = re.compile(r"(?i)([?&]token=)[^&\s\"]*")

# what any request may be answered with, documented on every operation (docs/api.md#errors); a route adds
# its own 404 and 409
ANY_REQUEST: dict[int | str, dict] = {
    413: {"model": ErrorOut, "description": "the request body is over the route's limit (64 KiB for JSON)"},
    422: {"model": ValidationErrorOut, "description": "an invalid path, query or body; `loc` names the field"},
}
API_REQUEST: dict[int | str, dict] = {
    401: {"model": ErrorOut, "description": "no token, or an unknown, revoked or expired one"},
    403: {"model": ErrorOut, "description": "the role may not do this, or the ticket is not the technician's"},
    404: {"model": ErrorOut, "description": "no estate by the id `?site=` or X-Caretaker-Site names (or no such "
                                            "ticket, alarm, device… as the path names)"},
    **ANY_REQUEST,
    429: {"model": ErrorOut, "description": "too many requests (or open streams) for this token; see Retry-After",
          "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}},
}


class RedactTokens(logging.Filter):
    """Replaces `?token=...` (EventSource's way in) with `?token=***` in access-log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_TOKEN_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str) and "token=" in record.msg.lower():
            record.msg = _TOKEN_IN_QUERY.sub(r"\1***", record.msg)
        return True


def _install_redaction() -> None:
    logsafe.install()  # no phone numbers, SQL parameters or row values in any log line (api/logsafe.py)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in access.filters):
        access.addFilter(RedactTokens())


def _error(request: Request, code: int, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": i18n.render(i18n.spoken(exc), language(request))}, status_code=code)


def _local_docs(app: FastAPI) -> None:
    """Serve /docs with Swagger UI 5 from the fastapi-offline package's files: FastAPI's default loads it from a
    CDN, and the control-room machine has no internet. Swagger UI 4 cannot read OpenAPI 3.1 (docs/api.md)."""
    static = importlib.resources.files("fastapi_offline") / "static"
    app.mount("/docs-assets", StaticFiles(directory=str(static)), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_model=None)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="Caretaker API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon.png")


def create_app(ctx: ApiContext | ApiEstates, limits: ApiLimits | None = None) -> FastAPI:
    """Return the HTTP API (docs/api.md) and control-room page over one estate's context, or over every estate
    of the deployment (each request works on one: docs/api.md, "Estates")."""
    estates = ctx if isinstance(ctx, ApiEstates) else ApiEstates.single(ctx)
    limits = limits or ApiLimits()
    offline_docs = importlib.util.find_spec("fastapi_offline") is not None
    app = FastAPI(title="Caretaker", version="1", summary="Alarms to tickets to the nearest technician",
                  description="REST v1 under /api/v1 with bearer tokens; the control room is at /.",
                  docs_url=None if offline_docs else "/docs", redoc_url=None)
    if offline_docs:
        _local_docs(app)
    app.state.estates = estates
    _install_redaction()

    # a message raised as a key (caretaker/i18n) is said here in the request's language (docs/api.md,
    # "Language"); the JSON keeps FastAPI's shape, only `detail` and a 422's `msg` change language
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        said = StarletteHTTPException(exc.status_code, i18n.render(exc.detail, language(request)), exc.headers)
        return await http_exception_handler(request, said)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": jsonable_encoder(validation_errors(exc.errors(), language(request)))},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    # dispatch speaks in its own errors; they become HTTP status codes here, once
    @app.exception_handler(TicketNotFound)
    async def _not_found(request: Request, exc: TicketNotFound) -> JSONResponse:
        return _error(request, status.HTTP_404_NOT_FOUND, exc)

    @app.exception_handler(NotYourTicket)
    async def _not_yours(request: Request, exc: NotYourTicket) -> JSONResponse:
        return _error(request, status.HTTP_403_FORBIDDEN, exc)

    @app.exception_handler(StepNotAllowed)
    async def _not_now(request: Request, exc: StepNotAllowed) -> JSONResponse:
        return JSONResponse({"detail": i18n.render(i18n.spoken(exc), language(request)), "status": exc.status},
                            status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> JSONResponse:
        msg = i18n.render(i18n.spoken(exc), language(request))
        return JSONResponse({"detail": [{"type": "value_error", "loc": ["body"], "msg": msg}]},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.include_router(health.router, responses=ANY_REQUEST)
    app.include_router(sites.router, responses=API_REQUEST)  # the estates a caller may see
    for module in (tokens, tickets, alerts, silences, devices, technicians, kpis, deadletters, stream, audit,
                   photos, tech):
        app.include_router(module.router, responses=API_REQUEST)
    app.include_router(tech.pages)  # the technician's app, /tech (docs/technicians.md)
    app.mount("/tech/static", StaticFiles(directory=tech.TECH), name="tech-static")
    app.include_router(meta.router, responses=API_REQUEST)
    app.include_router(notes.router, responses=API_REQUEST)
    app.include_router(notices.router, responses=API_REQUEST)
    app.include_router(answers.router, responses=API_REQUEST)
    app.include_router(assignments.router, responses=API_REQUEST)
    app.include_router(reports.router, responses=API_REQUEST)
    app.include_router(candidates.router, responses=API_REQUEST)
    app.include_router(callbacks.router, responses=API_REQUEST)
    app.include_router(exports.router, responses=API_REQUEST)
    app.include_router(residents.router, responses=API_REQUEST)
    app.include_router(progress.router, responses=ANY_REQUEST)  # /r/{token}: no login (docs/residents.md)

    @app.get("/", include_in_schema=False, response_model=None)
    def control_room() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # the last added runs first: volume before anything reads the body, then what no column can store
    app.add_middleware(RefuseUnstorableInput, routes=lambda: app.routes)
    app.add_middleware(VolumeGuard, limits=limits, routes=lambda: app.routes)
    return app
