"""Every message the service writes for a person, one catalogue per language (docs/operators.md,
"Languages"): `zh-CN.yaml` and `en.yaml` beside this file, keyed messages with named parameters.

`say("error.ticket_unknown", "en", ticket="T-1")` renders one; `pick` chooses a request's language (`?lang=`,
then `Accept-Language`, then the site's `locale`); `from_env` reads a shell's `LC_ALL`/`LC_MESSAGES`/`LANG`
for the CLI. tests/test_i18n.py checks that both catalogues hold the same keys with the same parameters.
Pure, apart from reading the two files once at import."""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

LOCALES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT = "zh-CN"
_FORMATTER = string.Formatter()


def _load(locale: str) -> dict[str, str]:
    text = resources.files(__name__).joinpath(f"{locale}.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    out: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:  # nested sections read as dotted keys: error: {gone: …} → error.gone
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), value)
        else:
            out[prefix] = "" if node is None else str(node)

    walk("", data)
    return out


CATALOGUES: dict[str, dict[str, str]] = {locale: _load(locale) for locale in LOCALES}


def normalize(tag: str | None) -> str | None:
    """Return the catalogue a language tag names (`zh`, `zh-CN`, `zh_CN.UTF-8`, `zh-Hans` → zh-CN; `en-GB`,
    `en_US.UTF-8` → en), or None for a language we do not speak."""
    if not tag:
        return None
    low = tag.strip().lower().replace("_", "-")
    if low.startswith("zh"):
        return "zh-CN"
    if low == "en" or low.startswith("en-") or low.startswith("en."):
        return "en"
    return None


def pick(site_locale: str | None, lang: str | None = None, accept_language: str | None = None) -> str:
    """Return a request's language: `?lang=`, else the browser's first language we speak (a browser that
    first prefers one we do not speak gets the site's), else the site's `locale`."""
    if (chosen := normalize(lang)) is not None:
        return chosen
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip()
        if (chosen := normalize(tag)) is not None:
            return chosen
        if tag and tag != "*":
            break
    return normalize(site_locale) or DEFAULT


def from_env(environ: Mapping[str, str], site_locale: str | None = None) -> str:
    """Return the CLI's language: the shell's locale (`LC_ALL`, then `LC_MESSAGES`, then `LANG`, as POSIX
    reads them), else the site's `locale` where one is known, else Chinese. `C`/`POSIX` say nothing."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value and value.split(".")[0] not in ("C", "POSIX"):
            chosen = normalize(value)
            if chosen is not None:
                return chosen
            break  # the shell asks for a language we do not speak: the site's, else the default
    return normalize(site_locale) or DEFAULT


def words(lang: str | None) -> Mapping[str, str]:
    """Return one language's whole catalogue (an unknown language: the default's)."""
    return CATALOGUES[normalize(lang) or DEFAULT]


def has(key: str) -> bool:
    return key in CATALOGUES[DEFAULT]


def say(key: str, lang: str | None, /, **params: Any) -> str:
    """Return the message `key` in `lang`, its `{name}` parameters filled from `params`.

    A key missing from the language (never once tests/test_i18n.py passes) falls back to the other one, then
    to the key itself; a parameter not given is left as `{name}`: a message never fails its caller."""
    chosen = normalize(lang) or DEFAULT
    template = CATALOGUES[chosen].get(key)
    if template is None:
        template = next((c[key] for c in CATALOGUES.values() if key in c), key)
    try:
        return template.format_map(_Keep(params))
    except (ValueError, IndexError, AttributeError):
        return template


def parameters(template: str) -> frozenset[str]:
    """Return the named parameters a template uses (for the catalogue test)."""
    return frozenset(name.split(".")[0].split("[")[0] for _t, name, _f, _c in _FORMATTER.parse(template)
                     if name)


@lru_cache(maxsize=64)
def section(prefix: str, lang: str) -> dict[str, str]:
    """Return the keys under `prefix.` in one language, without the prefix (e.g. the channels' `push.`)."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in words(lang).items() if k.startswith(prefix + ".")}


class Said(str):
    """A message kept as its key and parameters, reading as its English text (what logs, `str(exc)` and code
    that never asks for a language see): the API says it again in the reader's language (`render`)."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, params: Mapping[str, Any]) -> "Said":
        self = super().__new__(cls, say(key, "en", **{k: render(v, "en") for k, v in params.items()}))
        self.key, self.params = key, dict(params)
        return self

    def __reduce__(self):  # pickles (and deep-copies) as itself, not as a bare str
        return (Said, (self.key, self.params))


def said(key: str, /, **params: Any) -> Said:
    """Return the message `key` to be said later in whichever language its reader wants; a parameter may
    itself be a `Said` (a step's or a status's name), said in the same language."""
    return Said(key, params)


def named(section: str, value: str) -> "Said | str":
    """Return a vocabulary word (`step.accept`, `status.on_site`) to be said in its reader's language, or
    the value itself when the catalogue has no such word."""
    return said(f"{section}.{value}") if has(f"{section}.{value}") else value


class Listed(tuple):
    """Parts said as one list in the reader's language ("2 off shift, 1 busy" / "2 名非当班、1 名忙碌"): a
    parameter of a `Said`, joined by the language's `list.sep`."""

    def __str__(self) -> str:
        return say("list.sep", "en").join(str(part) for part in self)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def render(value: Any, lang: str | None) -> Any:
    """Return `value` with every `Said` in it (nested in lists and dicts, as in a 422's `detail`) said in
    `lang`; anything else as it is."""
    if isinstance(value, Listed):
        return say("list.sep", lang).join(str(render(part, lang)) for part in value)
    if isinstance(value, Said):
        return say(value.key, lang, **{k: render(v, lang) for k, v in value.params.items()})
    if isinstance(value, dict):
        return {k: render(v, lang) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(render(v, lang) for v in value)
    return value


def spoken(exc: BaseException) -> Any:
    """Return an exception's message as raised, a `Said` kept whole (`str(exc)` would flatten it to English)."""
    return exc.args[0] if len(exc.args) == 1 and isinstance(exc.args[0], Said) else str(exc)


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
