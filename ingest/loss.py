"""Deciding what to alarm about lost messages (pure): devices' sequence gaps in, one estate-wide alarm out.

A device's `seq` counter that jumps shows messages that never reached the service: lost by a broker that
crashed before saving its queue, dropped from a full queue, or sent while the service's session was gone
(docs/operations.md, "Lost messages"). The operator needs one alarm that says how much was lost and where
to look, not one per device: "messages lost from 3 devices in building A".

The alarm is an event, not a condition that ends by itself: it stays raised until an operator has
acknowledged it and no message has been lost for `QUIET`; a loss after the acknowledgement is news the
operator has not seen, so the acknowledged alarm is closed and a new one raised.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from caretaker import i18n

QUIET = timedelta(minutes=10)  # an acknowledged loss alarm clears after this long without a new loss
TITLE_LIMIT = 200  # alerts.title


@dataclass(frozen=True, slots=True)
class Mark:
    """How much of a device's gap count is accounted for: `reported` already alarmed about, `open` of it
    in the alarm still raised (0 when none is)."""

    reported: int = 0
    open: int = 0


@dataclass(frozen=True, slots=True)
class Loss:
    """The open alarm's content after new losses: per building, the devices and the messages lost."""

    by_building: Mapping[str, tuple[tuple[str, int], ...]]  # building -> ((device, messages), ...)
    new_messages: int  # lost since the last check
    renew: bool  # the raised alarm was acknowledged before these losses: close it and raise a new one

    @property
    def devices(self) -> int:
        return sum(len(devices) for devices in self.by_building.values())

    @property
    def messages(self) -> int:
        return sum(n for devices in self.by_building.values() for _, n in devices)

    @property
    def building(self) -> str | None:
        """The one building concerned, if there is only one."""
        return next(iter(self.by_building)) if len(self.by_building) == 1 else None


@dataclass(frozen=True, slots=True)
class Accounting:
    marks: dict[str, Mark]  # the marks to store (only those that changed)
    loss: Loss | None  # None: nothing new was lost


def account(gaps: Mapping[str, int], marks: Mapping[str, Mark], building_of: Mapping[str, str],
            acknowledged: bool = False) -> Accounting:
    """Compare each device's gap count with what was already alarmed; return the marks to store and, when
    something new was lost, the alarm's content. `gaps` are the devices' cumulative counts
    (`DeviceSnapshot.gaps`); `building_of` names each site device's building (others are ignored: their
    messages are dead letters, not losses); `acknowledged` says the raised alarm has been seen."""
    changed: dict[str, Mark] = {}
    new: dict[str, int] = {}
    for device, count in gaps.items():
        if device not in building_of:
            continue
        mark = marks.get(device, Mark())
        if count > mark.reported:
            new[device] = count - mark.reported
        elif count < mark.reported:
            # the count went down (a message thought lost arrived late): lower the mark so that a later
            # real loss is not hidden behind the old figure
            changed[device] = Mark(count, min(mark.open, count))
    if not new:
        return Accounting(changed, None)
    merged: dict[str, Mark] = {d: m for d, m in marks.items() if d in building_of}
    merged.update(changed)
    for device, lost in new.items():
        mark = merged.get(device, Mark())
        start = 0 if acknowledged else mark.open
        changed[device] = merged[device] = Mark(gaps[device], start + lost)
    if acknowledged:  # a new alarm: only the new losses are in it
        for device, mark in merged.items():
            if device not in new and mark.open:
                changed[device] = merged[device] = Mark(mark.reported, 0)
    by_building: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for device, mark in merged.items():
        if mark.open:
            by_building[building_of[device]].append((device, mark.open))
    ordered = {b: tuple(sorted(devices)) for b, devices in
               sorted(by_building.items(), key=lambda item: (-len(item[1]), item[0]))}
    return Accounting(changed, Loss(ordered, sum(new.values()), acknowledged))


def _count(n: int, word: str, lang: str) -> str:
    """"1 device", "3 devices" / "3 台设备": the catalogue's `alarm.<word>_one` for one, `alarm.<word>` else."""
    return i18n.say(f"alarm.{word}_one" if n == 1 else f"alarm.{word}", lang, n=n)


def loss_title(loss: Loss, lang: str = "en") -> str:
    """"messages lost from 3 devices in building A (12 messages)", in `lang` (the estate's locale: caretaker/i18n
    `alarm.lost_in_building`); several buildings named by how many devices each lost, most first, within the
    alert title's length in that language."""
    devices, total = _count(loss.devices, "devices", lang), _count(loss.messages, "messages", lang)
    if loss.building is not None:
        return i18n.say("alarm.lost_in_building", lang, devices=devices, building=loss.building, messages=total)

    def title(shown: list[str], more: int) -> str:
        named = i18n.say("list.sep", lang).join(shown)
        buildings = i18n.say("alarm.lost_more", lang, buildings=named, more=more) if more else named
        return i18n.say("alarm.lost_in_buildings", lang, devices=devices, buildings=buildings, messages=total)

    parts = [i18n.say("alarm.lost_building", lang, building=b, count=len(devices))
             for b, devices in loss.by_building.items()]
    shown: list[str] = []
    for i, part in enumerate(parts):
        rest = len(parts) - i - 1
        if len(title(shown + [part], rest)) > TITLE_LIMIT:
            return title(shown, len(parts) - i)
        shown.append(part)
    return title(shown, 0)


def should_clear(acked_at: datetime | None, last_loss_at: datetime, now: datetime, quiet: timedelta = QUIET) -> bool:
    """Whether a raised loss alarm (messages or session) is over: seen by an operator, and quiet since."""
    return acked_at is not None and now - last_loss_at >= quiet


def closed(marks: Mapping[str, Mark]) -> dict[str, Mark]:
    """The marks to store when the loss alarm clears: nothing of them is open any more."""
    return {device: Mark(mark.reported, 0) for device, mark in marks.items() if mark.open}
