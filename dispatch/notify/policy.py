"""What happens after an attempt: delivered, tried again after a back-off, or given up (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from caretaker.dispatch.notify.model import Delivery, Outcome

# a receiver that refuses a message (a 4xx) is asked this many times in all before the message is given up: a
# receiver being redeployed may answer 404 for a moment
GIVE_UP_AFTER = 3


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between tries of one channel: doubling from `first`, never longer than `cap`."""

    first: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed try (1 for the first)."""
        return min(self.cap, self.first * (2 ** min(max(attempts - 1, 0), 30)))


@dataclass(frozen=True, slots=True)
class Step:
    status: str  # "delivered" | "pending" | "given_up"
    next_at: datetime | None  # when a pending one is tried again


def after_attempt(delivery: Delivery, attempts: int, now: datetime, backoff: Backoff) -> Step:
    """Return what a delivery row becomes after its `attempts`-th try came to `delivery`."""
    if delivery.outcome is Outcome.SENT:
        return Step("delivered", None)
    if delivery.outcome is Outcome.GIVE_UP and (delivery.at_once or attempts >= GIVE_UP_AFTER):
        return Step("given_up", None)
    wait = backoff.delay(attempts)
    if delivery.retry_after is not None:  # the receiver said when; within our cap
        wait = min(backoff.cap, max(wait, timedelta(seconds=delivery.retry_after)))
    return Step("pending", now + wait)
