"""`GET /api/v1/sites`: the estates the caller may see (docs/api.md, "Estates"): every estate for the admin token,
the estate that issued it for any other token. The control room shows its estate switcher from this list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from caretaker import i18n
from caretaker.api.deps import Estates, _unauthorized, bearer_token, hash_token, user_for_token

router = APIRouter(prefix="/api/v1/sites", tags=["estates"])


class SiteOut(BaseModel):
    id: str = Field(description="the site id: `?site=` or the X-Caretaker-Site header of every other route")
    name: str
    locale: str
    timezone: str


@router.get("", response_model=list[SiteOut])
def list_sites(estates: Estates, token: Annotated[str | None, Depends(bearer_token)]) -> list[SiteOut]:
    """The estates this token may work on, in the deployment's order; for the admin token, all of them."""
    if not token:
        raise _unauthorized(i18n.said("error.token_required"))
    if estates.is_admin(token):
        visible = list(estates.contexts.values())
    else:
        home = estates.only.site.id if estates.only is not None else estates.home_of(hash_token(token))
        if home is None:
            raise _unauthorized(i18n.said("error.token_unknown"))
        ctx = estates.contexts[home]
        user_for_token(ctx, token)  # 401 for a revoked or expired one
        visible = [ctx]
    return [SiteOut(id=c.site.id, name=c.site.name, locale=c.site.locale, timezone=c.site.timezone) for c in visible]
