"""Close-out photos: the technician's app uploads each one, `resolve` names them, the control room sees them.

Checked before the file is read: who may upload to the ticket (403), the ticket (404), its status (409);
the body's size is refused at the door (api/limits.py, this route's own limit). Then the bytes decide
what the file is (api/photos.py): a file that is no JPEG, PNG, WebP or HEIC image is 415 whatever its
name or Content-Type says.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from caretaker import i18n
from caretaker.api import photos
from caretaker.api.deps import ApiContext, Ctx, TicketReader, User
from caretaker.api.schemas import PhotoOut
from caretaker.api.tables import PhotoRow
from caretaker.api.tickets import WORKING, get_ticket_or_raise, may_read

router = APIRouter(prefix="/api/v1", tags=["photos"])
TicketId = Annotated[str, Path(max_length=32)]
PhotoId = Annotated[str, Path(max_length=64)]
READ_CHUNK = 256 * 1024
# a photo never changes (a new one gets a new id): the phone may keep it, no shared cache may
SERVE_HEADERS = {"Cache-Control": "private, max-age=86400, immutable", "X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'"}
UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary",
                            "description": "a JPEG, PNG, WebP or HEIC image of at most 10 MB"}}}}}}}


def _may_upload(ctx: ApiContext, user: User, ticket_id: str) -> None:
    """Raise unless `user` may add a photo to the ticket now: staff any time, its technician while working it."""
    with ctx.sessions() as session:
        ticket = get_ticket_or_raise(session, ticket_id)
        if user.is_technician:
            if not may_read(user, ticket):
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    i18n.said("error.ticket_not_assigned_to_you", ticket=ticket_id))
            if ticket.status not in WORKING:
                raise HTTPException(status.HTTP_409_CONFLICT, i18n.said(
                    "error.photo_not_working", ticket=ticket_id, status=i18n.named("status", ticket.status)))


def check_resolve_photos(ctx: ApiContext, ticket_id: str, urls: list[str]) -> None:
    """Raise 422 naming each photo of a resolve that is not this ticket's upload or no image by its bytes."""
    ids = [photo_id for url in urls if (photo_id := photos.own_photo_id(url))]
    stored: dict[str, str] = {}
    if ids:
        with ctx.sessions() as session:
            stored = dict(session.execute(select(PhotoRow.id, PhotoRow.ticket_id).where(PhotoRow.id.in_(ids))).all())
    problems = photos.resolve_photo_problems(urls, ticket_id, stored)
    if problems:
        raise RequestValidationError([{"type": "value_error", "loc": ("body", "photos", index), "msg": why,
                                       "input": urls[index][:80]} for index, why in problems])


def _missing_file(detail: str) -> RequestValidationError:
    return RequestValidationError([{"type": "missing", "loc": ("body", "file"), "msg": detail, "input": None}])


async def _read(upload: UploadFile) -> bytes:
    """The file's bytes, refused with 413 past the limit (a body inside its envelope may still hold more)."""
    parts, total = [], 0
    while chunk := await upload.read(READ_CHUNK):
        total += len(chunk)
        if total > photos.MAX_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                                f"a photo is at most {photos.MAX_BYTES} bytes")
        parts.append(chunk)
    return b"".join(parts)


# the door's limit for this route (api/limits.py): the file and its multipart envelope
@router.post("/tickets/{ticket_id}/photos", status_code=status.HTTP_201_CREATED, response_model=PhotoOut,
             openapi_extra=UPLOAD_BODY, max_body_size=photos.MAX_BYTES + photos.ENVELOPE_BYTES,
             responses={403: {"description": "not your ticket, or not your role"}, 404: {"description": "no such ticket"},
                        409: {"description": "the ticket is not being worked (a technician's upload)"},
                        413: {"description": "the file is over 10 MB"},
                        415: {"description": "the file is not a JPEG, PNG, WebP or HEIC image (by its bytes)"}})
async def upload_photo(ticket_id: TicketId, request: Request, ctx: Ctx, user: TicketReader) -> dict[str, Any]:
    """Store one photo of the ticket (multipart field `file`); `resolve` then names the returned URL."""
    await run_in_threadpool(_may_upload, ctx, user, ticket_id)
    form = await request.form(max_files=1, max_fields=4)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise _missing_file("a multipart field `file` holding the photo is required")
        data = await _read(upload)
    finally:
        await form.close()
    content_type = photos.sniff(data[:photos.SNIFF_BYTES])
    if content_type is None:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            "the file is not a JPEG, PNG, WebP or HEIC image")
    row = PhotoRow(id=photos.new_photo_id(), ticket_id=ticket_id, content_type=content_type, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(), uploaded_by=user.subject,
                   uploaded_at=ctx.clock.now(), data=data)

    def store() -> None:
        with ctx.sessions.begin() as session:
            session.add(row)

    await run_in_threadpool(store)
    return {"url": photos.photo_url(row.id), "id": row.id, "content_type": content_type, "size": row.size}



@router.get("/photos/{photo_id}", response_class=Response, response_model=None,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}, "image/heic": {}},
                             "description": "the photo as uploaded, with its sniffed Content-Type"},
                       403: {"description": "not a photo of your ticket, or not your role"},
                       404: {"description": "no such photo"}})
def get_photo(photo_id: PhotoId, ctx: Ctx, user: TicketReader) -> Response:
    """A photo, to operators and to the technicians of its ticket only."""
    with ctx.sessions() as session:
        row = session.get(PhotoRow, photo_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, i18n.said("error.photo_unknown", photo=photo_id))
        if user.is_technician and not may_read(user, get_ticket_or_raise(session, row.ticket_id)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, i18n.said("error.photo_not_yours"))
        return Response(row.data, media_type=row.content_type, headers=SERVE_HEADERS)
