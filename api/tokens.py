"""Tokens: a random secret handed out once and kept only as its hash."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from api.deps import hash_token
from api.tables import TokenRow

TOKEN_BYTES = 32


def issue_token(session: Session, *, role: str, subject: str, now: datetime) -> str:
    """Store a new token for a role and subject in the caller's transaction and return it (shown once)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(TokenRow(token_hash=hash_token(token), role=role, subject=subject, created_at=now, revoked=False))
    return token
