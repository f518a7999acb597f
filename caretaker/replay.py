"""`caretaker rules test`: replay recorded readings through the real pipeline at their own timestamps, no waiting."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator, TextIO

from sqlalchemy import select

from caretaker.db import make_engine, make_sessions, migrate
from caretaker.pipeline import Pipeline
from caretaker.dispatch.service import Dispatcher
from caretaker.dispatch.tables import TicketAlertRow, TicketRow
from caretaker.estate.model import Site
from caretaker.ingest.client import Inbound
from caretaker.ingest.payloads import parse_time
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.model import Rule
from caretaker.rules.tables import AlertLogRow, AlertRow

PREFIX = "caretaker"
MAX_TICKS_PER_GAP = 3600


class ReplayError(Exception):
    """A line of the readings file cannot be replayed; the message names the line."""


class _ReplayClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    at: datetime
    message: Inbound


def read_readings(stream: TextIO, site: Site) -> Iterator[_Line]:
    """Yield each reading of a JSON-lines file: either {"topic", "payload"} as received, or a short form
    {"device", "ts", "values" | "event" (+ "data") | "status"} (see docs/rules.md)."""
    for number, text in enumerate(stream, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"line {number}: not JSON: {exc.msg}") from exc
        if not isinstance(item, dict):
            raise ReplayError(f"line {number}: expected an object")
        if "topic" in item:
            payload = item.get("payload", {})
            raw = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            ts = item.get("ts") or (payload.get("ts") if isinstance(payload, dict) else None)
            topic = item["topic"]
        else:
            device, ts = item.get("device"), item.get("ts")
            if not device or ts is None:
                raise ReplayError(f"line {number}: needs `device` and `ts` (or `topic` and `payload`)")
            if "values" in item:
                kind, body = "telemetry", {"ts": ts, "values": item["values"]}
            elif "event" in item:
                kind, body = "event", {"ts": ts, "type": item["event"], "data": item.get("data", {})}
            elif "status" in item:
                kind, body = "status", {"ts": ts, "state": item["status"]}
            else:
                raise ReplayError(f"line {number}: needs one of values, event or status")
            if "seq" in item:
                body["seq"] = item["seq"]
            topic = f"{PREFIX}/{site.id}/devices/{device}/{kind}"
            raw = json.dumps(body).encode()
        if ts is None:
            raise ReplayError(f"line {number}: no ts")
        try:
            at = parse_time(ts)
        except Exception as exc:  # parse_time's refusal carries the reason
            raise ReplayError(f"line {number}: bad ts {ts!r}") from exc
        yield _Line(number, at, Inbound(topic, raw, 0, 1))


def replay(site: Site, rules: list[Rule], stream: TextIO, out: TextIO, tick: timedelta = timedelta(seconds=1)) -> int:
    """Replay the readings and write every alert raised and cleared and the tickets they open; return the
    number of alerts raised."""
    lines = list(read_readings(stream, site))
    if not lines:
        out.write("no readings to replay\n")
        return 0
    lines.sort(key=lambda line: line.at)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'replay.db'}")
        migrate(engine)
        sessions = make_sessions(engine)
        clock = _ReplayClock(lines[0].at)
        pipeline = Pipeline(site, RuleIndex(rules, site.devices, site.timezone), Dispatcher(site, PREFIX), sessions,
                            PREFIX, clock, watch_unheard=False)
        rejected = 0
        for line in lines:
            _advance(pipeline, clock, line.at, tick)
            result = pipeline.process([line.message])
            for rejection in result.rejections:
                rejected += 1
                out.write(f"line {line.number}: refused ({rejection.reason}): {rejection.detail}\n")
        # let `for`, clear delays and auto-clears that fall due soon after the last reading play out
        _advance(pipeline, clock, clock.current + timedelta(minutes=5), tick)
        raised = _report(sessions, out)
        engine.dispose()
    out.write(f"{len(lines)} readings replayed, {rejected} refused, {raised} alerts raised\n")
    return raised


def _advance(pipeline: Pipeline, clock: _ReplayClock, until: datetime, tick: timedelta) -> None:
    steps = 0
    while clock.current + tick <= until and steps < MAX_TICKS_PER_GAP:
        clock.current += tick
        pipeline.process_tick()
        steps += 1
    clock.current = max(clock.current, until)
    pipeline.process_tick()


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def _report(sessions, out: TextIO) -> int:
    with sessions() as session:
        alerts = {a.id: a for a in session.scalars(select(AlertRow))}
        log = session.scalars(select(AlertLogRow).order_by(AlertLogRow.at, AlertLogRow.id)).all()
        tickets = session.scalars(select(TicketRow).order_by(TicketRow.created_at)).all()
        links = session.execute(select(TicketAlertRow.ticket_id, TicketAlertRow.alert_id)
                                .order_by(TicketAlertRow.attached_at)).all()
    first_alert: dict[str, str] = {}
    ticket_of: dict[str, str] = {}  # the one record of an alert's ticket (dispatch/lookup.py `alert_tickets`)
    for ticket_id, alert_id in links:
        first_alert.setdefault(ticket_id, alert_id)  # the alert that opened the ticket
        ticket_of.setdefault(alert_id, ticket_id)
    raised = 0
    out.write("alerts:\n")
    for entry in log:
        alert = alerts.get(entry.alert_id)
        if alert is None:
            continue
        detail = ""
        ticket_id = ticket_of.get(alert.id)
        if entry.state == "raised":
            raised += 1
            if alert.silence_id:
                detail = f"silenced (silence {alert.silence_id}), no ticket"
            elif alert.suppressed_by:
                detail = f"explained by {alert.suppressed_by}" + (f", on ticket {ticket_id}" if ticket_id else "")
            elif ticket_id:
                new = first_alert.get(ticket_id) == alert.id
                detail = f"→ ticket {ticket_id} ({'new' if new else 'joins'})"
        out.write(f"  {_iso(entry.at)}  {entry.state.upper():<10} {alert.rule_id:<26} {alert.device_id:<16} "
                  f"level {alert.urgency}  {detail}\n".rstrip() + "\n")
    out.write(f"tickets: {len(tickets)}\n")
    for ticket in tickets:
        count = sum(1 for ticket_id, _ in links if ticket_id == ticket.id)
        out.write(f"  {ticket.id}  level {ticket.urgency} {ticket.category:<11} building {ticket.building}  "
                  f"{count} alert(s)  {ticket.title}\n")
    return raised
