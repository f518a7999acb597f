"""Load and validate a site file into a Site, naming every problem with its line and key path."""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from caretaker.estate.errors import SiteError, SiteProblem
from caretaker.estate.durations import format_duration, parse_duration
from caretaker.estate.model import (
    DEFAULT_SLA, ON_DUTY, Building, Channel, Contractor, Device, EscalationLevel, Place, Resident, Site, Sla,
    Supervisor, Technician, TravelRules, Unit,
)
from caretaker.estate.schema import SiteIn
from caretaker.estate.supply import feeders, supply_problems
from caretaker.estate.yamllines import Path, format_path, line_of, read_yaml_with_lines

_MAX_SHOWN_INPUT = 60  # characters of a wrong value echoed back in a message

# the lists whose ids are broker usernames (mosquitto/acl); contractors join them when the file has them
LOGIN_SECTIONS = (("devices", "device id"), ("technicians", "technician id"), ("supervisors", "supervisor id"),
                  ("contractors", "contractor id"))
# the usernames mosquitto/acl gives to the service and to integrations, with what each may do
RESERVED_LOGINS = {"caretaker": "every topic of every site", "integrator": "every site's alert feed"}
# the people a channel's `to` may name, and whose `notify` lists name channels (contractors when the file has them)
PEOPLE_SECTIONS = ("technicians", "supervisors", "contractors")
# `${NAME}` in a channel's url or secret: read from the environment at load (docs/channels.md, "Secrets")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class UnexpandedSite:
    """A valid site file's estate before the environment is read: its channels' url and secret as the file
    writes them (`${VAR}`s and all), with the raw entries and their lines to expand and check them again. The
    site cache keeps this (estate/site_cache.py), so no value of the environment is ever written to disk."""

    site: Site
    channels: tuple[dict[Any, Any], ...]
    lines: dict[Path, int]  # the line of every path under `channels`


def read_site_text(path: str | os.PathLike[str]) -> str:
    """Return the text of the site file at `path`; raises SiteError when it cannot be read or is not UTF-8."""
    filename = os.fspath(path)
    try:
        with open(filename, encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise SiteError([SiteProblem(None, "", "not UTF-8 text")], filename) from exc
    except OSError as exc:
        raise SiteError([SiteProblem(None, "", f"cannot read the file: {exc.strerror or exc}")], filename) from exc


def load_site(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> Site:
    """Return the site described by the file at `path`; raises SiteError listing every problem. `${VAR}`s in
    channels are read from `environ` (the process environment when None)."""
    return parse_site(read_site_text(path), os.fspath(path), environ)


def parse_site(text: str, filename: str = "<site>", environ: Mapping[str, str] | None = None) -> Site:
    """Return the site described by the YAML `text`; raises SiteError listing every problem at once."""
    return read_site(text, filename, environ)[0]


def expand_site(unexpanded: UnexpandedSite, filename: str, environ: Mapping[str, str] | None = None) -> Site:
    """Return the estate with its channels' `${VAR}`s read from `environ` (the process environment when None);
    raises SiteError naming, with its line, every variable not set and every url its kind cannot use."""
    part = {"channels": list(unexpanded.channels)}
    secrets, problems = _expand_channels(part, unexpanded.lines, os.environ if environ is None else environ)
    if problems:
        raise SiteError(problems, filename)
    return replace(unexpanded.site, channels=_with_secrets(unexpanded.site.channels, secrets))


def read_site(text: str, filename: str = "<site>",
              environ: Mapping[str, str] | None = None) -> tuple[Site, UnexpandedSite]:
    """Return the site described by the YAML `text`, and the same before its `${VAR}`s are read (what may be
    kept); raises SiteError listing every problem at once."""
    data, lines, problems = read_yaml_with_lines(text, filename)
    if not isinstance(data, dict):
        raise SiteError([SiteProblem(lines.get(()), "", "the top level must be a mapping of keys "
                                     "(site:, name:, timezone:, travel:, buildings:, ...)")], filename)
    model: SiteIn | None = None
    try:
        model = SiteIn.model_validate(data)
    except ValidationError as exc:
        problems.extend(_structure_problems(exc, data, lines))
    # cross-references are checked on the raw data too, so they are reported alongside shape errors
    problems.extend(_reference_problems(data, lines))
    problems.extend(_channel_reference_problems(data, lines))
    problems.extend(_escalation_problems(data, lines))
    problems.extend(supply_problems(data, lines))
    channel_lines = {path: line for path, line in lines.items() if path[:1] == ("channels",)}
    raw_channels = tuple(item for _, item in _entries(data, "channels"))
    secrets, secret_problems = _expand_channels(data, lines, os.environ if environ is None else environ)
    problems.extend(secret_problems)
    if problems or model is None:
        raise SiteError(problems, filename)
    unexpanded = UnexpandedSite(_to_site(model), raw_channels, channel_lines)
    return replace(unexpanded.site, channels=_with_secrets(unexpanded.site.channels, secrets)), unexpanded


def summarize_site(site: Site) -> str:
    """Return the one-line summary `check-site` prints for a good file."""
    counts = [(len(site.buildings), "building"), (len(site.devices), "device"),
              (len(site.technicians), "technician")]
    parts = ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts)
    return f"{site.id}: {parts} — OK"


# -- shape errors from pydantic, turned into lines and words ---------------------------------------

def _structure_problems(exc: ValidationError, data: dict[Any, Any], lines: dict[Path, int]) -> list[SiteProblem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc: Path = tuple(error["loc"])
        if loc and loc[-1] == "[key]":  # the key itself is wrong, not its value
            loc = loc[:-1]
        kind = error["type"]
        if kind == "missing":
            parent = loc[:-1]
            problems.append(SiteProblem(line_of(parent, lines), format_path(parent, data),
                                        f"missing required key {loc[-1]!r}"))
            continue
        problems.append(SiteProblem(line_of(loc, lines), format_path(loc, data), _message(error, loc)))
    return problems


def _message(error: Any, loc: Path) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    got = repr(error.get("input"))
    if len(got) > _MAX_SHOWN_INPUT:
        got = got[:_MAX_SHOWN_INPUT] + "..."
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected a mapping of keys, got {got}"
    if kind == "list_type":
        return f"expected a list, got {got}"
    if kind == "too_short":
        return "needs at least one entry"
    return f"{error['msg']}, got {got}"


def _unknown_key_message(loc: Path) -> str:
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"


def _model_at(loc: Path) -> type[BaseModel] | None:
    """Return the pydantic model that validates the mapping at `loc`, for naming its allowed keys."""
    model: type[BaseModel] | None = SiteIn
    for step in loc:
        if model is None:
            return None
        if isinstance(step, str) and step in model.model_fields:
            model = _find_model(model.model_fields[step].annotation)
        # list indexes and dict keys keep the element model found at the field
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


# -- cross-references: ids, buildings, floors, walks -----------------------------------------------

def _raw_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


def _entries(data: dict[Any, Any], *keys: str) -> list[tuple[int, dict[Any, Any]]]:
    """Return (index, mapping) for each mapping in the list at data[keys...], skipping bad shapes."""
    here: Any = data
    for key in keys:
        here = here.get(key) if isinstance(here, dict) else None
    if not isinstance(here, list):
        return []
    return [(index, item) for index, item in enumerate(here) if isinstance(item, dict)]


def _duplicates(data: dict[Any, Any], lines: dict[Path, int], section: str, key: str,
                noun: str) -> list[SiteProblem]:
    problems = []
    seen: dict[str, Path] = {}
    for index, item in _entries(data, section):
        value = _raw_id(item.get(key))
        if value is None:
            continue
        path = (section, index, key)
        if value in seen:
            problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                        f"duplicate {noun} {value!r} (first on line {line_of(seen[value], lines)})"))
        else:
            seen[value] = path
    return problems


def _floors_of(item: dict[Any, Any]) -> tuple[int, int] | None:
    floors = item.get("floors")
    if (isinstance(floors, list) and len(floors) == 2
            and all(isinstance(f, int) and not isinstance(f, bool) for f in floors) and floors[0] <= floors[1]):
        return floors[0], floors[1]
    return None


def _login_problems(data: dict[Any, Any], lines: dict[Path, int]) -> list[SiteProblem]:
    """Devices, technicians and supervisors log in to the broker with their id as the username, and its ACL
    grants topics by username alone (docs/site-file.md, "Ids are broker logins"): an id used twice, in the
    same list or across them, or one of the service's own usernames, would let one login act as another."""
    problems = []
    seen: dict[str, tuple[Path, str]] = {}
    for section, noun in LOGIN_SECTIONS:
        for index, item in _entries(data, section):
            value = _raw_id(item.get("id"))
            if value is None:
                continue
            path = (section, index, "id")
            if value in RESERVED_LOGINS:
                message = (f"{noun} {value!r} is reserved: the broker's ACL gives the {value!r} login "
                           f"{RESERVED_LOGINS[value]}; choose another id")
            elif value in seen and seen[value][1] == noun:
                message = f"duplicate {noun} {value!r} (first on line {line_of(seen[value][0], lines)})"
            elif value in seen:
                first, first_noun = seen[value]
                message = (f"{noun} {value!r} is already a {first_noun} (line {line_of(first, lines)}); ids are "
                           "broker logins and must be unique across devices, technicians, supervisors and contractors")
            else:
                seen[value] = (path, noun)
                continue
            problems.append(SiteProblem(line_of(path, lines), format_path(path, data), message))
    return problems


def _reference_problems(data: dict[Any, Any], lines: dict[Path, int]) -> list[SiteProblem]:
    problems: list[SiteProblem] = []
    for section, noun in (("buildings", "building id"), ("units", "unit id")):
        problems += _duplicates(data, lines, section, "id", noun)
    problems += _login_problems(data, lines)
    problems += _duplicates(data, lines, "technicians", "badge", "badge")

    if not isinstance(data.get("buildings"), list):
        return problems  # with no building list, references cannot be judged; the shape error says why
    floors: dict[str, tuple[int, int] | None] = {}
    for _, item in _entries(data, "buildings"):
        building = _raw_id(item.get("id"))
        if building is not None:
            floors.setdefault(building, _floors_of(item))
    known = ", ".join(floors) or "none"

    for section in ("devices", "units"):
        for index, item in _entries(data, section):
            building = _raw_id(item.get("building"))
            if building is None:
                continue
            if building not in floors:
                path = (section, index, "building")
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                            f"unknown building {building!r} (buildings: {known})"))
                continue
            floor, span = item.get("floor"), floors[building]
            if isinstance(floor, int) and not isinstance(floor, bool) and span is not None:
                if not span[0] <= floor <= span[1]:
                    path = (section, index, "floor")
                    problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                                f"floor {floor} is outside building {building}'s floors "
                                                f"{span[0]} to {span[1]}"))

    walks = data.get("travel", {}).get("buildings") if isinstance(data.get("travel"), dict) else None
    seen_pairs: dict[frozenset[str], int] = {}
    for index, walk in enumerate(walks if isinstance(walks, list) else []):
        if not isinstance(walk, list) or len(walk) != 3:
            continue
        path = ("travel", "buildings", index)
        ends = [end for end in (_raw_id(walk[0]), _raw_id(walk[1])) if end is not None]
        for end in ends:
            if end not in floors:
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                            f"unknown building {end!r} (buildings: {known})"))
        pair = frozenset(ends)
        if len(pair) != 2:
            continue  # a bad or self-referencing end is reported by the shape check
        if pair in seen_pairs:
            problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                        f"walk {ends[0]}-{ends[1]} is given twice (first on line {seen_pairs[pair]})"))
        else:
            seen_pairs[pair] = line_of(path, lines) or 0
    return problems


# -- escalation: who each level names, and levels later than the one before ---------------------

def _escalation_problems(data: dict[Any, Any], lines: dict[Path, int]) -> list[SiteProblem]:
    """Each level names supervisors (managers are supervisors with `role: manager`) or `on_duty`, and starts
    later than the level before it (docs/site-file.md, "Escalation")."""
    problems: list[SiteProblem] = []
    supervisors = [_raw_id(item.get("id")) for _, item in _entries(data, "supervisors")]
    known = [s for s in dict.fromkeys(supervisors) if s is not None]
    shown = ", ".join(known) or "none"
    for index, item in _entries(data, "supervisors"):
        if _raw_id(item.get("id")) == ON_DUTY:
            path = ("supervisors", index, "id")
            problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                        f"{ON_DUTY!r} is kept for the escalation levels (the supervisors on "
                                        "shift now); choose another id"))
    previous: tuple[timedelta, Path] | None = None
    for index, item in _entries(data, "escalation"):
        notify = item.get("notify")
        for position, person in enumerate(notify if isinstance(notify, list) else []):
            person_id = _raw_id(person)
            if person_id is not None and person_id != ON_DUTY and person_id not in known:
                path = ("escalation", index, "notify", position)
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                            f"unknown supervisor {person_id!r}: a level names supervisors "
                                            f"(managers are supervisors with role: manager) or {ON_DUTY} "
                                            f"(supervisors: {shown})"))
        try:
            after = parse_duration(item.get("after"))
        except ValueError:
            continue  # the shape check says what is wrong with it
        path = ("escalation", index, "after")
        if previous is not None and after <= previous[0]:
            problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                        f"level {index} starts after {format_duration(after)}, not later than "
                                        f"the level before it ({format_duration(previous[0])}, line "
                                        f"{line_of(previous[1], lines)}); levels must be in increasing order"))
        previous = (after, path)
    return problems


# -- channels: references, and `${VAR}`s read from the environment ------------------------------

def _channel_reference_problems(data: dict[Any, Any], lines: dict[Path, int]) -> list[SiteProblem]:
    """Channel ids are unique, and unlike any device's or person's id (a `to` or `notify` list names people
    and channels by id, so one id must not mean both); `notify` names known channels, `to` known people."""
    problems = _duplicates(data, lines, "channels", "id", "channel id")
    others: dict[str, tuple[Path, str]] = {}
    for section, noun in (*LOGIN_SECTIONS, ("contractors", "contractor id")):
        for index, item in _entries(data, section):
            value = _raw_id(item.get("id"))
            if value is not None:
                others.setdefault(value, ((section, index, "id"), noun))
    channels = [_raw_id(item.get("id")) for _, item in _entries(data, "channels")]
    known_channels = list(dict.fromkeys(c for c in channels if c is not None))
    for index, item in _entries(data, "channels"):
        value = _raw_id(item.get("id"))
        if value in others:
            path, noun = others[value]
            where = (("channels", index, "id"))
            problems.append(SiteProblem(line_of(where, lines), format_path(where, data),
                                        f"channel id {value!r} is already a {noun} (line {line_of(path, lines)}); "
                                        "ids must be unique across channels, devices and people"))
    people = {value for value, (_, noun) in others.items() if noun != "device id"}
    for index, item in _entries(data, "channels"):
        to = item.get("to")
        for position, person in enumerate(to if isinstance(to, list) else []):
            person_id = _raw_id(person)
            if person_id is not None and person_id not in people:
                path = ("channels", index, "to", position)
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                            f"unknown person {person_id!r}: `to` names technicians, supervisors "
                                            "or contractors"))
    shown = ", ".join(known_channels) or "none"
    for section in PEOPLE_SECTIONS:
        for index, item in _entries(data, section):
            notify = item.get("notify")
            for position, channel in enumerate(notify if isinstance(notify, list) else []):
                channel_id = _raw_id(channel)
                if channel_id is not None and channel_id not in known_channels:
                    path = (section, index, "notify", position)
                    problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                                f"unknown channel {channel_id!r} (channels: {shown})"))
    return problems


def _expand_channels(data: dict[Any, Any], lines: dict[Path, int],
                     environ: Mapping[str, str]) -> tuple[dict[int, tuple[str, str | None]], list[SiteProblem]]:
    """Return each channel's url and secret with `${VAR}`s read from the environment, by the channel's index,
    and the problems: a variable that is not set, a url its kind cannot use. No message shows a value."""
    expanded: dict[int, tuple[str, str | None]] = {}
    problems: list[SiteProblem] = []
    for index, item in _entries(data, "channels"):
        values: dict[str, str | None] = {"url": None, "secret": None}
        for key in values:
            raw = item.get(key)
            if not isinstance(raw, str):
                continue
            path = ("channels", index, key)
            if key == "secret" and not _VARIABLE.search(raw):
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                            "write the secret as ${VARIABLE} and set it in the environment; "
                                            "a secret is never written in the file"))
            missing = [name for name in _VARIABLE.findall(raw) if not environ.get(name)]
            for name in dict.fromkeys(missing):
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data),
                                            f"environment variable {name} is not set (or empty)"))
            values[key] = _VARIABLE.sub(lambda m: environ.get(m.group(1), ""), raw)
        url = values["url"]
        if url is None:
            continue
        if not any(problem.path == format_path(("channels", index, "url"), data) for problem in problems):
            path = ("channels", index, "url")
            complaint = _url_complaint(item.get("kind"), url)
            if complaint:
                problems.append(SiteProblem(line_of(path, lines), format_path(path, data), complaint))
        expanded[index] = (url, values["secret"])
    return expanded, problems


def _url_complaint(kind: Any, url: str) -> str | None:
    """Say what is wrong with a channel's url for its kind, without showing it (it may hold a token)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if kind == "webhook":
        if scheme not in ("http", "https") or not url.split("://", 1)[1]:
            return "a webhook url must start with http:// or https:// and name a host"
    elif kind == "apprise":
        if not scheme:
            return "an Apprise url starts with its service, like wecombot://, dingtalk://, feishu:// or mailto://"
        if not _apprise_accepts(url):
            shown = scheme if re.fullmatch(r"[a-z0-9+.-]{1,20}", scheme) else "?"
            return (f"Apprise cannot use this {shown}:// url (an unknown service, or a part it needs is "
                    "missing or wrong); see docs/channels.md")
    return None


def _apprise_accepts(url: str) -> bool:
    import apprise  # only files with Apprise channels need it loaded

    # Apprise names a url it cannot parse in its log, token and all: it says nothing while this one is checked
    quiet = logging.getLogger("apprise")
    was, quiet.disabled = quiet.disabled, True
    try:
        return apprise.Apprise.instantiate(url) is not None
    finally:
        quiet.disabled = was


# -- building the immutable Site ------------------------------------------------------------------

def _with_secrets(channels: dict[str, Channel], secrets: dict[int, tuple[str, str | None]]) -> dict[str, Channel]:
    """The channels (in the file's order) with the url and secret each has once its `${VAR}`s are read."""
    return {c.id: replace(c, url=secrets[index][0], secret=secrets[index][1]) if index in secrets else c
            for index, c in enumerate(channels.values())}


def _to_site(model: SiteIn) -> Site:
    """The estate of a valid file, its channels' url and secret as written (`_with_secrets` reads them)."""
    feeder_of = feeders((b.id, b.supplies, b.fed_by) for b in model.buildings)
    buildings = {b.id: Building(id=b.id, lowest_floor=b.floors[0], highest_floor=b.floors[1], name=b.name,
                                fed_by=feeder_of.get(b.id))
                 for b in model.buildings}
    devices = {
        d.id: Device(
            id=d.id, type=d.type, place=Place(building=d.building, floor=d.floor, zone=d.zone),
            overrides={rule: dict(params) for rule, params in d.overrides.items()},
            interval_s=max(1, round(d.interval.total_seconds())) if d.interval is not None else None,
        )
        for d in model.devices
    }
    technicians = {
        t.id: Technician(id=t.id, name=t.name, phone=t.phone, skills=frozenset(t.skills), badge=t.badge,
                         shifts=tuple(t.shifts) if t.shifts is not None else None, notify=tuple(t.notify))
        for t in model.technicians
    }
    supervisors = {s.id: Supervisor(id=s.id, name=s.name, phone=s.phone, notify=tuple(s.notify),
                                    shifts=tuple(s.shifts) if s.shifts is not None else None, role=s.role)
                   for s in model.supervisors}
    escalation = tuple(EscalationLevel(after=e.after, notify=tuple(e.notify)) for e in model.escalation)
    contractors = {c.id: Contractor(id=c.id, name=c.name, phone=c.phone, trades=frozenset(c.trades),
                                    arrive=c.arrive, notify=tuple(c.notify))
                   for c in model.contractors}
    channels = {c.id: Channel(id=c.id, kind=c.kind, url=c.url, takes=frozenset(c.takes), secret=c.secret,
                              to=frozenset(c.to) if c.to is not None else None)
                for c in model.channels}
    units = {
        u.id: Unit(id=u.id, building=u.building, floor=u.floor,
                   residents=tuple(Resident(name=r.name, phone=r.phone, vulnerable=r.vulnerable)
                                   for r in u.residents))
        for u in model.units
    }
    # levels the file leaves out keep the industry defaults (docs/operations.md, "Urgency and deadlines")
    given = {level: Sla(accept=s.accept, arrive=s.arrive, resolve=s.resolve) for level, s in model.sla.items()}
    sla = {level: given.get(level, DEFAULT_SLA[level]) for level in sorted(DEFAULT_SLA)}
    travel = TravelRules(
        floor_s=model.travel.floor_s,
        walks={frozenset((a, b)): seconds for a, b, seconds in model.travel.buildings},
        location_ttl=model.travel.location_ttl,
    )
    return Site(id=model.site, name=model.name, timezone=model.timezone, travel=travel, buildings=buildings,
                devices=devices, technicians=technicians, supervisors=supervisors, units=units, sla=sla,
                channels=channels, locale=model.locale, escalation=escalation, contractors=contractors)
