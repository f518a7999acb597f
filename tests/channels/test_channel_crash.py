"""A crash between a receiver's 2xx and the delivery's record (`caretaker run` killed at the crash point
`channel_sent_before_mark`) sends that message again after the restart, with the same delivery id, and
nothing more: at least once, and a receiver that drops repeats by `id` sees it once (docs/channels.md)."""

from __future__ import annotations

from collections import Counter

import yaml
from sqlalchemy import select

from caretaker.dispatch.notify.tables import DeliveryRow
from tests.channels.receivers import WebhookReceiver
from tests.faults.service_process import ServiceProcess, engine_for, service_env, wait_for, write_site
from tests.service.harness import Watcher, now_iso


def test_a_crash_after_the_receivers_answer_repeats_that_delivery_once_with_its_id(mosquitto, database_url,
                                                                                   tmp_path):
    receiver = WebhookReceiver()
    site = write_site(tmp_path / "site.yaml", "crash-estate",
                      [{"id": "LEAK-1", "type": "water_leak", "building": "A", "floor": 1}],
                      [{"id": "A", "floors": [1, 5]}])
    body = yaml.safe_load(site.read_text(encoding="utf-8"))
    body["channels"] = [{"id": "ops", "kind": "webhook", "url": receiver.url, "takes": ["alert"]}]
    site.write_text(yaml.safe_dump(body), encoding="utf-8")
    process = ServiceProcess(service_env(site, database_url, mosquitto.url), tmp_path / "service.log")
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id="crash-watcher")
    engine = engine_for(database_url)
    try:
        process.start(CARETAKER_CRASH_AT="channel_sent_before_mark")
        process.wait_ready()
        watcher.client.publish("caretaker/crash-estate/devices/LEAK-1/telemetry",
                               f'{{"ts": "{now_iso()}", "seq": 1, "values": {{"leak": true}}}}', qos=1)
        assert process.wait_exit(timeout=30) == 137  # died with the receiver's 200 unrecorded
        [first] = receiver.delivered()
        process.start()
        process.wait_ready()

        def recorded():
            with engine.connect() as connection:
                return connection.scalar(select(DeliveryRow.status).where(DeliveryRow.channel == "ops"))

        wait_for(lambda: recorded() == "delivered", timeout=20, what="the delivery recorded after the restart")
        # the same message was delivered once more, the same id and bytes, and nothing else to this channel
        ids = Counter(p.json()["id"] for p in receiver.delivered())
        assert ids == {first.json()["id"]: 2}
        assert receiver.delivered()[1].body == first.body
    finally:
        process.stop()
        watcher.close()
        receiver.close()
        engine.dispose()
