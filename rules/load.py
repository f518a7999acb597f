"""Load a rules file strictly: every unknown key, wrong type, unknown metric or bad duration is named with its line."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Sequence

from pydantic import ValidationError

from caretaker import i18n
from caretaker.estate.durations import parse_duration
from caretaker.estate.errors import SiteError, SiteProblem, format_problems
from caretaker.estate.model import DEVICE_EVENTS, DEVICE_METRICS, DEVICE_TYPES, SKILLS
from caretaker.estate.shifts import parse_shift
from caretaker.estate.yamllines import format_path, line_of, load_yaml_with_lines
from caretaker.rules.model import (
    AbsentCondition,
    AlertCondition,
    AllOf,
    AnyOf,
    ChangeCondition,
    Chatter,
    CountCondition,
    EventCondition,
    MetricCondition,
    Rule,
    Scope,
    StatusCondition,
    TimedUrgency,
)
from caretaker.rules.playbooks import DEFAULT_PLAYBOOKS, Playbook
from caretaker.rules.schema import (
    AbsentIn,
    AlertIn,
    AllIn,
    AnyIn,
    ChangeIn,
    EventIn,
    MetricIn,
    RuleIn,
    RulesFileIn,
    StatusIn,
    TitleIn,
)

DEFAULT_CHATTER = Chatter(flips=4, within=timedelta(minutes=10))
_STATE_KINDS = (MetricIn, AllIn, AnyIn)


class RulesError(Exception):
    """A rules file that cannot be used; `problems` lists everything wrong, each with its line."""

    def __init__(self, problems: Sequence[SiteProblem], filename: str) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        self.filename = filename
        super().__init__(format_problems(self.problems, filename))

    def __str__(self) -> str:
        return format_problems(self.problems, self.filename)


@dataclass(slots=True)
class _Checker:
    """Collects problems with their lines while turning the parsed file into rules."""

    lines: dict
    data: Any
    problems: list[SiteProblem]

    def problem(self, path: tuple, message: str) -> None:
        self.problems.append(SiteProblem(line_of(path, self.lines), format_path(path, self.data), message))

    def duration(self, value: str | int | None, path: tuple) -> timedelta:
        if value is None:
            return timedelta(0)
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return timedelta(0)

    def windows(self, texts: list[str], path: tuple) -> tuple:
        result = []
        for i, text in enumerate(texts):
            try:
                result.append(parse_shift(text))
            except ValueError as exc:
                self.problem((*path, i), str(exc))
        return tuple(result)

    def metric_kinds(self, metric: str, types: list[str], path: tuple) -> list[object]:
        kinds = [DEVICE_METRICS[t][metric] for t in types if metric in DEVICE_METRICS.get(t, {})]
        if not kinds:
            self.problem(path, f"no device type of {', '.join(types)} has a metric {metric!r}")
        return kinds

    def condition(self, cond: Any, types: list[str], path: tuple, nested: bool = False):
        """Return the runtime condition, reporting what is wrong with it."""
        if nested and not isinstance(cond, _STATE_KINDS):
            self.problem(path, "inside all/any only metric comparisons (and all/any) can be combined")
        if isinstance(cond, (AllIn, AnyIn)):
            key = "all" if isinstance(cond, AllIn) else "any"
            items = tuple(self.condition(c, types, (*path, key, i), nested=True)
                          for i, c in enumerate(getattr(cond, key)))
            return AllOf(items) if key == "all" else AnyOf(items)
        if isinstance(cond, MetricIn):
            self._metric(cond, types, path)
            return MetricCondition(cond.metric, cond.op, cond.value)
        if isinstance(cond, ChangeIn):
            kinds = self.metric_kinds(cond.metric, types, (*path, "metric"))
            if kinds and kinds[0] not in ("number", "int"):
                self.problem((*path, "metric"), f"a change needs a numeric metric; {cond.metric} is not")
            if (cond.drop is None) == (cond.rise is None):
                self.problem(path, "a change needs exactly one of drop or rise")
            return ChangeCondition(cond.metric, "drop" if cond.drop is not None else "rise",
                                   float(cond.drop or cond.rise or 0), self.duration(cond.within, (*path, "within")))
        if isinstance(cond, EventIn):
            if not any(cond.event in DEVICE_EVENTS.get(t, ()) for t in types):
                self.problem((*path, "event"), f"no device type of {', '.join(types)} sends an event {cond.event!r}")
            event = EventCondition(cond.event, dict(cond.data))
            if cond.count == 1 and cond.within is None:
                return event
            if cond.within is None:
                self.problem((*path, "within"), "counting events needs `within`, the window they must fall in")
            return CountCondition(event, cond.count, self.duration(cond.within, (*path, "within")))
        if isinstance(cond, AbsentIn):
            return AbsentCondition(float(cond.absent_for), self.duration(cond.fallback_interval,
                                                                         (*path, "fallback_interval")))
        if isinstance(cond, AlertIn):
            return AlertCondition(cond.alert, cond.with_, cond.same)
        assert isinstance(cond, StatusIn)
        return StatusCondition()

    def _metric(self, cond: MetricIn, types: list[str], path: tuple) -> None:
        kinds = self.metric_kinds(cond.metric, types, (*path, "metric"))
        if not kinds:
            return
        kind = kinds[0]
        numeric = kind in ("number", "int")
        if cond.op == "between":
            if not numeric:
                self.problem((*path, "op"), f"between needs a numeric metric; {cond.metric} is not")
            elif not isinstance(cond.value, tuple):
                self.problem((*path, "value"), "`between` takes [low, high]")
            elif cond.value[0] > cond.value[1]:
                self.problem((*path, "value"), "`between` needs low <= high")
        elif isinstance(cond.value, tuple) or not _kind_accepts(kind, cond.value):
            self.problem((*path, "value"), f"{cond.value!r} cannot be compared with {cond.metric} ({kind})")
        elif cond.op in (">", ">=", "<", "<=") and not numeric:
            self.problem((*path, "op"), f"{cond.op} needs a numeric metric; {cond.metric} is not")


def _kind_accepts(kind: object, value: object) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("number", "int"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(kind, tuple):
        return value in kind
    return False


def _rule(item: RuleIn, path: tuple, check: _Checker) -> Rule:
    types = list(DEVICE_TYPES) if item.device_types == ["*"] else item.device_types
    for j, t in enumerate(item.device_types):
        if t != "*" and t not in DEVICE_TYPES:
            check.problem((*path, "device_types", j), f"unknown device type {t!r}")
    known = [t for t in types if t in DEVICE_TYPES] or list(DEVICE_TYPES)
    if item.category not in SKILLS:
        check.problem((*path, "category"), f"category must be a skill: {', '.join(SKILLS)}")
    condition = check.condition(item.when, known, (*path, "when"))
    clear_condition = None
    if item.clear_when is not None:
        if not isinstance(item.clear_when, _STATE_KINDS):
            check.problem((*path, "clear_when"), "clear_when takes a metric comparison (or all/any of them)")
        else:
            clear_condition = check.condition(item.clear_when, known, (*path, "clear_when"))
    if isinstance(item.when, (EventIn, AlertIn)) and item.for_:
        check.problem((*path, "for"), "an event has no duration; `for` applies to conditions that hold")
    scope = None
    if item.scope is not None:
        s = item.scope
        scope = Scope(frozenset(s.buildings) if s.buildings else None, s.floors,
                      frozenset(s.zones) if s.zones else None, s.devices)
        if s.floors is not None and s.floors[0] > s.floors[1]:
            check.problem((*path, "scope", "floors"), "floors are [lowest, highest]")
    timed = tuple(
        TimedUrgency(check.windows(t.windows, (*path, "urgency_by_time", i, "windows")), t.urgency)
        for i, t in enumerate(item.urgency_by_time)
    )
    stateful = isinstance(item.when, (MetricIn, AllIn, AnyIn, ChangeIn, StatusIn, AbsentIn, AlertIn))
    if (item.chatter is not None and item.chatter.off) or not stateful:
        chatter = None
    elif item.chatter is None:
        chatter = DEFAULT_CHATTER
    else:
        chatter = Chatter(item.chatter.flips, check.duration(item.chatter.within, (*path, "chatter", "within")))
    titles = _titles(item.title, (*path, "title"), check)
    return Rule(
        id=item.id, title=dict(titles).get(i18n.DEFAULT, item.title if isinstance(item.title, str) else item.id),
        titles=titles, description=item.description, device_types=frozenset(item.device_types),
        condition=condition, urgency=item.urgency, category=item.category,
        hold_for=check.duration(item.for_, (*path, "for")), clear_for=check.duration(item.clear_for, (*path, "clear_for")),
        clear_after=check.duration(item.clear_after, (*path, "clear_after")), clear_condition=clear_condition,
        scope=scope, timed_urgency=timed, active=check.windows(item.active_hours, (*path, "active_hours")),
        chatter=chatter, suppressed_by=tuple(item.suppressed_by),
    )


def _titles(title: str | TitleIn, path: tuple, check: _Checker) -> tuple[tuple[str, str], ...]:
    """Return a rule's title in each language, or () for plain text (the same in every estate)."""
    if isinstance(title, str):
        return ()
    if title.key is None:
        return (("zh-CN", title.zh_cn or ""), ("en", title.en or ""))
    if not i18n.has(title.key):
        check.problem((*path, "key"), f"the message catalogues (caretaker/i18n) have no key {title.key!r}")
        return ()
    return tuple((locale, i18n.say(title.key, locale)[:200]) for locale in i18n.LOCALES)


def in_locale(rules: Sequence[Rule], locale: str | None) -> list[Rule]:
    """Return the rules with their titles in an estate's `locale` (its site file; unknown: zh-CN), the
    language its alerts, tickets and notices are written in; a plain-text title stays as it is; pure."""
    chosen = i18n.normalize(locale) or i18n.DEFAULT
    return [replace(rule, title=dict(rule.titles).get(chosen, rule.title)) if rule.titles else rule
            for rule in rules]


def parse_rules(text: str, filename: str = "<rules>") -> list[Rule]:
    """Return the enabled rules of a rules file's text; raises RulesError naming every problem and its line."""
    try:
        data, lines = load_yaml_with_lines(text, filename)
    except SiteError as exc:
        raise RulesError(exc.problems, filename) from exc
    check = _Checker(lines, data, [])
    try:
        parsed = RulesFileIn.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            # pydantic names union members in the path ("MetricIn"); drop them to point at the YAML key
            path = tuple(p for p in err["loc"]
                         if not (isinstance(p, str) and (p[:1].isupper() or p.startswith(("literal[", "function-")))))
            check.problem(tuple({"for_": "for", "with_": "with"}.get(p, p) for p in path),
                          str(err["msg"]).removeprefix("Value error, "))
        unique = {(p.line, p.path, p.message): p for p in check.problems}
        raise RulesError(list(unique.values()), filename) from exc

    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(parsed.rules):
        path = ("rules", i)
        if item.id in seen:
            check.problem((*path, "id"), f"duplicate rule id {item.id!r} (also rules[{seen[item.id]}])")
        seen[item.id] = i
        rule = _rule(item, path, check)
        if item.enabled:
            rules.append(rule)
    for i, item in enumerate(parsed.rules):
        references = [(("suppressed_by", j), name) for j, name in enumerate(item.suppressed_by)]
        if isinstance(item.when, AlertIn):
            references += [(("when", "alert"), item.when.alert), (("when", "with"), item.when.with_)]
        for where, name in references:
            if name not in seen:
                check.problem(("rules", i, *where), f"refers to rule {name!r}, which the file does not have")
            elif name == item.id:
                check.problem(("rules", i, *where), "a rule cannot refer to itself")
    _check_playbooks(parsed, set(seen), check)
    if check.problems:
        raise RulesError(check.problems, filename)
    return _wait_for_causes(rules)


def _check_playbooks(parsed: RulesFileIn, rule_ids: set[str], check: "_Checker") -> None:
    seen: set[str] = set()
    for i, book in enumerate(parsed.playbooks or []):
        if book.id in seen:
            check.problem(("playbooks", i, "id"), f"duplicate playbook id {book.id!r}")
        seen.add(book.id)
        for j, rule_id in enumerate(book.rules):
            if rule_id not in rule_ids:
                check.problem(("playbooks", i, "rules", j), f"refers to rule {rule_id!r}, which the file does not have")
        for key in ("now", "on_resolve"):
            for j, trade in enumerate(getattr(book, key)):
                if trade not in SKILLS:
                    check.problem(("playbooks", i, key, j), f"unknown trade {trade!r}; known: {', '.join(sorted(SKILLS))}")


def parse_playbooks(text: str, filename: str = "<rules>") -> tuple[Playbook, ...]:
    """Return the playbooks of a rules file's text (checked with its rules), or the defaults when it has none."""
    parse_rules(text, filename)  # every problem named, playbooks' too
    data, _ = load_yaml_with_lines(text, filename)
    books = RulesFileIn.model_validate(data).playbooks
    if books is None:
        return DEFAULT_PLAYBOOKS
    return tuple(Playbook(b.id, frozenset(b.rules), frozenset(b.levels), tuple(b.now), tuple(b.on_resolve))
                 for b in books)


def load_playbooks(path: Path | str) -> tuple[Playbook, ...]:
    """Return the playbooks of a rules file; raises RulesError (or OSError)."""
    path = Path(path)
    return parse_playbooks(path.read_text(encoding="utf-8"), str(path))


CAUSE_MARGIN = timedelta(seconds=2)


def _wait_for_causes(rules: list[Rule]) -> list[Rule]:
    """An alarm an outage would explain waits until the outage rule could have decided (its `for` and a
    margin): a pump that faults the instant the mains drop must find the outage already raised."""
    holds = {rule.id: rule.hold_for for rule in rules}
    result = []
    for rule in rules:
        causes = [holds[c] for c in rule.suppressed_by if c in holds]
        # a change holds only while the old value is in its window: waiting could outlast it
        if causes and not rule.is_event_rule and not isinstance(rule.condition, ChangeCondition):
            wait = max(causes) + CAUSE_MARGIN
            if rule.hold_for < wait:
                rule = replace(rule, hold_for=wait)
        result.append(rule)
    return result


def load_rules(path: Path | str) -> list[Rule]:
    """Return the enabled rules of a rules file; raises RulesError (or OSError when it cannot be read)."""
    path = Path(path)
    return parse_rules(path.read_text(encoding="utf-8"), str(path))
