"""The rules file's shape, as strict pydantic models: an unknown key or a wrong type is an error."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    model_validator,
)

RULE_ID = r"^[A-Za-z0-9_.-]{1,64}$"
Scalar = Union[StrictBool, StrictInt, StrictFloat, str]
Duration = Annotated[StrictInt | str, Field(description="90s, 2m, 1h or seconds")]
Number = StrictInt | StrictFloat


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MetricIn(_Strict):
    metric: str
    op: Literal[">", ">=", "<", "<=", "==", "!=", "between"]
    value: Scalar | tuple[float, float]


class ChangeIn(_Strict):
    metric: str
    drop: Number | None = Field(default=None, gt=0)
    rise: Number | None = Field(default=None, gt=0)
    within: Duration


class AllIn(_Strict):
    all: list["ConditionIn"] = Field(min_length=1)


class AnyIn(_Strict):
    any: list["ConditionIn"] = Field(min_length=1)


class EventIn(_Strict):
    event: str
    data: dict[str, Scalar] = Field(default_factory=dict)
    count: StrictInt = Field(default=1, ge=1, le=10_000)
    within: Duration | None = None


class StatusIn(_Strict):
    status: Literal["offline"]


class AbsentIn(_Strict):
    absent_for: Number = Field(gt=0, description="how many of the device's usual intervals")
    fallback_interval: Duration = "5m"


class AlertIn(_Strict):
    alert: str = Field(pattern=RULE_ID)
    with_: str = Field(alias="with", pattern=RULE_ID)
    same: Literal["building", "zone"] = "building"


_KINDS = (("op", "MetricIn"), ("drop", "ChangeIn"), ("rise", "ChangeIn"), ("metric", "MetricIn"), ("all", "AllIn"),
          ("any", "AnyIn"), ("event", "EventIn"), ("status", "StatusIn"), ("absent_for", "AbsentIn"),
          ("alert", "AlertIn"))


def _condition_kind(value: Any) -> str | None:
    """Pick the condition model from the key that says which it is, so a mistake is reported once."""
    if isinstance(value, BaseModel):
        return type(value).__name__
    if isinstance(value, dict):
        for key, model in _KINDS:
            if key in value:
                return model
    return None


ConditionIn = Annotated[
    Union[
        Annotated[MetricIn, Tag("MetricIn")], Annotated[ChangeIn, Tag("ChangeIn")], Annotated[AllIn, Tag("AllIn")],
        Annotated[AnyIn, Tag("AnyIn")], Annotated[EventIn, Tag("EventIn")], Annotated[StatusIn, Tag("StatusIn")],
        Annotated[AbsentIn, Tag("AbsentIn")], Annotated[AlertIn, Tag("AlertIn")],
    ],
    Discriminator(_condition_kind, custom_error_type="condition", custom_error_message=(
        "a condition needs one of the keys metric, all, any, event, status, absent_for or alert")),
]


class ScopeIn(_Strict):
    buildings: list[str] | None = None
    floors: tuple[int, int] | None = None
    zones: list[str] | None = None
    devices: str | None = Field(default=None, description="a shell pattern of device ids, e.g. A-*-LEAK-*")


class TimedUrgencyIn(_Strict):
    windows: list[str] = Field(min_length=1, description='weekly windows like "Mon-Sun 22:00-06:00"')
    urgency: Literal[1, 2, 3, 4]


class ChatterIn(_Strict):
    off: bool = False
    flips: StrictInt = Field(default=4, ge=2, le=1000)
    within: Duration = "10m"


class TitleIn(_Strict):
    """A title in each language (`{zh-CN: 漏水, en: Water leak}`), or a message key of the catalogues
    (`{key: rule.water-leak}`, caretaker/i18n); docs/rules.md, "Titles"."""

    key: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    zh_cn: str | None = Field(default=None, alias="zh-CN", min_length=1, max_length=200)
    en: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _one_form(self) -> "TitleIn":
        if self.key is not None and (self.zh_cn is not None or self.en is not None):
            raise ValueError("a title is either {key: …} or {zh-CN: …, en: …}, not both")
        if self.key is None and (self.zh_cn is None or self.en is None):
            missing = " and ".join(name for name, v in (("zh-CN", self.zh_cn), ("en", self.en)) if v is None)
            raise ValueError(f"a title in languages needs both zh-CN and en (missing: {missing}), or {{key: …}}")
        return self


def _title_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "Text"
    if isinstance(value, (dict, TitleIn)):
        return "Languages"
    return None


# plain text (the same in every estate), or a TitleIn; the tags are capitalised so that an error's path
# points at `title`, not at a union member (rules/load.py drops such names)
Title = Annotated[
    Union[Annotated[str, Tag("Text"), Field(min_length=1, max_length=200)], Annotated[TitleIn, Tag("Languages")]],
    Discriminator(_title_kind, custom_error_type="title", custom_error_message=(
        "a title is a string, a map {zh-CN: …, en: …} or {key: …}")),
]


class RuleIn(_Strict):
    id: str = Field(pattern=RULE_ID)
    title: Title
    description: str = ""
    device_types: list[str] = Field(min_length=1)
    when: ConditionIn
    clear_when: ConditionIn | None = None
    urgency: Literal[1, 2, 3, 4]
    urgency_by_time: list[TimedUrgencyIn] = Field(default_factory=list)
    active_hours: list[str] = Field(default_factory=list)
    category: str
    scope: ScopeIn | None = None
    for_: Duration = Field(default=0, alias="for")
    clear_for: Duration = 0
    clear_after: Duration = "15m"
    chatter: ChatterIn | None = None
    suppressed_by: list[str] = Field(default_factory=list)
    enabled: bool = True


    @model_validator(mode="before")
    @classmethod
    def _chatter_off(cls, data: Any) -> Any:
        # `chatter: off` (which YAML reads as false when unquoted) turns detection off
        if isinstance(data, dict) and data.get("chatter") in ("off", False):
            return {**data, "chatter": {"off": True}}
        return data


class PlaybookIn(_Strict):
    """Which trades an incident needs (docs/operations.md, "Playbooks")."""

    id: str = Field(pattern=RULE_ID)
    rules: list[str] = Field(min_length=1, description="the rules whose alarms call for it")
    levels: list[Literal[1, 2, 3, 4]] = Field(default_factory=lambda: [1, 2, 3, 4])
    now: list[str] = Field(default_factory=list, description="support trades dispatched at once")
    on_resolve: list[str] = Field(default_factory=list, description="support trades dispatched when the owner resolves")


class RulesFileIn(_Strict):
    version: Literal[1] = 1
    rules: list[RuleIn]
    playbooks: list[PlaybookIn] | None = None  # None: the defaults of rules/playbooks.py
