"""A device's own order (docs/device-protocol.md, "Device order"); pure: what was applied and one reading in, a placement out.

Readings are applied by the device's time (`ts`, then `seq`), not by arrival. Two small bounded records
per device decide everything without reading the database:

- `runs`: the device's `seq` numbers received, as contiguous runs with the device times they span. A
  `seq` inside a run's numbers and times is a message already applied (a redelivery, a replay hours
  later); the holes between runs are messages not (yet) received, which a late message fills. A hole
  still open `GAP_SETTLE` after it was noticed counts as lost (`lost_by`): reordering fills its holes
  within seconds, so it never reads as loss; a message counted lost that arrives after all is taken off.
- `recent`: the last readings applied, in device order, so a late one finds the reading that already
  replaced its values (where its effect ended) and a message without `seq` is known again by its
  `ts` and values.

Both are saved with the device's state in the same transaction as the reading, so a restart resumes them.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, insort
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, NamedTuple

RECENT_LIMIT = 32  # readings remembered per device; a late reading is placed among these
RUN_LIMIT = 16  # holes tracked per device; an older one counts as lost for good
RUN_HORIZON = timedelta(hours=24)  # a message older than this is refused (ts_stale), so cannot fill a hole
CLOCK_SKEW_TOLERANCE = timedelta(seconds=1)  # ahead by less than this is ordinary clock jitter, not counted
GAP_SETTLE = timedelta(seconds=30)  # a hole open this long (service time) counts as messages lost

IN_ORDER, LATE, DUPLICATE = "in_order", "late", "duplicate"


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


def _us(value: datetime) -> int:
    return (value - _EPOCH) // _US  # exact, unlike a float timestamp


def _time(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def digest(content: Any) -> str:
    """Return a short fingerprint of a message's values (or event type and data), to know it again."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()


class Run(NamedTuple):  # tuples: made for every message, so cheap to make
    """Contiguous seq numbers `first`..`last` received, sent between device times `start` and `end` (µs);
    `noticed` is the service's time (µs) when the run began, so a hole's age is known."""

    first: int
    last: int
    start: int
    end: int
    noticed: int = 0


class Mark(NamedTuple):
    """One applied reading: when it was applied in device order (`at`, µs), its own `ts`, `seq`, a fingerprint
    (kept only without seq) and the metrics it carried (empty for an event); `key` is its place in device
    order, `text` how it is stored and `bare` the same without its metrics (all made once)."""

    at: int
    ts: int
    seq: int | None
    digest: str
    metrics: tuple[str, ...]
    key: tuple[int, int]
    text: str
    bare: str


SAME_METRICS = "="  # stored for a mark carrying the metrics of the mark before it (a device mostly sends the same)
# one tuple per set of metrics, so a mark's are the one before's by identity; bounded: metric names are
# checked against the device type's before a reading gets here (ingest/payloads.py)
_METRIC_SETS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _mark(at: int, ts: int, seq: int | None, fingerprint: str, metrics: tuple[str, ...]) -> Mark:
    metrics = _METRIC_SETS.setdefault(metrics, metrics)
    bare = f"{at} {ts - at} {'' if seq is None else seq} {fingerprint} "
    return Mark(at, ts, seq, fingerprint, metrics, (at, -1 if seq is None else seq), bare + ",".join(metrics), bare)


def _parse_mark(text: str, before: Mark | None) -> Mark:
    at, offset, seq, fingerprint, metrics = text.split(" ")
    if metrics == SAME_METRICS:
        named = before.metrics if before is not None else ()
    else:
        named = tuple(metrics.split(",")) if metrics else ()
    return _mark(int(at), int(at) + int(offset), int(seq) if seq else None, fingerprint, named)


@dataclass(frozen=True, slots=True)
class DeviceOrder:
    runs: tuple[Run, ...] = ()
    recent: tuple[Mark, ...] = ()
    lost: int = 0  # messages missing from holes no longer tracked (pushed out, or past the horizon)
    # `recent` as stored, piece by piece (made as readings are appended, so saving joins them, no more)
    pieces: tuple[str, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def missing(self) -> int:
        """Messages the device's counter says were sent and have not arrived (yet)."""
        return self.lost + _holes(self.runs)

    def lost_by(self, now: datetime) -> int:
        """Messages lost as of `now`: missing, and for longer than GAP_SETTLE. The device's gap figure."""
        if len(self.runs) < 2:
            return self.lost  # the usual case: one run, no hole
        settled = _us(now) - GAP_SETTLE // _US
        return self.lost + _holes(self.runs, noticed_by=settled)

    def settles_at(self, now: datetime) -> datetime | None:
        """When the next open hole counts as lost (None: no hole is waiting to)."""
        if len(self.runs) < 2:
            return None
        settle = GAP_SETTLE // _US
        waiting = [max(a.noticed, b.noticed) + settle for a, b in zip(self.runs, self.runs[1:])
                   if b.first > a.last + 1 and max(a.noticed, b.noticed) + settle > _us(now)]
        return _time(min(waiting)) if waiting else None

    def to_text(self) -> str:
        """The order as stored with the device's state: `lost/runs/recent`, numbers separated by spaces and
        items by `;`. A plain string rather than JSON: it is written with every message."""
        runs = ";".join([f"{r.first} {r.last} {r.start} {r.end} {r.noticed}" for r in self.runs])
        pieces = self.pieces if self.pieces is not None else _pieces(self.recent)
        return f"{self.lost}/{runs}/{';'.join(pieces)}"

    @classmethod
    def from_text(cls, stored: str | None) -> "DeviceOrder":
        if not stored:
            return cls()
        lost, runs, recent = stored.split("/")
        marks: list[Mark] = []
        for text in recent.split(";"):
            if text:
                marks.append(_parse_mark(text, marks[-1] if marks else None))
        return cls(tuple(Run(*map(int, r.split(" "))) for r in runs.split(";") if r), tuple(marks), int(lost))


def _pieces(recent: tuple[Mark, ...]) -> tuple[str, ...]:
    """How `recent` is stored: a mark carrying the metrics of the one before it stores "=" for their names
    (a lift's four names once, not 32 times, in a row written with every batch)."""
    pieces, before = [], ()
    for m in recent:
        pieces.append(m.bare + SAME_METRICS if m.metrics is before and before else m.text)
        before = m.metrics
    return tuple(pieces)


def _appended(order: DeviceOrder, recent: tuple[Mark, ...]) -> tuple[str, ...]:
    """The stored pieces of `recent`, which is `order.recent` with one mark appended and the oldest dropped
    when full: the kept pieces stay as they were, but the first, which has no mark before it any more."""
    old = order.pieces if order.pieces is not None else _pieces(order.recent)
    mark = recent[-1]
    kept = old[len(order.recent) + 1 - len(recent):]
    if kept and len(recent) <= len(order.recent):
        kept = (recent[0].text,) + kept[1:]
    before = order.recent[-1].metrics if order.recent else ()
    return kept + (mark.bare + SAME_METRICS if mark.metrics is before and before else mark.text,)


@dataclass(slots=True)
class Placement:
    """Where a reading goes: `kind` is in order, late (older than one already applied) or a duplicate.

    `at` is the time it is applied at: its own `ts`, or the arrival time for a `ts` ahead of the clock
    (`skewed` when ahead by more than the tolerance). For a late reading, `superseded` gives per metric the
    time a later applied reading replaced its value (None: its value is still the newest)."""

    kind: str
    at: datetime
    skewed: bool
    order: DeviceOrder
    superseded: Mapping[str, datetime | None]


def place(order: DeviceOrder, ts: datetime, seq: int | None, fingerprint: str, metrics: tuple[str, ...],
          now: datetime) -> Placement:
    """Place one reading (telemetry, or an event with no metrics) in its device's order."""
    ts_us, now_us = _us(ts), _us(now)
    skewed = ts > now + CLOCK_SKEW_TOLERANCE
    at_us = min(ts_us, now_us)  # a ts ahead of the clock never becomes the device's latest
    at = _time(at_us) if at_us != ts_us else ts
    if _is_duplicate(order, ts_us, seq, fingerprint):
        return Placement(DUPLICATE, at, skewed, order, {})
    mark = _mark(at_us, ts_us, seq, fingerprint if seq is None else "", metrics)
    late = bool(order.recent) and mark.key < order.recent[-1].key
    superseded: dict[str, datetime | None] = {}
    if late:
        later = [m for m in order.recent if m.key > mark.key]
        window_full = len(order.recent) >= RECENT_LIMIT
        for metric in metrics:
            found = next((m.at for m in later if metric in m.metrics), None)
            if found is None and window_full and mark.key < order.recent[0].key:
                found = order.recent[0].at  # older than all we remember: assume the oldest replaced it
            superseded[metric] = _time(found) if found is not None else None
    if late:
        ordered = list(order.recent)
        insort(ordered, mark, key=lambda m: m.key)
        recent = tuple(ordered[-RECENT_LIMIT:])
        pieces = None
    else:
        recent = order.recent[-(RECENT_LIMIT - 1):] + (mark,)
        pieces = _appended(order, recent)
    runs, lost = order.runs, order.lost
    if seq is not None:
        last = runs[-1] if runs else None
        if last is not None and seq == last.last + 1 and ts_us >= last.end:
            runs = runs[:-1] + (Run(last.first, seq, last.start, ts_us, last.noticed),)  # the usual case
        else:
            runs, lost = _with_seq(runs, lost, seq, ts_us, now_us)
    placed = DeviceOrder(runs, recent, lost, pieces)
    return Placement(LATE if late else IN_ORDER, at, skewed, placed, superseded)


def _is_duplicate(order: DeviceOrder, ts_us: int, seq: int | None, fingerprint: str) -> bool:
    if seq is not None:
        # with a counter the counter decides: the same seq sent within the same stretch of device time
        for r in order.runs:  # a loop, not any(): this runs for every message, mostly over one run
            if r.first <= seq <= r.last and r.start <= ts_us <= r.end:
                return True
        return False
    return any(m.seq is None and m.ts == ts_us and m.digest == fingerprint for m in order.recent)


def _holes(runs: tuple[Run, ...], noticed_by: int | None = None) -> int:
    # a counter that went back (or stayed) between runs is a device restart, not a loss
    return sum(b.first - a.last - 1 for a, b in zip(runs, runs[1:])
               if b.first > a.last + 1 and (noticed_by is None or max(a.noticed, b.noticed) <= noticed_by))


def _with_seq(runs: tuple[Run, ...], lost: int, seq: int, ts_us: int, now_us: int) -> tuple[tuple[Run, ...], int]:
    """Add one seq number to the runs (sorted by device time, then seq), joining its neighbours when it
    continues one or fills the hole between two."""
    items = list(runs)
    i = bisect_left(items, (ts_us, seq), key=lambda r: (r.start, r.first))
    before = items[i - 1] if i else None
    after = items[i] if i < len(items) else None
    joins_before = before is not None and seq == before.last + 1 and ts_us >= before.end
    joins_after = after is not None and seq == after.first - 1 and ts_us <= after.start
    if joins_before and joins_after:
        items[i - 1:i + 1] = [Run(before.first, after.last, before.start, after.end,  # type: ignore[union-attr]
                                  min(before.noticed, after.noticed))]  # type: ignore[union-attr]
    elif joins_before:
        items[i - 1] = Run(before.first, seq, before.start, ts_us, before.noticed)  # type: ignore[union-attr]
    elif joins_after:
        items[i] = Run(seq, after.last, ts_us, after.end, after.noticed)  # type: ignore[union-attr]
    else:
        items.insert(i, Run(seq, seq, ts_us, ts_us, now_us))
    horizon = now_us - RUN_HORIZON // timedelta(microseconds=1)
    while len(items) > 1 and (len(items) > RUN_LIMIT or items[0].end < horizon):
        # the oldest hole can no longer be filled (or is no longer tracked): its messages are lost
        lost += _holes((items[0], items[1]))
        items.pop(0)
    return tuple(items), lost
