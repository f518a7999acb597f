"""Why a technician is or is not offered a ticket (GET /api/v1/tickets/{id}/candidates), in the request's
language (docs/api.md, "Language"): `reason` is words for a person, `reason_code` the same in every language."""

from __future__ import annotations

from api_support import place_technician


def _candidates(client, headers, ticket, **params):
    got = client.get(f"/api/v1/tickets/{ticket}/candidates", headers=headers, params=params)
    assert got.status_code == 200, got.text
    return {c["technician"]: c for c in got.json()["candidates"]}


def test_reasons_in_the_sites_chinese_and_in_english_when_asked(client, ctx, operator, wang_ticket):
    place_technician(ctx, "t-chen", building="A", floor=3)  # the night plumber: off shift at 10:00
    place_technician(ctx, "t-liu", building="B", floor=1)  # electrician: no plumbing
    zh = _candidates(client, operator, wang_ticket["id"])
    en = _candidates(client, {**operator, "Accept-Language": "en-US,en;q=0.9"}, wang_ticket["id"])
    by_lang = _candidates(client, operator, wang_ticket["id"], lang="en")
    assert en == by_lang
    assert (zh["t-chen"]["reason_code"], zh["t-chen"]["reason"], en["t-chen"]["reason"]) == (
        "off_shift", "非当班", "off shift")
    assert (zh["t-liu"]["reason_code"], zh["t-liu"]["reason"], en["t-liu"]["reason"]) == (
        "lacks_trade", "不具备该工种", "lacks the trade")
    wang_zh, wang_en = zh["t-wang"], en["t-wang"]
    assert wang_zh["available"] and wang_zh["reason_code"] == "available"
    assert wang_zh["reason"] == f"可派：路程 {wang_zh['travel_s']} 秒，手上 {wang_zh['open_work']} 张工单"
    assert wang_en["reason"] == f"available: {wang_en['travel_s']} s away, {wang_en['open_work']} open ticket(s)"
    # only the words differ between the languages
    strip = lambda c: {k: v for k, v in c.items() if k != "reason"}  # noqa: E731
    assert {t: strip(c) for t, c in zh.items()} == {t: strip(c) for t, c in en.items()}
