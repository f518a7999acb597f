"""Time on the estate: the Clock port every room is handed, and a column type that keeps times in UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class Clock(Protocol):
    def now(self) -> datetime: ...  # always UTC-aware


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class UtcDateTime(TypeDecorator):
    """A timestamp stored in UTC and read back UTC-aware on SQLite (which drops the zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None, utc=timezone.utc) -> str | None:
            # what process_bind_param and SQLite's DATETIME processor make in two steps, in one: every
            # message writes several times (docs/benchmarks.md, "Where a message's time goes")
            if value is None:
                return None
            if value.tzinfo is not utc:
                if value.tzinfo is None:
                    raise ValueError("naive datetime given to a UTC column")
                value = value.astimezone(utc)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return to_text

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
