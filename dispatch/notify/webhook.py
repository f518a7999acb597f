"""The webhook channel: POST the message as JSON, signed with HMAC-SHA256 when the channel has a secret
(docs/channels.md, "Webhook")."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from caretaker.estate.model import Channel as ChannelConfig
from caretaker.dispatch.notify.model import Delivery, Outbound

SIGNATURE_HEADER = "X-Caretaker-Signature"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)  # a receiver that hangs is a failed try, not a stuck queue
RETRY_STATUSES = {408, 429}  # 4xx that mean "later", not "never"


def body(message: Outbound, delivery: str) -> bytes:
    """The bytes POSTed: the delivery id, the site, the kind, the MQTT topic and the MQTT payload as pushed."""
    document = {"id": delivery, "site": message.site, "kind": message.kind.value, "topic": message.topic,
                "payload": message.payload}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, raw: bytes) -> str:
    """The `X-Caretaker-Signature` value of a body: `sha256=` and the hex HMAC-SHA256 with the secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def judge(status: int, retry_after: str | None = None) -> Delivery:
    """What a receiver's answer means for the delivery (pure)."""
    if 200 <= status < 300:
        return Delivery.sent()
    if status in RETRY_STATUSES or status >= 500:
        return Delivery.retry(f"http {status}", _seconds(retry_after))
    return Delivery.give_up(f"http {status}")  # refused (or a redirect, which is not followed)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: our own back-off decides


class WebhookChannel:
    def __init__(self, config: ChannelConfig) -> None:
        self.id = config.id
        self._url = config.url
        self._secret = config.secret
        self._client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)

    def send(self, message: Outbound, delivery: str) -> Delivery:
        raw = body(message, delivery)
        headers = {"Content-Type": "application/json", "User-Agent": "caretaker"}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, raw)
        try:
            response = self._client.post(self._url, content=raw, headers=headers)
        except httpx.TimeoutException:
            return Delivery.retry("timeout")
        except httpx.HTTPError as exc:  # refused, reset, DNS: the kind only, never the url
            return Delivery.retry(f"network: {type(exc).__name__}")
        return judge(response.status_code, response.headers.get("Retry-After"))

    def close(self) -> None:
        self._client.close()
