"""The figures the service is judged by (docs/operations.md), computed by a pure function over plain rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy.orm import Session

from caretaker.api.callbacks import callback_due, needs_callback
from caretaker.dispatch import complaints, lookup, reads_figures, reads_tickets
from caretaker.dispatch.lifecycle import TicketStatus
from caretaker.rules import alert_reads

REPEAT_WINDOW = timedelta(days=7)
ALARM_BUCKET = timedelta(minutes=10)
TOP_DEVICES = 5
# step -> (its deadline, when it was done)
STEPS = (("accept_by", "accepted_at"), ("arrive_by", "arrived_at"), ("resolve_by", "resolved_at"))


@dataclass(frozen=True, slots=True)
class KpiCycle:
    """An earlier cycle of a reopened ticket as it stood when reopened (dispatch keeps them): its steps,
    times and rating still count."""

    created_at: datetime  # when the cycle started
    accept_by: datetime
    arrive_by: datetime | None
    resolve_by: datetime
    accepted_at: datetime | None = None
    arrived_at: datetime | None = None
    resolved_at: datetime | None = None
    satisfaction: int | None = None


@dataclass(frozen=True, slots=True)
class KpiTicket:
    id: str
    urgency: int
    status: str
    created_at: datetime
    accept_by: datetime
    arrive_by: datetime | None
    resolve_by: datetime
    accepted_at: datetime | None = None
    arrived_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    satisfaction: int | None = None
    breached: bool = False
    reopened: bool = False
    repeated: bool = False  # the same problem was reported again within 7 days and joined this ticket
    device_id: str | None = None
    unit_id: str | None = None
    category: str = "general"
    needs_callback: bool = False  # a person reported it and left a number (api/callbacks.py)
    called_back_at: datetime | None = None  # the first verify or operator's reopen after it was resolved
    first_resolved_at: datetime | None = None  # a reopen clears resolved_at; the call-back's clock started here
    building: str | None = None
    assignee: str | None = None
    cycles: tuple[KpiCycle, ...] = ()  # the cycles before a reopening, oldest first
    kind: str = "repair"  # repair, complaint, suggestion, enquiry (dispatch/complaints.py)
    answer_by: datetime | None = None  # a service complaint's answer deadline
    answered_at: datetime | None = None
    dispatched: bool = True  # a technician was asked; False: the control room answers it (no technician steps)


@dataclass(frozen=True, slots=True)
class KpiAlert:
    device_id: str
    raised_at: datetime
    building: str | None = None


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _late_steps(t: KpiTicket, now: datetime) -> tuple[int, int]:
    """Return (steps due, steps done by their deadline): a step is due once done or once its deadline passed."""
    due = on_time = 0
    for deadline_field, done_field in STEPS:
        deadline, done = getattr(t, deadline_field), getattr(t, done_field)
        if deadline is None or (done is None and deadline > now):
            continue
        due += 1
        on_time += done is not None and done <= deadline
    return due, on_time


def _repeats(tickets: Sequence[KpiTicket], start: datetime) -> list[str]:
    """Return ids of tickets in the window whose device or unit had another ticket in the 7 days before."""
    by_thing: dict[tuple[str, str], list[KpiTicket]] = defaultdict(list)
    for t in tickets:
        if t.device_id:
            by_thing[("device", t.device_id)].append(t)
        if t.unit_id:
            by_thing[("unit", t.unit_id)].append(t)
    found: set[str] = {t.id for t in tickets if t.repeated}
    for group in by_thing.values():
        group.sort(key=lambda t: t.created_at)
        for earlier, later in zip(group, group[1:]):
            if later.created_at >= start and later.created_at - earlier.created_at <= REPEAT_WINDOW:
                found.add(later.id)
    return sorted(found)


def _callbacks(window: Sequence[KpiTicket], now: datetime) -> tuple[int, int]:
    """Return (call-backs due, made by their deadline): due once made or once the deadline passed."""
    due = on_time = 0
    for t in window:
        resolved = t.first_resolved_at or t.resolved_at
        if not t.needs_callback or resolved is None:
            continue
        deadline = callback_due(resolved, t.category)
        if t.called_back_at is None and deadline > now:
            continue
        due += 1
        on_time += t.called_back_at is not None and t.called_back_at <= deadline
    return due, on_time


def _answers(window: Sequence[KpiTicket], now: datetime) -> tuple[int, int]:
    """Return (complaint answers due, given by their deadline): due once given or once the deadline passed."""
    due = on_time = 0
    for t in window:
        if t.kind != "complaint" or t.answer_by is None or (t.answered_at is None and t.answer_by > now):
            continue
        due += 1
        on_time += t.answered_at is not None and t.answered_at <= t.answer_by
    return due, on_time


def compute_kpis(tickets: Sequence[KpiTicket], alerts: Sequence[KpiAlert], start: datetime, end: datetime,
                 now: datetime) -> dict:
    """Return the KPIs of tickets created and alerts raised in [start, end); `tickets` may also hold the
    7 days before `start`, which only count as earlier reports for repeats. Rates are None with no data."""
    window = [t for t in tickets if start <= t.created_at < end and t.status != TicketStatus.CANCELLED]
    due = on_time = 0
    breaches: Counter[int] = Counter()
    for t in window:
        if not t.dispatched:
            continue  # no technician steps: a suggestion or a conduct complaint waits for its answer (below)
        late = False
        for cycle in (*t.cycles, t):  # every cycle's steps count, not only the last one's
            d, o = _late_steps(cycle, now)
            due, on_time, late = due + d, on_time + o, late or o < d
        if t.breached or late:
            breaches[t.urgency] += 1
    closed = [t for t in window if t.status == TicketStatus.CLOSED]
    cycles = [c for t in window for c in (*t.cycles, t)]
    scores = [c.satisfaction for c in cycles if c.satisfaction is not None]
    in_window = [a for a in alerts if start <= a.raised_at < end]
    buckets = Counter(int((a.raised_at - start) / ALARM_BUCKET) for a in in_window)
    n_buckets = max(1, -(-(end - start) // ALARM_BUCKET))  # ceiling division of timedeltas
    repeats = _repeats([t for t in tickets if t.created_at < end], start)
    callbacks_due, callbacks_on_time = _callbacks(window, now)
    answers_due, answers_on_time = _answers(window, now)
    return {
        "from": start, "to": end, "tickets": len(window),
        "response_compliance_pct": _pct(on_time, due), "steps_due": due, "steps_on_time": on_time,
        "first_time_fix_pct": _pct(sum(not (t.reopened or t.cycles) for t in closed), len(closed)),
        "closed": len(closed),
        "satisfaction": round(20.0 * sum(scores) / len(scores), 1) if scores else None, "rated": len(scores),
        "mean_accept_s": _mean([(c.accepted_at - c.created_at).total_seconds() for c in cycles if c.accepted_at]),
        "mean_arrive_s": _mean([(c.arrived_at - c.created_at).total_seconds() for c in cycles if c.arrived_at]),
        "mean_resolve_s": _mean([(c.resolved_at - c.created_at).total_seconds() for c in cycles if c.resolved_at]),
        "breaches_by_level": {str(level): breaches.get(level, 0) for level in (1, 2, 3, 4)},
        "repeat_reports": len(repeats), "repeat_tickets": repeats,
        "top_faulty_devices": [{"device": d, "alerts": n}
                               for d, n in sorted(Counter(a.device_id for a in in_window).items(),
                                                  key=lambda kv: (-kv[1], kv[0]))[:TOP_DEVICES]],
        "alarms": len(in_window),
        "alarms_per_10min": round(len(in_window) / n_buckets, 2),
        "alarms_peak_10min": max(buckets.values(), default=0),
        "callback_rate_pct": _pct(callbacks_on_time, callbacks_due), "callbacks_due": callbacks_due,
        "callbacks_on_time": callbacks_on_time,
        "complaints": sum(t.kind == "complaint" for t in window),
        "suggestions": sum(t.kind == "suggestion" for t in window),
        "complaints_answered_on_time_pct": _pct(answers_on_time, answers_due), "complaint_answers_due": answers_due,
        "complaint_answers_on_time": answers_on_time,
    }


def load_kpi_rows(session: Session, start: datetime, end: datetime) -> tuple[list[KpiTicket], list[KpiAlert]]:
    """Return the tickets created in [start - 7 days, end) and the alerts raised in [start, end), through the
    rooms' reads (dispatch/reads_tickets.py, dispatch/reads_figures.py, rules/alert_reads.py)."""
    rows = reads_tickets.created_in(session, start - REPEAT_WINDOW, end)
    ids = [r.id for r in rows]
    reopened = reads_figures.reopened(session, ids)
    repeated = reads_figures.reported_again(session, ids, start, end)
    callbacks: dict[str, datetime] = {}
    resolved: dict[str, datetime] = {}  # the first resolution of each ticket, from its history
    for ticket_id, at, status, by, note in reads_figures.steps_of(session, ids):
        if status == "resolved":
            resolved.setdefault(ticket_id, at)
            continue
        call = status == "verified" or (by != "system" and (note or "").startswith("reopened"))
        if call and ticket_id in resolved and ticket_id not in callbacks:
            callbacks[ticket_id] = at
    cycles = lookup.cycles_of(session, [r.id for r in rows])
    kinds = complaints.answers_of(session, [r.id for r in rows])  # docs/api.md, "Kinds of report"
    tickets = [KpiTicket(
        id=r.id, urgency=r.urgency, status=r.status, created_at=r.created_at, accept_by=r.accept_by,
        arrive_by=r.arrive_by, resolve_by=r.resolve_by, accepted_at=r.accepted_at, arrived_at=r.arrived_at,
        resolved_at=r.resolved_at, closed_at=r.closed_at, satisfaction=r.satisfaction, breached=bool(r.breached),
        reopened=r.id in reopened, repeated=r.id in repeated, device_id=r.device_id, unit_id=r.unit_id,
        category=r.category, needs_callback=needs_callback(r.source, r.reporter_phone),
        called_back_at=callbacks.get(r.id), first_resolved_at=resolved.get(r.id), building=r.building,
        assignee=r.assignee,
        cycles=tuple(KpiCycle(c.started_at, c.accept_by, c.arrive_by, c.resolve_by, c.accepted_at, c.arrived_at,
                              c.resolved_at, c.satisfaction) for c in cycles.get(r.id, [])),
        **_kind_fields(kinds.get(r.id)),
    ) for r in rows]
    alerts = [KpiAlert(device_id, raised_at, building)
              for device_id, raised_at, building in alert_reads.raised_where(session, start, end)]
    return tickets, alerts


def _kind_fields(found: complaints.Answered | None) -> dict:
    if found is None:
        return {}
    return {"kind": found.kind, "answer_by": found.answer_by, "answered_at": found.answered_at,
            "dispatched": found.dispatched}
