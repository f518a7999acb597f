"""What every route is handed: the service context, the caller's identity and role checks."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated, Callable

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from api.tables import TokenRow
from dispatch.service import Dispatcher
from estate.clock import Clock
from estate.model import Site

ROLES: tuple[str, ...] = ("admin", "operator", "technician", "integrator")


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
    stream_poll_seconds: float = 1.0


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


def user_for_token(ctx: ApiContext, token: str | None) -> User:
    """Return the user a bearer token stands for; raises 401 when it is missing, unknown or revoked."""
    if not token:
        raise _unauthorized("a bearer token is required")
    if ctx.admin_token and hmac.compare_digest(token.encode("utf-8"), ctx.admin_token.encode("utf-8")):
        return User("admin", "admin")
    with ctx.sessions() as session:
        row = session.scalars(select(TokenRow).where(TokenRow.token_hash == hash_token(token))).first()
    if row is None or row.revoked or row.role not in ROLES:
        raise _unauthorized("unknown or revoked token")
    return User(row.role, row.subject)


def current_user(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    return user_for_token(ctx, credentials.credentials if credentials else None)


def stream_user(ctx: Ctx, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                token: Annotated[str | None, Query(description="for EventSource, which cannot set headers")] = None,
                ) -> User:
    """Like current_user, but also takes `?token=` (the access log filter in api.app redacts it)."""
    return user_for_token(ctx, credentials.credentials if credentials else token)


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
