"""Who gets what, what happens after a try, and what people read: the channels' pure decisions
(docs/channels.md)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest

from caretaker.estate import parse_site
from caretaker.dispatch.notify.model import Delivery, MessageKind, classify, delivery_id
from caretaker.dispatch.notify.policy import GIVE_UP_AFTER, Backoff, after_attempt
from caretaker.dispatch.notify.router import audiences, route
from caretaker.dispatch.notify.texts import CannotFormat, render
from caretaker.dispatch.notify.webhook import body, judge, signature
from tests.estate.test_site_file import BASE_LINES, FILENAME

CHANNELS = [
    '  - {id: t-wang-wecom, kind: apprise, url: "wecombot://k1234567", takes: [dispatch]}',
    '  - {id: ops-hook, kind: webhook, url: "https://ops.example/h", takes: [notice, dispatch, alert, resident]}',
    '  - {id: sup-dingtalk, kind: apprise, url: "dingtalk://t1234567", takes: [notice, alert], to: [s-li]}',
    '  - {id: residents-sms, kind: webhook, url: "https://sms.example/h", takes: [resident]}',
]
LINES = [line for line in BASE_LINES]
LINES[15] = "    name: Wang Jun\n    notify: [t-wang-wecom]"
LINES[20] = '  - {id: s-li, name: Li Na, phone: "13900139000"}\n  - {id: s-zhang, name: Zhang Wei, phone: "13900139001"}'
SITE = parse_site("\n".join(LINES + ["channels:", *CHANNELS]) + "\n", FILENAME, environ={})
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


def message(topic: str, payload: dict):
    return classify(7, f"caretaker/tiny/{topic}", json.dumps({"id": "M-abc", **payload}), "caretaker", "tiny")


def channels_for(topic: str, payload: dict | None = None) -> list[str]:
    return route(message(topic, payload or {}), SITE.channels, audiences(SITE))


def test_kinds_and_people_come_from_the_topic():
    assert message("technicians/t-wang/dispatch", {}).kind is MessageKind.DISPATCH
    assert message("technicians/t-wang/dispatch", {}).person == "t-wang"
    assert message("supervisors/s-li/notify", {}).person == "s-li"
    assert message("units/A-1203/notice", {}).unit == "A-1203"
    assert message("alerts", {}).kind is MessageKind.ALERT and message("alerts", {}).person is None
    assert message("deadletter", {}) is None
    assert classify(1, "caretaker/other-site/alerts", "{}", "caretaker", "tiny") is None


def test_who_gets_what():
    # a technician's own channel (their notify list) and the integrators' catch-all
    assert channels_for("technicians/t-wang/dispatch") == ["t-wang-wecom", "ops-hook"]
    # a supervisor's notices: the channel whose `to` names them, and the catch-all; not another supervisor's
    assert channels_for("supervisors/s-li/notify") == ["ops-hook", "sup-dingtalk"]
    assert channels_for("supervisors/s-zhang/notify") == ["ops-hook"]
    # alerts and resident notices are for nobody in particular: every channel that takes their kind
    assert channels_for("alerts") == ["ops-hook", "sup-dingtalk"]
    assert channels_for("units/A-1203/notice") == ["ops-hook", "residents-sms"]


def test_a_channel_named_in_a_notify_list_carries_only_its_people():
    assert audiences(SITE)["t-wang-wecom"] == {"t-wang"}
    assert audiences(SITE)["ops-hook"] == frozenset()
    other = dataclasses.replace(message("technicians/t-wang/dispatch", {}), person="t-li")
    assert route(other, SITE.channels, audiences(SITE)) == ["ops-hook"]


def test_the_delivery_id_is_stable_per_message_and_channel():
    assert delivery_id("tiny", "ops-hook", "M-abc") == delivery_id("tiny", "ops-hook", "M-abc")
    assert delivery_id("tiny", "ops-hook", "M-abc") != delivery_id("tiny", "sup-dingtalk", "M-abc")
    assert delivery_id("tiny", "ops-hook", "M-abc") != delivery_id("tiny", "ops-hook", "M-abd")


@pytest.mark.parametrize(("status", "outcome"), [
    (200, "sent"), (204, "sent"), (500, "retry"), (503, "retry"), (408, "retry"), (429, "retry"),
    (400, "give_up"), (401, "give_up"), (404, "give_up"), (410, "give_up"), (301, "give_up")])
def test_what_a_receivers_answer_means(status, outcome):
    assert judge(status).outcome.value == outcome


def test_back_off_doubles_to_its_cap_and_honours_retry_after():
    backoff = Backoff(first=timedelta(seconds=1), cap=timedelta(minutes=5))
    assert [backoff.delay(n).total_seconds() for n in (1, 2, 3, 4, 9, 10, 50)] == [1, 2, 4, 8, 256, 300, 300]
    step = after_attempt(Delivery.retry("http 503", retry_after=30), 1, NOW, backoff)
    assert (step.status, step.next_at) == ("pending", NOW + timedelta(seconds=30))
    assert after_attempt(Delivery.retry("http 429", retry_after=10_000), 1, NOW, backoff).next_at == NOW + backoff.cap


def test_a_refused_message_is_given_up_after_a_few_tries_and_an_unformattable_one_at_once():
    backoff = Backoff()
    refused = Delivery.give_up("http 404")
    assert [after_attempt(refused, n, NOW, backoff).status for n in range(1, GIVE_UP_AFTER + 1)] == \
        ["pending"] * (GIVE_UP_AFTER - 1) + ["given_up"]
    assert after_attempt(Delivery.give_up("cannot format", at_once=True), 1, NOW, backoff).status == "given_up"
    assert after_attempt(Delivery.sent(), 1, NOW, backoff).status == "delivered"


def test_the_webhook_body_and_its_signature():
    msg = message("technicians/t-wang/dispatch", {"type": "assigned", "title": "漏水"})
    raw = body(msg, "D-1")
    assert json.loads(raw) == {"id": "D-1", "site": "tiny", "kind": "dispatch",
                               "topic": "caretaker/tiny/technicians/t-wang/dispatch",
                               "payload": {"id": "M-abc", "type": "assigned", "title": "漏水"}}
    assert "漏水".encode() in raw  # UTF-8, not \\u escapes
    assert signature("k", raw) == "sha256=" + hmac.new(b"k", raw, hashlib.sha256).hexdigest()


DISPATCH = {"type": "assigned", "ticket": "T-1", "urgency": 1, "category": "plumbing", "title": "漏水",
            "device": "A-B1-LEAK-1", "location": {"building": "A", "floor": -2, "zone": "泵房"},
            "accept_by": "2026-12-01T06:02:00.000Z", "arrive_by": None, "resolve_by": "2026-12-01T08:00:00.000Z",
            "travel_s": 170, "reason": "nearest plumbing on site"}


def test_a_dispatch_reads_as_a_sentence_in_chinese():
    text = render(message("technicians/t-wang/dispatch", DISPATCH), SITE)
    assert text.body == "【一级】A栋负二层泵房漏水，派给Wang Jun，请于14:02前接单，预计3分钟到场"
    assert text.title == "派单 T-1"


def test_english_when_the_site_says_en():
    text = render(message("technicians/t-wang/dispatch", DISPATCH), dataclasses.replace(SITE, locale="en"))
    assert text.body == ("[Level 1] Building A, basement 2, 泵房: 漏水. Assigned to Wang Jun: accept by 14:02, "
                         "about 3 min away")


def test_notices_alerts_and_resident_notices():
    notice = {"type": "breach", "ticket": "T-9", "urgency": 2, "title": "电梯困人", "reason": "not accepted in time"}
    assert render(message("supervisors/s-li/notify", notice), SITE).body == \
        "【二级】已超时：电梯困人（工单T-9）：not accepted in time"
    alert = {"alert": "AL-1", "state": "raised", "rule": "water-leak", "device": "A-B1-LEAK-1", "urgency": 1,
             "ticket": None, "title": "Water leak"}
    assert render(message("alerts", alert), SITE).body == "【一级】告警：Water leak (A-B1-LEAK-1)"
    resident = {"type": "outage", "ticket": None, "building": "A", "text": "A栋停电，正在抢修", "link": None}
    assert render(message("units/A-1203/notice", resident), SITE).body == "A栋停电，正在抢修"


def test_a_message_without_what_its_template_needs_cannot_be_formatted():
    with pytest.raises(CannotFormat):
        render(message("units/A-1203/notice", {"type": "outage"}), SITE)
    with pytest.raises(CannotFormat):
        render(message("technicians/t-wang/dispatch", {"ticket": "T-1"}), SITE)
