"""Close-out photos: what counts as an image (by its bytes, never by what the client says), the URLs the
upload route hands out, and which photos a resolve may name (docs/api.md, "Photos"); pure."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Iterable

MAX_BYTES = 10 * 1024 * 1024  # a phone camera's JPEG is 2-6 MB; a HEIC less
# the multipart envelope around the file (boundaries, part headers, a file name) on top of it
ENVELOPE_BYTES = 64 * 1024
URL_PREFIX = "/api/v1/photos/"
_OWN_URL = re.compile(r"^/api/v1/photos/(PH-[A-Za-z0-9_-]{8,40})$")
_DATA_URI = re.compile(r"^data:image/[a-z0-9.+-]+;base64,(?P<data>[A-Za-z0-9+/=\s]+)$", re.IGNORECASE)
# ISO BMFF brands of HEIC/HEIF stills (and their sequences), as iPhones and recent Androids write them
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"})
SNIFF_BYTES = 32


def sniff(head: bytes) -> str | None:
    """Return the media type of an image from its first bytes (JPEG, PNG, WebP, HEIC/HEIF), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/avif" if head[8:12] == b"avif" else "image/heic"
    return None


def new_photo_id() -> str:
    """A photo's id: random, so a photo's URL cannot be guessed from another's."""
    return "PH-" + secrets.token_urlsafe(18)


def photo_url(photo_id: str) -> str:
    return URL_PREFIX + photo_id


def own_photo_id(url: str) -> str | None:
    """Return the id when `url` is a photo uploaded here (`/api/v1/photos/<id>`), else None."""
    match = _OWN_URL.match(url)
    return match.group(1) if match else None


def data_uri_problem(url: str) -> str | None:
    """Return why a `data:` photo is not an image (None: it is one, or `url` is no data URI)."""
    match = _DATA_URI.match(url)
    if match is None:
        return None
    text = re.sub(r"\s+", "", match.group("data"))
    try:
        head = base64.b64decode(text[:64] + "=" * (-len(text[:64]) % 4), validate=True)
    except (binascii.Error, ValueError):
        return "the data URI is not valid base64"
    if sniff(head) is None:
        return "the data URI holds no JPEG, PNG, WebP or HEIC image"
    return None


def resolve_photo_problems(photos: Iterable[str], ticket_id: str, stored: dict[str, str]) -> list[tuple[int, str]]:
    """Return (index, why) for each photo a resolve of `ticket_id` may not name. `stored` maps the ids of
    uploaded photos named in `photos` to their ticket: a photo uploaded here must be of this ticket, a
    `data:` image must be an image by its bytes; an http(s) URL (the company's own file store) passes."""
    problems = []
    for index, url in enumerate(photos):
        photo_id = own_photo_id(url)
        if photo_id is not None:
            owner = stored.get(photo_id)
            if owner is None:
                problems.append((index, f"no photo {photo_id!r} was uploaded"))
            elif owner != ticket_id:
                problems.append((index, f"photo {photo_id!r} was uploaded for another ticket"))
            continue
        why = data_uri_problem(url)
        if why is not None:
            problems.append((index, why))
    return problems
