"""Issuing tokens (admin only): a random secret handed out once, kept only as its hash."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.exceptions import RequestValidationError

from api.deps import Admin, Ctx
from api.schemas import TokenIn, TokenOut
from api.tokens import issue_token as store_token

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])


@router.post("", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def issue_token(body: TokenIn, ctx: Ctx, _admin: Admin) -> TokenOut:
    """Return a new token for a role and subject; a technician's subject must be in the site file."""
    if body.role == "technician" and body.subject not in ctx.site.technicians:
        raise RequestValidationError([{
            "type": "unknown", "loc": ("body", "subject"), "input": body.subject,
            "msg": f"technician {body.subject!r} is not in the site file",
        }])
    with ctx.sessions.begin() as session:
        token = store_token(session, role=body.role, subject=body.subject, now=ctx.clock.now())
    return TokenOut(token=token, role=body.role, subject=body.subject)
