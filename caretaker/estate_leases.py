"""Estate leases: one row per estate says which instance ingests it, under which generation, until when by the
database's clock (docs/deploy.md, "Scaling out"). Every claim raises the generation; every batch's transaction
checks it (`check`, the fence), so an instance that lost its lease (paused, cut off) commits nothing for the
estate even if it wakes up mid-batch.

The table lives in the deployment's default schema (`LeaseTable.schema`), named in every statement, so a batch
whose session works in an estate's own schema checks it in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, String, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from caretaker.dispatch.tables import DispatchBase
from caretaker.dispatch.timers import shared_now
from caretaker.estate.clock import UtcDateTime
from caretaker.lease_plan import Lease
from caretaker.leases import NEVER


class Fenced(Exception):
    """This instance no longer holds the estate's lease: the batch was rolled back, nothing of it is ours to
    commit or acknowledge."""


class EstateLeaseRow(DispatchBase):
    __tablename__ = "estate_leases"
    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128))  # the instance's name (CARETAKER_INSTANCE_ID, else its host)
    generation: Mapped[int] = mapped_column(BigInteger)  # raised by every claim: the fencing token
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime())  # when the present owner claimed it


TABLE = EstateLeaseRow.__table__
IDLE_BOUND = "caretaker_idle_transaction_bound_ms"  # on a pooled connection: the bound it has


class LeaseTable:
    """The lease statements of one deployment, with the table named in its default schema."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.schema: str | None = None
        if self.postgres:
            with engine.connect() as connection:
                self.schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        self._options = {"schema_translate_map": {None: self.schema}} if self.schema else {}

    def bound_idle_transactions(self, seconds: float) -> None:
        """End, on the server, any transaction of this instance left idle longer than the lease lasts. An instance
        paused (or cut off) in the middle of a batch would otherwise keep its row locks, and the estate's next
        owner would wait behind them for as long as the pause lasts; PostgreSQL rolls such a transaction back
        and the woken instance meets the fence. No legitimate transaction of ours sits idle that long."""
        if not self.postgres:
            return
        milliseconds = int(seconds * 1000)

        @event.listens_for(self._engine, "checkout")
        def _bound(dbapi_connection, record, _proxy) -> None:
            if record.info.get(IDLE_BOUND) == milliseconds:
                return
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET idle_in_transaction_session_timeout = {milliseconds}")
            dbapi_connection.commit()  # a SET in a transaction that rolls back would be undone
            record.info[IDLE_BOUND] = milliseconds

    def _run(self, session: Session, statement):
        return session.execute(statement, execution_options=self._options)

    def read(self, session: Session) -> dict[str, Lease]:
        rows = self._run(session, select(TABLE.c.site, TABLE.c.owner, TABLE.c.generation, TABLE.c.expires_at))
        return {r.site: Lease(r.site, r.owner, r.generation, r.expires_at) for r in rows}

    def now(self, session: Session, instance_now: datetime) -> datetime:
        return shared_now(session, instance_now)

    def claim(self, session: Session, site: str, me: str, ttl: timedelta, now: datetime,
              starting: bool = False) -> int | None:
        """Take the estate if it is free (caretaker.lease_plan.is_free, checked again here under the row's
        lock); return the new generation, or None when another instance was quicker."""
        upsert = pg_insert if self.postgres else sqlite_insert
        self._run(session, upsert(TABLE).values(site=site, owner="", generation=0, expires_at=NEVER, taken_at=NEVER)
                  .on_conflict_do_nothing(index_elements=["site"]))
        free = TABLE.c.expires_at <= now
        if starting:
            free = free | (TABLE.c.owner == me)
        return self._run(session, update(TABLE).where(TABLE.c.site == site, free)
                         .values(owner=me, generation=TABLE.c.generation + 1, expires_at=now + ttl, taken_at=now)
                         .returning(TABLE.c.generation)).scalar()

    def renew(self, session: Session, site: str, me: str, generation: int, ttl: timedelta, now: datetime) -> bool:
        """Extend a lease still held and not yet run out; False when it was lost."""
        moved = self._run(session, update(TABLE).where(
            TABLE.c.site == site, TABLE.c.owner == me, TABLE.c.generation == generation, TABLE.c.expires_at > now)
            .values(expires_at=now + ttl)).rowcount
        return moved == 1

    def release(self, session: Session, site: str, me: str, generation: int, now: datetime) -> None:
        """Give the estate up (a clean stop): the next instance claims it at once, not after the lease time."""
        self._run(session, update(TABLE).where(TABLE.c.site == site, TABLE.c.owner == me,
                                               TABLE.c.generation == generation).values(expires_at=now))

    def check(self, session: Session, site: str, generation: int, instance_now: datetime) -> None:
        """The fence, in the batch's own transaction: raise Fenced unless the estate's lease still has this
        generation and has not run out. On PostgreSQL the row is read FOR SHARE, so a claim by another
        instance waits until this batch has committed (and the new owner then reads what it wrote), and the
        expiry is compared with the database's clock at this statement. One primary-key read per batch."""
        now = func.clock_timestamp() if self.postgres else instance_now
        found = self._run(session, select(TABLE.c.generation).where(
            TABLE.c.site == site, TABLE.c.generation == generation, TABLE.c.expires_at > now)
            .with_for_update(read=True)).first()
        if found is None:
            raise Fenced(f"this instance no longer holds the lease of estate {site}")


def insert_lease(session: Session, lease: Lease, taken_at: datetime) -> None:
    """Write a lease row as given (tests: a lease another instance holds)."""
    session.execute(insert(TABLE).values(site=lease.site, owner=lease.owner, generation=lease.generation,
                                         expires_at=lease.expires_at, taken_at=taken_at))
