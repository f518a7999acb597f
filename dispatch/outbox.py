"""The outbox: messages written in the deciding transaction, published afterwards, marked sent once the broker
has them; a re-send after a crash carries the same `id` (docs/device-protocol.md).

Two ways in. The rows a batch has just committed are handed to the sender (`hand`), so nothing waits for a
poll or a re-read of the table (docs/benchmarks.md, "Reading to alert event"). Anything else (a timer's rows,
the API's, a backlog after the broker was away) is read from the table, what people act on first and each topic
in its order (`_send_batch`). Either way each row is
published and marked sent in its own commit as soon as the broker has it, so a crash re-sends at most the one
message it interrupted (fault test T12)."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timezone
from collections import deque
from typing import Any, Callable, NamedTuple, Protocol, Sequence

from sqlalchemy import Connection, delete, or_, select, text, update
from sqlalchemy.orm import Session

from caretaker.estate.clock import Clock
from caretaker.estate.crashpoints import crash_point
from caretaker.dispatch.tables import OutboxRow

log = logging.getLogger(__name__)

# publish(topic, payload, qos) -> True once the broker has it (PUBACK for QoS 1)
Publish = Callable[[str, bytes, int], bool]
# PostgreSQL: one instance's sender publishes at a time, so the order of the outbox is the order sent
SENDER_LOCK = 0x6361_7265_6F62  # "careob", any constant shared by every instance


class WriterSessions(Protocol):
    def writer(self) -> Session: ...  # a session that may write (caretaker.db.Sessions)


def dispatch_topic(prefix: str, site: str, tech: str) -> str:
    return f"{prefix}/{site}/technicians/{tech}/dispatch"


def notify_topic(prefix: str, site: str, supervisor: str) -> str:
    return f"{prefix}/{site}/supervisors/{supervisor}/notify"


def alerts_topic(prefix: str, site: str) -> str:
    return f"{prefix}/{site}/alerts"


def iso(value: datetime | None) -> str | None:
    """Return an RFC 3339 UTC time with milliseconds and a Z, as devices send."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def message_id() -> str:
    """Return a new push id: unique per message, written into its row, so every re-send carries the same one."""
    return f"M-{uuid.uuid4().hex}"


def enqueue(session: Session, topic: str, payload: dict[str, Any], now: datetime, qos: int = 1) -> None:
    """Add a message to the outbox inside the caller's transaction, with its own `id` (docs/device-protocol.md:
    an app drops a message whose id it has already seen, which is what a re-send after a crash is)."""
    body = {"id": message_id(), **payload}
    session.add(OutboxRow(topic=topic, payload=json.dumps(body, ensure_ascii=False), qos=qos, created_at=now))


class Outgoing(NamedTuple):
    """A committed, unsent outbox row, as handed to the sender (no need to read it back)."""
    id: int
    topic: str
    payload: str
    qos: int


def added_rows(session: Session) -> list[Outgoing]:
    """The unsent outbox rows this session holds, flushed (so each has its id); called inside the transaction
    that wrote them, and handed to the sender only once it has committed."""
    session.flush()
    rows = [Outgoing(row.id, row.topic, row.payload, row.qos) for row in list(session.identity_map.values())
            if isinstance(row, OutboxRow) and row.sent_at is None]
    rows.sort(key=lambda row: row.id)
    return rows


def purge_sent(session: Session, before: datetime, limit: int = 5000) -> int:
    """Delete up to `limit` messages sent before a time; return how many. A message a channel has not handled
    yet (not routed, or a delivery still pending: docs/channels.md) stays, however old."""
    from caretaker.dispatch.notify.tables import DeliveryRow  # the channels' queues read this table

    pending = select(DeliveryRow.id).where(DeliveryRow.outbox_id == OutboxRow.id, DeliveryRow.status == "pending")
    ids = select(OutboxRow.id).where(OutboxRow.sent_at.is_not(None), OutboxRow.sent_at < before,
                                     OutboxRow.routed_at.is_not(None), ~pending.exists()).limit(limit)
    return session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids))).rowcount or 0


class OutboxSender:
    """Publishes unsent outbox rows in order and marks them sent once the broker has them: rows handed over
    right after their commit go at once, without a read of the table; the rest are read from the table."""

    def __init__(self, sessions: WriterSessions, publish: Publish, clock: Clock, batch: int = 200,
                 idle_seconds: float = 1.0, lock_key: int = SENDER_LOCK) -> None:
        self._sessions = sessions
        self._lock_key = lock_key  # one estate of many takes its own turn (docs/deploy.md, "Many estates")
        self._publish = publish
        self._clock = clock
        self._batch = batch
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._handed: deque[Outgoing] = deque()  # committed rows waiting for the sender's thread
        # whether the table had nothing older unsent when last read: only then may handed rows go first
        self._caught_up = False
        self.sent = 0
        # called with (row id, topic) as each PUBACK arrives: the reading → push latency ends here (/metrics)
        self.on_sent: Callable[[int, str], None] | None = None

    def wake(self) -> None:
        self._wake.set()

    def hand(self, rows: Sequence[Outgoing]) -> None:
        """Give the sender rows that have just committed (any thread): it publishes them without reading them."""
        self._handed.extend(rows)
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before taking the work: a hand-over after this wakes the next round
            try:
                self.send_handed()
                more = self.send_pending()
            except Exception:  # the database or broker hiccuped: keep the rows, try again shortly
                log.exception("outbox: sending failed; will retry")
                self._caught_up = False
                more = False
                self._stop.wait(1.0)
            if not more:
                self._wake.wait(self._idle)

    def _take_handed(self) -> list[Outgoing]:
        rows = []
        while self._handed:
            rows.append(self._handed.popleft())
        return rows

    def send_handed(self) -> int:
        """Publish the rows handed over since the last call, each marked sent as the broker takes it; return
        how many. Rows that cannot go this way (older rows still unsent, the broker away, another
        instance's turn) are left to `send_pending`, which reads them from the table in order."""
        rows = self._take_handed()
        if not rows or not self._caught_up:
            return 0
        with self._sessions.writer() as session:
            engine = session.get_bind()
        with engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                return self._send_handed_rows(connection, rows)
            connection.execution_options(isolation_level="AUTOCOMMIT")
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._lock_key}):
                return 0  # another instance is sending; its loop takes these rows too
            try:
                connection.execute(text("SET synchronous_commit = off"))
                return self._send_handed_rows(connection, rows)
            finally:
                _release(connection, self._lock_key)

    def _send_handed_rows(self, connection: Connection, rows: list[Outgoing]) -> int:
        # a few at a time, taking in what is handed over meanwhile, people's first (as `_send_batch`): while
        # each mark waits for the ingest's commits, a storm's push is not held behind the alert events handed
        # over before it
        sent, pending = 0, people_first(rows)
        while pending and self._caught_up:
            part, pending = pending[:HANDED_PART], pending[HANDED_PART:]
            sent += self._send_rows(connection, part)
            pending = people_first(pending + self._take_handed())
        return sent

    def _send_rows(self, connection: Connection, rows: list[Outgoing]) -> int:
        # a row this sender (or another instance's) already sent from the table is not sent twice: one look-up
        # by key, not a read of the outbox
        unsent = set(connection.scalars(select(OutboxRow.id).where(OutboxRow.id.in_([r.id for r in rows]),
                                                                   OutboxRow.sent_at.is_(None))))
        connection.rollback()  # SQLite: no read transaction held while publishing
        rows = [row for row in rows if row.id in unsent]
        sent = self._send_each(connection, [(row.id, row.topic, row.payload, row.qos) for row in rows])
        if sent < len(rows):
            self._caught_up = False  # the rest wait in the table, and later rows behind them
        return sent

    def _send_each(self, connection: Connection, rows: Sequence[tuple[int, str, str, int]]) -> int:
        """Publish rows in order, each marked sent in its own commit as soon as the broker has it, so a crash
        re-sends at most the one message it interrupted (T12: duplicates no more than crashes); return how
        many went before one could not (the rest keep their order in the table)."""
        sent = 0
        for row_id, topic, payload, qos in rows:
            if not self._publish(topic, payload.encode("utf-8"), qos):
                return sent
            if self.on_sent is not None:
                self.on_sent(row_id, topic)
            crash_point("after_publish_before_mark")  # the one window where a crash sends a message twice
            connection.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(sent_at=self._clock.now()))
            connection.commit()
            self.sent += 1
            sent += 1
        return sent

    def send_pending(self) -> bool:
        """Publish one batch of unsent rows in order, marking each sent as soon as the broker has it; return
        True when more may be waiting."""
        with self._sessions.writer() as session:
            engine = session.get_bind()
        # one connection throughout: the PostgreSQL turn lock belongs to it, and every mark is its own commit
        with engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                return self._send_batch(connection)
            # each mark commits on its own statement, and unflushed: a mark lost with a PostgreSQL crash only
            # sends that message again (with its id); a flush per mark would cut the sending rate to a sixth
            connection.execution_options(isolation_level="AUTOCOMMIT")
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._lock_key}):
                self._caught_up = False
                return False  # another instance is sending; its loop takes these rows too
            try:
                connection.execute(text("SET synchronous_commit = off"))
                return self._send_batch(connection)
            finally:
                _release(connection, self._lock_key)

    def _send_batch(self, connection: Connection) -> bool:
        # what people wait for first (a technician's push, a supervisor's or a resident's notice), then the rest
        # (alert events, ticket events): in a storm the pushes of its few tickets do not queue behind thousands
        # of alert events. Each topic is of one kind, so every topic keeps its own order.
        unsent = select(OutboxRow.id, OutboxRow.topic, OutboxRow.payload, OutboxRow.qos).where(OutboxRow.sent_at.is_(None))
        rows = connection.execute(unsent.where(_FOR_PEOPLE).order_by(OutboxRow.id).limit(self._batch)).all()
        if len(rows) < self._batch:
            rows += connection.execute(unsent.where(~_FOR_PEOPLE).order_by(OutboxRow.id)
                                       .limit(self._batch - len(rows))).all()
        connection.rollback()  # SQLite: let go of the write lock while publishing
        if self._send_each(connection, rows) < len(rows):
            self._caught_up = False
            return False  # keep order: later rows wait for the one the broker did not take
        self._caught_up = len(rows) < self._batch  # the table had no more: later commits may be handed over
        return len(rows) == self._batch


# the topics people act on: a technician's or contractor's dispatch, a supervisor's notice, a resident's notice
# (docs/device-protocol.md, "Topics")
_PEOPLES_TOPICS = ("/dispatch", "/notify", "/notice")
_FOR_PEOPLE = or_(*(OutboxRow.topic.like(f"%{ending}") for ending in _PEOPLES_TOPICS))
HANDED_PART = 10  # handed rows sent before the sender looks again for newer ones people wait for


def people_first(rows: list[Outgoing]) -> list[Outgoing]:
    """The rows of people's topics first, then the rest; each topic keeps its order (a stable sort)."""
    return sorted(rows, key=lambda row: not row.topic.endswith(_PEOPLES_TOPICS))


def _release(connection: Connection, key: int = SENDER_LOCK) -> None:
    """Give back the PostgreSQL turn lock and the connection's settings before it returns to the pool."""
    try:
        connection.execute(text("RESET synchronous_commit"))
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    except Exception:
        # a connection that cannot say unlock must not go back to the pool still holding the lock
        connection.invalidate()
        raise
