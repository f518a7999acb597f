"""What dispatch tells people is said in the site file's `locale` (a push or a notice has no request to ask):
the `reason` of a technician's push and of a supervisor's notice on MQTT, and the channels' sentence around it
(docs/device-protocol.md, "Dispatches"; docs/channels.md). On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch import timers
from caretaker.dispatch.notify.model import MessageKind, Outbound
from caretaker.dispatch.notify.texts import render
from caretaker.dispatch.service import AlertFacts, Dispatcher
from caretaker.dispatch.tables import OutboxRow
from caretaker.estate.model import Place
from caretaker.estate.site import load_site

SITE = load_site(Path(__file__).resolve().parent.parent / "fixtures" / "small-site.yaml")


@pytest.fixture
def db(database_url):
    engine = make_engine(database_url)
    migrate(engine)
    yield make_sessions(engine)
    engine.dispose()


def _told(db, site) -> list[tuple[str, dict]]:
    """Open a level-1 leak two hours ago near t-near and an electrical alarm nobody can take, let every
    timer since come due (the accept window passes unanswered), and return what was queued, in order."""
    dispatcher = Dispatcher(site, "caretaker")
    with db() as s:
        now = timers.shared_now(s, datetime.now(timezone.utc))
    past = now - timedelta(hours=2)
    with db.begin() as s:
        dispatcher.record_location(s, "t-near", Place("A", 1), past, "app")
        dispatcher.open_for_alert(s, AlertFacts("AL-1", "water-leak", "A-LEAK-1", 1, "plumbing", "Water leak", past),
                                  past)
        dispatcher.open_for_alert(s, AlertFacts("AL-2", "power", "A-METER-1", 2, "electrical", "Power cut", past),
                                  past)
    with db.begin() as s:
        for due in timers.claim_due(s, timers.shared_now(s, datetime.now(timezone.utc))):
            dispatcher.on_timer(s, due, now)
    with db() as s:
        return [(t, json.loads(p)) for t, p in s.execute(select(OutboxRow.topic, OutboxRow.payload)
                                                         .order_by(OutboxRow.id))]


def _reasons(told, ending: str, kind: str) -> list[str]:
    return [p["reason"] for topic, p in told if topic.endswith(ending) and p.get("type") == kind]


def test_a_chinese_estate_tells_its_technicians_and_supervisors_in_chinese(db):
    assert SITE.locale == "zh-CN"
    told = _told(db, SITE)
    [assigned] = _reasons(told, "technicians/t-near/dispatch", "assigned")
    assert assigned.startswith("最近的在场 给排水 技工：路程 ") and "手上 0 张工单" in assigned
    assert _reasons(told, "technicians/t-near/dispatch", "withdrawn") == ["未按时接单"]
    unassigned = _reasons(told, "supervisors/s-1/notify", "unassigned")
    assert "没有可派的 电气 技工：1 人位置未知" in unassigned, unassigned
    breaches = _reasons(told, "supervisors/s-1/notify", "breach")
    assert any(r.startswith("接单已超时（期限 ") for r in breaches), breaches
    # the channels' sentence around it is the same catalogue's
    topic, payload = next((t, p) for t, p in told if t.endswith("/notify") and p["reason"].startswith("接单已超时"))
    text = render(Outbound(1, payload.get("id", "M-1"), SITE.id, MessageKind.NOTICE, topic, payload, "s-1"), SITE)
    assert text.body.startswith("【一级】已超时：Water leak: A-LEAK-1（工单") and "：接单已超时（期限 " in text.body, text.body


def test_an_english_estate_tells_them_in_english(db):
    site = dataclasses.replace(SITE, locale="en")
    told = _told(db, site)
    [assigned] = _reasons(told, "technicians/t-near/dispatch", "assigned")
    assert assigned.startswith("nearest on-site plumbing technician: ") and "0 open ticket(s)" in assigned
    assert _reasons(told, "technicians/t-near/dispatch", "withdrawn") == ["not accepted in time"]
    assert "no electrical technician available: 1 location unknown" in _reasons(told, "supervisors/s-1/notify",
                                                                                "unassigned")
    assert any(r.startswith("accept deadline breached (was due ") for r in _reasons(told, "supervisors/s-1/notify",
                                                                                     "breach"))
