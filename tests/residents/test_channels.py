"""Resident notices beyond MQTT, on the real service: a WeChat official-account bridge (a webhook that
takes `[resident]`) gets the very ResidentNotice the unit's topic got, and an SMS gateway (here a real
SMTP server through Apprise's `mailto://`) a sentence in Chinese with the progress link. A channel that
does not take residents' notices gets none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from caretaker.api.app import create_app
from caretaker.http import api_context
from tests.channels.receivers import SmtpSink, WebhookReceiver, text_of
from tests.residents.support import Notices, site_with_units
from tests.service.harness import start_service

ADMIN_TOKEN = "residents-channels-admin"
REPORT = {"reporter_name": "Sun Li", "reporter_phone": "13600136000", "unit": "A-0502",
          "description": "厨房水管漏水", "source": "wechat"}


def test_a_received_notice_reaches_the_bridge_and_the_sms_gateway(mosquitto, database_url, tmp_path):
    bridge, ops = WebhookReceiver("/wechat"), WebhookReceiver("/ops")
    sms = SmtpSink()
    site = site_with_units(tmp_path)
    with site.open("a", encoding="utf-8") as out:
        out.write("channels:\n"
                  f"  - {{id: wechat-bridge, kind: webhook, url: '{bridge.url}', takes: [resident]}}\n"
                  f"  - {{id: ops-hook, kind: webhook, url: '{ops.url}', takes: [notice]}}\n"
                  f"  - {{id: sms, kind: apprise, url: 'mailto://127.0.0.1:{sms.port}?from=caretaker@example.com"
                  "&to=sms-gateway@example.com', takes: [resident]}\n")
    gateway = Notices(mosquitto.host, mosquitto.port)
    service = start_service(mosquitto.url, database_url, site_file=site, admin_token=ADMIN_TOKEN,
                            public_url="https://care.example.com")
    try:
        client = TestClient(create_app(api_context(service)))
        token = client.post("/api/v1/tokens", json={"role": "operator", "subject": "op-1"},
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).json()["token"]
        ticket = client.post("/api/v1/tickets", json=REPORT, headers={"Authorization": f"Bearer {token}"}).json()
        [(_, notice)] = gateway.wait("received", 1)
        posted = bridge.wait_for(lambda b: b["kind"] == "resident").json()
        mail = sms.wait_for_mail()
        # nobody is on site: the supervisors' notice reaches the other channel, which took no resident's notice
        ops.wait_for(lambda b: b["kind"] == "notice")
    finally:
        service.stop()
        gateway.close()
        for closing in (bridge, ops, sms):
            closing.close()
    assert posted["payload"] == notice and posted["topic"] == "caretaker/test-estate/units/A-0502/notice"
    assert not [p for p in ops.delivered() if p.json()["kind"] == "resident"]
    body = text_of(mail)
    assert body.startswith(f"您的报修已受理，工单号{ticket['id']}") and ticket["progress_link"] in body, body
    assert ticket["progress_link"].startswith("https://care.example.com/r/")
