"""Commit a batch before acknowledging it: retry while the database is away, isolate a message that breaks."""

from __future__ import annotations

import logging
import time
import traceback
from typing import Callable, Protocol, Sequence

from sqlalchemy.exc import DBAPIError, OperationalError

from caretaker.pipeline import BatchResult, BreakingMessage
from caretaker.dispatch.privacy import describe_error
from caretaker.estate.crashpoints import crash_point
from caretaker.estate_leases import Fenced
from caretaker.ingest.client import Inbound
from caretaker.ingest.errors import TelemetryStoreUnavailable
from caretaker.ingest.payloads import Rejection

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class BatchProcessor(Protocol):
    def process(self, batch: Sequence[Inbound]) -> BatchResult: ...
    def reload(self) -> None: ...
    def store_rejections(self, rejections: Sequence[Rejection]) -> None: ...


def is_outage(exc: Exception) -> bool:
    """Return whether a failure is the database being away (retry the same messages) rather than
    something a message did (find the message)."""
    return isinstance(exc, (OperationalError, TelemetryStoreUnavailable)) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated)


class BatchCommitter:
    """Hands each committed part of a batch to `after_commit` (which acknowledges it). While the database is
    unreachable the same messages are retried; a message that breaks the batch goes to the dead letters as
    `internal_error` instead of blocking every message behind it: the pipeline names it when applying it
    raised (the usual case), and a part that fails at its commit is split in halves until the one message
    that breaks it is found. Parts are committed and acknowledged in the batch's order."""

    def __init__(self, pipeline: BatchProcessor, after_commit: Callable[[list[Inbound], BatchResult], None],
                 sleep: Callable[[float], None] = time.sleep, retry_seconds: float = RETRY_SECONDS) -> None:
        self._pipeline = pipeline
        self._after_commit = after_commit
        self._sleep = sleep
        self._retry = retry_seconds

    def commit(self, batch: list[Inbound], stopping: Callable[[], bool] = lambda: False) -> None:
        # each part, with the error it is already known to raise (a part of one message, dead-lettered as is)
        pending: list[tuple[list[Inbound], Exception | None]] = [(batch, None)]
        while pending and not stopping():
            part, broke = pending.pop(0)
            if broke is not None:
                self._dead_letter(part, broke, pending)
                continue
            if not part:
                continue
            try:
                result = self._pipeline.process(part)
            except Fenced:
                raise  # another instance holds the estate now: nothing of this batch is ours to commit or ack
            except Exception as exc:
                self._reload()
                cause = exc.__cause__ if isinstance(exc, BreakingMessage) and exc.__cause__ is not None else exc
                at = _position(part, exc.message) if isinstance(exc, BreakingMessage) else None
                if is_outage(cause):
                    log.warning("a store is unreachable (%s); retrying %d messages", cause.__class__.__name__,
                                len(part))
                    pending.insert(0, (part, None))
                    self._sleep(self._retry)
                elif at is not None:
                    pending[:0] = [(part[:at], None), ([part[at]], cause), (part[at + 1:], None)]
                elif len(part) > 1:
                    middle = len(part) // 2
                    pending[:0] = [(part[:middle], None), (part[middle:], None)]
                else:
                    self._dead_letter(part, cause, pending)
                continue
            crash_point("after_commit_before_ack")  # committed, not yet acknowledged: the broker redelivers it
            self._after_commit(part, result)

    def _dead_letter(self, part: list[Inbound], exc: Exception,
                     pending: list[tuple[list[Inbound], Exception | None]]) -> None:
        message = part[0]
        # the class and a SQL-free line only: the detail goes onto the dead-letter topic, and a database
        # error's text carries the statement and the row's values (a resident's name and number)
        detail = describe_error(exc)
        log.error("a message on %s could not be processed (%s); sent to the dead letters\n%s", message.topic,
                  detail, "".join(traceback.format_tb(exc.__traceback__)).rstrip())
        rejection = Rejection(message.topic, "internal_error", detail, message.payload)
        try:
            self._pipeline.store_rejections([rejection])
        except Exception:  # the database itself fails: keep the message unacknowledged and try again
            log.exception("could not store the dead letter; the message stays unacknowledged")
            pending.insert(0, (part, exc))
            self._sleep(self._retry)
            return
        self._after_commit(part, BatchResult(rejections=[rejection]))

    def _reload(self) -> None:
        try:
            self._pipeline.reload()  # memory back to what the database holds
        except Exception:
            log.exception("reloading state after a failed batch failed; will retry")


def _position(part: list[Inbound], message: Inbound) -> int | None:
    return next((n for n, candidate in enumerate(part) if candidate is message), None)
