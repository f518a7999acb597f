"""Logging set-up for the `caretaker` command: readable lines by default, one JSON object per line when
`CARETAKER_LOG_FORMAT=json` (docs/deploy.md, "Logs"), with the estate and the ids a record concerns as fields."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

from caretaker.api import logsafe

# ids a log call may pass with `extra=`; a JSON line carries each one it has as a field of its own
CONTEXT_FIELDS = ("site", "ticket", "device", "alert", "technician", "topic")
LOG_FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the context fields and any exception."""

    def __init__(self, site: str | None = None) -> None:
        super().__init__()
        self.site = site

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.site is not None:
            line["site"] = self.site
        for name in CONTEXT_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:  # exc_text when set: api.logsafe has scrubbed it of row values and numbers
            line["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(verbose: bool = False, log_format: str = "text", site: str | None = None) -> None:
    """Send the process's logs to stderr in the chosen format; safe to call again (the site becomes known later)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(site))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "caretaker", False):
            root.removeHandler(old)
    handler.caretaker = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logsafe.install()  # no phone numbers, SQL parameters or row values in any record
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
