"""Issuing tokens (admin only): a random secret handed out once, kept only as its hash."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.exceptions import RequestValidationError

from api.deps import Admin, Ctx, hash_token
from api.schemas import TokenIn, TokenInfo, TokenOut
from api.tokens import issue_token as store_token
from api.tokens import list_tokens, revoke_token, token_id

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
    return TokenOut(token=token, role=body.role, subject=body.subject, id=token_id(hash_token(token)))


@router.get("", response_model=list[TokenInfo])
def get_tokens(ctx: Ctx, _admin: Admin) -> list[TokenInfo]:
    """Every token issued, newest first, by id (never the secret itself)."""
    with ctx.sessions() as session:
        return [TokenInfo(id=token_id(r.token_hash), role=r.role, subject=r.subject, created_at=r.created_at,
                          revoked=r.revoked) for r in list_tokens(session)]


@router.delete("/{ident}", response_model=TokenInfo, responses={404: {"description": "no such token"}})
def delete_token(ident: Annotated[str, Path(max_length=64)], ctx: Ctx, _admin: Admin) -> TokenInfo:
    """Revoke a token at once: its next request gets 401."""
    with ctx.sessions.begin() as session:
        row = revoke_token(session, ident)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"token {ident!r} does not exist")
        return TokenInfo(id=token_id(row.token_hash), role=row.role, subject=row.subject,
                         created_at=row.created_at, revoked=row.revoked)
