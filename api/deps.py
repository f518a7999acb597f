"""What every route is handed: the estate the request works on, the caller's identity and role checks."""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Callable

from fastapi import BackgroundTasks, Depends, Header, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from caretaker import i18n
from caretaker.api.tables import TokenRow
from caretaker.dispatch.service import Dispatcher
from caretaker.estate.clock import Clock
from caretaker.estate.model import Site

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
    # many estates: which other estate issued a token this one does not know (its hash → site id, or None)
    elsewhere: Callable[[str], str | None] | None = None


@dataclass(slots=True)
class ApiEstates:
    """Every estate the API serves, by site id, in the deployment's order (docs/api.md, "Estates"). A token
    belongs to the estate that issued it; the admin token reaches every estate."""

    contexts: dict[str, ApiContext]
    health: Callable[[], dict] | None = None  # the instance's /healthz checks (None: the only estate's)
    metrics: Callable[[], str] | None = None  # the instance's whole /metrics text (None: the only estate's)
    _homes: dict[str, str] = field(default_factory=dict)  # token hash → its estate, once found
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if len(self.contexts) > 1:
            for site, ctx in self.contexts.items():
                ctx.elsewhere = lambda token_hash, site=site: self._other_home(token_hash, site)

    @classmethod
    def single(cls, ctx: ApiContext) -> "ApiEstates":
        return cls({ctx.site.id: ctx})

    @property
    def only(self) -> ApiContext | None:
        return next(iter(self.contexts.values())) if len(self.contexts) == 1 else None

    @property
    def first(self) -> ApiContext:
        return next(iter(self.contexts.values()))

    def is_admin(self, token: str | None) -> bool:
        admin = self.first.admin_token
        return bool(token and admin and hmac.compare_digest(token.encode("utf-8"), admin.encode("utf-8")))

    def home_of(self, token_hash: str) -> str | None:
        """Return the estate whose database holds this token (issued there), or None. Found once, then
        remembered: a token never moves; whether it still lets its bearer in is asked of its estate each time."""
        def holds(ctx: ApiContext) -> bool:
            with ctx.sessions() as session:
                return session.scalar(select(TokenRow.token_hash).where(TokenRow.token_hash == token_hash)) is not None

        return self.locate(token_hash, holds)

    def locate(self, key: str, holds: Callable[[ApiContext], bool]) -> str | None:
        """Return the first estate for which `holds` is true (a token's, a resident's link's), remembering it by
        `key` (a hash, never the secret); None when no estate holds it (not remembered: it may be issued soon)."""
        with self._lock:
            known = self._homes.get(key)
        if known is not None:
            return known
        for site, ctx in self.contexts.items():
            if holds(ctx):
                with self._lock:
                    self._homes[key] = site
                return site
        return None

    def _other_home(self, token_hash: str, site: str) -> str | None:
        home = self.home_of(token_hash)
        return home if home != site else None


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


# auto_error=False: a missing header must answer 401 with WWW-Authenticate, not FastAPI's 403
_bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/tokens, or the admin token")
SITE_HEADER = "X-Caretaker-Site"


def get_estates(request: Request) -> ApiEstates:
    return request.app.state.estates


Estates = Annotated[ApiEstates, Depends(get_estates)]


def get_ctx(request: Request, estates: Estates,
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
            site: Annotated[str | None, Query(max_length=64, description=(
                "the estate to work on (GET /api/v1/sites lists them); by default the only one, or the "
                "estate that issued the token"))] = None,
            site_header: Annotated[str | None, Header(alias=SITE_HEADER, max_length=64,
                                                      description="the same as ?site=")] = None) -> ApiContext:
    """Return the estate this request works on: the one it names, else the only one, else the one that issued
    its token; 404 for an estate that does not exist, 422 for the admin token naming none of several."""
    named = site or site_header
    if named:
        ctx = estates.contexts.get(named)
        if ctx is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.estate_unknown", site=named))
        return ctx
    if estates.only is not None:
        return estates.only
    token = credentials.credentials if credentials else request.query_params.get("token")
    if estates.is_admin(token):
        raise RequestValidationError([{
            "type": "missing", "loc": ("query", "site"), "input": None,
            "msg": i18n.said("error.estate_needed", count=len(estates.contexts), sites=", ".join(estates.contexts),
                             header=SITE_HEADER)}])
    home = estates.home_of(hash_token(token)) if token else None
    # no token or an unknown one: any estate answers it with 401, and the pages without a login need only words
    return estates.contexts[home] if home is not None else estates.first


def spoken_ctx(request: Request, ctx: Annotated[ApiContext, Depends(get_ctx)]) -> ApiContext:
    """The request's estate, its locale remembered: the language its errors fall back to (api/language.py)."""
    request.state.locale = ctx.site.locale
    return ctx


Ctx = Annotated[ApiContext, Depends(spoken_ctx)]


def _unauthorized(detail: str | i18n.Said) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def token_failure(row: TokenRow | None, now: datetime) -> i18n.Said | None:
    """Return why a stored token does not let its bearer in (None: it does); pure."""
    if row is None or row.role not in ROLES:
        return i18n.said("error.token_unknown")
    if row.revoked:
        return i18n.said("error.token_revoked")
    if row.expires_at is not None and row.expires_at <= now:
        return i18n.said("error.token_expired")
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in user and, for a stored token, the use to record (None: nothing to write)."""

    user: User
    touch: str | None = None  # the token's hash


def authenticate(ctx: ApiContext, token: str | None) -> Caller:
    """Return who a bearer token stands for; raises 401 when it is missing, unknown, revoked or expired."""
    if not token:
        raise _unauthorized(i18n.said("error.token_required"))
    if ctx.admin_token and hmac.compare_digest(token.encode("utf-8"), ctx.admin_token.encode("utf-8")):
        return Caller(User("admin", "admin"))
    token_hash = hash_token(token)
    with ctx.sessions() as session:
        row = session.scalars(select(TokenRow).where(TokenRow.token_hash == token_hash)).first()
    now = ctx.clock.now()
    failure = token_failure(row, now)
    if row is None and ctx.elsewhere is not None and (home := ctx.elsewhere(token_hash)) is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, i18n.said("error.token_elsewhere", home=home, site=ctx.site.id))
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
            raise HTTPException(status.HTTP_403_FORBIDDEN, i18n.said("error.role_forbidden", role=user.role))
        return user

    return check


Admin = Annotated[User, Depends(require("admin"))]
Operator = Annotated[User, Depends(require("operator"))]
Technician = Annotated[User, Depends(require("technician"))]
TicketReader = Annotated[User, Depends(require("operator", "technician"))]
DeviceReader = Annotated[User, Depends(require("operator", "integrator"))]


def bearer_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str | None:
    """The request's bearer token, or None (for routes that find the estate from the token themselves)."""
    return credentials.credentials if credentials else None
