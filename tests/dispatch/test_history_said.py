"""A history line's wording kept as key + parameters (migration 0013_said_notes, caretaker/i18n/stored.py): a
database at the previous head upgrades with its lines kept and shown as stored, on SQLite and PostgreSQL; a line
written after says itself in either language, nested words and lists included."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from caretaker import i18n
from caretaker.db import alembic_config, make_engine, make_sessions
from caretaker.dispatch import reads_tickets
from caretaker.dispatch.desk import history_line
from caretaker.dispatch.tables import TicketRow
from caretaker.i18n import stored
from caretaker.rules import store as rules_store
from caretaker.rules.tables import AlertLogRow

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
PREVIOUS = "0012_alert_ticket_link"  # the head before 0013_said_notes (a later head is downgraded first)


@pytest.mark.parametrize("said, zh, en", [
    (i18n.said("note.assigned", tech="t-wang", reason=i18n.said("note.reopened_owner")),
     "已指派给 t-wang：重新打开：此工单由你负责", "to t-wang: reopened: you own this ticket"),
    (i18n.said("note.support_ended_by", trade=i18n.named("category", "cleaning"),
               status=i18n.named("status", "withdrawn"), tech="t-he", why=i18n.said("note.ticket_closed")),
     "保洁协助已收回（t-he）：工单已关闭", "cleaning support withdrawn (t-he): the ticket closed"),
    (i18n.said("note.unassigned", why=i18n.said("notice.no_technician", trade=i18n.named("category", "plumbing"),
                                                reasons=i18n.Listed([i18n.said("notice.counted", count=2,
                                                                               why=i18n.named("choice", "off_shift"))]))),
     "未能派单：没有可派的 给排水 技工：2 人非当班", "unassigned: no plumbing technician available: 2 off shift"),
    (i18n.said("note.reopened_with", note="水又漏了 again"), "重新打开：水又漏了 again", "reopened: 水又漏了 again"),
], ids=["nested said", "vocabulary words", "a list", "typed words kept"])
def test_a_kept_line_says_itself_in_either_language(said, zh, en):
    line = history_line("T-1", T0, "assigned", "system", said)
    again = stored.load(line.note_said, line.note)
    assert line.note == en  # the English text stays in `note`: search, figures and logs read it
    assert (i18n.render(again, "zh-CN"), i18n.render(again, "en")) == (zh, en)
    # the API says it straight from the JSON: the same words
    assert (stored.say(line.note_said, line.note, "zh-CN"), stored.say(line.note_said, line.note, "en")) == (zh, en)


def test_a_persons_words_are_stored_as_typed_with_no_key():
    line = history_line("T-1", T0, "note", "op-1", "住户再次来电")
    assert (line.note, line.note_said) == ("住户再次来电", None)
    assert stored.load({"key": 5}, "as stored") == "as stored"  # a JSON this version cannot read: the text
    assert stored.say({"key": 5}, "as stored", "zh-CN") == stored.say(None, "as stored", "en") == "as stored"


def test_the_migration_upgrades_a_database_at_the_previous_head_keeping_its_lines(database_url):
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    config = alembic_config(database_url)
    with sessions.begin() as session:
        session.add(TicketRow(id="T-1", status="open", urgency=1, category="plumbing", title="Water leak",
                              source="sensor", building="A", floor=3, created_at=T0, updated_at=T0, accept_by=T0,
                              resolve_by=T0, breached=False, photos=[], cycle=1))

    def run(step, target: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, target)

    run(command.downgrade, PREVIOUS)  # the database as the previous release left it
    with engine.begin() as connection:
        assert "note_said" not in {c["name"] for c in inspect(connection).get_columns("ticket_history")}
        connection.execute(text("INSERT INTO ticket_history (ticket_id, at, status, by, note) "
                                "VALUES ('T-1', :at, 'open', 'system', 'level 1 plumbing')"), {"at": T0})
        connection.execute(text("INSERT INTO alert_log (alert_id, state, at, by, note) "
                                "VALUES ('AL-1', 'unshelved', :at, 'system', 'shelf time is up')"), {"at": T0})

    run(command.upgrade, "heads")
    with engine.connect() as connection:
        for table in ("ticket_history", "alert_log"):
            assert "note_said" in {c["name"] for c in inspect(connection).get_columns(table)}
    with sessions.begin() as session:
        session.add(history_line("T-1", T0, "assigned", "system",
                                 i18n.said("note.assigned", tech="t-wang", reason=i18n.said("note.reopened_owner"))))
    with sessions() as session:
        old, new = reads_tickets.histories_of(session, ["T-1"])["T-1"]
        assert (old.note_said, reads_tickets.note_of(old)) == (None, "level 1 plumbing")  # shown as stored
        assert i18n.render(reads_tickets.note_of(new), "zh-CN") == "已指派给 t-wang：重新打开：此工单由你负责"
        assert new.note == "to t-wang: reopened: you own this ticket"
        [log] = session.scalars(select(AlertLogRow)).all()
        assert rules_store.note_of(log) == "shelf time is up"

    run(command.downgrade, PREVIOUS)  # and back: the English text is all the older release reads
    with engine.connect() as connection:
        assert "note_said" not in {c["name"] for c in inspect(connection).get_columns("ticket_history")}
        assert connection.execute(text("SELECT note FROM ticket_history ORDER BY id")).scalars().all() == [
            "level 1 plumbing", "to t-wang: reopened: you own this ticket"]
    run(command.upgrade, "heads")
    engine.dispose()
