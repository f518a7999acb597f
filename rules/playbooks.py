"""Playbooks: which trades an incident needs now and later (docs/operations.md, "Playbooks"), as the rules
file says or by the defaults below; matching an alarm to its playbooks and what a ticket still lacks is pure."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True, slots=True)
class Playbook:
    """For alarms of these rules at these levels: the owner is the rule's trade; `now` are the support
    trades dispatched at once, `on_resolve` those dispatched when the owner resolves. A trade named twice
    is wanted twice."""

    id: str
    rules: frozenset[str]
    levels: frozenset[int]
    now: tuple[str, ...] = ()
    on_resolve: tuple[str, ...] = ()


ALL_LEVELS = frozenset({1, 2, 3, 4})

DEFAULT_PLAYBOOKS: tuple[Playbook, ...] = (
    # a burst pipe: stop the water, keep people away and protect property, clean up afterwards
    Playbook("burst-pipe", frozenset({"water-leak"}), frozenset({1}), now=("security",), on_resolve=("cleaning",)),
    # mains lost: restore power, and check every lift car for trapped passengers
    Playbook("mains-lost", frozenset({"mains-power-lost"}), ALL_LEVELS, now=("elevator",)),
    # entrapment: free the passenger, stay with them and meet the rescue crew
    Playbook("entrapment", frozenset({"elevator-alarm-button", "elevator-stopped-occupied", "entrapment-risk"}),
             frozenset({1}), now=("security",)),
)


def matching(playbooks: Iterable[Playbook], rule_id: str, urgency: int) -> list[Playbook]:
    """Return the playbooks an alarm of `rule_id` raised at `urgency` calls for."""
    return [p for p in playbooks if rule_id in p.rules and urgency in p.levels]


def missing_trades(wanted: Sequence[str], owner_trade: str, present: Iterable[str]) -> list[str]:
    """Return the support trades of `wanted` a ticket does not have yet: each trade as many times as `wanted`
    names it, less the live assignments of that trade it has (`present`; the owner's counts as its trade)."""
    have = Counter(present)
    have[owner_trade] += 0
    need = Counter(wanted)
    result: list[str] = []
    for trade in dict.fromkeys(wanted):
        result += [trade] * max(0, need[trade] - have[trade])
    return result
