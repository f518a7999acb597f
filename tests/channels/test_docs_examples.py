"""docs/channels.md's examples work: its site-file example passes `check-site`'s checks (every kind, Apprise
accepting each url) and routes as the page says; its signature check accepts a real delivery and refuses a
tampered one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from caretaker.dispatch.notify.model import classify
from caretaker.dispatch.notify.router import audiences, route
from caretaker.dispatch.notify.webhook import WebhookChannel
from caretaker.estate import parse_site
from tests.channels.receivers import WebhookReceiver
from tests.service.harness import SMALL_SITE

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "channels.md").read_text(encoding="utf-8")


def block(name: str) -> str:
    found = re.search(rf"<!-- tested: {name} -->\n```\w+\n(.*?)```", PAGE, re.S)
    assert found, f"docs/channels.md has no tested block {name!r}"
    return found.group(1)


def example_site():
    example = yaml.safe_load(block("channels-example"))
    data = yaml.safe_load(SMALL_SITE.read_text(encoding="utf-8"))
    data.update(example)
    environ = {name: "v" + name.lower().replace("_", "") + "0123456789" for name in re.findall(r"\$\{(\w+)\}", block("channels-example"))}
    return parse_site(yaml.safe_dump(data, allow_unicode=True), "channels-example.yaml", environ=environ)


def test_the_site_file_example_loads_with_every_kind():
    site = example_site()
    assert {c.kind for c in site.channels.values()} == {"webhook", "apprise"}
    assert site.channels["duty-mail"].url.startswith("mailto://caretaker:vsmtppassword0123456789@")
    assert site.locale == "zh-CN"


def test_the_example_routes_as_the_page_says():
    site = example_site()
    seen = audiences(site)

    def to(topic: str) -> list[str]:
        message = classify(1, f"caretaker/test-estate/{topic}", '{"id": "M-1"}', "caretaker", "test-estate")
        return route(message, site.channels, seen)

    assert to("technicians/t-wang/dispatch") == ["ops-webhook", "wang-wecom", "office-feishu"]
    assert to("supervisors/s-li/notify") == ["ops-webhook", "duty-dingtalk", "duty-mail"]
    assert to("alerts") == ["ops-webhook", "duty-dingtalk"]
    assert to("units/A-1203/notice") == ["ops-webhook", "residents-sms"]


def test_the_signature_check_accepts_a_real_delivery_and_refuses_a_tampered_one():
    namespace: dict = {}
    exec(block("verify-signature"), namespace)  # the page's own code
    verify = namespace["verify"]
    site = parse_site(SMALL_SITE.read_text(encoding="utf-8") + "channels:\n  - {id: hook, kind: webhook, "
                      "url: 'http://127.0.0.1:1/', secret: '${HOOK_SECRET}', takes: [alert]}\n", "s.yaml",
                      environ={"HOOK_SECRET": "the-secret"})
    receiver = WebhookReceiver()
    config = site.channels["hook"]
    channel = WebhookChannel(type(config)(id=config.id, kind=config.kind, url=receiver.url, takes=config.takes,
                                          secret=config.secret))
    try:
        message = classify(1, "caretaker/test-estate/alerts", json.dumps({"id": "M-1", "state": "raised"}),
                           "caretaker", "test-estate")
        assert channel.send(message, "D-1").outcome.value == "sent"
        [posted] = receiver.delivered()
    finally:
        channel.close()
        receiver.close()
    header = posted.headers["x-caretaker-signature"]
    assert verify(posted.body, header, "the-secret")
    assert not verify(posted.body.replace(b"raised", b"cleared"), header, "the-secret")
    assert not verify(posted.body, header, "another-secret")
    assert not verify(posted.body, None, "the-secret")
