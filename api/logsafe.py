"""No resident's number, no SQL parameters and no row values in any log line, whoever logs it: a database
error's traceback carries the statement's parameters and PostgreSQL's "Failing row contains (...)"."""

from __future__ import annotations

import logging
import traceback

from caretaker.dispatch.privacy import has_phone, scrub_traceback

_MARK = "_caretaker_scrubs"


def _scrub(record: logging.LogRecord) -> logging.LogRecord:
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        # formatters reuse exc_text when set, so every handler (file, console, pytest's) gets this one
        record.exc_text = scrub_traceback("".join(traceback.format_exception(*record.exc_info))).rstrip("\n")
    if record.levelno >= logging.WARNING:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: leave it to the handler to report
            return record
        if has_phone(message) or "[parameters:" in message or "Failing row" in message:
            record.msg, record.args = scrub_traceback(message), ()
    return record


def install() -> None:
    """Scrub every log record as it is made (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _MARK, False):
        return

    def make(*args, **kwargs) -> logging.LogRecord:
        return _scrub(factory(*args, **kwargs))

    setattr(make, _MARK, True)
    logging.setLogRecordFactory(make)
