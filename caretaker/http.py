"""Serve the API with uvicorn in a thread of the service process."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from caretaker.api.app import create_app
from caretaker.api.deps import ApiContext, ApiEstates
from caretaker.api.limits import ApiLimits

if TYPE_CHECKING:
    from caretaker.estate_runtime import EstateRuntime
    from caretaker.service import Service


def api_context(service: "Service", estate: "EstateRuntime | None" = None) -> ApiContext:
    """The API's view of one estate (the only one when none is named)."""
    token = service.settings.admin_token
    estate = estate or service.only
    return ApiContext(
        sessions=estate.sessions, site=estate.site, dispatcher=estate.dispatcher, clock=service.clock,
        admin_token=token.get_secret_value() if token else None, health=service.health,
        metrics=estate.metrics_text, wake_outbox=estate.outbox.wake,
        timers_late_after=estate.timer_audit.late_after,
    )


def api_estates(service: "Service") -> ApiEstates:
    """The API's view of every estate of the service; many estates answer /metrics and /healthz for the
    instance as a whole."""
    contexts = {site: api_context(service, estate) for site, estate in service.estates.items()}
    if not service.many:
        return ApiEstates(contexts)
    return ApiEstates(contexts, health=service.health, metrics=service.metrics_text)


class HttpServer:
    def __init__(self, service: "Service") -> None:
        settings = service.settings
        limits = ApiLimits(body_bytes=settings.http_max_body_bytes, rate=settings.http_rate_limit,
                           streams_per_token=settings.http_streams_per_token,
                           public_rate=settings.http_public_rate_limit)
        self.app = create_app(api_estates(service), limits)
        config = uvicorn.Config(self.app, host=settings.http_host, port=settings.http_port,
                                log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="http", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the HTTP server could not start (is the port taken?)")
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start in time")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
