"""Periodic jobs that must run once per period across every instance (purges, housekeeping): a lease row per
job says when it last ran, and only the instance that moves it runs the job."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import String, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from caretaker.dispatch.tables import DispatchBase
from caretaker.estate.clock import UtcDateTime

NEVER = datetime(2000, 1, 1, tzinfo=timezone.utc)
# a run may start this share of a period early: the scheduler's jitter must not make an instance skip its turn
SLACK = 0.1


class JobLeaseRow(DispatchBase):
    __tablename__ = "job_leases"
    job: Mapped[str] = mapped_column(String(40), primary_key=True)
    ran_at: Mapped[datetime] = mapped_column(UtcDateTime())


def take_turn(session: Session, job: str, period: timedelta, now: datetime) -> bool:
    """Return True when no instance has run the job within the period (less the slack), recording this run in
    the caller's transaction: the job runs in the same transaction, so a run that fails gives the turn back.
    `now` is the shared clock (dispatch.timers.shared_now). On PostgreSQL a second instance waits for the row
    and then sees it moved."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(JobLeaseRow).values(job=job, ran_at=NEVER).on_conflict_do_nothing(index_elements=["job"]))
    moved = session.execute(
        update(JobLeaseRow)
        .where(JobLeaseRow.job == job, JobLeaseRow.ran_at <= now - period * (1 - SLACK))
        .values(ran_at=now)
    ).rowcount
    return moved == 1
