"""A guard against one device that floods (docs/operations.md, "A device flooding"); pure: values and `now`
in, verdicts out.

Each device (or technician app) has a token bucket: `burst` messages at once, refilled at `rate` a
second. A message that finds the bucket empty is counted and not processed, so a device stuck in a loop
at 500 messages a second costs the others a dictionary lookup per message, not a database write. The
burst is large enough for a device sending its buffered backlog after an outage (a day of readings
once a minute is 1,440 messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

RATE = 20.0  # messages a second, sustained: no sensor of docs/device-protocol.md's types needs more
BURST = 3000.0
QUIET = timedelta(minutes=10)  # a flooding device that has sent nothing over its rate for this long is calm again


@dataclass(frozen=True, slots=True)
class FloodPolicy:
    rate: float = RATE
    burst: float = BURST
    quiet: timedelta = QUIET


@dataclass(slots=True)
class Bucket:
    tokens: float
    at: datetime
    flooding: bool = False
    dropped: int = 0  # since it began flooding
    last_drop: datetime | None = None


@dataclass(slots=True)
class Admission:
    """What one batch's check decided: which messages go on, and which sources began or stopped flooding;
    `buckets` become the guard's only with `FloodGuard.commit`, once the batch is durable (a batch retried
    after a database error must not spend its tokens twice)."""

    admitted: list[int] = field(default_factory=list)  # indexes into the batch
    dropped: int = 0
    started: list[str] = field(default_factory=list)
    calmed: list[str] = field(default_factory=list)
    buckets: dict[str, Bucket] = field(default_factory=dict)


def source_of(topic: str) -> str:
    """Return who sent a message: its topic without the last level (`prefix/site/devices/A-LEAK-1`)."""
    return topic.rsplit("/", 1)[0]


def take(bucket: Bucket | None, policy: FloodPolicy, now: datetime) -> tuple[Bucket, bool]:
    """Return the bucket after one message at `now`, and whether the message may be processed."""
    if bucket is None:
        bucket = Bucket(policy.burst, now)
    elapsed = (now - bucket.at).total_seconds()
    if elapsed > 0:
        bucket.tokens = min(policy.burst, bucket.tokens + elapsed * policy.rate)
        bucket.at = now
    if bucket.tokens >= 1.0:
        bucket.tokens -= 1.0
        return bucket, True
    return bucket, False


class FloodGuard:
    """The buckets of every source heard from, and which ones are flooding."""

    MAX_SOURCES = 50_000  # beyond this many (unknown devices' names, say), full buckets are forgotten

    def __init__(self, policy: FloodPolicy = FloodPolicy()) -> None:
        self.policy = policy
        self.buckets: dict[str, Bucket] = {}
        self.flooding: set[str] = set()

    def admit(self, topics: list[str], now: datetime) -> Admission:
        """Decide for a batch of messages (by topic) which are processed, in order; changes nothing."""
        result = Admission()
        buckets = result.buckets
        for i, topic in enumerate(topics):
            source = source_of(topic)
            bucket = buckets.get(source)
            if bucket is None:
                known = self.buckets.get(source)
                bucket = replace(known) if known is not None else None
            bucket, ok = take(bucket, self.policy, now)
            buckets[source] = bucket
            if ok:
                result.admitted.append(i)
                continue
            result.dropped += 1
            bucket.dropped += 1
            bucket.last_drop = now
            if not bucket.flooding:
                bucket.flooding = True
                result.started.append(source)
        for source in self.flooding:
            bucket = buckets.get(source) or self.buckets[source]
            if bucket.flooding and bucket.last_drop is not None and now - bucket.last_drop >= self.policy.quiet:
                buckets[source] = replace(bucket, flooding=False, dropped=0)
                result.calmed.append(source)
        return result

    def commit(self, admission: Admission, now: datetime) -> None:
        """Make a batch's decisions the guard's own, once the batch is committed."""
        self.buckets.update(admission.buckets)
        self.flooding.update(admission.started)
        self.flooding.difference_update(admission.calmed)
        if len(self.buckets) > self.MAX_SOURCES:
            self._forget_full(now)

    def _forget_full(self, now: datetime) -> None:
        """Drop buckets that have refilled and are not flooding: a full bucket is the same as none."""
        rate, burst = self.policy.rate, self.policy.burst
        full = [s for s, b in self.buckets.items()
                if not b.flooding and b.tokens + (now - b.at).total_seconds() * rate >= burst]
        for source in full:
            del self.buckets[source]
