"""Pure travel-time arithmetic on an estate: floors by stairs or lift, walks between buildings."""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from threading import Lock

from caretaker.estate.model import Place, Site


def floors_apart(first: int, second: int) -> int:
    """Return how many floors lie between two floors. There is no floor 0 (basement 1 is -1, the
    floor above it is 1), so going from -1 to 1 is one floor, not two (docs/site-file.md, "Travel time")."""
    apart = abs(first - second)
    if min(first, second) < 0 < max(first, second):
        apart -= 1  # the missing floor 0
    return apart


@dataclass(frozen=True, slots=True)
class TravelTable:
    """Everything a travel-time query needs, precomputed once per site."""

    floor_s: int
    # building id -> the floor people walk in on
    ground: Mapping[str, int]
    # (from building, to building) -> shortest walk in seconds; absent when not connected
    walks: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def seconds(self, origin: Place, dest: Place) -> int | None:
        """Return the seconds from `origin` to `dest`, or None when a building is unknown or unreachable."""
        ground = self.ground
        if origin.building == dest.building:
            if origin.building not in ground:
                return None
            return floors_apart(origin.floor, dest.floor) * self.floor_s
        walk = self.walks.get((origin.building, dest.building))
        if walk is None:
            return None
        down = floors_apart(origin.floor, ground[origin.building]) * self.floor_s
        up = floors_apart(dest.floor, ground[dest.building]) * self.floor_s
        return down + walk + up


def _shortest_walks(start: str, graph: Mapping[str, list[tuple[str, int]]]) -> dict[str, int]:
    """Dijkstra from `start`: building id -> fewest seconds to walk there."""
    best: dict[str, int] = {start: 0}
    queue: list[tuple[int, str]] = [(0, start)]
    while queue:
        cost, here = heapq.heappop(queue)
        if cost > best.get(here, cost):
            continue  # a stale entry: a shorter way here was already found
        for there, step in graph.get(here, ()):
            total = cost + step
            if total < best.get(there, total + 1):
                best[there] = total
                heapq.heappush(queue, (total, there))
    return best


def build_travel_table(site: Site) -> TravelTable:
    """Return the all-pairs travel table of `site`; pairs missing from the file go via other buildings."""
    graph: dict[str, list[tuple[str, int]]] = {building: [] for building in site.buildings}
    for pair, seconds in site.travel.walks.items():
        ends = sorted(pair)
        if len(ends) != 2 or not all(end in graph for end in ends):
            continue  # the loader refuses these; a hand-built Site may still carry them
        first, second = ends
        graph[first].append((second, seconds))
        graph[second].append((first, seconds))
    walks: dict[tuple[str, str], int] = {}
    for start in graph:
        for end, seconds in _shortest_walks(start, graph).items():
            if end != start:
                walks[(start, end)] = seconds
    ground = {building.id: building.ground_floor for building in site.buildings.values()}
    return TravelTable(floor_s=site.travel.floor_s, ground=ground, walks=walks)


# Site is frozen but holds dicts, so it is neither hashable nor weak-referenceable; the cache keys
# on id() and keeps the Site itself, so an id cannot be reused by another object while cached.
_CACHE_SIZE = 8
_cache: dict[int, tuple[Site, TravelTable]] = {}
_cache_lock = Lock()


def get_travel_table(site: Site) -> TravelTable:
    """Return the travel table of `site`, built on first use and then reused."""
    key = id(site)
    hit = _cache.get(key)
    if hit is not None and hit[0] is site:
        return hit[1]
    table = build_travel_table(site)
    with _cache_lock:
        if len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))  # the oldest: a process rarely holds more than one site
        _cache[key] = (site, table)
    return table


def travel_seconds(site: Site, origin: Place, dest: Place) -> int | None:
    """Return the seconds to go from `origin` to `dest` on `site`, or None when there is no way.

    Same building: one `floor_s` per floor. Different buildings: down to the origin's ground
    floor, the shortest walk, up to the destination floor. Unknown buildings give None.
    """
    return get_travel_table(site).seconds(origin, dest)
