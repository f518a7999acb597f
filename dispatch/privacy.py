"""Masking a resident's data (个人信息保护法): a phone number's middle, and numbers, names and units inside
free text; pure, so the REST reads, the live stream and the supervisors' notices all mask alike."""

from __future__ import annotations

import re
from typing import Iterable

NAME_MASK = "***"
UNIT_MASK = "[unit]"

_SEP = r"[ .\-]?"  # one space, dot or dash between digits: "138 0013 8000", "138-0013-8000"
_COUNTRY = r"(?:\(?(?:\+|00)\s?86\)?" + _SEP + r")"  # +86, 0086, (+86)
_NOT_AFTER = r"(?<![A-Za-z0-9_+\-])"  # not the tail of an id (T-261123-…) or a longer number
_NOT_BEFORE = r"(?![0-9])"
# Chinese mobiles: 1[3-9] and nine more digits, with or without +86 and separators
_MOBILE = _COUNTRY + "?" + r"1" + _SEP + r"[3-9]" + r"(?:" + _SEP + r"\d){9}"
# landlines: an area code 0xx or 0xxx (in brackets or not) and 7-8 digits; with +86 the 0 is dropped
_LANDLINE = (r"(?:\(?0\d{2,3}\)?|" + _COUNTRY + r"\(?[1-9]\d{1,2}\)?)" + _SEP + r"\d{3,4}" + _SEP + r"\d{4}")
# a local landline written without its area code: 8 digits, the first 2-8 (numbers are never 0/1/9-led)
_LOCAL = r"[2-8]\d{3}" + _SEP + r"\d{4}"
PHONE_IN_TEXT = re.compile(_NOT_AFTER + r"(?:" + _MOBILE + "|" + _LANDLINE + "|" + _LOCAL + r")" + _NOT_BEFORE)


def mask_phone(phone: str | None) -> str | None:
    """Return the number with its middle hidden, 13800138000 -> 138****8000; a shorter number keeps only
    its last four digits (66881234 -> ****1234), so at least four are always hidden."""
    if not phone:
        return phone
    if len(phone) >= 11:
        return phone[:3] + "****" + phone[-4:]
    if len(phone) >= 8:
        return "****" + phone[-4:]
    return "*" * max(len(phone) - 2, 0) + phone[-2:]


def _masked_match(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) > 11:
        digits = digits[2:]
    return mask_phone(digits) or ""


def mask_text(text: str | None, names: Iterable[str] = (), units: Iterable[str] = ()) -> str | None:
    """Return free text with every phone number masked (138****8000), and the given names and unit ids
    (the ticket's reporters and its unit's residents) replaced, for a reader who is not working the ticket."""
    if not text:
        return text
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(re.escape(name), NAME_MASK, text, flags=re.IGNORECASE)
    for unit in sorted({u for u in units if u}, key=len, reverse=True):
        text = re.sub(r"(?<![A-Za-z0-9])" + re.escape(unit) + r"(?![A-Za-z0-9])", UNIT_MASK, text)
    return PHONE_IN_TEXT.sub(_masked_match, text)


def has_phone(text: str | None) -> bool:
    """Return whether free text holds something that looks like a phone number."""
    return bool(text) and PHONE_IN_TEXT.search(text) is not None


_SQL_TAIL = re.compile(r"\s*\[(?:SQL|parameters):.*", re.DOTALL)
# PostgreSQL's own lines that quote a row's values: "DETAIL: Failing row contains (...)", "Key (x)=(y)"
_VALUE_LINES = re.compile(r"^\s*(DETAIL|CONTEXT|LINE \d+|HINT):.*$|^\s*\^\s*$", re.MULTILINE)


def describe_error(exc: BaseException, limit: int = 200) -> str:
    """Return an exception as its class and a short description with no SQL, no bound parameters and no
    values the database quoted back: safe for a log line or a dead letter that leaves the service."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's error; the driver's has no SQL
    name = exc.__class__.__name__ if orig is None else f"{exc.__class__.__name__} ({orig.__class__.__name__})"
    text = str(orig if orig is not None else exc)
    text = _VALUE_LINES.sub("", _SQL_TAIL.sub("", text)).strip().splitlines()
    first = mask_text(text[0]) if text else ""
    return f"{name}: {first[:limit]}" if first else name


def scrub_traceback(text: str) -> str:
    """Return a formatted traceback without SQL parameters, quoted row values or phone numbers."""
    text = re.sub(r"\[parameters: .*?\]\n?", "[parameters hidden]\n", text, flags=re.DOTALL)
    return mask_text(_VALUE_LINES.sub("", text)) or ""
