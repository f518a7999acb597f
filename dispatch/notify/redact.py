"""Channel urls and secrets never reach a log line: the libraries that see them (Apprise, httpx) log through
a filter that cuts every configured secret out (docs/channels.md, "Secrets")."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

LIBRARY_LOGGERS = ("apprise", "httpx", "httpcore")
_MIN_SECRET = 4  # shorter pieces (a port, "www") would cut ordinary words out of the log


def secret_parts(values: Iterable[str | None]) -> set[str]:
    """The strings to cut: each value whole, and a url's credentials, path and query pieces."""
    parts: set[str] = set()
    for value in values:
        if not value:
            continue
        parts.add(value)
        try:
            split = urlsplit(value)
        except ValueError:
            continue
        for piece in (split.username, split.password, split.netloc, split.path, split.query):
            if piece:
                parts.add(piece)
                parts.add(unquote(piece))
        for piece in re.split(r"[/?&=:@]", value):
            if len(piece) >= 8:  # tokens are long; host names and keys like "to" stay readable
                parts.add(piece)
    return {part for part in parts if len(part) >= _MIN_SECRET}


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__("caretaker-redact")
        self._pattern = re.compile("|".join(re.escape(s) for s in sorted(set(secrets), key=len, reverse=True))) \
            if secrets else None

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        message = record.getMessage()
        cut = self._pattern.sub("***", message)
        if cut != message:
            record.msg, record.args = cut, None
        return True


def install(secrets: Iterable[str]) -> RedactSecrets:
    """Put a filter cutting these secrets on the libraries' loggers; return it, for `uninstall`."""
    redact = RedactSecrets(secret_parts(secrets))
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).addFilter(redact)
    return redact


def uninstall(redact: RedactSecrets) -> None:
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).removeFilter(redact)
