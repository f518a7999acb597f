"""What every route is handed: the service context, the caller's identity and role checks."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Callable

from fastapi import BackgroundTasks, Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from api.tables import TokenRow
from dispatch.service import Dispatcher
from estate.clock import Clock
from estate.model import Site

ROLES: tuple[str, ...] = ("admin", "operator", "technician", "integrator", "supervisor")
# a token's last use is written at most this often: a client polling every second must not write the
# database on every request (docs/api.md, "Tokens")
TOUCH_EVERY = timedelta(minutes=1)
log = logging.getLogger(__name__)


class TokenUses:
    """When this instance last recorded each token's use, so concurrent requests record it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._written: dict[str, datetime] = {}

    def due(self, token_hash: str, stored: datetime | None, now: datetime) -> bool:
        """Return whether to record a use now (and remember that it is being recorded)."""
        with self._lock:
            last = max((t for t in (stored, self._written.get(token_hash)) if t is not None), default=None)
            if last is not None and now - last < TOUCH_EVERY:
                return False
            self._written[token_hash] = now
            return True


@dataclass(slots=True)
class ApiContext:
    """The service as the API sees it; `caretaker` builds one and hands it to `create_app`."""

    sessions: sessionmaker
    site: Site
    dispatcher: Dispatcher
    clock: Clock
    admin_token: str | None
    health: Callable[[], dict]  # {"broker": bool, "database": bool, ...}
    metrics: Callable[[], str]  # extra Prometheus text lines (ingest counters, outbox sent, ...)
    wake_outbox: Callable[[], None]  # called after a commit that may have queued pushes
    timers_late_after: timedelta = timedelta(seconds=61)  # /metrics counts timers later than this as overdue
    stream_poll_seconds: float = 0.5  # the control room sees a change within a second (T30)
    token_uses: TokenUses = field(default_factory=TokenUses)


@dataclass(frozen=True, slots=True)
class User:
    """Who is calling: a role and the subject the token was issued to (technician id, user id, "admin")."""

    role: str
    subject: str

    @property
    def is_technician(self) -> bool:
        return self.role == "technician"


def hash_token(token: str) -> str:
    """Return the stored form of a token: its SHA-256, hex; the token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def get_ctx(request: Request) -> ApiContext:
    return request.app.state.ctx


Ctx = Annotated[ApiContext, Depends(get_ctx)]

# auto_error=False: a missing header must answer 401 with WWW-Authenticate, not FastAPI's 403
_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/tokens, or the admin token")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def token_failure(row: TokenRow | None, now: datetime) -> str | None:
    """Return why a stored token does not let its bearer in (None: it does); pure."""
    if row is None or row.role not in ROLES:
        return "unknown token"
    if row.revoked:
        return "revoked token"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired token"
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in user and, for a stored token, the use to record (None: nothing to write)."""

    user: User
    touch: str | None = None  # the token's hash


def authenticate(ctx: ApiContext, token: str | None) -> Caller:
    """Return who a bearer token stands for; raises 401 when it is missing, unknown, revoked or expired."""
    if not token:
        raise _unauthorized("a bearer token is required")
    if ctx.admin_token and hmac.compare_digest(token.encode("utf-8"), ctx.admin_token.encode("utf-8")):
        return Caller(User("admin", "admin"))
    token_hash = hash_token(token)
    with ctx.sessions() as session:
        row = session.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash)).first()
    now = ctx.clock.now()
    failure = token_failure(row, now)
    if failure is not None:
        raise _unauthorized(failure)
    assert row is not None
    touch = token_hash if ctx.token_uses.due(token_hash, row.last_used_at, now) else None
    return Caller(User(row.role, row.subject), touch)


def record_use(ctx: ApiContext, token_hash: str) -> None:
    """Write a token's last use; only when the stored one is a minute old, so two instances write once.
    Best effort: a database that is busy or away costs a request nothing."""
    now = ctx.clock.now()
    try:
        with ctx.sessions.begin() as session:
            session.execute(update(TokenRow).where(
                TokenRow.token_hash == token_hash,
                or_(TokenRow.last_used_at.is_(None), TokenRow.last_used_at <= now - TOUCH_EVERY),
            ).values(last_used_at=now))
    except Exception as exc:  # never the token or its hash in the log
        log.warning("could not record a token's last use (%s)", exc.__class__.__name__)


def user_for_token(ctx: ApiContext, token: str | None) -> User:
    """Return the user a bearer token stands for, recording its use now if due; raises 401."""
    caller = authenticate(ctx, token)
    if caller.touch:
        record_use(ctx, caller.touch)
    return caller.user


def current_user(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                 background: BackgroundTasks) -> User:
    caller = authenticate(ctx, credentials.credentials if credentials else None)
    if caller.touch:  # after the response: a reader never waits for SQLite's write lock
        background.add_task(record_use, ctx, caller.touch)
    return caller.user


def stream_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                 token: Annotated[str | None, Query(description="for EventSource, which cannot set headers")] = None,
                 ) -> str | None:
    """The stream's token, by header or `?token=` (the access log filter in api.app redacts it)."""
    return credentials.credentials if credentials else token


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: str) -> Callable[[User], User]:
    """Return a dependency that lets through the named roles, and admin always; others get 403."""
    allowed = frozenset(roles) | {"admin"}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {user.role} may not do this")
        return user

    return check


Admin = Annotated[User, Depends(require("admin"))]
Operator = Annotated[User, Depends(require("operator"))]
Technician = Annotated[User, Depends(require("technician"))]
TicketReader = Annotated[User, Depends(require("operator", "technician"))]
DeviceReader = Annotated[User, Depends(require("operator", "integrator"))]
