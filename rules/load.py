"""Load a rules file strictly: every unknown key, wrong type, unknown metric or bad duration is named with its line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Sequence, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationError,
)

from estate.durations import parse_duration
from estate.errors import SiteError, SiteProblem, format_problems
from estate.model import DEVICE_EVENTS, DEVICE_METRICS, DEVICE_TYPES, SKILLS
from estate.yamllines import format_path, line_of, load_yaml_with_lines
from rules.model import AllOf, AnyOf, EventCondition, MetricCondition, Rule, StatusCondition

RULE_ID = r"^[A-Za-z0-9_.-]{1,64}$"


class RulesError(Exception):
    """A rules file that cannot be used; `problems` lists everything wrong, each with its line."""

    def __init__(self, problems: Sequence[SiteProblem], filename: str) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        self.filename = filename
        super().__init__(format_problems(self.problems, filename))

    def __str__(self) -> str:
        return format_problems(self.problems, self.filename)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Scalar = Union[StrictBool, StrictInt, StrictFloat, str]


class MetricIn(_Strict):
    metric: str
    op: Literal[">", ">=", "<", "<=", "==", "!=", "between"]
    value: Scalar | tuple[float, float]


class AllIn(_Strict):
    all: list["ConditionIn"] = Field(min_length=1)


class AnyIn(_Strict):
    any: list["ConditionIn"] = Field(min_length=1)


class EventIn(_Strict):
    event: str
    data: dict[str, Scalar] = Field(default_factory=dict)


class StatusIn(_Strict):
    status: Literal["offline"]


def _condition_kind(value: Any) -> str | None:
    """Pick the condition model from the key that says which it is, so a mistake is reported once."""
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        for key, model in (("metric", "MetricIn"), ("all", "AllIn"), ("any", "AnyIn"), ("event", "EventIn"),
                           ("status", "StatusIn")):
            if key in value:
                return model
    return None


ConditionIn = Annotated[
    Union[
        Annotated[MetricIn, Tag("MetricIn")], Annotated[AllIn, Tag("AllIn")], Annotated[AnyIn, Tag("AnyIn")],
        Annotated[EventIn, Tag("EventIn")], Annotated[StatusIn, Tag("StatusIn")],
    ],
    Discriminator(_condition_kind, custom_error_type="condition", custom_error_message=(
        "a condition needs one of the keys metric, all, any, event or status")),
]
Duration = Annotated[StrictInt | str, Field(description="90s, 2m, 1h or seconds")]


class RuleIn(_Strict):
    id: str = Field(pattern=RULE_ID)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    device_types: list[str] = Field(min_length=1)
    when: ConditionIn
    urgency: Literal[1, 2, 3, 4]
    category: str
    for_: Duration = Field(default=0, alias="for")
    clear_for: Duration = 0
    clear_after: Duration = "15m"
    enabled: bool = True


class RulesFileIn(_Strict):
    version: Literal[1] = 1
    rules: list[RuleIn]


@dataclass(frozen=True, slots=True)
class _Where:
    lines: dict
    data: Any

    def problem(self, path: tuple, message: str) -> SiteProblem:
        return SiteProblem(line_of(path, self.lines), format_path(path, self.data), message)


def _kind_accepts(kind: object, value: object) -> bool:
    if kind == "bool":
        return isinstance(value, bool)
    if kind in ("number", "int"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(kind, tuple):
        return value in kind
    return False


def _check_condition(cond: Any, types: list[str], path: tuple, where: _Where, out: list[SiteProblem]) -> None:
    if isinstance(cond, (AllIn, AnyIn)):
        items = cond.all if isinstance(cond, AllIn) else cond.any
        key = "all" if isinstance(cond, AllIn) else "any"
        for i, item in enumerate(items):
            _check_condition(item, types, (*path, key, i), where, out)
    elif isinstance(cond, MetricIn):
        kinds = [DEVICE_METRICS[t][cond.metric] for t in types if cond.metric in DEVICE_METRICS.get(t, {})]
        if not kinds:
            out.append(where.problem((*path, "metric"), f"no device type of {', '.join(types)} has a metric {cond.metric!r}"))
            return
        if cond.op == "between":
            if kinds[0] not in ("number", "int"):
                out.append(where.problem((*path, "op"), f"between needs a numeric metric; {cond.metric} is not"))
            elif not isinstance(cond.value, tuple):
                out.append(where.problem((*path, "value"), "`between` takes [low, high]"))
            elif cond.value[0] > cond.value[1]:
                out.append(where.problem((*path, "value"), "`between` needs low <= high"))
        elif isinstance(cond.value, tuple) or not _kind_accepts(kinds[0], cond.value):
            out.append(where.problem((*path, "value"), f"{cond.value!r} cannot be compared with {cond.metric} ({kinds[0]})"))
        elif cond.op in (">", ">=", "<", "<=") and kinds[0] not in ("number", "int"):
            out.append(where.problem((*path, "op"), f"{cond.op} needs a numeric metric; {cond.metric} is not"))
    elif isinstance(cond, EventIn):
        if not any(cond.event in DEVICE_EVENTS.get(t, ()) for t in types):
            out.append(where.problem((*path, "event"), f"no device type of {', '.join(types)} sends an event {cond.event!r}"))


def _to_condition(cond: Any):
    if isinstance(cond, AllIn):
        return AllOf(tuple(_to_condition(c) for c in cond.all))
    if isinstance(cond, AnyIn):
        return AnyOf(tuple(_to_condition(c) for c in cond.any))
    if isinstance(cond, MetricIn):
        return MetricCondition(cond.metric, cond.op, cond.value)
    if isinstance(cond, EventIn):
        return EventCondition(cond.event, dict(cond.data))
    return StatusCondition()


def _duration(value: str | int, path: tuple, where: _Where, out: list[SiteProblem]) -> timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        out.append(where.problem(path, str(exc)))
        return timedelta(0)


def parse_rules(text: str, filename: str = "<rules>") -> list[Rule]:
    """Return the enabled rules of a rules file's text; raises RulesError naming every problem and its line."""
    try:
        data, lines = load_yaml_with_lines(text, filename)
    except SiteError as exc:
        raise RulesError(exc.problems, filename) from exc
    where = _Where(lines, data)
    try:
        parsed = RulesFileIn.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # pydantic names union members in the path ("MetricIn"); drop them to point at the YAML key
            path = tuple(p for p in err["loc"] if not (isinstance(p, str) and p[:1].isupper()))
            path = tuple("for" if p == "for_" else p for p in path)
            problems.append(where.problem(path, err["msg"]))
        unique = {(p.line, p.path, p.message): p for p in problems}
        raise RulesError(list(unique.values()), filename) from exc

    problems: list[SiteProblem] = []
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(parsed.rules):
        path = ("rules", i)
        if item.id in seen:
            problems.append(where.problem((*path, "id"), f"duplicate rule id {item.id!r} (also rules[{seen[item.id]}])"))
        seen[item.id] = i
        types = list(DEVICE_TYPES) if item.device_types == ["*"] else item.device_types
        for j, t in enumerate(item.device_types):
            if t != "*" and t not in DEVICE_TYPES:
                problems.append(where.problem((*path, "device_types", j), f"unknown device type {t!r}"))
        known_types = [t for t in types if t in DEVICE_TYPES]
        if item.category not in SKILLS:
            problems.append(where.problem((*path, "category"), f"category must be a skill: {', '.join(SKILLS)}"))
        if known_types:
            _check_condition(item.when, known_types, (*path, "when"), where, problems)
        hold_for = _duration(item.for_, (*path, "for"), where, problems)
        clear_for = _duration(item.clear_for, (*path, "clear_for"), where, problems)
        clear_after = _duration(item.clear_after, (*path, "clear_after"), where, problems)
        if item.enabled:
            rules.append(Rule(
                id=item.id, title=item.title, description=item.description,
                device_types=frozenset(item.device_types), condition=_to_condition(item.when),
                urgency=item.urgency, category=item.category,
                hold_for=hold_for, clear_for=clear_for, clear_after=clear_after,
            ))
    if problems:
        raise RulesError(problems, filename)
    return rules


def load_rules(path: Path | str) -> list[Rule]:
    """Return the enabled rules of a rules file; raises RulesError (or OSError when it cannot be read)."""
    path = Path(path)
    return parse_rules(path.read_text(encoding="utf-8"), str(path))
