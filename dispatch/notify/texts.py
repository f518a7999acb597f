"""Messages written for people, one catalogue per language (docs/channels.md, "What people read"). Each
template is keyed by message kind and type (caretaker/i18n's `push.` section); `render` fills it from the
payload and the site file. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from caretaker import i18n
from caretaker.estate.model import Site
from caretaker.dispatch.notify.model import MessageKind, Outbound

# the words live in the one catalogue (caretaker/i18n, section `push.`); a site's locale picks them
ZH: dict[str, str] = i18n.section("push", "zh-CN")
EN: dict[str, str] = i18n.section("push", "en")
CATALOGUES: dict[str, dict[str, str]] = {"zh-CN": ZH, "en": EN}
_ZH_DIGITS = "零一二三四五六七八九"


class CannotFormat(ValueError):
    """The payload lacks what its template needs; the channel gives the message up (it would never format)."""


@dataclass(frozen=True, slots=True)
class Text:
    title: str
    body: str


def render(message: Outbound, site: Site) -> Text:
    """Return the title and body of a message for people, in the site's locale."""
    words = CATALOGUES.get(site.locale, ZH)
    p = message.payload
    try:
        ticket = str(p.get("ticket") or "")
        if message.kind is MessageKind.RESIDENT:
            text = _required(p, "text")
            body = words["resident.link" if p.get("link") else "resident"].format(text=text, link=p.get("link"))
            return Text(words["title.resident"], body)
        tag = _tag(words, p.get("urgency"))
        title = str(p.get("title") or p.get("rule") or "")
        if message.kind is MessageKind.DISPATCH:
            tech = _person_name(site, message.person)
            kind = _required(p, "type")
            key = f"dispatch.{kind}" if f"dispatch.{kind}" in words else "dispatch.other"
            body = words[key].format(
                tag=tag, place=_place(words, site, p.get("location") or {}), title=title, tech=tech,
                accept_by=_clock(p.get("accept_by"), site.timezone), minutes=_minutes(p.get("travel_s")),
                reason=str(p.get("reason") or ""))
            return Text(words["title.dispatch"].format(ticket=ticket), body)
        if message.kind is MessageKind.NOTICE:
            kind = _required(p, "type")
            key = f"notice.{kind}" if f"notice.{kind}" in words else "notice.other"
            reason = str(p.get("reason") or "")
            body = words[key].format(tag=tag, title=title, ticket=ticket,
                                     reason=words["reason"].format(reason=reason) if reason else "")
            return Text(words["title.notice"].format(ticket=ticket), body)
        state = _required(p, "state")
        key = f"alert.{state}" if f"alert.{state}" in words else "alert.other"
        device = p.get("device")
        shown = f"{title} ({device})" if device and device not in title else title
        return Text(words["title.alert"].format(rule=p.get("rule") or ""),
                    words[key].format(tag=tag, title=shown, state=state))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise CannotFormat(f"{message.kind.value} payload: {type(exc).__name__}") from None


def _required(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise KeyError(key)
    return value


def _tag(words: dict[str, str], urgency: Any) -> str:
    if isinstance(urgency, int) and not isinstance(urgency, bool) and 1 <= urgency <= 4:
        return words["level"].format(level=words["levels"][urgency - 1])
    return ""


def _person_name(site: Site, person: str | None) -> str:
    for group in (site.technicians, getattr(site, "contractors", {})):
        if person in group:
            return group[person].name
    return person or ""


def _place(words: dict[str, str], site: Site, location: dict[str, Any]) -> str:
    building = location.get("building")
    parts = []
    if building is not None:
        known = site.buildings.get(str(building))
        parts.append(known.name if known is not None and known.name else
                     words["building"].format(building=building))
    floor = location.get("floor")
    if isinstance(floor, int) and not isinstance(floor, bool):
        if floor < 0:
            depth = _zh_number(-floor) if words is ZH else str(-floor)
            parts.append(words["basement"].format(floor=depth))
        else:
            parts.append(words["floor"].format(floor=floor))
    if location.get("zone"):
        parts.append(words["zone"].format(zone=location["zone"]))
    return words["sep.place"].join(parts)


def _zh_number(n: int) -> str:
    """一 .. 九十九, as basements are said (负二层); larger numbers in digits."""
    if n < 10:
        return _ZH_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")
    return str(n)


def _clock(value: Any, zone: str) -> str:
    if not isinstance(value, str):
        return "?"
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at.astimezone(ZoneInfo(zone)).strftime("%H:%M")


def _minutes(travel_s: Any) -> int:
    if not isinstance(travel_s, (int, float)) or isinstance(travel_s, bool):
        return 0
    return max(1, round(travel_s / 60))
