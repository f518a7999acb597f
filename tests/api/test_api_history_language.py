"""A ticket's history and an alert's log in the reader's language (docs/operators.md, "Languages"): the system's
own lines are said in the request's language (`?lang=`, Accept-Language, else the estate's), what a person typed
stays exactly as typed, and a line stored before the wording was kept shows its note as stored."""

from __future__ import annotations

from datetime import timedelta

from api_support import LEAK_REPORT

from caretaker.dispatch.tables import TicketHistoryRow

PHOTO = "https://photos.example/fixed.jpg"
TYPED = "住户再次来电：水已关 / resident called again"  # an operator's note: never translated


def _history(client, headers, ticket_id, **params) -> list[tuple[str, str, str | None]]:
    got = client.get(f"/api/v1/tickets/{ticket_id}", headers=headers, params=params)
    assert got.status_code == 200, got.text
    return [(h["status"], h["by"], h["note"]) for h in got.json()["history"]]


def _fixed_and_reopened(client, ctx, issue, operator, wang_ticket) -> str:
    """The leak ticket accepted, worked, resolved with the technician's words, a note, reopened with words."""
    ticket_id, wang = wang_ticket["id"], issue("technician", "t-wang")
    for step in ("accept", "arrive"):
        assert client.post(f"/api/v1/tickets/{ticket_id}/{step}", headers=wang).status_code == 200
    resolved = client.post(f"/api/v1/tickets/{ticket_id}/resolve", headers=wang,
                           json={"note": "换了厨房吊顶上的水管接头", "photos": [PHOTO]})
    assert resolved.status_code == 200, resolved.text
    noted = client.post(f"/api/v1/tickets/{ticket_id}/notes", json={"note": TYPED}, headers=operator)
    assert noted.status_code == 201, noted.text
    reopened = client.post(f"/api/v1/tickets/{ticket_id}/reopen", json={"note": "still dripping"}, headers=operator)
    assert reopened.status_code == 200, reopened.text
    return ticket_id


def test_the_system_lines_follow_the_readers_language_and_typed_words_stay_as_typed(
        client, ctx, issue, operator, wang_ticket):
    ticket_id = _fixed_and_reopened(client, ctx, issue, operator, wang_ticket)
    zh = _history(client, operator, ticket_id, lang="zh-CN")
    en = _history(client, operator, ticket_id, lang="en")
    assert [(s, b) for s, b, _ in zh] == [(s, b) for s, b, _ in en]  # the same lines, only the words differ
    zh_notes, en_notes = [n for _, _, n in zh], [n for _, _, n in en]

    assert zh_notes[0] == "1 级给排水工单" and en_notes[0] == "level 1 plumbing"
    assert zh_notes[1].startswith("已指派给 t-wang：最近的在场 给排水 技工：路程 ")
    assert en_notes[1].startswith("to t-wang: nearest on-site plumbing technician: ")
    # the technician's resolve note and the operator's note, as typed, in both languages
    assert ("resolved", "t-wang", "换了厨房吊顶上的水管接头") in zh and ("resolved", "t-wang", "换了厨房吊顶上的水管接头") in en
    assert ("note", "op-1", TYPED) in zh and ("note", "op-1", TYPED) in en
    # a line mixing both: the system's word translated, the operator's words kept
    assert ("open", "op-1", "重新打开：still dripping") in zh
    assert ("open", "op-1", "reopened: still dripping") in en
    assert "已指派给 t-wang：重新打开：此工单由你负责" in zh_notes and "to t-wang: reopened: you own this ticket" in en_notes
    assert not any(n and "reopened" in n for n in zh_notes)  # no English left in the system's Chinese lines

    # no ?lang=: the browser's language, else the estate's (zh-CN here)
    assert _history(client, {**operator, "Accept-Language": "en-GB,en;q=0.9"}, ticket_id) == en
    assert _history(client, operator, ticket_id) == zh
    # the step's own answer speaks the same language as a read
    again = client.post(f"/api/v1/tickets/{ticket_id}/cancel", json={"note": "重复报修"}, headers=operator,
                        params={"lang": "en"})
    assert again.status_code == 200 and again.json()["history"][-1]["note"] == "重复报修"
    assert [h["note"] for h in again.json()["history"]][:1] == ["level 1 plumbing"]


def test_a_line_stored_before_the_wording_was_kept_shows_its_note_as_stored(client, ctx, operator, wang_ticket):
    ticket_id = wang_ticket["id"]
    with ctx.sessions.begin() as session:  # as the service wrote every line before: English text, no key
        session.add(TicketHistoryRow(ticket_id=ticket_id, at=ctx.clock.now(), status="assigned", by="system",
                                     note="escalation level 0: s-li told"))
    for lang in ("zh-CN", "en"):
        assert _history(client, operator, ticket_id, lang=lang)[-1] == (
            "assigned", "system", "escalation level 0: s-li told")


def test_an_alerts_log_says_the_rules_own_words_in_the_readers_language(client, ctx, operator, clock):
    from tests.api.test_api_alarm_model import seed_alert

    seed_alert(ctx)
    until = (clock.now() + timedelta(hours=1)).isoformat()
    shelved = client.post("/api/v1/alerts/AL-test1/shelve", json={"until": until, "reason": "传感器待更换"},
                          headers=operator)
    assert shelved.status_code == 200, shelved.text
    stored_until = shelved.json()["shelved_until"]
    clock.advance(hours=2)
    with ctx.sessions.begin() as session:  # the sweep finds the shelf time up
        from caretaker.rules.store import expire_shelves
        assert [r.id for r in expire_shelves(session, clock.now())] == ["AL-test1"]

    def log(lang):
        got = client.get("/api/v1/alerts/AL-test1", headers=operator, params={"lang": lang})
        assert got.status_code == 200, got.text
        return [(e["state"], e["note"]) for e in got.json()["log"]]

    zh, en = log("zh-CN"), log("en")
    assert [s for s, _ in zh] == [s for s, _ in en] == ["shelved", "unshelved"]
    assert zh[0][1].startswith("搁置至 ") and zh[0][1].endswith("：传感器待更换")
    assert en[0][1].startswith("until ") and en[0][1].endswith(": 传感器待更换")
    assert stored_until[:16] in en[0][1].replace("+00:00", "Z")
    assert (zh[1][1], en[1][1]) == ("搁置时间已到", "shelf time is up")


def test_the_live_feed_says_the_history_in_its_subscribers_language(client, ctx, clock, operator):
    import json

    from caretaker.api.deps import User
    from caretaker.api.stream import ChangeFeed

    feeds = {lang: ChangeFeed(User("operator", "op-1"), False, lang) for lang in ("zh-CN", "en")}
    with ctx.sessions() as session:
        for feed in feeds.values():
            feed.prime(session, clock.now())
    clock.advance(seconds=1)
    reported = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=operator)
    assert reported.status_code == 201, reported.text
    clock.advance(seconds=1)
    with ctx.sessions() as session:
        seen = {lang: [json.loads(data) for event, data in feed.poll(session, clock.now()).events if event == "ticket"]
                for lang, feed in feeds.items()}
    assert seen["zh-CN"][-1]["history"][0]["note"] == "1 级给排水工单"
    assert seen["en"][-1]["history"][0]["note"] == "level 1 plumbing"
