"""The I/O loops: a router turns outbox rows into delivery rows, and each channel delivers its own queue in a
thread of its own, with back-off, so a failing channel delays nobody else (docs/channels.md, "Delivery")."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import Connection, Engine, text

from caretaker.estate.crashpoints import crash_point
from caretaker.estate.model import Site
from caretaker.dispatch.notify import router, store
from caretaker.dispatch.notify.model import Channel, Delivery, Outcome, delivery_id
from caretaker.dispatch.notify.policy import Backoff, after_attempt
from caretaker.dispatch.notify.redact import install, uninstall

log = logging.getLogger(__name__)

IDLE = 0.2  # seconds between looks at the outbox when nothing woke the router
CHANNEL_IDLE = 1.0  # seconds between looks at a channel's queue when the router did not wake it
HEAD = 50  # deliveries a channel reads at a time
ROUTER_LOCK = "caretaker-channels-router"
READ_ONLY = "caretaker_read_only"  # the engine's execution option for a reader (caretaker/db.py)


def _now() -> datetime:
    # back-off is real time, whatever clock the service decides with: a receiver recovers in real time
    return datetime.now(timezone.utc)


def lock_key(*parts: str) -> int:
    """A PostgreSQL advisory lock key (signed 64-bit) for a name, the same in every instance."""
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:8], "big", signed=True)


class _Turn:
    """One instance at a time on PostgreSQL: a session advisory lock on a connection of its own, taken for a
    round and given back after it. SQLite serves one instance only and needs none."""

    def __init__(self, engine: Engine, key: int) -> None:
        self._engine = engine
        self._key = key

    def run(self, work: Callable[[Connection], object], default: object = None) -> object:
        with self._engine.connect() as connection:
            if connection.dialect.name != "postgresql":
                return work(connection)
            connection.execution_options(isolation_level="AUTOCOMMIT")
            if not connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}):
                return default  # another instance has this queue
            try:
                return work(connection)
            finally:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                except Exception:
                    connection.invalidate()  # never back to the pool holding the lock
                    raise


class ChannelWorker:
    """Delivers one channel's queue in order; on a failed try the whole channel waits its back-off (the
    receiver is down, so the next message would fail too), then tries the same message again."""

    def __init__(self, channel: Channel, engine: Engine, *, prefix: str, site: str, backoff: Backoff) -> None:
        self.channel = channel
        self._turn = _Turn(engine, lock_key("caretaker-channel", site, channel.id))
        self._prefix, self._site, self.backoff = prefix, site, backoff
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.failed_attempts = 0
        self.given_up = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"channel-{self.channel.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.channel.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self._turn.run(self.deliver_some, default=CHANNEL_IDLE)
            except Exception:  # the database hiccuped: the rows stay, try again shortly
                log.exception("channel %s: its queue could not be read; will retry", self.channel.id)
                wait = 1.0
            if wait is None:
                continue  # more may be waiting
            self._wake.wait(wait)
            self._wake.clear()

    def deliver_some(self, connection: Connection) -> float | None:
        """Deliver pending messages in order; return None when more may be waiting, else how many seconds to
        sleep (the back-off of the head message, or the idle wait) unless woken."""
        # SQLite: read without the write lock (caretaker/db.py's read-only option), and hold none while a
        # receiver takes its time; each record below locks only for its own short commit
        connection.execution_options(**{READ_ONLY: True})
        queued = store.head(connection, prefix=self._prefix, site=self._site, channel=self.channel.id, limit=HEAD)
        connection.rollback()
        connection.execution_options(**{READ_ONLY: False})
        for item in queued:
            if self._stop.is_set():
                return 0.0
            now = _now()
            if item.next_at is not None and item.next_at > now:
                return (item.next_at - now).total_seconds()
            if item.message is None:
                result = Delivery.give_up("no such message", at_once=True)
                ident = f"outbox-row-of-delivery-{item.id}"
            else:
                ident = delivery_id(self._site, self.channel.id, item.message.message_id)
                result = self._send(item.message, ident)
            attempts = item.attempts + 1
            step = after_attempt(result, attempts, _now(), self.backoff)
            crash_point("channel_sent_before_mark")  # the window where a restart delivers a message twice
            store.record(connection, item.id, status=step.status, attempts=attempts, next_at=step.next_at,
                         now=_now(), error=result.reason if result.outcome is not Outcome.SENT else None)
            connection.commit()
            self._count(step.status, result, ident, item, attempts)
            if step.status == store.PENDING:
                return (step.next_at - _now()).total_seconds() if step.next_at else 0.0
        return None if len(queued) == HEAD else CHANNEL_IDLE

    def _send(self, message, ident: str) -> Delivery:
        try:
            return self.channel.send(message, ident)
        except Exception as exc:  # a bug in one channel must not stop its thread; logged without the message
            log.error("channel %s: delivery %s failed unexpectedly (%s)", self.channel.id, ident, type(exc).__name__)
            return Delivery.retry(f"error: {type(exc).__name__}")

    def _count(self, status: str, result: Delivery, ident: str, item: store.Queued, attempts: int) -> None:
        kind = item.message.kind.value if item.message is not None else "?"
        if status == store.DELIVERED:
            self.delivered += 1
            return
        self.failed_attempts += 1
        if status == store.GIVEN_UP:
            self.given_up += 1
            # ids and codes only: no url, no name, no text of the message
            log.warning("channel %s gave up delivery %s (%s, outbox row %s) after %d tries: %s", self.channel.id,
                        ident, kind, item.message.outbox_id if item.message else "?", attempts, result.reason)
        elif attempts in (1, 5) or attempts % 20 == 0:
            log.warning("channel %s: delivery %s (%s) failed, try %d: %s; will retry", self.channel.id, ident, kind,
                        attempts, result.reason)


class Channels:
    """Every channel of the site, and the router that fills their queues from the outbox."""

    def __init__(self, site: Site, engine: Engine, prefix: str, channels: list[Channel],
                 backoff: Backoff | None = None) -> None:
        self._site = site
        self._engine = engine
        self._prefix = prefix
        self.backoff = backoff or Backoff()
        self.workers = {c.id: ChannelWorker(c, engine, prefix=prefix, site=site.id, backoff=self.backoff)
                        for c in channels}
        self._audiences = router.audiences(site)
        self._router_key = lock_key(ROUTER_LOCK, site.id)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._redact = install(s for c in site.channels.values() for s in (c.url, c.secret) if s)
        self.routed = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        with self._engine.begin() as connection:
            dropped = store.drop_removed(connection, self._site.id, list(self.workers), _now())
        if dropped:
            log.warning("channels: %d deliveries to channels no longer in the site file given up", dropped)
        for worker in self.workers.values():
            worker.backoff = self.backoff  # a test or a deployer may have set it after construction
            worker.start()
        self._thread = threading.Thread(target=self._run, name="channels-router", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for worker in self.workers.values():
            worker.stop()
        uninstall(self._redact)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                routed = self.route_once()
            except Exception:
                log.exception("channels: routing the outbox failed; will retry")
                routed = 0
                self._stop.wait(1.0)
            if not routed:
                self._wake.wait(IDLE)
                self._wake.clear()

    def route_once(self) -> int:
        """Queue the deliveries of the outbox rows not yet routed, in one transaction; wake the channels that
        got some. On PostgreSQL one instance routes a site at a time (a transaction advisory lock)."""
        woken: set[str] = set()

        def route(message) -> list[str]:
            ids = router.route(message, self._site.channels, self._audiences)
            woken.update(ids)
            return ids

        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql" and not connection.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": self._router_key}):
                return 0
            routed = store.route_pending(connection, prefix=self._prefix, site=self._site.id, now=_now(), route=route)
        for cid in woken:
            if cid in self.workers:
                self.workers[cid].wake()
        self.routed += routed
        return routed

    def metrics_lines(self) -> list[str]:
        """Prometheus lines per channel: delivered, failed tries, given up (this instance, since it started);
        queue depth and the age of the oldest undelivered message (from the database, every instance's)."""
        now = _now()
        with self._engine.connect() as connection:
            figures = store.figures(connection, self._site.id)
            waiting = store.unrouted(connection, self._prefix, self._site.id)
        lines: list[str] = []
        for name, help_text, kind, value in (
            ("caretaker_channel_delivered_total", "Messages a channel delivered.", "counter",
             lambda w: w.delivered),
            ("caretaker_channel_failed_attempts_total", "Tries that failed (each retry counts).", "counter",
             lambda w: w.failed_attempts),
            ("caretaker_channel_given_up_total", "Messages a channel gave up (refused, or cannot be formatted).",
             "counter", lambda w: w.given_up),
            ("caretaker_channel_queue_depth", "Messages waiting for a channel.", "gauge",
             lambda w: figures[w.channel.id].depth if w.channel.id in figures else 0),
            ("caretaker_channel_oldest_undelivered_seconds", "Age of the oldest message waiting for a channel.",
             "gauge", lambda w: _age(figures.get(w.channel.id), now)),
        ):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            lines += [f'{name}{{channel="{cid}"}} {value(worker):g}' for cid, worker in self.workers.items()]
        lines += ["# HELP caretaker_channel_unrouted Outbox messages not yet queued for the channels.",
                  "# TYPE caretaker_channel_unrouted gauge", f"caretaker_channel_unrouted {waiting}"]
        return lines


def _age(figures: store.QueueFigures | None, now: datetime) -> float:
    if figures is None or figures.oldest is None:
        return 0.0
    return max(0.0, (now - figures.oldest).total_seconds())


def build_channels(site: Site) -> list[Channel]:
    """Make each channel of the site file."""
    from caretaker.dispatch.notify.apprise_channel import AppriseChannel
    from caretaker.dispatch.notify.webhook import WebhookChannel

    made: list[Channel] = []
    for config in site.channels.values():
        made.append(WebhookChannel(config) if config.kind == "webhook" else AppriseChannel(config, site))
    return made
