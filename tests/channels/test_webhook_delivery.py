"""Webhook channels against the real service, Mosquitto and SQLite/PostgreSQL: a leak's dispatch reaches a
receiver started by the test, signed, with the MQTT push's own payload; a receiver that fails delays nothing
else and gets each message once it recovers; a restart loses no pending delivery (docs/channels.md)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from caretaker.dispatch.notify.tables import DeliveryRow
from tests.channels.receivers import WebhookReceiver
from tests.channels.sites import site_with, start
from tests.service.harness import Watcher, now_iso, wait_until

SECRET = "s3cr3t-for-the-test-only"


@pytest.fixture
def receivers():
    made: list[WebhookReceiver] = []

    def make() -> WebhookReceiver:
        made.append(WebhookReceiver())
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


@pytest.fixture
def watcher(mosquitto):
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield watcher
    watcher.close()


def hooks(*pairs: tuple[str, WebhookReceiver], takes: str = "[notice, dispatch, alert, resident]") -> str:
    return "".join(f"  - {{id: {cid}, kind: webhook, url: '{r.url}', secret: '${{TEST_HOOK_SECRET}}', "
                   f"takes: {takes}}}\n" for cid, r in pairs)


def leak(watcher: Watcher, device: str = "A-LEAK-1", seq: int = 1) -> None:
    watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 2})
    time.sleep(0.2)  # the location is the older message (the device's own order does not cover it)
    watcher.publish(f"test-estate/devices/{device}/telemetry", {"ts": now_iso(), "seq": seq, "values": {"leak": True}})


def is_dispatch(body) -> bool:
    return body["kind"] == "dispatch" and body["payload"]["type"] == "assigned"


def test_a_leaks_dispatch_reaches_the_webhook_signed_with_the_mqtt_payload(mosquitto, database_url, tmp_path,
                                                                            monkeypatch, receivers, watcher):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    receiver = receivers()
    service = start(mosquitto.url, database_url, site_with(tmp_path, hooks(("ops-webhook", receiver))))
    try:
        leak(watcher)
        push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned")
        posted = receiver.wait_for(is_dispatch)
    finally:
        service.stop()
    body = posted.json()
    assert posted.headers["content-type"] == "application/json"
    expected = "sha256=" + hmac.new(SECRET.encode(), posted.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(posted.headers["x-caretaker-signature"], expected)
    assert body["payload"] == push.json()  # the very payload the technician's app got, its id included
    assert (body["site"], body["topic"]) == ("test-estate", "caretaker/test-estate/technicians/t-near/dispatch")
    assert body["id"].startswith("D-") and body["id"] != push.json()["id"]
    # the alert went too, as kind "alert", on its own topic
    alert = receiver.wait_for(lambda b: b["kind"] == "alert")
    assert alert.json()["topic"] == "caretaker/test-estate/alerts"


@pytest.mark.parametrize("failure", ["http 500", "refused"])
def test_a_failing_receiver_delays_nothing_else_and_gets_each_message_once_it_recovers(
        mosquitto, sqlite_url, tmp_path, monkeypatch, receivers, watcher, failure):
    """Scaled: the receiver fails for 4 tries and more (about 2 s at the test's back-off of 0.2 s doubling to
    1 s, the service's being 1 s to 5 min) rather than a minute; meanwhile the MQTT pushes and the other
    channel's copies, of a reading before the failures and of one during them, arrive within 2 s."""
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    broken, healthy = receivers(), receivers()
    if failure == "refused":
        broken.refuse()
    else:
        broken.status = 500
    service = start(mosquitto.url, sqlite_url, site_with(tmp_path, hooks(("broken", broken), ("healthy", healthy))))
    try:
        leak(watcher)
        sent = time.monotonic()
        push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned")
        other = healthy.wait_for(is_dispatch)
        assert push.at - sent < 2.0 and other.at - sent < 2.0
        worker = service.channels.workers["broken"]
        wait_until(lambda: worker.failed_attempts >= 4, timeout=15, what="four failed tries")
        assert not broken.delivered()
        # a reading while the receiver is down: its push and the healthy channel's copy are as quick as ever
        sent = time.monotonic()
        watcher.publish("test-estate/devices/B-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
        alert = watcher.wait_for("test-estate/alerts", lambda p: p["device"] == "B-LEAK-1")
        copy = healthy.wait_for(lambda b: b["kind"] == "alert" and b["payload"]["device"] == "B-LEAK-1")
        assert alert.at - sent < 2.0 and copy.at - sent < 2.0
        assert not broken.delivered()
        if failure == "refused":
            broken.accept()
        else:
            broken.status = 200
        recovered = broken.wait_for(is_dispatch, timeout=10)
        # everything the healthy channel got, the broken one gets too, in the end
        wait_until(lambda: {p.json()["payload"]["id"] for p in broken.delivered()}
                   >= {p.json()["payload"]["id"] for p in healthy.delivered()}, timeout=10, what="the backlog")
    finally:
        service.stop()
    assert recovered.json()["payload"] == push.json()
    repeats = Counter(p.json()["id"] for p in broken.delivered())
    assert max(repeats.values()) == 1, repeats  # no crash here: at least once is exactly once
    assert worker.delivered == len(repeats) and worker.given_up == 0
    if failure == "http 500":
        assert len(broken.posts) - len(broken.delivered()) == worker.failed_attempts


def test_a_restart_while_a_delivery_is_pending_loses_nothing(mosquitto, database_url, tmp_path, monkeypatch,
                                                             receivers, watcher):
    monkeypatch.setenv("TEST_HOOK_SECRET", SECRET)
    receiver = receivers()
    receiver.refuse()
    site = site_with(tmp_path, hooks(("ops-webhook", receiver), takes="[dispatch]"))
    service = start(mosquitto.url, database_url, site)
    try:
        leak(watcher)
        push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned")
        wait_until(lambda: service.channels.workers["ops-webhook"].failed_attempts >= 1, timeout=10,
                   what="a failed try")
    finally:
        service.stop()
    with service.engine.connect() as connection:
        pending = connection.scalar(select(func.count()).where(DeliveryRow.status == "pending"))
    assert pending >= 1
    receiver.accept()
    again = start(mosquitto.url, database_url, site)
    try:
        posted = receiver.wait_for(is_dispatch, timeout=10)
        wait_until(lambda: again.channels.workers["ops-webhook"].delivered >= pending, timeout=10,
                   what="the queue delivered")
    finally:
        again.stop()
    assert posted.json()["payload"] == push.json()
    assert Counter(p.json()["id"] for p in receiver.delivered()).most_common(1)[0][1] == 1
