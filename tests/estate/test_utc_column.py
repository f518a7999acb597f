"""The UTC column type (estate/clock.py UtcDateTime) writes on SQLite in one step exactly the text SQLAlchemy's two
steps wrote, so rows written before and after compare and sort alike, and reads every time back UTC-aware."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import DateTime

from caretaker.estate.clock import UtcDateTime

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMES = [
    datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc),  # no microseconds: the text still carries six digits
    datetime(2026, 12, 3, 2, 0, 5, 123456, tzinfo=timezone.utc),
    datetime(2026, 12, 3, 10, 0, 5, 7, tzinfo=SHANGHAI),  # another zone: stored as its UTC instant
    datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"), fold=1),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
]


def two_steps(value: datetime) -> str:
    dialect = sqlite.dialect()
    return DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)(
        UtcDateTime().process_bind_param(value, dialect))


@pytest.mark.parametrize("value", TIMES, ids=lambda v: v.isoformat())
def test_one_step_writes_the_text_two_steps_wrote(value):
    assert UtcDateTime()._cached_bind_processor(sqlite.dialect())(value) == two_steps(value)


def test_a_naive_time_is_refused_and_none_stays_none():
    process = UtcDateTime()._cached_bind_processor(sqlite.dialect())
    with pytest.raises(ValueError, match="naive"):
        process(datetime(2026, 12, 3, 2, 0))
    assert process(None) is None


def test_times_go_in_and_come_back_utc_aware_and_in_order(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'times.db'}")
    table = Table("times", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime()))
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": n, "at": at} for n, at in enumerate(TIMES)])
        back = dict(connection.execute(select(table.c.id, table.c.at)).all())
        by_text = list(connection.scalars(select(table.c.id).order_by(table.c.at)))
        later = list(connection.scalars(select(table.c.id).where(table.c.at > TIMES[1]).order_by(table.c.id)))
    assert all(back[n] == at and back[n].tzinfo == timezone.utc for n, at in enumerate(TIMES))
    assert by_text == sorted(range(len(TIMES)), key=lambda n: TIMES[n])  # the stored text sorts as time does
    assert later == [n for n, at in enumerate(TIMES) if at > TIMES[1]]
    engine.dispose()
