"""Tokens: a random secret handed out once and kept only as its hash."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import hash_token
from api.tables import TokenRow

TOKEN_BYTES = 32
ID_LENGTH = 12  # of the hash's hex: enough to tell tokens apart, useless for signing in


def issue_token(session: Session, *, role: str, subject: str, now: datetime) -> str:
    """Store a new token for a role and subject in the caller's transaction and return it (shown once)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(TokenRow(token_hash=hash_token(token), role=role, subject=subject, created_at=now, revoked=False))
    return token


def token_id(token_hash: str) -> str:
    return token_hash[:ID_LENGTH]


def list_tokens(session: Session) -> list[TokenRow]:
    return list(session.scalars(select(TokenRow).order_by(TokenRow.created_at.desc())))


def revoke_token(session: Session, ident: str) -> TokenRow | None:
    """Revoke the token whose id is `ident` (a lost phone's, a leaver's); return it, or None if unknown."""
    if len(ident) != ID_LENGTH:
        return None
    row = session.scalars(select(TokenRow).where(TokenRow.token_hash.startswith(ident, autoescape=True))).first()
    if row is not None:
        row.revoked = True
    return row
