"""Reading → webhook delivery, as the closing note of the channels work reports it: 20 leak sensors each send
one wet reading, one after another; each reading's AlertEvent reaches the MQTT subscriber and the webhook
receiver. Figures are printed (`pytest -s`); the test holds both within 2 s at the 95th percentile on a busy
machine (scaled: 20 readings, not a day's traffic)."""

from __future__ import annotations

import statistics
import time

import yaml

from tests.channels.receivers import WebhookReceiver
from tests.channels.sites import start
from tests.service.harness import SMALL_SITE, Watcher, now_iso

SENSORS = 20


def test_reading_to_webhook_delivery(mosquitto, database_url, tmp_path):
    receiver = WebhookReceiver()
    data = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    data["devices"] += [{"id": f"A-WET-{n}", "type": "water_leak", "building": "A", "floor": 1 + n % 10}
                        for n in range(SENSORS)]
    data["channels"] = [{"id": "ops", "kind": "webhook", "url": receiver.url, "takes": ["alert", "dispatch"]}]
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    service = start(mosquitto.url, database_url, site)
    to_mqtt, to_webhook = [], []
    try:
        for n in range(SENSORS):
            device = f"A-WET-{n}"
            sent = time.monotonic()
            watcher.publish(f"test-estate/devices/{device}/telemetry",
                            {"ts": now_iso(), "seq": 1, "values": {"leak": True}})
            pushed = watcher.wait_for("test-estate/alerts", lambda p, d=device: p["device"] == d, timeout=10)
            posted = receiver.wait_for(lambda b, d=device: b["kind"] == "alert" and b["payload"]["device"] == d,
                                       timeout=10)
            to_mqtt.append(pushed.at - sent)
            to_webhook.append(posted.at - sent)
    finally:
        service.stop()
        watcher.close()
        receiver.close()

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    print(f"\n[{database_url.split(':')[0]}] reading -> MQTT alert: median {statistics.median(to_mqtt) * 1000:.0f} ms, "
          f"p95 {p95(to_mqtt) * 1000:.0f} ms; reading -> webhook: median {statistics.median(to_webhook) * 1000:.0f} ms, "
          f"p95 {p95(to_webhook) * 1000:.0f} ms ({SENSORS} readings)")
    assert p95(to_mqtt) < 2.0 and p95(to_webhook) < 2.0
