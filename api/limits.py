"""Volume limits at the API's door (docs/api.md#limits): request bodies, requests per token, open streams.

One ASGI middleware, so a refused request costs no routing, no database and no handler:

- a body whose `Content-Length` is over its route's limit gets 413 before anything runs, and a chunked
  one gets it as soon as its bytes pass the limit (a route may set a larger one with `max_body_size=`);
- a token that sends more than its rate gets 429 with `Retry-After`;
- a token that holds too many live streams open gets 429 for the next one.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import parse_qsl

from fastapi.routing import APIRoute
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from caretaker import i18n
from caretaker.api.language import scope_language

# The largest legitimate JSON body is a resolve with 20 photo URLs and a 4,000-character note (~50 KB);
# a report is under 10 KB. Photo files are uploaded to a route of their own, which sets its own limit.
BODY_BYTES = 64 * 1024
RATE = "3000/minute"  # per token: the control room makes ~1 request a second, a technician's app less
STREAMS_PER_TOKEN = 8  # a control room with several screens on one operator token
STREAM_PATH = "/api/v1/stream"
STREAM_RETRY_S = 30
# the residents' progress page (docs/residents.md) takes no token: it is counted by address; its page polls
# twice a minute, so this leaves room for a household behind one address and nothing for guessing links
PUBLIC_PREFIX = "/r/"
PUBLIC_RATE = "120/minute"
_BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class ApiLimits:
    """The limits one API process enforces (settings CARETAKER_HTTP_MAX_BODY_BYTES, _RATE_LIMIT and
    _STREAMS_PER_TOKEN in docs/deploy.md)."""

    body_bytes: int = BODY_BYTES
    rate: str = RATE  # in the `limits` notation: "3000/minute", "20/second;1000/hour"
    streams_per_token: int = STREAMS_PER_TOKEN
    public_rate: str = PUBLIC_RATE  # per address on the tokenless /r/ routes (CARETAKER_HTTP_PUBLIC_RATE_LIMIT)


def rate_items(rate: str) -> list[RateLimitItem]:
    """Return the parsed rate; raises ValueError naming the notation when it does not parse."""
    try:
        items = parse_many(rate)
    except ValueError as exc:
        raise ValueError(f"{rate!r} is not a rate like '3000/minute' or '20/second;1000/hour'") from exc
    if not items:
        raise ValueError(f"{rate!r} names no rate")
    return items


def caller_key(scope: Scope) -> str:
    """Return who is calling, for counting: the bearer token (header, or `?token=` for EventSource) as a
    hash, never the token itself; a request with no token is counted by its address."""
    token = None
    authorization = Headers(scope=scope).get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        token = credentials.strip()
    else:
        for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
            if name == "token" and value:
                token = value
                break
    if token is not None:
        return "token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    client = scope.get("client")
    return "address:" + (client[0] if client else "unknown")


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """Yield the API routes under `routes`, through included routers (FastAPI keeps those as branches)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif (router := getattr(route, "original_router", None)) is not None:
            yield from api_routes(router.routes)


def matched_route(routes: Iterable[Any], scope: Scope) -> tuple[APIRoute | None, dict[str, Any]]:
    """Return the API route a request will reach and its path parameters, as the router will match them."""
    for route in api_routes(routes):
        match, child = route.matches(scope)
        if match == Match.FULL:
            return route, child.get("path_params", {})
    return None, {}


def content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
                    scope: Scope | None = None) -> None:
    """Answer from the middleware; a `Said` in `body` is said in the request's language (`scope`'s)."""
    if scope is not None:
        body = i18n.render(body, scope_language(scope))
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _rate(item: RateLimitItem) -> str:
    """A rate as the setting writes it ("3000/minute", "20/10 second"): the same in every language."""
    per = item.GRANULARITY.name
    return f"{item.amount}/{per}" if item.multiples == 1 else f"{item.amount}/{item.multiples} {per}"


class VolumeGuard:
    """The ASGI middleware; `routes` gives the app's routes, to find a route's own body limit."""

    def __init__(self, app: ASGIApp, limits: ApiLimits, routes: Callable[[], Iterable[Any]]) -> None:
        self.app = app
        self.limits = limits
        self.routes = routes
        self.rates = rate_items(limits.rate)
        self.public_rates = rate_items(limits.public_rate)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())  # exact: a token gets its rate, never more
        self.streams: Counter[str] = Counter()
        self._lock = threading.Lock()  # one app may serve several event loops (tests' clients)

    def body_limit(self, scope: Scope) -> int:
        route, _ = matched_route(self.routes(), scope)
        own = getattr(route, "max_body_size", None) if route is not None else None
        return own if own is not None else self.limits.body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = content_length(scope)
        if length is not None and length > self.limits.body_bytes:  # the common case costs no route lookup
            limit = self.body_limit(scope)
            if length > limit:
                await send_json(send, 413, {"detail": i18n.said("limit.body_too_large", length=length, limit=limit)},
                                scope=scope)
                return
        if length is None and scope["method"] not in _BODILESS:  # chunked: count it as it streams
            receive = self._counted(receive, self.body_limit(scope))
        path: str = scope["path"]
        if path.startswith(PUBLIC_PREFIX):  # no token to count: the address is
            client = scope.get("client")
            if await self._over(self.public_rates, "public:" + (client[0] if client else "unknown"), scope, send,
                                "limit.rate_address"):
                return
            await self._guarded(scope, receive, send)
            return
        if not path.startswith("/api/"):  # health checks, metrics, the page: no token, no limit
            await self._guarded(scope, receive, send)
            return
        key = caller_key(scope)
        if await self._over(self.rates, key, scope, send, "limit.rate_token"):
            return
        if path == STREAM_PATH or path.startswith(STREAM_PATH + "/"):
            await self._stream(key, scope, receive, send)
            return
        await self._guarded(scope, receive, send)

    async def _over(self, rates: list[RateLimitItem], key: str, scope: Scope, send: Send, said: str) -> bool:
        """Count a request against `rates`; answer 429 with Retry-After (its text the catalogue's `said`) and
        return True when it is over."""
        for item in rates:
            if not self.limiter.hit(item, key):
                reset = self.limiter.get_window_stats(item, key).reset_time
                retry = max(1, math.ceil(reset - time.time()))
                await send_json(send, 429, {"detail": i18n.said(said, rate=_rate(item), retry=retry)},
                                {"Retry-After": str(retry)}, scope)
                return True
        return False

    @staticmethod
    def _counted(receive: Receive, limit: int) -> Receive:
        total = 0

        async def counted() -> Message:
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > limit:
                    # an HTTPException passes through the framework's body reading untouched, to _guarded
                    raise HTTPException(413, i18n.said("limit.body_over", limit=limit))
            return message

        return counted

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await send_json(send, 413, {"detail": exc.detail}, scope=scope)

    async def _stream(self, key: str, scope: Scope, receive: Receive, send: Send) -> None:
        with self._lock:
            full = self.streams[key] >= self.limits.streams_per_token
            if not full:
                self.streams[key] += 1
        if full:
            await send_json(send, 429, {"detail": i18n.said("limit.streams_full", count=self.limits.streams_per_token)},
                            {"Retry-After": str(STREAM_RETRY_S)}, scope)
            return
        try:
            await self._guarded(scope, receive, send)  # returns when the stream ends or the client goes
        finally:
            with self._lock:
                self.streams[key] -= 1
                if self.streams[key] <= 0:
                    del self.streams[key]
