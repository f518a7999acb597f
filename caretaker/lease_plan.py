"""Which estates an instance renews and which it claims this round: pure decisions over the lease rows
(docs/deploy.md, "Scaling out"). The rows live in caretaker/estate_leases.py; the keeper that acts on the
plan is caretaker/lease_keeper.py."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence


@dataclass(frozen=True, slots=True)
class Lease:
    """One estate's lease row as read: who holds it, under which generation, until when (database clock)."""

    site: str
    owner: str
    generation: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    renew: tuple[str, ...]  # estates this instance holds and keeps
    claim: tuple[str, ...]  # estates free for the taking, in the order to try them


def is_free(lease: Lease | None, me: str, now: datetime, starting: bool) -> bool:
    """An estate may be claimed when nobody ever held it, its lease ran out, or (only while starting) it was held
    under this instance's own name: a restarted instance takes back its estates at once instead of waiting
    for its dead predecessor's lease to run out."""
    return lease is None or lease.expires_at <= now or (starting and lease.owner == me)


def plan_round(wanted: Sequence[str], leases: Mapping[str, Lease], held: Mapping[str, int], me: str,
               now: datetime, capacity: int, starting: bool = False) -> Plan:
    """Renew what this instance holds; claim free estates up to its capacity. When other instances are alive
    (they hold unexpired leases), claim only up to a fair share of all the estates a round, so that an instance
    that joins takes its part of the free ones at once and leaves the rest to the others."""
    renew = tuple(site for site in wanted if site in held)
    room = max(0, capacity - len(renew))
    free = [site for site in wanted if site not in held and is_free(leases.get(site), me, now, starting)]
    # our own name's estates first (a restart), then the ones nobody ever held, then by name
    free.sort(key=lambda site: (leases.get(site) is None or leases[site].owner != me,
                                leases.get(site) is not None, site))
    others = {lease.owner for lease in leases.values() if lease.owner != me and lease.expires_at > now}
    # a fair share of all the estates, less what we hold; at least one a round, so that estates the others
    # leave (they are at their capacity) are taken all the same
    share = max(1, math.ceil(len(wanted) / (len(others) + 1)) - len(renew))
    return Plan(renew, tuple(free[:min(room, share)]))
