"""The words the pages show for the service's vocabularies (ticket statuses, trades, alert states, sources,
levels), read from the pages' own message catalogues (api/static/i18n/), so a label is written once."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from caretaker.api.deps import ROLES
from caretaker.dispatch import lifecycle
from caretaker.dispatch.lifecycle import ACTIVE, FINAL, FIXED, OPEN
from caretaker.estate.model import DEVICE_TYPES, LOCALES, SKILLS

CATALOGUES = Path(__file__).resolve().parent / "static" / "i18n"
TICKET_STATUSES: tuple[str, ...] = tuple(s.value for s in lifecycle.TicketStatus)
ALERT_STATES: tuple[str, ...] = ("raised", "cleared")
ACTIVE_ALERT_STATES: tuple[str, ...] = ("raised",)  # still needs someone: listed, counted, marks its device
SOURCES: tuple[str, ...] = ("phone", "desk", "app", "wechat", "sensor")
URGENCIES: tuple[int, ...] = (1, 2, 3, 4)


@lru_cache(maxsize=len(LOCALES))
def catalogue(locale: str) -> dict[str, str]:
    """Return the message catalogue of one language (api/static/i18n/<locale>.json)."""
    if locale not in LOCALES:
        raise KeyError(locale)
    return json.loads((CATALOGUES / f"{locale}.json").read_text(encoding="utf-8"))


def labels(key: str) -> dict[str, str]:
    """Return a key's text in every language, e.g. {"zh-CN": "待派单", "en": "open"}."""
    return {locale: catalogue(locale)[key] for locale in LOCALES}


def _groups(status: str) -> list[str]:
    groups = [name for name, members in (("open", OPEN), ("active", ACTIVE), ("fixed", FIXED), ("final", FINAL))
              if status in members]
    return groups


def vocabulary() -> dict[str, Any]:
    """Return every vocabulary the pages show, each entry with its id and its labels per language."""
    return {
        "ticket_statuses": [{"id": s, "groups": _groups(s), "label": labels(f"status.{s}")} for s in TICKET_STATUSES],
        "categories": [{"id": c, "label": labels(f"category.{c}")} for c in SKILLS],
        "alert_states": [{"id": s, "active": s in ACTIVE_ALERT_STATES, "label": labels(f"alert_state.{s}")}
                         for s in ALERT_STATES],
        # `live`: still in play (waiting, offered, accepted, on site); ended ones are the ticket's record
        "assignment_statuses": [{"id": s.value, "live": s.value in lifecycle.LIVE,
                                 "label": labels(f"assignment_status.{s.value}")} for s in lifecycle.AssignmentStatus],
        "sources": [{"id": s, "label": labels(f"source.{s}")} for s in SOURCES],
        "urgencies": [{"id": u, "label": labels(f"urgency.{u}")} for u in URGENCIES],
        "device_types": [{"id": d, "label": labels(f"device_type.{d}")} for d in DEVICE_TYPES],
        "roles": [{"id": r, "label": labels(f"role.{r}")} for r in ROLES],
        # the statuses and which step is allowed from which, as dispatch decides them (dispatch/lifecycle.py)
        "lifecycle": lifecycle.vocabulary(),
    }
