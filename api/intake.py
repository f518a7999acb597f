"""People's reports: which mandatory fields are missing, and category and urgency suggested from the words; pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from caretaker import i18n
from caretaker.api.schemas import ReportIn
from caretaker.dispatch.service import Report
from caretaker.estate.model import SKILLS, Site

WORDS_FILE = Path(__file__).resolve().parent / "intake_words.yaml"
_LATIN = re.compile(r"^[a-z][a-z ]*$")


@dataclass(frozen=True, slots=True)
class Suggestion:
    category: str
    urgency: int


@dataclass(frozen=True, slots=True)
class WordRule:
    """One row of api/intake_words.yaml: these words point to this trade and level."""

    category: str
    urgency: int
    words: tuple[str, ...]
    with_: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


def _found(word: str, text: str) -> bool:
    """Whether a word is in the (lower-cased) text: anywhere for Chinese, at the start of a word for English."""
    if _LATIN.match(word):
        return re.search(r"(?<![a-z])" + re.escape(word), text) is not None
    return word in text


def load_word_rules(path: Path = WORDS_FILE) -> tuple[tuple[WordRule, ...], Suggestion]:
    """Read the words file: its rules in order and the suggestion when none matches."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = tuple(WordRule(r["category"], int(r["urgency"]), tuple(str(w).lower() for w in r["words"]),
                           tuple(str(w).lower() for w in r.get("with", ())),
                           tuple(str(w).lower() for w in r.get("unless", ())))
                  for r in data["rules"])
    for rule in rules:
        if rule.category not in SKILLS or not 1 <= rule.urgency <= 4:
            raise ValueError(f"{path}: {rule.category} {rule.urgency} is no trade and level")
    return rules, Suggestion(data["default"]["category"], int(data["default"]["urgency"]))


RULES, DEFAULT = load_word_rules()

KINDS = ("repair", "complaint", "suggestion", "enquiry")
COMPLAINT_TYPES = ("service", "safety")


@dataclass(frozen=True, slots=True)
class KindRule:
    """One row of `kinds` in api/intake_words.yaml: these words make the report a complaint or a suggestion."""

    kind: str
    complaint: str | None
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KindSuggestion:
    kind: str
    complaint_type: str | None
    word: str | None  # the word that decided; None: no kind rule matched (a repair)


def load_kind_rules(path: Path = WORDS_FILE) -> tuple[KindRule, ...]:
    """Read the words file's `kinds` rules in order."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rules = tuple(KindRule(r["kind"], r.get("complaint"), tuple(str(w).lower() for w in r["words"]))
                  for r in data.get("kinds", ()))
    for rule in rules:
        if rule.kind not in KINDS or (rule.kind == "complaint") != (rule.complaint in COMPLAINT_TYPES):
            raise ValueError(f"{path}: {rule.kind} {rule.complaint} is no kind of report")
    return rules


KIND_RULES = load_kind_rules()


def suggest_kind(description: str, rules: tuple[KindRule, ...] = KIND_RULES) -> KindSuggestion:
    """Return the kind of report the words point to: a safety or service complaint, a suggestion, else a repair."""
    text = description.lower()
    for rule in rules:
        word = next((w for w in rule.words if _found(w, text)), None)
        if word is not None:
            return KindSuggestion(rule.kind, rule.complaint, word)
    return KindSuggestion("repair", None, None)


def suggest_all(description: str) -> tuple[Suggestion, str | None, KindSuggestion]:
    """The trade and level with their word, and the kind; a safety complaint is level 1 for security at once."""
    found, word = suggest_why(description)
    kind = suggest_kind(description)
    if kind.complaint_type == "safety":
        found, word = Suggestion("security", 1), kind.word
    return found, word, kind


def suggest_why(description: str, rules: tuple[WordRule, ...] = RULES,
                default: Suggestion = DEFAULT) -> tuple[Suggestion, str | None]:
    """Return the category and urgency the description's words point to, with the word that decided
    (None when no rule matched and the default applies)."""
    text = description.lower()
    for rule in rules:
        word = next((w for w in rule.words if _found(w, text)), None)
        if word is None:
            continue
        if rule.with_ and not any(_found(w, text) for w in rule.with_):
            continue  # "trapped" alone (a cat up a tree) is not an elevator entrapment
        if any(_found(w, text) for w in rule.unless):
            continue
        return Suggestion(rule.category, rule.urgency), word
    return default, None


def suggest(description: str) -> Suggestion:
    """Return the category and urgency the description's words point to (general 4 when none match)."""
    return suggest_why(description)[0]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def report_problems(body: ReportIn, site: Site) -> list[tuple[str, str, str]]:
    """Return every problem with the report as (field, error type, message); empty when it can be opened.
    The messages are `Said`: the 422 says them in the request's language (docs/api.md, "Language").

    Mandatory (docs/operations.md): name, contact, building or unit, description, and where it came from.
    """
    problems: list[tuple[str, str, str]] = []
    for name in ("reporter_name", "reporter_phone", "description", "source"):
        if _blank(getattr(body, name)):
            problems.append((name, "missing", i18n.said("intake.required", field=name)))
    unit = site.units.get(body.unit) if body.unit else None
    if body.unit and unit is None:
        problems.append(("unit", "unknown", i18n.said("intake.unit_unknown", unit=body.unit)))
    if unit is None:  # a known unit says where; otherwise building and floor must
        if _blank(body.building):
            problems.append(("building", "missing", i18n.said("intake.required_or_unit", field="building")))
        if body.floor is None:
            problems.append(("floor", "missing", i18n.said("intake.required_or_unit", field="floor")))
    building = body.building or (unit.building if unit else None)
    if building and building not in site.buildings:
        problems.append(("building", "unknown", i18n.said("intake.building_unknown", building=building)))
    elif building and body.floor is not None:
        b = site.buildings[building]
        if not b.lowest_floor <= body.floor <= b.highest_floor:
            problems.append(("floor", "out_of_range", i18n.said(
                "intake.floor_out_of_range", building=building, lowest=b.lowest_floor, highest=b.highest_floor)))
    return problems


def to_report(body: ReportIn, site: Site) -> Report:
    """Return the dispatch Report for a body that `report_problems` found complete."""
    unit = site.units.get(body.unit) if body.unit else None
    description = (body.description or "").strip()
    guess = suggest(description)
    first_line = description.splitlines()[0] if description else ""
    return Report(
        source=body.source or "desk",
        reporter_name=(body.reporter_name or "").strip(),
        reporter_phone=(body.reporter_phone or "").strip(),
        building=body.building or unit.building,  # type: ignore[union-attr]
        floor=body.floor if body.floor is not None else unit.floor,  # type: ignore[union-attr]
        description=description,
        category=body.category or guess.category,
        urgency=body.urgency or guess.urgency,
        title=(body.title or first_line)[:200] or "report",
        unit_id=body.unit,
        zone=body.zone,
    )
