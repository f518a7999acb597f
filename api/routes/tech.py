"""The technician's app (`/tech`, docs/technicians.md): its page, web app manifest and service worker, and
`GET /api/v1/me`, which tells the app whose phone it is on."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse, Response

from caretaker.api.deps import Ctx, CurrentUser
from caretaker.api.schemas import MeOut
from caretaker.estate.model import LOCALES

TECH = Path(__file__).resolve().parent.parent / "static" / "tech"
SCOPE = "/tech"
# everything from this origin; photos are previewed from the phone's own files (blob:) before upload
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'",
                "Cache-Control": "no-cache"}
# a worker at /tech/sw.js may control /tech itself, not only /tech/... (its default scope)
WORKER_HEADERS = {"Service-Worker-Allowed": SCOPE, "Cache-Control": "no-cache"}
NAMES = {"zh-CN": ("物业维修工单", "维修"), "en": ("Caretaker for technicians", "Caretaker")}

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["technician app"])


@lru_cache(maxsize=4)
def _page(site_locale: str) -> str:
    html = (TECH / "index.html").read_text(encoding="utf-8")
    return html.replace("__SITE_LOCALE__", site_locale)


@pages.get(SCOPE, response_model=None)
def tech_page(ctx: Ctx) -> HTMLResponse:
    """The page; it picks its language from ?lang=, then the site file's `locale` (zh-CN by default)."""
    locale = ctx.site.locale if ctx.site.locale in LOCALES else "zh-CN"
    return HTMLResponse(_page(locale), headers=PAGE_HEADERS)


@pages.get(SCOPE + "/sw.js", response_model=None)
def service_worker() -> Response:
    return Response((TECH / "sw.js").read_bytes(), media_type="text/javascript", headers=WORKER_HEADERS)


@pages.get(SCOPE + "/manifest.webmanifest", response_model=None)
def manifest(ctx: Ctx) -> JSONResponse:
    """What the phone needs to put the app on its home screen, named in the site's language."""
    name, short = NAMES.get(ctx.site.locale, NAMES["zh-CN"])
    body: dict[str, Any] = {
        "name": name, "short_name": short, "lang": ctx.site.locale, "start_url": SCOPE, "scope": SCOPE,
        "id": SCOPE, "display": "standalone", "orientation": "portrait",
        "background_color": "#f4f6f8", "theme_color": "#0d5c8a",
        "icons": [{"src": f"{SCOPE}/static/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                   "purpose": "any maskable"} for size in (192, 512)],
    }
    return JSONResponse(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/me", response_model=MeOut)
def me(ctx: Ctx, user: CurrentUser) -> dict[str, Any]:
    """Who the token stands for, and the site's name, language and time zone (the apps' heading)."""
    tech = ctx.site.technicians.get(user.subject) if user.is_technician else None
    return {"role": user.role, "subject": user.subject, "name": tech.name if tech else None,
            "site": {"id": ctx.site.id, "name": ctx.site.name, "locale": ctx.site.locale,
                     "timezone": ctx.site.timezone}}
