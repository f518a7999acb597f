"""The outbox: messages written in the deciding transaction, published afterwards, marked sent; a crash re-sends."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from estate.clock import Clock
from dispatch.tables import OutboxRow

log = logging.getLogger(__name__)

# publish(topic, payload, qos) -> True once the broker has it (PUBACK for QoS 1)
Publish = Callable[[str, bytes, int], bool]


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


def enqueue(session: Session, topic: str, payload: dict[str, Any], now: datetime, qos: int = 1) -> None:
    """Add a message to the outbox inside the caller's transaction."""
    session.add(OutboxRow(topic=topic, payload=json.dumps(payload, ensure_ascii=False), qos=qos, created_at=now))


def purge_sent(session: Session, before: datetime, limit: int = 5000) -> int:
    """Delete up to `limit` messages sent before a time; return how many."""
    ids = select(OutboxRow.id).where(OutboxRow.sent_at.is_not(None), OutboxRow.sent_at < before).limit(limit)
    return session.execute(delete(OutboxRow).where(OutboxRow.id.in_(ids))).rowcount or 0


class OutboxSender:
    """Publishes unsent outbox rows in order and marks them sent; woken right after a commit that added some."""

    def __init__(self, sessions: WriterSessions, publish: Publish, clock: Clock, batch: int = 200,
                 idle_seconds: float = 1.0) -> None:
        self._sessions = sessions
        self._publish = publish
        self._clock = clock
        self._batch = batch
        self._idle = idle_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def wake(self) -> None:
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
            try:
                more = self.send_pending()
            except Exception:  # the database or broker hiccuped: keep the rows, try again shortly
                log.exception("outbox: sending failed; will retry")
                more = False
                self._stop.wait(1.0)
            if not more:
                self._wake.wait(self._idle)
                self._wake.clear()

    def send_pending(self) -> bool:
        """Publish one batch of unsent rows in order; return True when more may be waiting."""
        session = self._sessions.writer()
        try:
            # PostgreSQL: hold the rows locked while publishing so a second instance skips them.
            # SQLite has one writer for the whole file: read, let go, publish, then mark.
            hold = session.get_bind().dialect.name != "sqlite"
            query = (
                select(OutboxRow.id, OutboxRow.topic, OutboxRow.payload, OutboxRow.qos)
                .where(OutboxRow.sent_at.is_(None))
                .order_by(OutboxRow.id)
                .limit(self._batch)
            )
            rows = session.execute(query.with_for_update(skip_locked=True) if hold else query).all()
            if not hold:
                session.rollback()
            done: list[int] = []
            for row_id, topic, payload, qos in rows:
                if not self._publish(topic, payload.encode("utf-8"), qos):
                    break  # keep order: later rows wait for this one
                done.append(row_id)
            if done:
                session.execute(update(OutboxRow).where(OutboxRow.id.in_(done)).values(sent_at=self._clock.now()))
            session.commit()
        finally:
            session.close()
        self.sent += len(done)
        return len(rows) == self._batch and len(done) == len(rows)
