"""Issuing tokens (admin only): a random secret handed out once, kept only as its hash; expiry, rotation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, HTTPException, Path, status
from fastapi.exceptions import RequestValidationError

from caretaker import i18n
from caretaker.api.deps import Admin, Ctx, token_failure
from caretaker.api.schemas import TokenExpiry, TokenIn, TokenInfo, TokenOut
from caretaker.api.tables import TokenRow
from caretaker.api.tokens import expiry, find_token, issue_token as store_token
from caretaker.api.tokens import list_tokens, revoke_token, rotate_token, same_lifetime, token_id

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"])
TokenIdent = Annotated[str, Path(max_length=64, description="the token's id, as listed")]
NOT_FOUND = {404: {"description": "no such token"}}


def _expiry(body: TokenExpiry, now: datetime) -> datetime | None:
    try:
        return expiry(now, body.expires_at, body.ttl)
    except ValueError as exc:
        field = "expires_at" if body.expires_at is not None else "ttl"
        raise RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": str(exc),
                                       "input": getattr(body, field)}]) from None


def _info(row: TokenRow, now: datetime) -> TokenInfo:
    return TokenInfo(id=token_id(row.token_hash), role=row.role, subject=row.subject, created_at=row.created_at,
                     revoked=row.revoked, expires_at=row.expires_at,
                     expired=token_failure(row, now) == "expired token", last_used_at=row.last_used_at,
                     replaced_by=token_id(row.replaced_by) if row.replaced_by else None)


def _out(token: str, row: TokenRow) -> TokenOut:
    return TokenOut(token=token, role=row.role, subject=row.subject, id=token_id(row.token_hash),
                    expires_at=row.expires_at)


@router.post("", response_model=TokenOut, status_code=status.HTTP_201_CREATED)
def issue_token(body: TokenIn, ctx: Ctx, _admin: Admin) -> TokenOut:
    """Return a new token for a role and subject; a technician's subject must be in the site file. With
    `expires_at` or `ttl` (seconds) it stops working then (401)."""
    if body.role == "technician" and body.subject not in ctx.site.technicians:
        raise RequestValidationError([{
            "type": "unknown", "loc": ("body", "subject"), "input": body.subject,
            "msg": i18n.said("error.technician_not_in_site", technician=body.subject),
        }])
    if body.role == "supervisor" and body.subject not in ctx.site.supervisors:  # acknowledges their notices
        raise RequestValidationError([{
            "type": "unknown", "loc": ("body", "subject"), "input": body.subject,
            "msg": i18n.said("error.supervisor_not_in_site", supervisor=body.subject),
        }])
    now = ctx.clock.now()
    expires_at = _expiry(body, now)
    with ctx.sessions.begin() as session:
        token, row = store_token(session, role=body.role, subject=body.subject, now=now, expires_at=expires_at)
        return _out(token, row)


@router.get("", response_model=list[TokenInfo])
def get_tokens(ctx: Ctx, _admin: Admin) -> list[TokenInfo]:
    """Every token issued, newest first, by id (never the secret itself), with its expiry and last use."""
    now = ctx.clock.now()
    with ctx.sessions() as session:
        return [_info(r, now) for r in list_tokens(session)]


@router.post("/{ident}/rotate", response_model=TokenOut, status_code=status.HTTP_201_CREATED,
             responses={**NOT_FOUND, 409: {"description": "the token is revoked: issue a new one instead"}})
def rotate(ident: TokenIdent, ctx: Ctx, _admin: Admin,
           body: Annotated[TokenExpiry | None, Body()] = None) -> TokenOut:
    """A new secret for the same role and subject; the old one gets 401 at once. Without `expires_at` or
    `ttl` the new token lives as long as the old one did."""
    now = ctx.clock.now()
    asked = _expiry(body, now) if body is not None and (body.expires_at or body.ttl) else None
    with ctx.sessions.begin() as session:
        old = find_token(session, ident)
        if old is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.token_id_unknown", token=ident))
        if old.revoked:
            raise HTTPException(status.HTTP_409_CONFLICT, i18n.said("error.token_id_revoked", token=ident))
        token, row = rotate_token(session, old, now, asked or same_lifetime(old, now))
        return _out(token, row)


@router.delete("/{ident}", response_model=TokenInfo, responses=NOT_FOUND)
def delete_token(ident: TokenIdent, ctx: Ctx, _admin: Admin) -> TokenInfo:
    """Revoke a token at once: its next request gets 401 (a live stream ends within a poll)."""
    with ctx.sessions.begin() as session:
        row = revoke_token(session, ident)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.token_id_unknown", token=ident))
        return _info(row, ctx.clock.now())
