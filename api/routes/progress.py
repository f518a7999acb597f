"""The resident's progress page, `/r/{token}` (docs/residents.md): no login, the link's token is the key.

Every route answers an unknown, expired or malformed token with the same bare 404, so a guess learns
nothing; tokenless callers are counted by address at the door (api/limits.py). The page shows one ticket
and nothing of anyone else."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, status
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field

from caretaker import i18n
from caretaker.api.deps import ApiContext, Estates, hash_token
from caretaker.api.residents import progress_json
from caretaker.api.tables import PhotoRow
from caretaker.dispatch.lifecycle import FIXED
from caretaker.dispatch.resident_store import Found
from caretaker.dispatch.resident_texts import pick_locale

router = APIRouter(prefix="/r", tags=["residents"])
PAGE = Path(__file__).resolve().parent.parent / "static" / "r" / "index.html"
NOT_FOUND = "not found"  # the same words for every refusal: a guessed token learns nothing
# the token is in the address: no referrer carries it elsewhere, no cache or search engine keeps it
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}
PAGE_HEADERS = {**PRIVATE, "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'"}
PHOTO_HEADERS = {**PRIVATE, "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"}
PUBLIC_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such link, or it has expired (the same answer for both)"},
    429: {"description": "too many requests from this address; see Retry-After"},
}


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5, description="1 (poor) to 5 (very good)")


class RatingOut(BaseModel):
    ticket: str
    score: int


def _missing() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)


def _find(ctx: ApiContext, session, token: str, lock: bool = False) -> Found:
    found = ctx.dispatcher.residents.find(session, token, ctx.clock.now(), lock=lock)
    if found is None:
        raise _missing()
    return found


def link_ctx(token: str, estates: Estates) -> ApiContext:
    """The estate whose resident the link is for (many estates: the one that holds it; docs/api.md, "Estates")."""
    if estates.only is not None:
        return estates.only

    def holds(ctx: ApiContext) -> bool:
        with ctx.sessions() as session:
            return ctx.dispatcher.residents.find(session, token, ctx.clock.now()) is not None

    site = estates.locate("link:" + hash_token(token), holds)
    return estates.contexts[site] if site is not None else estates.first  # which answers 404


Ctx = Annotated[ApiContext, Depends(link_ctx)]


@router.get("/{token}", include_in_schema=False, response_model=None)
def page(token: str, ctx: Ctx) -> FileResponse:
    """The page itself; it reads its status from `/r/{token}/status`."""
    with ctx.sessions() as session:
        _find(ctx, session, token)
    return FileResponse(PAGE, media_type="text/html", headers=PAGE_HEADERS)


@router.get("/{token}/status", responses=PUBLIC_ERRORS)
def progress(token: str, ctx: Ctx, response: Response,
             lang: Annotated[str | None, Query(max_length=8, description="zh-CN or en")] = None,
             accept_language: Annotated[str | None, Header(max_length=200)] = None) -> dict[str, Any]:
    """The ticket's progress in the resident's language: status in words, expected arrival, note, photos."""
    now = ctx.clock.now()
    locale = pick_locale(ctx.site.locale, lang, accept_language)
    with ctx.sessions() as session:
        found = _find(ctx, session, token)
        body = progress_json(session, ctx.site, found.ticket, token, locale, now)
    response.headers.update(PRIVATE)
    return body


@router.get("/{token}/photos/{photo_id}", response_class=Response, response_model=None,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "image/heic": {}},
                             "description": "a close-out photo of the link's ticket"}, **PUBLIC_ERRORS})
def photo(token: str, photo_id: str, ctx: Ctx) -> Response:
    """A close-out photo of this link's ticket, once resolved; any other photo is 404."""
    with ctx.sessions() as session:
        found = _find(ctx, session, token)
        row = session.get(PhotoRow, photo_id[:64])
        if (row is None or row.ticket_id != found.ticket.id
                or found.ticket.status not in FIXED):
            raise _missing()
        return Response(row.data, media_type=row.content_type, headers=PHOTO_HEADERS)


@router.post("/{token}/rating", response_model=RatingOut,
             responses={**PUBLIC_ERRORS, 409: {"description": "not resolved yet, or already rated"}})
def rate(token: str, body: RatingIn, ctx: Ctx) -> dict[str, Any]:
    """The resident's rating of the fixed ticket, once; it is the ticket's satisfaction (the KPI's)."""
    now = ctx.clock.now()
    with ctx.sessions.begin() as session:
        ticket = _find(ctx, session, token, lock=True).ticket
        if ticket.status not in FIXED:
            raise HTTPException(status.HTTP_409_CONFLICT, i18n.said("error.rating_too_early"))
        if ticket.satisfaction is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, i18n.said("error.rating_twice"))
        ticket.satisfaction, ticket.updated_at = body.score, now
        ctx.dispatcher.history(session, ticket, now, ticket.status, "resident",  # dispatch's history line
                               i18n.said("note.rated_by_resident", score=body.score))
        return {"ticket": ticket.id, "score": body.score}
