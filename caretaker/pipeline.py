"""The hot path: a batch of MQTT messages in, one transaction out (telemetry, device state, alerts, tickets, outbox)."""

from __future__ import annotations

import heapq
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Mapping, Sequence

from sqlalchemy.orm import Session, sessionmaker

from caretaker.dispatch.alarms import Outcome
from caretaker.dispatch.errors import DispatchError
from caretaker.dispatch.service import Dispatcher, Seen
from caretaker.flooding import FloodGate
from caretaker.estate.clock import Clock
from caretaker.estate.model import Site
from caretaker.estate.supply import site_supply_chains
from caretaker.ingest import store as ingest_store
from caretaker.ingest.client import Inbound
from caretaker.ingest.flood import FloodPolicy
from caretaker.ingest.errors import TelemetryStoreUnavailable
from caretaker.ingest.payloads import (
    DeviceEvent,
    DeviceStatus,
    Rejection,
    TechnicianLocation,
    TechnicianReply,
    Telemetry,
    validate_message,
)
from caretaker.ingest import order as device_order
from caretaker.ingest.store import DeviceSnapshot
from caretaker.rules import store as rules_store
from caretaker.rules.due import composite_due, next_due
from caretaker.rules.evaluate import DeviceView, RuleIndex, evaluate, evaluate_late, tick
from caretaker.rules.model import IDLE, Clear, Decision, Episode, Raise, Reading, RuleState
from caretaker.rules.silence import Silence
from caretaker.rules.topology import ActiveAlerts, evaluate_composites

log = logging.getLogger(__name__)

EPISODES_KEPT = 8  # recent alerts per device and rule that a late reading is checked against
EPISODE_HORIZON = timedelta(hours=24)  # as old as a reading may be (older ones are refused as ts_stale)
# what each outcome of an alert decision counts as on /metrics (caretaker/metrics.py)
OUTCOME_COUNTERS = {Outcome.REPLAYED: "alerts_replayed", Outcome.SILENCED: "alerts_silenced", Outcome.SUPPRESSED: "alerts_suppressed",
                    Outcome.CHATTERING: "alerts_chattering", Outcome.CLEARED: "alerts_cleared"}
RAISED_OUTCOMES = frozenset({Outcome.RAISED, Outcome.SILENCED, Outcome.SUPPRESSED})


@dataclass(slots=True)
class BatchResult:
    rejections: list[Rejection] = field(default_factory=list)
    outbox_added: bool = False
    accepted: int = 0
    replays: int = 0
    raised: int = 0
    cleared: int = 0


TelemetrySink = Callable[[Sequence[Telemetry]], None]


class BreakingMessage(Exception):
    """Applying one message of a batch raised: `message` is that one, the error it raised is the cause
    (`raise ... from`). A batch that fails later, at its commit, names no message."""

    def __init__(self, message: Inbound) -> None:
        super().__init__(message.topic)
        self.message = message


def comes_back_online(online: bool | None, status_at: datetime | None, at: datetime) -> bool:
    """Whether a reading or event applied at device time `at` shows the device online: one whose status was
    never seen talks, so it is online; one that said offline is back when it sends after that status, while
    a late reading from before it changes nothing (docs/device-protocol.md, "Status and wills")."""
    if online is None:
        return True
    if online:
        return False
    return status_at is None or at > status_at


class Pipeline:
    """Owns the in-memory device and rule state; `process` applies a batch in one transaction and only then
    makes the new state current, so a failed commit leaves memory as the database has it."""

    def __init__(self, site: Site, index: RuleIndex, dispatcher: Dispatcher, sessions: sessionmaker,
                 prefix: str, clock: Clock, telemetry_sink: TelemetrySink | None = None,
                 watch_unheard: bool = True, flood_policy: FloodPolicy = FloodPolicy()) -> None:
        self.site = site
        self.index = index
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.prefix = prefix
        self.clock = clock
        self.telemetry_sink = telemetry_sink  # InfluxDB when configured; else rows go to the database
        # called in every batch's transaction just before it commits: raises (caretaker.estate_leases.Fenced)
        # when this instance no longer holds the estate's lease (docs/deploy.md, "Scaling out")
        self.fence: Callable[[Session], None] | None = None
        self.counters: Counter[str] = Counter()
        self.flood = FloodGate(site, dispatcher, sessions, prefix, self.counters, flood_policy)
        self.snapshots: dict[str, DeviceSnapshot] = {}
        self.states: dict[tuple[str, str], RuleState] = {}
        # devices that may have a rule state (a superset of those in `states`): a reading of any other device
        # has none to look up, which is most readings
        self._stateful: set[str] = set()
        self.episodes: dict[tuple[str, str], tuple[Episode, ...]] = {}  # recent alerts, for late readings
        self.settling: dict[str, datetime] = {}  # devices with a sequence hole, and when it counts as lost
        self._stored_devices: set[str] = set()
        self._gap_changes: set[str] = set()  # devices whose gap count a commit changed (take_gap_changes)
        self.silences: list[Silence] = []
        # the tick's schedule (docs/rules.md, "Time-only changes"): when each device next needs looking at, a heap
        # of (due, device) whose entry is current only while it matches `_due`; rebuilt by reload()
        self._due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._composites: dict[tuple[str, str], datetime] = {}  # rules over other alerts with a `for` running
        # a device never heard from counts as silent since the service started (off for replays)
        self.started_at = clock.now() if watch_unheard else None
        self.causes = frozenset(cause for rule in index.rules.values() for cause in rule.suppressed_by)
        self.supply = site_supply_chains(site)  # a plant building's outage explains the towers it feeds
        self.reload()

    def reload(self) -> None:
        """Read device and rule state back from the database (at start, and after a failed batch)."""
        with self.sessions() as session:
            self.snapshots = ingest_store.load_snapshots(session)
            self.states = rules_store.load_states(session)
            self._stateful = {device_id for device_id, _ in self.states}
            self.episodes = rules_store.recent_episodes(session, self.clock.now() - EPISODE_HORIZON)
        self._stored_devices = set(self.snapshots)
        self.settling = {}
        self._watch_holes(self.snapshots.values())
        self.refresh_silences()
        self._due, self._heap, self._composites = {}, [], {}
        self._schedule(self.site.devices)
        self._schedule_composites(self.states)

    def _watch_holes(self, snapshots) -> None:
        now = self.clock.now()
        for snap in snapshots:
            if len(snap.order.runs) < 2 and snap.gaps == snap.order.lost and snap.device_id not in self.settling:
                continue  # the usual case: no hole
            due = snap.order.settles_at(now)
            if due is None and snap.order.lost_by(now) == snap.gaps:
                self.settling.pop(snap.device_id, None)
            else:
                self.settling[snap.device_id] = due or now

    def take_gap_changes(self) -> set[str]:
        """The devices whose gap count changed since the last call (for caretaker/loss_alarms.py `watch`)."""
        changed, self._gap_changes = self._gap_changes, set()
        return changed

    def refresh_silences(self) -> None:
        """Read the silences in force or to come (the API writes them; any instance may read them)."""
        now = self.clock.now()
        with self.sessions() as session:
            self.silences = [Silence(r.id, r.matchers, r.starts_at, r.ends_at)
                             for r in rules_store.list_silences(session, now)]

    # --- one batch ---------------------------------------------------------------------------

    def process(self, batch: Sequence[Inbound]) -> BatchResult:
        """Apply a batch of messages in one transaction; raises (after rollback) when the database fails."""
        now = self.clock.now()
        batch, flood = self.flood.admit(batch, now)  # a flooding device's excess: counted, not processed
        work = _Batch(self, now)
        for message in batch:
            try:
                work.apply(validate_message(message.topic, message.payload, self.site, self.prefix, now), message)
            except Exception as exc:
                raise BreakingMessage(message) from exc
        work.counts["processed"] += len(batch)
        work.combine()
        self._commit(work)
        self.flood.commit(flood, now)
        return work.result

    def store_rejections(self, rejections: Sequence[Rejection]) -> None:
        """Keep messages that could not be processed in the dead letters, in a transaction of their own."""
        with self.sessions.begin() as session:
            ingest_store.insert_dead_letters(session, rejections, self.clock.now())
        self.counters.update(f"rejected:{r.reason}" for r in rejections)

    def process_tick(self) -> BatchResult:
        """Apply what time alone decides: held conditions that ran their `for`, clear delays, event auto-clears,
        silence. Only the devices whose time has come are looked at (the schedule); a tick with nothing due
        costs next to nothing."""
        now = self.clock.now()
        work = _Batch(self, now)
        due = self._take_due(now)
        try:
            for device_id in due:
                view, at = work.device_clock(device_id, now)
                changed, decisions = tick(self.index, view, self._device_states(device_id), at)
                work.take(device_id, changed, decisions)
            self.counters["tick_evaluations"] += len(due)
            work.settle_gaps([d for d, when in self.settling.items() if when <= now])
            if work.states or any(when <= now for when in self._composites.values()):
                work.combine()  # alerts of several devices: only when one changed, or a `for` of theirs ran out
            if work.dirty:
                self._commit(work)
        except Exception:
            self._push(due, now)  # looked at again next tick, as before the schedule
            raise
        self._schedule(due)  # the rest were rescheduled by the commit
        return work.result

    # --- the tick's schedule -----------------------------------------------------------------

    def _device_states(self, device_id: str) -> dict[str, RuleState]:
        device = self.site.devices[device_id]
        found = {}
        for rule in self.index.timed(device.type, device_id) + self.index.absent(device.type, device_id):
            state = self.states.get((device_id, rule.id))
            if state is not None:
                found[rule.id] = state
        return found

    def _take_due(self, now: datetime) -> list[str]:
        """Pop the devices due by `now` off the schedule (each once; entries a later schedule replaced are dropped)."""
        due: list[str] = []
        heap = self._heap
        while heap and heap[0][0] <= now:
            when, device_id = heapq.heappop(heap)
            if self._due.get(device_id) == when:
                del self._due[device_id]
                due.append(device_id)
        return due

    def _push(self, device_ids, when: datetime) -> None:
        for device_id in device_ids:
            known = self._due.get(device_id)
            if known is None or when < known:
                self._due[device_id] = when
                heapq.heappush(self._heap, (when, device_id))

    def _schedule(self, device_ids) -> None:
        """Work out when each device next needs the tick (rules/due.py), from its committed state."""
        now = self.clock.now()
        work = _Batch(self, now)
        for device_id in device_ids:
            if device_id not in self.site.devices:
                continue  # a device removed from the site file keeps its history, not its timers
            view, at = work.device_clock(device_id, now)
            when = next_due(self.index, view, self._device_states(device_id), at)
            if when is not None:
                when += now - at  # the device's time back to the service's
            if when == self._due.get(device_id):
                continue
            if when is None:
                self._due.pop(device_id, None)
                continue
            self._due[device_id] = when
            heapq.heappush(self._heap, (when, device_id))
        if len(self._heap) > 2 * len(self._due) + 1024:  # entries replaced by later schedules: drop them
            self._heap = [(when, device_id) for device_id, when in self._due.items()]
            heapq.heapify(self._heap)

    def _schedule_composites(self, states: Mapping[tuple[str, str], RuleState]) -> None:
        composites = {r.id: r for r in self.index.composites}
        for key, state in states.items():
            rule = composites.get(key[1])
            when = composite_due(rule, state) if rule is not None else None
            if when is None:
                self._composites.pop(key, None)
            else:
                self._composites[key] = when

    def _commit(self, work: "_Batch") -> None:
        if work.telemetry and self.telemetry_sink is not None:
            # before the commit: a store that fails keeps the batch unacknowledged and retried, and the
            # retried points land on themselves (same series, same device timestamp)
            try:
                self.telemetry_sink(work.telemetry)
            except TelemetryStoreUnavailable:
                self.counters["batch_failures"] += 1
                self.counters["telemetry_store_failures"] += 1
                raise
        from caretaker.dispatch.outbox import added_rows

        hand_outbox = getattr(self, "hand_outbox", None)  # the outbox sender's `hand`, when one is listening
        outgoing = []
        session = self.sessions.writer()
        try:
            with session.begin():
                work.write(session)
                if self.fence is not None:
                    self.fence(session)
                if hand_outbox is not None:
                    outgoing = added_rows(session)
        except Exception:
            session.close()
            self.counters["batch_failures"] += 1
            raise
        session.close()
        if outgoing:
            # committed: its pushes and alert events go now, handed over, not left for the sender to find
            hand_outbox(outgoing)
        # the transaction is durable: only now does the new state become the current one
        reschedule = {device_id for device_id, _ in work.states}
        for device_id, snap in work.snapshots.items():
            before = self.snapshots.get(device_id)
            if snap.gaps != (before.gaps if before is not None else 0):
                self._gap_changes.add(device_id)
            if device_id not in self._due or (before is not None and snap.lag < before.lag
                                               and self._device_states(device_id)):
                reschedule.add(device_id)
            self.snapshots[device_id] = snap
        self._watch_holes(work.snapshots.values())
        self.states.update(work.states)
        for key, state in work.states.items():
            if state == IDLE:
                self.states.pop(key, None)
            else:
                self._stateful.add(key[0])
        self.episodes.update(work.episodes)
        self.counters.update(work.counts)
        # a device whose rule states did not change keeps its entry: what else a message changes (its last
        # values, when it was last seen) only moves its time later, and an early entry costs one look that
        # finds nothing and schedules again (rules/due.py may answer early, never late). A shorter lag moves
        # a running `for` (device time) earlier in the service's time, so such a device is scheduled anew.
        if reschedule:
            self._schedule(reschedule)
        if work.states and self.index.composites:
            self._schedule_composites(work.states)


class _Batch:
    """The changes one batch makes, layered over the pipeline's committed state until commit."""

    def __init__(self, pipeline: Pipeline, now: datetime) -> None:
        self.p = pipeline
        self.now = now
        self.snapshots: dict[str, DeviceSnapshot] = {}
        self.states: dict[tuple[str, str], RuleState] = {}
        self.state_devices: set[str] = set()  # the devices with a state in `states`
        self.episodes: dict[tuple[str, str], tuple[Episode, ...]] = {}
        self.decisions: list[Decision] = []
        self.telemetry: list[Telemetry] = []
        self.telemetry_rows: list[dict] = []
        self.locations: list[Seen] = []  # technicians seen: their app's location, a badge swipe
        self.replies: list[tuple[TechnicianReply, Inbound]] = []
        self.result = BatchResult()
        self.counts: Counter[str] = Counter()

    @property
    def dirty(self) -> bool:
        return bool(self.snapshots or self.states or self.decisions)

    def snapshot(self, device_id: str) -> DeviceSnapshot:
        snap = self.snapshots.get(device_id)
        if snap is None:
            base = self.p.snapshots.get(device_id)
            snap = base.copy() if base is not None else DeviceSnapshot(device_id)
            self.snapshots[device_id] = snap
        return snap

    def view(self, device_id: str) -> DeviceView:
        device = self.p.site.devices[device_id]
        snap = self.snapshots.get(device_id) or self.p.snapshots.get(device_id) or DeviceSnapshot(device_id)
        # a device never heard from is measured from the service's start, so absence still shows
        return DeviceView(device_id, device.type, snap.values, snap.online is not False, device.overrides,
                          snap.last_seen or self.p.started_at, device.interval_s)

    def device_clock(self, device_id: str, now: datetime) -> tuple[DeviceView, datetime]:
        """The device as time alone sees it, and its time now: the service's clock less how far the device's
        readings run behind (a slow clock, a backlog still arriving), so a `for` runs in the device's own
        time; silence is still measured on the service's clock."""
        view = self.view(device_id)
        snap = self.snapshots.get(device_id) or self.p.snapshots.get(device_id)
        if snap is None or snap.lag <= timedelta(0):
            return view, now
        return replace(view, last_seen=view.last_seen - snap.lag if view.last_seen else None), now - snap.lag

    def current_states(self) -> dict[tuple[str, str], RuleState]:
        return {**self.p.states, **self.states}

    def combine(self) -> None:
        """Evaluate what depends on several devices once the batch's own decisions are known."""
        if not self.p.index.composites:
            return
        states = self.current_states()
        changed, decisions = evaluate_composites(self.p.index, ActiveAlerts(states.items(), self.p.site.devices),
                                                 self.p.site.devices, states, self.now)
        self.states.update(changed)
        self.state_devices.update(device_id for device_id, _ in changed)
        self.decisions.extend(decisions)

    def rule_states(self, device_id: str, rule_ids) -> dict[str, RuleState]:
        if device_id not in self.state_devices and device_id not in self.p._stateful:
            return {}
        result = {}
        for rule_id in rule_ids:
            key = (device_id, rule_id)
            state = self.states.get(key, self.p.states.get(key))
            if state is not None:
                result[rule_id] = state
        return result

    def take(self, device_id: str, changed: dict[str, RuleState], decisions: list[Decision]) -> None:
        if changed:
            self.state_devices.add(device_id)
        for rule_id, state in changed.items():
            self.states[(device_id, rule_id)] = state
        self.decisions.extend(decisions)
        for decision in decisions:
            if isinstance(decision, (Raise, Clear)):
                self._remember(decision)

    def _remember(self, decision: Raise | Clear) -> None:
        """Keep the device's recent alerts as episodes, so a late reading from inside one raises nothing new."""
        key = (decision.device, decision.rule.id)
        known = self.episodes.get(key, self.p.episodes.get(key, ()))
        if isinstance(decision, Raise):
            horizon = self.now - EPISODE_HORIZON
            kept = tuple(e for e in known if e.end is None or e.end >= horizon)
            self.episodes[key] = (kept + (Episode(decision.alert, decision.at),))[-EPISODES_KEPT:]
        else:
            self.episodes[key] = tuple(replace(e, end=decision.at) if e.alert == decision.alert else e for e in known)

    def episodes_of(self, device_id: str, rule_ids) -> dict[str, tuple[Episode, ...]]:
        found = {}
        for rule_id in rule_ids:
            key = (device_id, rule_id)
            known = self.episodes.get(key, self.p.episodes.get(key))
            if known:
                found[rule_id] = known
        return found

    def apply(self, verdict, message: Inbound) -> None:
        if isinstance(verdict, Rejection):
            self.result.rejections.append(verdict)
            self.counts[f"rejected:{verdict.reason}"] += 1
            return
        self.result.accepted += 1
        if isinstance(verdict, TechnicianLocation):
            self.locations.append(Seen(verdict.technician, verdict.place, verdict.ts, "app"))
        elif isinstance(verdict, TechnicianReply):
            self.replies.append((verdict, message))
        elif isinstance(verdict, DeviceStatus):
            known = self.snapshots.get(verdict.device) or self.p.snapshots.get(verdict.device)
            if message.retain and known is not None and (
                    known.online == verdict.online or (known.last_ts is not None and verdict.ts < known.last_ts)):
                # the broker replaying a retained status on (re)subscribing is not news from the device, nor
                # is an old retained `offline` that readings since have overtaken (the device is back)
                self.result.replays += 1
                self.counts["replays"] += 1
                return
            snap = self.snapshot(verdict.device)
            snap.online, snap.status_at, snap.last_seen = verdict.online, verdict.ts, self.now
            self._evaluate(Reading(verdict.device, self.now, online=verdict.online))  # a status is news when it arrives
        else:
            self._device_message(verdict)

    def _device_message(self, message: Telemetry | DeviceEvent) -> None:
        """Apply telemetry or an event in the device's own order (docs/device-protocol.md, "Device order")."""
        snap = self.snapshot(message.device)
        is_telemetry = isinstance(message, Telemetry)
        if is_telemetry:
            metrics = tuple(message.values)
            fingerprint = device_order.digest(message.values) if message.seq is None else ""
        else:
            metrics = ()
            fingerprint = device_order.digest([message.type, message.data]) if message.seq is None else ""
        placed = device_order.place(snap.order, message.ts, message.seq, fingerprint, metrics, self.now)
        if placed.kind == device_order.DUPLICATE:
            self.result.replays += 1
            self.counts["replays"] += 1
            return
        if placed.skewed:
            self.counts["clock_skew"] += 1  # applied at its arrival: a fast clock cannot hide what follows
        snap.order = placed.order
        self._count_gaps(snap)
        late = placed.kind == device_order.LATE
        if late:
            self.counts["late_readings"] += 1
        snap.last_seen = self.now
        at = placed.at
        if comes_back_online(snap.online, snap.status_at, at):
            self._back_online(snap)
        if not late:
            self._catch_up(message.device, at)
        if not is_telemetry:
            if snap.event_ts is None or at >= snap.event_ts:
                snap.event_ts, snap.event_seq, snap.event_type = at, message.seq, message.type
            if message.type == "badge_granted":
                self._badge(message)
            self._evaluate(Reading(message.device, at, event=message.type, event_data=message.data), late, {})
            return
        if at != message.ts:
            message = replace(message, ts=at)  # the history shows it when it was applied
        self.telemetry.append(message)
        if self.p.telemetry_sink is None:
            self.telemetry_rows.extend(ingest_store.telemetry_rows(message))
        reading = Reading(message.device, at, values=message.values)
        if not late:
            snap.last_ts, snap.last_seq, snap.lag = at, message.seq, self.now - at
            snap.values.update(message.values)
            self._evaluate(reading, False, {})
            return
        # the rules see the device as it stood then; its last values take only what nothing newer replaced
        then = {**snap.values, **message.values}
        snap.values.update({m: v for m, v in message.values.items() if placed.superseded.get(m) is None})
        self._evaluate(reading, True, placed.superseded, then)

    def _back_online(self, snap: DeviceSnapshot) -> None:
        """The device talks, so it is online: its offline alarm clears as for a status `online`."""
        was_offline = snap.online is False
        snap.online = True
        if was_offline:
            self._evaluate(Reading(snap.device_id, self.now, online=True))  # news when it arrives, like a status

    def _count_gaps(self, snap: DeviceSnapshot) -> None:
        """Set the device's gap figure: messages missing for longer than ingest/order.py GAP_SETTLE (a
        reordered feed fills its holes within seconds, so they never read as loss)."""
        lost = snap.order.lost_by(self.now)
        if lost > snap.gaps:
            self.counts["seq_gaps"] += lost - snap.gaps
        elif lost < snap.gaps:
            self.counts["seq_gaps_filled"] += snap.gaps - lost  # counted lost, then arrived after all
        snap.gaps = lost

    def settle_gaps(self, device_ids) -> None:
        """Count as lost the holes that have now stayed open for GAP_SETTLE (time alone decides it)."""
        for device_id in device_ids:
            base = self.p.snapshots.get(device_id)
            if base is not None and base.order.lost_by(self.now) != base.gaps:
                self._count_gaps(self.snapshot(device_id))

    def _badge(self, event: DeviceEvent) -> None:
        badge = event.data.get("badge")
        tech = self.p.site.technician_by_badge(str(badge)) if badge is not None else None
        if tech is not None:
            door = self.p.site.devices[event.device]
            self.locations.append(Seen(tech.id, door.place, event.ts, "badge"))

    def _evaluate(self, reading: Reading, late: bool = False, superseded: dict | None = None,
                  values: dict | None = None) -> None:
        """Show a reading to the rules at its own time; a late one as the device stood then."""
        device = self.p.site.devices[reading.device]
        rules = self.p.index.for_reading(device.type, reading, device.id)
        if not rules:
            return
        view = self.view(reading.device)
        rule_ids = [r.id for r in rules]
        states = self.rule_states(reading.device, rule_ids)
        if not late:
            changed, decisions = evaluate(self.p.index, view, reading, states, reading.ts)
        else:
            if values is not None:
                view = replace(view, values=values)
            device_now = self.now - self.snapshot(reading.device).lag  # the device's own time, as for the tick
            changed, decisions, extended = evaluate_late(self.p.index, view, reading, states,
                                                         self.episodes_of(reading.device, rule_ids), superseded or {},
                                                         device_now)
            for rule_id, episodes in extended.items():
                self.episodes[(reading.device, rule_id)] = episodes
        self.take(reading.device, changed, decisions)

    def _catch_up(self, device_id: str, at: datetime) -> None:
        """Let the device's rules run on to a reading's time before it is seen (on the values before it): a
        clear delay or an event alert's auto-clear that ran out between two readings of a backlog has
        cleared by the time the next one is applied."""
        if device_id not in self.state_devices and device_id not in self.p._stateful:
            return  # no rule of it is running: nothing to run on
        device = self.p.site.devices[device_id]
        states = self.rule_states(device_id, (r.id for r in self.p.index.timed(device.type, device_id)))
        if states:
            changed, decisions = tick(self.p.index, self.view(device_id), states, at)
            self.take(device_id, changed, decisions)

    # --- the transaction ---------------------------------------------------------------------

    def write(self, session: Session) -> None:
        now = self.now
        ingest_store.insert_telemetry(session, self.telemetry_rows)
        ingest_store.save_snapshots(session, self.snapshots.values(), self.p._stored_devices)
        ingest_store.insert_dead_letters(session, self.result.rejections, now)
        rules_store.save_states(session, self.states, self.p.states)
        if self.locations and self.p.dispatcher.technicians_seen(session, self.locations, now):
            self.result.outbox_added = True  # a technician came on site and took a waiting ticket
        if self.decisions:
            active = ActiveAlerts(self.current_states().items(), self.p.site.devices, self.p.supply, self.p.index.rules)
            outcomes = self.p.dispatcher.on_alert_decisions(session, self.decisions, self._values_of, active,
                                                            self.p.silences, self.p.causes, now)
            for outcome in outcomes:
                self._count(outcome)
        for reply, message in self.replies:
            self._reply(session, reply, message)

    def _values_of(self, device_id: str) -> Mapping[str, object]:
        snap = self.snapshots.get(device_id) or self.p.snapshots.get(device_id)
        return snap.values if snap is not None else {}

    def _count(self, outcome: Outcome) -> None:
        if outcome in OUTCOME_COUNTERS:
            self.counts[OUTCOME_COUNTERS[outcome]] += 1
        if outcome == Outcome.REPLAYED:
            return
        if outcome in RAISED_OUTCOMES:
            self.counts["alerts_raised"] += 1
            self.result.raised += 1
        elif outcome == Outcome.CLEARED:
            self.result.cleared += 1
        self.result.outbox_added = True

    def _reply(self, session: Session, reply: TechnicianReply, message: Inbound) -> None:
        savepoint = session.begin_nested()
        try:  # the step on the technician's own assignment: dispatch decides (Dispatcher.reply)
            self.p.dispatcher.reply(session, reply.action, reply.ticket, reply.technician, self.now)
            savepoint.commit()
            self.result.outbox_added = True
        except DispatchError as exc:
            savepoint.rollback()
            rejection = Rejection(message.topic, "bad_step", str(exc), message.payload)
            self.result.rejections.append(rejection)
            ingest_store.insert_dead_letters(session, [rejection], self.now)
            self.counts["rejected:bad_step"] += 1
