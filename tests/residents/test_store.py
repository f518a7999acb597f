"""The residents' store on a real database: what one alarm's raise and clear queue in the outbox."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.resident_store import ResidentDesk
from caretaker.dispatch.residents import ResidentNotice
from caretaker.dispatch.tables import OutboxRow
from caretaker.estate.site import load_site
from tests.residents.support import UNITS_A, UNITS_B, site_with_units

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def _queued(sessions) -> list[tuple[str, dict]]:
    with sessions() as session:
        return [(r.topic, json.loads(r.payload)) for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))]


def test_a_silenced_cut_tells_nobody_and_a_real_one_every_unit(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    migrate(engine)
    sessions = make_sessions(engine)
    desk = ResidentDesk(load_site(site_with_units(tmp_path)), "caretaker", "https://care.example.com")
    with sessions.begin() as session:  # a planned shutdown: announced beforehand, not by us
        assert not desk.on_alert(session, "raised", "mains-power-lost", "AL-1", "A", None, NOW, silenced=True)
        assert not desk.on_alert(session, "cleared", "mains-power-lost", "AL-1", "A", None, NOW)
        assert not desk.on_alert(session, "raised", "water-leak", "AL-2", "A", "T-1", NOW)  # not a supply cut
    assert _queued(sessions) == []
    with sessions.begin() as session:
        assert desk.on_alert(session, "raised", "low-water-pressure", "AL-3", "A", "T-2", NOW)
        assert not desk.on_alert(session, "chattering", "low-water-pressure", "AL-3", "A", "T-2", NOW)
    queued = _queued(sessions)
    assert [topic for topic, _ in queued] == [f"caretaker/test-estate/units/{u}/notice" for u in UNITS_A]
    notices = [ResidentNotice.model_validate(p) for _, p in queued]
    assert {(n.type, n.ticket, n.link) for n in notices} == {("outage", "T-2", None)}
    assert all("停水" in n.text for n in notices)
    engine.dispose()


def test_a_link_is_absolute_with_a_public_address_and_only_its_hash_is_kept(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    migrate(engine)
    sessions = make_sessions(engine)
    desk = ResidentDesk(load_site(site_with_units(tmp_path)), "caretaker", "https://care.example.com/")
    with sessions.begin() as session:
        link = desk.new_link(session, "T-1", "A-0101", NOW)
    token = link.removeprefix("https://care.example.com/r/")
    assert len(token) >= 32 and "/" not in token  # 192 bits, URL-safe
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT token_hash, ticket_id FROM resident_links").all()
    assert stored and token not in str(stored) and stored[0][1] == "T-1"
    engine.dispose()


def test_a_tower_and_its_plant_room_both_cut_tell_each_unit_once_and_restore_it_when_both_are_back(sqlite_url,
                                                                                                    tmp_path):
    engine = make_engine(sqlite_url)
    migrate(engine)
    sessions = make_sessions(engine)
    desk = ResidentDesk(load_site(site_with_units(tmp_path, plant=True)), "caretaker")

    def step(state: str, alert: str, building: str) -> list[tuple[str, str]]:
        before = len(_queued(sessions))
        with sessions.begin() as session:
            desk.on_alert(session, state, "mains-power-lost", alert, building, "T-1", NOW)
        return [(topic.split("/")[3], body["type"]) for topic, body in _queued(sessions)[before:]]

    assert step("raised", "AL-A", "A") == [(u, "outage") for u in UNITS_A]
    assert step("raised", "AL-P", "P") == [(u, "outage") for u in UNITS_B]  # A's residents already know
    assert step("cleared", "AL-A", "A") == []  # A's own meter is back, but A is still fed from P
    assert step("cleared", "AL-P", "P") == [(u, "restored") for u in UNITS_A + UNITS_B]
    engine.dispose()
