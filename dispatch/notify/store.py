"""The channels' queues in the database: routing outbox rows to delivery rows, reading a channel's head,
recording each attempt, the figures for /metrics, and the purge of finished deliveries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from caretaker.dispatch.notify.model import Outbound, classify
from caretaker.dispatch.notify.tables import DeliveryRow
from caretaker.dispatch.tables import OutboxRow

PENDING, DELIVERED, GIVEN_UP = "pending", "delivered", "given_up"


def route_pending(connection: Connection, *, prefix: str, site: str, now: datetime,
                  route: Callable[[Outbound], list[str]], batch: int = 500) -> int:
    """Queue a delivery for each unrouted outbox row of the site and each channel that takes it, and mark the
    rows routed, in the caller's transaction; return how many rows were routed. A second router doing the
    same rows adds nothing (one delivery per message and channel)."""
    rows = connection.execute(
        select(OutboxRow.id, OutboxRow.topic, OutboxRow.payload)
        .where(OutboxRow.routed_at.is_(None), OutboxRow.topic.startswith(f"{prefix}/{site}/", autoescape=True))
        .order_by(OutboxRow.id).limit(batch)
    ).all()
    if not rows:
        return 0
    deliveries = []
    for row_id, topic, payload in rows:
        message = classify(row_id, topic, payload, prefix, site)
        if message is None:
            continue
        deliveries += [{"site": site, "channel": channel, "outbox_id": row_id, "status": PENDING, "attempts": 0,
                        "created_at": now} for channel in route(message)]
    if deliveries:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(insert(DeliveryRow).on_conflict_do_nothing(
            index_elements=["site", "channel", "outbox_id"]), deliveries)
    connection.execute(update(OutboxRow).where(OutboxRow.id.in_([r[0] for r in rows])).values(routed_at=now))
    return len(rows)


@dataclass(frozen=True, slots=True)
class Queued:
    id: int
    attempts: int
    next_at: datetime | None
    message: Outbound | None  # None: its outbox row is gone or is not a message (given up)


def head(connection: Connection, *, prefix: str, site: str, channel: str, limit: int = 50) -> list[Queued]:
    """Return the channel's oldest pending deliveries, in order, with their messages."""
    rows = connection.execute(
        select(DeliveryRow.id, DeliveryRow.attempts, DeliveryRow.next_at, OutboxRow.id, OutboxRow.topic,
               OutboxRow.payload)
        .join(OutboxRow, OutboxRow.id == DeliveryRow.outbox_id, isouter=True)
        .where(DeliveryRow.site == site, DeliveryRow.channel == channel, DeliveryRow.status == PENDING)
        .order_by(DeliveryRow.id).limit(limit)
    ).all()
    return [Queued(id=d_id, attempts=attempts, next_at=next_at,
                   message=classify(o_id, topic, payload, prefix, site) if o_id is not None else None)
            for d_id, attempts, next_at, o_id, topic, payload in rows]


def record(connection: Connection, delivery: int, *, status: str, attempts: int, next_at: datetime | None,
           now: datetime, error: str | None) -> None:
    done = now if status != PENDING else None
    connection.execute(update(DeliveryRow).where(DeliveryRow.id == delivery).values(
        status=status, attempts=attempts, next_at=next_at, done_at=done, last_error=(error or None) and error[:80]))


@dataclass(frozen=True, slots=True)
class QueueFigures:
    depth: int
    oldest: datetime | None  # when the oldest pending delivery was queued


def figures(connection: Connection, site: str) -> dict[str, QueueFigures]:
    """Return each channel's pending count and oldest pending delivery (channels with none are left out)."""
    rows = connection.execute(
        select(DeliveryRow.channel, func.count(), func.min(DeliveryRow.created_at))
        .where(DeliveryRow.site == site, DeliveryRow.status == PENDING).group_by(DeliveryRow.channel)
    ).all()
    return {channel: QueueFigures(count, oldest) for channel, count, oldest in rows}


def unrouted(connection: Connection, prefix: str, site: str) -> int:
    return connection.scalar(select(func.count()).where(
        OutboxRow.routed_at.is_(None), OutboxRow.topic.startswith(f"{prefix}/{site}/", autoescape=True))) or 0


def drop_removed(connection: Connection, site: str, channels: list[str], now: datetime) -> int:
    """Give up the pending deliveries of channels no longer in the site file (nobody would deliver them, and
    the outbox would keep their messages for ever); return how many."""
    query = update(DeliveryRow).where(DeliveryRow.site == site, DeliveryRow.status == PENDING)
    if channels:
        query = query.where(DeliveryRow.channel.not_in(channels))
    return connection.execute(query.values(status=GIVEN_UP, done_at=now, last_error="channel removed")).rowcount or 0


def purge_done(connection: Connection, before: datetime, limit: int = 5000) -> int:
    """Delete up to `limit` deliveries finished (delivered or given up) before a time; return how many."""
    ids = select(DeliveryRow.id).where(DeliveryRow.status != PENDING, DeliveryRow.done_at < before).limit(limit)
    return connection.execute(delete(DeliveryRow).where(DeliveryRow.id.in_(ids))).rowcount or 0
