"""Schedulers that drive the simulation: real time for the broker, virtual time for tests."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

log = logging.getLogger(__name__)

# how often a waiting scheduler looks at the stop flag
STOP_POLL_SECONDS = 0.1


class Stopped(Exception):
    """Raised out of a sleep when the simulation is asked to stop."""


class Timer:
    """A scheduled callback; `cancel()` keeps it from running."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Runs callbacks at their due time on the thread that calls `run_for`; `call_later` may be
    called from any thread (paho calls back on its own), so the technician bots and devices never
    share state across threads."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()
        self._queue: list[tuple[float, int, Timer, Callable[[], None]]] = []
        self._order = itertools.count()  # ties run in the order they were scheduled: determinism
        self._cond = threading.Condition()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall_now(self) -> datetime:
        """Return the time devices stamp on their messages (UTC)."""
        return datetime.now(timezone.utc)

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        timer = Timer()
        with self._cond:
            heapq.heappush(self._queue, (self.monotonic() + max(0.0, delay_s), next(self._order), timer, fn))
            self._cond.notify()
        return timer

    def every(self, period_s: float, fn: Callable[[], None], first_s: float | None = None) -> Timer:
        """Call `fn` every `period_s` seconds (first after `first_s`, default one period) until cancelled."""
        handle = Timer()

        def tick() -> None:
            if handle.cancelled:
                return
            fn()
            self.call_later(period_s, tick)

        self.call_later(period_s if first_s is None else first_s, tick)
        return handle

    def _pop_due(self, now: float) -> Callable[[], None] | None:
        with self._cond:
            while self._queue and self._queue[0][0] <= now:
                _, _, timer, fn = heapq.heappop(self._queue)
                if not timer.cancelled:
                    return fn
            return None

    def _run(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Stopped:
            raise
        except Exception:  # one broken callback must not end the whole simulation
            log.exception("simulator callback failed")

    def run_for(self, seconds: float) -> None:
        """Run due callbacks for `seconds`; raises Stopped as soon as the stop flag is set."""
        deadline = self.monotonic() + seconds
        while True:
            if self.stop.is_set():
                raise Stopped()
            now = self.monotonic()
            fn = self._pop_due(now)
            if fn is not None:
                self._run(fn)
                continue
            if now >= deadline:
                return
            with self._cond:
                next_due = self._queue[0][0] if self._queue else deadline
                wait = min(next_due, deadline) - now
                if wait > 0:
                    self._cond.wait(min(wait, STOP_POLL_SECONDS))


class VirtualScheduler(Scheduler):
    """A Scheduler whose time only moves in `run_for`: tests run minutes of simulation at once,
    deterministically, with wall time starting at `start`."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc),
                 stop: threading.Event | None = None) -> None:
        super().__init__(stop)
        self._now = 0.0
        self._start = start

    def monotonic(self) -> float:
        return self._now

    def wall_now(self) -> datetime:
        return self._start + timedelta(seconds=self._now)

    def run_for(self, seconds: float) -> None:
        deadline = self._now + seconds
        while True:
            if self.stop.is_set():
                raise Stopped()
            with self._cond:
                if not self._queue or self._queue[0][0] > deadline:
                    break
                due, _, timer, fn = heapq.heappop(self._queue)
            self._now = max(self._now, due)
            if not timer.cancelled:
                self._run(fn)
        self._now = deadline
