"""A `Said` kept in a database row as JSON (`{"key": …, "params": {…}}`) beside its English text, and read back
to be said in its reader's language (docs/operators.md, "Languages"): a ticket's history, an alert's log.

A parameter may be a `Said` itself (a trade's, a status's name) or a `Listed`; everything else is stored as JSON
holds it (numbers, text), anything JSON cannot hold as its text. Pure."""

from __future__ import annotations

from typing import Any

from caretaker import i18n
from caretaker.i18n import Listed, Said

_LIST = "list"  # a `Listed` parameter: {"list": [...]}


def dump(note: Any) -> dict[str, Any] | None:
    """Return the JSON that keeps a `Said` (None for anything else: a person's text is stored as typed)."""
    return _said(note) if isinstance(note, Said) else None


def load(data: Any, text: str | None) -> str | Said | None:
    """Return what a row says: the `Said` its JSON keeps, else its stored text (a row written before the JSON
    existed, or a person's words); a JSON this version cannot read also falls back to the text."""
    if isinstance(data, dict) and isinstance(data.get("key"), str):
        try:
            return _unsaid(data)
        except (TypeError, ValueError, AttributeError):
            return text
    return text


def say(data: Any, text: str | None, lang: str) -> str | None:
    """Return what a row says in `lang`: its kept wording said straight from the JSON (`load` and `render` in
    one step, without saying it in English first: a page of tickets has thousands of lines), else its text."""
    if isinstance(data, dict) and isinstance(data.get("key"), str):
        try:
            return _say(data, lang)
        except (TypeError, ValueError, AttributeError):
            return text
    return text


def _say(data: dict[str, Any], lang: str) -> str:
    params = data.get("params") or {}
    return i18n.say(data["key"], lang, **{name: _said_param(v, lang) for name, v in params.items()})


def _said_param(value: Any, lang: str) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("key"), str):
            return _say(value, lang)
        if isinstance(value.get(_LIST), list):
            return i18n.say("list.sep", lang).join(str(_said_param(v, lang)) for v in value[_LIST])
    return value


def _said(value: Said) -> dict[str, Any]:
    return {"key": value.key, "params": {name: _param(v) for name, v in value.params.items()}}


def _param(value: Any) -> Any:
    if isinstance(value, Said):
        return _said(value)
    if isinstance(value, Listed):
        return {_LIST: [_param(v) for v in value]}
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    return str(value)  # a StrEnum, a datetime, an id: its text


def _unsaid(data: dict[str, Any]) -> Said:
    params = data.get("params") or {}
    return Said(data["key"], {name: _unparam(v) for name, v in params.items()})


def _unparam(value: Any) -> Any:
    if isinstance(value, dict):
        if isinstance(value.get("key"), str):
            return _unsaid(value)
        if isinstance(value.get(_LIST), list):
            return Listed(_unparam(v) for v in value[_LIST])
    return value
