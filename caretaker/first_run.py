"""No admin token set: the first `caretaker run` makes one, stored hashed as an admin token in the database, and
prints it once (docs/deploy.md, "First installation"); later starts find it and print nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from caretaker.api.tables import TokenRow
from caretaker.api.tokens import issue_token
from caretaker.leases import take_turn
from caretaker.dispatch.timers import shared_now

SUBJECT = "first-run"
# instances starting together take turns: the first makes the token, the others then find it
TURN = timedelta(minutes=1)


def needs_first_admin(admin_token_set: bool, usable_admin_tokens: int) -> bool:
    """Whether to make a first-run admin token: only when nobody could sign in as an admin; pure."""
    return not admin_token_set and usable_admin_tokens == 0


def usable_admin_tokens(session: Session, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(TokenRow).where(
        TokenRow.role == "admin", TokenRow.revoked.is_(False),
        or_(TokenRow.expires_at.is_(None), TokenRow.expires_at > now))) or 0


def first_admin_token(sessions: sessionmaker, now: datetime, admin_token_set: bool) -> str | None:
    """Return a new admin token when none could sign in (stored hashed; the caller shows it once), else None."""
    if admin_token_set:
        return None
    with sessions.begin() as session:
        now = shared_now(session, now)
        if not take_turn(session, "first-run-admin", TURN, now):
            return None  # another instance is making it, or just did
        if not needs_first_admin(admin_token_set, usable_admin_tokens(session, now)):
            return None
        token, _row = issue_token(session, role="admin", subject=SUBJECT, now=now)
    return token


def announcement(token: str) -> str:
    """What `caretaker run` prints, once, on standard output (never to the log)."""
    return ("caretaker: CARETAKER_ADMIN_TOKEN is not set and the database has no admin token, so this is the first\n"
            "  admin token. It is shown this once and stored only as a hash: keep it now (a password manager).\n"
            f"  admin token: {token}\n"
            "  Use it as `Authorization: Bearer …` to issue operators' tokens (POST /api/v1/tokens); revoke it\n"
            "  there once you have another admin token. It is not printed again.")
