"""What residents read, one catalogue per language: the notices' `text` and the progress page's words
(docs/residents.md). The channels' catalogue (dispatch/notify/texts.py) sends a resident notice's `text`
as it is and adds the link after it ("… 进度：https://…"), so a text never ends asking for one. Pure."""

from __future__ import annotations

import math
from typing import Mapping

from caretaker.estate.model import DEFAULT_LOCALE, LOCALES

ZH: dict[str, str] = {
    # notices (ResidentNotice.text)
    "outage.power": "【停电通知】{building}目前停电，工程人员正在处理，恢复供电后将另行通知。如有老人或行动不便者需要帮助，请联系客服中心。",
    "outage.water": "【停水通知】{building}目前停水，工程人员正在处理，恢复供水后将另行通知。",
    "restored.power": "【恢复供电】{building}已恢复供电，感谢您的耐心等待。",
    "restored.water": "【恢复供水】{building}已恢复供水，感谢您的耐心等待。",
    "received": "您的报修已受理，工单号{ticket}，我们会尽快安排工程师处理。",
    "progress.accepted": "工单{ticket}：{tech}已出发{eta}。",
    "progress.on_site": "工单{ticket}：{tech}已到达现场。",
    "resolved": "工单{ticket}已处理完毕：{note}。欢迎为本次服务评分。",
    # the progress page's status in words
    "status.open": "已受理，正在安排工程师",
    "status.assigned": "已派给{tech}，等待接单",
    "status.accepted": "{tech}已出发{eta}",
    "status.on_site": "{tech}已到达现场，正在处理",
    "status.resolved": "已处理完毕",
    "status.verified": "已处理完毕，已回访",
    "status.closed": "已完成",
    "status.cancelled": "工单已取消",
    "eta": "，预计{minutes}分钟到达",
    "eta.soon": "，即将到达",
    "tech": "工程师{name}",
    "tech.unknown": "工程师",
    "place": "{building}{floor}",
    "floor": "{floor}层",
    "basement": "负{floor}层",
    "building": "{building}栋",
    # the page's labels
    "page.title": "报修进度",
    "page.ticket": "工单号",
    "page.status": "当前状态",
    "page.reported": "报修时间",
    "page.where": "报修位置",
    "page.last_seen": "工程师最近位置",
    "page.note": "处理说明",
    "page.photos": "现场照片",
    "page.rate": "请为本次服务评分",
    "page.rate.send": "提交评分",
    "page.rated": "感谢您的评分：{score}分",
    "page.stars": "{score}星",
    "page.refresh": "页面每30秒自动刷新",
    "page.error": "暂时无法获取进度，请稍后再试",
    "page.rate.refused": "本工单已评过分",
}

EN: dict[str, str] = {
    "outage.power": "Power cut: {building} has no mains power. Our engineers are on it; we will tell you when "
                    "it is back. If an elderly or disabled neighbour needs help, call the service desk.",
    "outage.water": "Water cut: {building} has no water supply. Our engineers are on it; we will tell you when "
                    "it is back.",
    "restored.power": "Power is back in {building}. Thank you for your patience.",
    "restored.water": "Water is back in {building}. Thank you for your patience.",
    "received": "We have your report, ticket {ticket}. An engineer will be sent shortly.",
    "progress.accepted": "Ticket {ticket}: {tech} is on the way{eta}.",
    "progress.on_site": "Ticket {ticket}: {tech} has arrived.",
    "resolved": "Ticket {ticket} is fixed: {note}. Please rate our service.",
    "status.open": "Received; an engineer is being found",
    "status.assigned": "Sent to {tech}, waiting for them to accept",
    "status.accepted": "{tech} is on the way{eta}",
    "status.on_site": "{tech} has arrived and is working on it",
    "status.resolved": "Fixed",
    "status.verified": "Fixed, and we have called you back",
    "status.closed": "Done",
    "status.cancelled": "The ticket was cancelled",
    "eta": ", about {minutes} minutes",
    "eta.soon": ", arriving now",
    "tech": "{name}",
    "tech.unknown": "An engineer",
    "place": "{building}, {floor}",
    "floor": "floor {floor}",
    "basement": "basement {floor}",
    "building": "Building {building}",
    "page.title": "Your report",
    "page.ticket": "Ticket",
    "page.status": "Status",
    "page.reported": "Reported",
    "page.where": "Where",
    "page.last_seen": "Engineer last seen",
    "page.note": "What was done",
    "page.photos": "Photos",
    "page.rate": "How did we do?",
    "page.rate.send": "Send rating",
    "page.rated": "Thank you for your rating: {score}",
    "page.stars": "{score} stars",
    "page.refresh": "This page refreshes every 30 seconds",
    "page.error": "The progress cannot be shown right now; please try again later",
    "page.rate.refused": "This ticket has already been rated",
}

CATALOGUES: dict[str, dict[str, str]] = {"zh-CN": ZH, "en": EN}
PAGE_KEYS: tuple[str, ...] = tuple(k for k in ZH if k.startswith("page."))


def words(locale: str) -> Mapping[str, str]:
    return CATALOGUES.get(locale, CATALOGUES[DEFAULT_LOCALE])


def pick_locale(site_locale: str, lang: str | None, accept_language: str | None) -> str:
    """Return the page's language: `?lang=`, else the browser's first known language, else the site's."""
    if lang in LOCALES:
        return lang  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
        if tag and tag != "*":
            break  # the browser prefers a language we do not speak: the site's own
    return site_locale if site_locale in LOCALES else DEFAULT_LOCALE


def building_name(w: Mapping[str, str], building: str, name: str = "") -> str:
    return name or w["building"].format(building=building)


def floor_name(w: Mapping[str, str], floor: int) -> str:
    return w["basement"].format(floor=-floor) if floor < 0 else w["floor"].format(floor=floor)


def tech_name(w: Mapping[str, str], name: str | None) -> str:
    return w["tech"].format(name=name) if name else w["tech.unknown"]


def eta_words(w: Mapping[str, str], travel_s: int | None) -> str:
    """", about 4 minutes" from a travel time in seconds; nothing when it is not known."""
    if travel_s is None:
        return ""
    if travel_s < 30:
        return w["eta.soon"]
    return w["eta"].format(minutes=max(1, math.ceil(travel_s / 60)))
