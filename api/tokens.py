"""Tokens: a random secret handed out once and kept only as its hash; expiry, revocation, rotation."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from caretaker.api.deps import hash_token
from caretaker.api.schemas import MAX_TOKEN_TTL_S
from caretaker.api.tables import TokenRow

TOKEN_BYTES = 32
ID_LENGTH = 12  # of the hash's hex: enough to tell tokens apart, useless for signing in


MAX_LIFETIME = timedelta(seconds=MAX_TOKEN_TTL_S)


def expiry(now: datetime, expires_at: datetime | None, ttl_s: int | None) -> datetime | None:
    """Return when a token asked for with `expires_at` or `ttl` (seconds) stops working; None: never.
    Raises ValueError for both at once, or a time not in the future or more than 5 years ahead; pure."""
    if expires_at is not None and ttl_s is not None:
        raise ValueError("give expires_at or ttl, not both")
    if ttl_s is not None:
        expires_at = now + timedelta(seconds=ttl_s)
    if expires_at is None:
        return None
    if expires_at <= now:
        raise ValueError("expires_at must be in the future")
    if expires_at - now > MAX_LIFETIME:
        raise ValueError("a token expires at most 5 years ahead; rotate it then")
    return expires_at.astimezone(timezone.utc)


def issue_token(session: Session, *, role: str, subject: str, now: datetime,
                expires_at: datetime | None = None) -> tuple[str, TokenRow]:
    """Store a new token for a role and subject in the caller's transaction; return it (shown once) and its row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = TokenRow(token_hash=hash_token(token), role=role, subject=subject, created_at=now, revoked=False,
                   expires_at=expires_at)
    session.add(row)
    return token, row


def token_id(token_hash: str) -> str:
    return token_hash[:ID_LENGTH]


def list_tokens(session: Session) -> list[TokenRow]:
    return list(session.scalars(select(TokenRow).order_by(TokenRow.created_at.desc())))


def find_token(session: Session, ident: str) -> TokenRow | None:
    """Return (locked) the token whose id is `ident`, or None if unknown."""
    if len(ident) != ID_LENGTH:
        return None
    query = select(TokenRow).where(TokenRow.token_hash.startswith(ident, autoescape=True)).with_for_update()
    return session.scalars(query).first()


def revoke_token(session: Session, ident: str) -> TokenRow | None:
    """Revoke the token whose id is `ident` (a lost phone's, a leaver's); return it, or None if unknown."""
    row = find_token(session, ident)
    if row is not None:
        row.revoked = True
    return row


def rotate_token(session: Session, old: TokenRow, now: datetime,
                 expires_at: datetime | None) -> tuple[str, TokenRow]:
    """Issue a new secret for the same role and subject and revoke the old one at once."""
    token, row = issue_token(session, role=old.role, subject=old.subject, now=now, expires_at=expires_at)
    old.revoked, old.replaced_by = True, row.token_hash
    return token, row


def same_lifetime(old: TokenRow, now: datetime) -> datetime | None:
    """A rotated token lives as long as the one it replaces did (a 90-day token gives another 90 days)."""
    return None if old.expires_at is None else now + (old.expires_at - old.created_at)
