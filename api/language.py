"""The language a request is answered in (docs/api.md, "Language"): `?lang=`, else the browser's
`Accept-Language`, else the locale of the estate the request works on (its site file's `locale`)."""

from __future__ import annotations

from typing import Annotated, Any, Mapping, Sequence

from fastapi import Depends, Request

from caretaker import i18n


def site_locale(request: Request) -> str | None:
    """Return the locale of the estate this request works on, as the estate dependency remembered it; before
    one is known (an estate that does not exist, a page without a login) the deployment's first estate's."""
    known = getattr(request.state, "locale", None)
    if known is not None:
        return known
    estates = getattr(request.app.state, "estates", None)
    return estates.first.site.locale if estates is not None and estates.contexts else None


def scope_language(scope: Mapping[str, Any]) -> str:
    """The language of a request the middleware answers before routing (a 413, a 429, an unstorable input's
    422): `?lang=`, `Accept-Language`, else the deployment's first estate's locale."""
    from urllib.parse import parse_qs

    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("lang")
    accept = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept-language"), None)
    app = scope.get("app")
    estates = getattr(getattr(app, "state", None), "estates", None)
    site = estates.first.site.locale if estates is not None and estates.contexts else None
    return i18n.pick(site, query[0] if query else None, accept)


def language(request: Request) -> str:
    return i18n.pick(site_locale(request), request.query_params.get("lang"), request.headers.get("accept-language"))


# a route's request language, as a dependency (declared after `Ctx`, which remembers the estate's locale)
Lang = Annotated[str, Depends(language)]

_WHERE = ("body", "query", "path", "header", "cookie")


def field_name(loc: Sequence[Any]) -> str:
    """Return the field a 422 is about as a person writes it: `("body", "photos", 0)` → `photos[0]`, the
    `body`/`query`/… that FastAPI puts first left out (`loc` says it for programs); pure."""
    parts = list(loc[1:] if loc and loc[0] in _WHERE else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else "")


def validation_errors(errors: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Return a 422's errors with each `msg` in `lang` (docs/api.md, "Language"): pydantic's own texts
    (`Field required`, `String should have at most 200 characters`, …) by their `type` from the catalogues'
    `validation.` messages, naming the field; a message the service wrote itself (a `Said`) said in `lang`;
    a type the catalogues do not know keeps pydantic's English. `type`, `loc`, `input` and `ctx` unchanged; pure."""
    out: list[dict[str, Any]] = []
    for error in errors:
        error = dict(error)
        msg = error.get("msg")
        key = f"validation.{error.get('type')}"
        if not isinstance(msg, i18n.Said) and i18n.has(key):
            ctx = {k: _shown(v) for k, v in (error.get("ctx") or {}).items()}
            error["msg"] = i18n.say(key, lang, **ctx, field=field_name(error.get("loc") or ()))
        out.append(i18n.render(error, lang))
    return out


def _shown(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) else str(value)
