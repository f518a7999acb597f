"""An Apprise channel delivers to a real SMTP server started by the test (aiosmtpd, `mailto://` with a login
and no TLS on a free port), with a message written for a person in Chinese, or in English when the site says
`locale: en`; the channels' secrets never reach a log line (docs/channels.md)."""

from __future__ import annotations

import logging
import time

import pytest

from tests.channels.receivers import SmtpSink, WebhookReceiver, text_of
from tests.channels.sites import site_with, start
from tests.service.harness import Watcher, now_iso

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

PASSWORD = "smtp-pw-9f3a7c21e5"
HOOK_SECRET = "hook-secret-5d1e8b7a42"
HOOK_TOKEN = "hook-token-77c0aa13fe"


@pytest.fixture
def watcher(mosquitto):
    watcher = Watcher(mosquitto.host, mosquitto.port, client_id=f"watcher-{time.monotonic_ns()}")
    yield watcher
    watcher.close()


def mail_channel(sink: SmtpSink) -> str:
    return ("  - id: duty-mail\n    kind: apprise\n"
            f"    url: mailto://caretaker:${{TEST_SMTP_PASSWORD}}@127.0.0.1:{sink.port}"
            "?from=caretaker@example.com&to=duty@example.com\n"
            "    takes: [dispatch]\n    to: [t-near]\n")


def leak(watcher: Watcher) -> None:
    watcher.publish("test-estate/technicians/t-near/location", {"ts": now_iso(), "building": "A", "floor": 2})
    time.sleep(0.2)
    watcher.publish("test-estate/devices/A-LEAK-1/telemetry", {"ts": now_iso(), "seq": 1, "values": {"leak": True}})


def test_an_apprise_mail_channel_delivers_the_dispatch_in_chinese(mosquitto, database_url, tmp_path, monkeypatch,
                                                                 watcher):
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    sink = SmtpSink(login=("caretaker", PASSWORD))
    service = start(mosquitto.url, database_url, site_with(tmp_path, mail_channel(sink)))
    try:
        leak(watcher)
        push = watcher.wait_for("technicians/t-near/dispatch", lambda p: p["type"] == "assigned").json()
        mail = sink.wait_for_mail()
    finally:
        service.stop()
        sink.close()
    body = text_of(mail)
    # level, building and floor in words, the technician's name from the site file, minutes to arrive
    assert body.startswith("【一级】A栋负一层pump-room"), body
    assert "派给Near Plumber" in body and f"预计{max(1, round(push['travel_s'] / 60))}分钟到场" in body
    assert push["title"] in body and "{" not in body  # a sentence, not JSON
    assert str(mail["Subject"]) == f"派单 {push['ticket']}"
    assert mail["To"] == "duty@example.com" and sink.logins == [True]


def test_english_when_the_site_says_so(mosquitto, sqlite_url, tmp_path, monkeypatch, watcher):
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    sink = SmtpSink(login=("caretaker", PASSWORD))
    service = start(mosquitto.url, sqlite_url, site_with(tmp_path, mail_channel(sink), locale="en"))
    try:
        leak(watcher)
        mail = sink.wait_for_mail()
    finally:
        service.stop()
        sink.close()
    body = text_of(mail)
    assert body.startswith("[Level 1] Building A, basement 1, pump-room: "), body
    assert "Assigned to Near Plumber: accept by " in body


def test_secrets_from_the_environment_never_reach_the_logs(mosquitto, sqlite_url, tmp_path, monkeypatch, watcher,
                                                           caplog):
    """Every logger at DEBUG, Apprise's and httpx's included, while a webhook with a token in its url and a
    secret, and a mail channel with a password, deliver a leak's messages."""
    monkeypatch.setenv("TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("TEST_HOOK_SECRET", HOOK_SECRET)
    monkeypatch.setenv("TEST_HOOK_TOKEN", HOOK_TOKEN)
    sink = SmtpSink(login=("caretaker", PASSWORD))
    receiver = WebhookReceiver()
    hook = (f"  - {{id: hook, kind: webhook, url: '{receiver.url}?token=${{TEST_HOOK_TOKEN}}', "
            "secret: '${TEST_HOOK_SECRET}', takes: [dispatch, alert]}\n")
    caplog.set_level(logging.DEBUG)
    service = start(mosquitto.url, sqlite_url, site_with(tmp_path, mail_channel(sink) + hook))
    try:
        leak(watcher)
        sink.wait_for_mail()
        receiver.wait_for(lambda b: b["kind"] == "dispatch")
    finally:
        service.stop()
        sink.close()
        receiver.close()
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "HTTP Request: POST" in logged  # httpx did log the request, with the token cut out
    for secret in (PASSWORD, HOOK_SECRET, HOOK_TOKEN):
        assert secret not in logged
