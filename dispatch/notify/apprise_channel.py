"""The Apprise channel: WeCom, DingTalk, Feishu, email, SMS gateways and the rest, with a message written for
a person in the site's language (dispatch/notify/texts.py), not JSON (docs/channels.md, "Apprise")."""

from __future__ import annotations

import apprise

from caretaker.estate.model import Channel as ChannelConfig, Site
from caretaker.dispatch.notify.model import Delivery, Outbound
from caretaker.dispatch.notify.texts import CannotFormat, render


class AppriseChannel:
    def __init__(self, config: ChannelConfig, site: Site) -> None:
        self.id = config.id
        self._site = site
        # secure logging: Apprise shows its urls with the tokens cut when it logs them
        self._apprise = apprise.Apprise(asset=apprise.AppriseAsset(secure_logging=True))
        if not self._apprise.add(config.url):
            raise ValueError(f"channel {config.id}: Apprise cannot use its url")  # check-site refuses it first

    def send(self, message: Outbound, delivery: str) -> Delivery:
        try:
            text = render(message, self._site)
        except CannotFormat as exc:
            return Delivery.give_up(f"cannot format: {exc}", at_once=True)
        try:
            ok = self._apprise.notify(title=text.title, body=text.body, body_format=apprise.NotifyFormat.TEXT)
        except Exception as exc:  # a plugin's own error is a failed try, never the end of the thread
            return Delivery.retry(f"apprise: {type(exc).__name__}")
        # Apprise says only whether the service took it: a refusal cannot be told from an outage, so it is tried
        # again with back-off until it goes through
        return Delivery.sent() if ok else Delivery.retry("apprise: not delivered")

    def close(self) -> None:
        pass
