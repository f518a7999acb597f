"""Who gets what (docs/channels.md, "Who gets what"): which channels take a message, from its kind, the
channels' `takes` and `to`, and the people's `notify` lists. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from caretaker.estate.model import Channel, Site
from caretaker.dispatch.notify.model import Outbound


def audiences(site: Site) -> dict[str, frozenset[str]]:
    """Return, per channel, the people whose messages it carries: its `to`, and everyone whose `notify` names
    it. An empty audience means anyone's."""
    people: dict[str, set[str]] = {cid: set(channel.to or ()) for cid, channel in site.channels.items()}
    for person_id, notify in _notify_lists(site):
        for cid in notify:
            if cid in people:
                people[cid].add(person_id)
    return {cid: frozenset(ids) for cid, ids in people.items()}


def _notify_lists(site: Site) -> Iterable[tuple[str, tuple[str, ...]]]:
    for group in (site.technicians, site.supervisors, getattr(site, "contractors", {})):
        for person_id, person in group.items():
            yield person_id, tuple(getattr(person, "notify", ()) or ())


def takes(channel: Channel, audience: frozenset[str], message: Outbound) -> bool:
    """Return True when the channel takes the message: of a kind it takes and, when the message is for one
    person and the channel has an audience, for someone in it. Alerts and resident notices are for nobody in
    particular: every channel that takes their kind gets them."""
    if message.kind.value not in channel.takes:
        return False
    if message.person is None or not audience:
        return True
    return message.person in audience


def route(message: Outbound, channels: Mapping[str, Channel], audience: Mapping[str, frozenset[str]]) -> list[str]:
    """Return the ids of the channels that take the message, in the site file's order."""
    return [cid for cid, channel in channels.items() if takes(channel, audience.get(cid, frozenset()), message)]
