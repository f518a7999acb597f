"""Paging the device list (docs/api.md, "GET /api/v1/devices"): through the real API on SQLite and PostgreSQL,
pages of `limit` devices chained by X-Next-After cover every device once, in building, floor and id order, with
the same objects as the whole list; filters page the same way; a bad limit or cursor is a 422 naming it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from caretaker.ingest.store import DeviceSnapshot, save_snapshots
from caretaker.rules.tables import AlertRow


def _estate_heard_from(ctx) -> dict[str, bool | None]:
    """State rows for most devices: every third offline, a few never heard; some open alerts and old faults.
    Returns each device's expected `online`."""
    now = ctx.clock.now()
    online: dict[str, bool | None] = {}
    snaps, alerts = [], []
    for n, device_id in enumerate(sorted(ctx.site.devices)):
        if n % 7 == 6:
            online[device_id] = None  # never heard from: no row
            continue
        online[device_id] = n % 3 != 0
        snaps.append(DeviceSnapshot(device_id, {"n": n}, online[device_id], now, n, now))
        for k in range(n % 4 if n % 5 == 0 else 0):
            alerts.append({"id": f"AL-{n:03d}-{k}", "rule_id": "r", "device_id": device_id, "urgency": 2,
                           "category": "general", "title": "t", "state": "raised" if k == 0 else "cleared",
                           "raised_at": now - timedelta(days=k * 3)})
    with ctx.sessions.begin() as session:
        save_snapshots(session, snaps, set())
        session.execute(insert(AlertRow), alerts)
    return online


def _walk(client, headers, limit: int, **query: str) -> tuple[list[dict[str, Any]], int]:
    """Every page of a query, following X-Next-After (and checking Link says the same); (devices, pages)."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {**query, "limit": limit}
    for pages in range(1, 100):
        response = client.get("/api/v1/devices", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= limit
        found += page
        after = response.headers.get("X-Next-After")
        if after is None:
            assert "Link" not in response.headers
            return found, pages
        assert len(page) == limit and after == page[-1]["id"]
        assert f"after={after}" in response.headers["Link"] and response.headers["Link"].endswith('rel="next"')
        params["after"] = after
    raise AssertionError("the pages never ended")


def _in_list_order(ctx, ids: list[str]) -> list[str]:
    place = ctx.site.devices
    return sorted(ids, key=lambda i: (place[i].place.building, place[i].place.floor, i))


def test_pages_cover_every_device_once_in_order(client, ctx, issue):
    _estate_heard_from(ctx)
    integrator = issue("integrator", "bms")
    whole = client.get("/api/v1/devices", headers=integrator).json()
    assert [d["id"] for d in whole] == _in_list_order(ctx, list(ctx.site.devices))
    for limit in (1, 5, len(whole) - 1, len(whole), 1000):
        paged, pages = _walk(client, integrator, limit)
        assert paged == whole, f"limit={limit}"  # the same objects: values, open alerts, faults
        assert pages == -(-len(whole) // limit)
    faulty = [d for d in whole if d["faults_30d"]]
    assert faulty and all(d["open_alerts"] for d in faulty) and any(d["faults_30d"] > 1 for d in faulty)


FILTERS = [{"building": "A"}, {"type": "water_leak"}, {"building": "B", "type": "elevator"}, {"online": "true"},
           {"online": "false"}, {"building": "P", "online": "true"}, {"type": "access_door", "online": "false"},
           {"building": "no-such"}]


def test_filters_page_the_same_way(client, ctx, issue):
    online = _estate_heard_from(ctx)
    operator = issue("operator", "op-1")
    for query in FILTERS:
        whole = client.get("/api/v1/devices", params=query, headers=operator).json()
        expected = [i for i in _in_list_order(ctx, list(ctx.site.devices))
                    if ctx.site.devices[i].place.building == query.get("building", ctx.site.devices[i].place.building)
                    and ctx.site.devices[i].type == query.get("type", ctx.site.devices[i].type)
                    and ("online" not in query or online[i] is (query["online"] == "true"))]
        assert [d["id"] for d in whole] == expected, query
        for limit in (1, 4):
            assert _walk(client, operator, limit, **query)[0] == whole, (query, limit)


def test_a_page_starts_after_any_device_of_the_site(client, ctx, issue):
    _estate_heard_from(ctx)
    integrator = issue("integrator", "bms")
    order = [d["id"] for d in client.get("/api/v1/devices", headers=integrator).json()]
    middle = order[len(order) // 2]
    rest = client.get("/api/v1/devices", params={"after": middle}, headers=integrator).json()
    assert [d["id"] for d in rest] == order[len(order) // 2 + 1:]  # without a limit: the rest of the list
    # a cursor from another filter still places the page: the devices of building B past that device
    leaks = client.get("/api/v1/devices", params={"after": order[0], "building": "B", "limit": 3},
                       headers=integrator).json()
    assert [d["id"] for d in leaks] == [i for i in order if ctx.site.devices[i].place.building == "B"][:3]
    last = client.get("/api/v1/devices", params={"after": order[-1], "limit": 5}, headers=integrator)
    assert last.status_code == 200 and last.json() == [] and "X-Next-After" not in last.headers


BAD = [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "ten"}, "limit"), ({"after": "NOPE"}, "after"),
       ({"after": "x" * 65}, "after"), ({"online": "maybe"}, "online")]


def test_bad_page_requests_name_the_field(client, issue):
    integrator = issue("integrator", "bms")
    for params, field in BAD:
        response = client.get("/api/v1/devices", params=params, headers=integrator)
        assert response.status_code == 422, (params, response.text)
        assert ["query", field] in [d["loc"] for d in response.json()["detail"]], response.text


def test_one_device_reads_its_own_state(client, ctx, issue):
    online = _estate_heard_from(ctx)
    integrator = issue("integrator", "bms")
    whole = {d["id"]: d for d in client.get("/api/v1/devices", headers=integrator).json()}
    for device_id in ctx.site.devices:
        one = client.get(f"/api/v1/devices/{device_id}", headers=integrator)
        assert one.status_code == 200 and one.json() == whole[device_id]
        assert one.json()["online"] is online[device_id]
