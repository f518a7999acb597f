"""The language a request is answered in (docs/api.md, "Language"): `?lang=`, else the browser's
`Accept-Language`, else the locale of the estate the request works on (its site file's `locale`)."""

from __future__ import annotations

from fastapi import Request

from caretaker import i18n


def site_locale(request: Request) -> str | None:
    """Return the locale of the estate this request works on, as the estate dependency remembered it; before
    one is known (an estate that does not exist, a page without a login) the deployment's first estate's."""
    known = getattr(request.state, "locale", None)
    if known is not None:
        return known
    estates = getattr(request.app.state, "estates", None)
    return estates.first.site.locale if estates is not None and estates.contexts else None


def language(request: Request) -> str:
    return i18n.pick(site_locale(request), request.query_params.get("lang"), request.headers.get("accept-language"))
