"""The telemetry table keeps one index, its unique key (migration 0014_telemetry_one_index): a database at the
previous head loses the second index and keeps its rows, and a device's history is still read through the key,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import inspect, text

from caretaker.db import alembic_config, make_engine, make_sessions
from caretaker.ingest import store
from caretaker.ingest.payloads import Telemetry

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
PREVIOUS = "0013_said_notes"


def indexes(engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":  # reflection skips an index on an expression: ask SQLite itself
            return set(connection.scalars(text(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'telemetry' AND sql IS NOT NULL")))
        return {i["name"] for i in inspect(connection).get_indexes("telemetry")}


def test_the_migration_leaves_the_unique_key_alone_and_the_history_reads_through_it(database_url):
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    config = alembic_config(database_url)

    def run(step, target: str) -> None:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, target)

    run(command.downgrade, PREVIOUS)
    assert "ix_telemetry_device_metric_ts" in indexes(engine)
    with sessions.begin() as session:
        for n in range(20):
            for device in ("A-PRESS-1", "B-PRESS-1"):
                store.insert_telemetry(session, store.telemetry_rows(Telemetry(
                    device, T0 + timedelta(seconds=n), n, {"pressure_kpa": 300.0 + n, "state": "ok"})))
    run(command.upgrade, "heads")
    assert indexes(engine) == {"uq_telemetry_device_metric_ts_seq"}

    with sessions() as session:
        rows = store.telemetry_history(session, "A-PRESS-1", "pressure_kpa", T0 + timedelta(seconds=5),
                                       T0 + timedelta(seconds=9))
        assert [(r.ts, r.value_num) for r in rows] == [(T0 + timedelta(seconds=n), 300.0 + n) for n in range(5, 10)]
        assert len(store.telemetry_history(session, "B-PRESS-1", None, None, None)) == 40
        # a repeated reading still hits the key and changes nothing
        store.insert_telemetry(session, store.telemetry_rows(Telemetry("A-PRESS-1", T0, 0, {"pressure_kpa": 1.0})))
        assert store.telemetry_history(session, "A-PRESS-1", "pressure_kpa", T0, T0)[0].value_num == 300.0
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in session.execute(text(
                "EXPLAIN QUERY PLAN SELECT * FROM telemetry WHERE device_id = 'A-PRESS-1' AND metric = 'pressure_kpa' "
                "AND ts >= '2026-12-03 02:00:05' ORDER BY ts")))
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(row[0] for row in session.execute(text(
                "EXPLAIN SELECT * FROM telemetry WHERE device_id = 'A-PRESS-1' AND metric = 'pressure_kpa' "
                "AND ts >= '2026-12-03 02:00:05+00' ORDER BY ts")))
        assert "uq_telemetry_device_metric_ts_seq" in plan, plan
    engine.dispose()
