"""People's reports: which mandatory fields are missing, and category and urgency suggested from the words; pure."""

from __future__ import annotations

from dataclasses import dataclass

from api.schemas import ReportIn
from dispatch.service import Report
from estate.model import Site

# first match wins, so the elevator row sits above power: "电梯" contains "电"
# (category, urgency, words that point to it); matched case-insensitively anywhere in the text
SUGGESTIONS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("elevator", 1, ("trapped", "stuck in", "困", "关人")),  # someone shut in: danger to people
    ("elevator", 2, ("elevator", "lift", "电梯")),
    ("plumbing", 1, ("leak", "burst", "flood", "漏水", "爆管", "渗水", "跑水", "水管")),
    ("plumbing", 2, ("no water", "water pressure", "停水", "没水", "水压")),
    ("plumbing", 1, ("water",)),
    ("electrical", 2, ("power", "electric", "outage", "blackout", "停电", "跳闸", "电")),
    ("security", 3, ("door", "gate", "lock", "门禁", "门")),
)
DEFAULT_SUGGESTION = ("general", 4)
_ELEVATOR_WORDS = ("elevator", "lift", "电梯")


@dataclass(frozen=True, slots=True)
class Suggestion:
    category: str
    urgency: int


def suggest(description: str) -> Suggestion:
    """Return the category and urgency the description's words point to (general 4 when none match)."""
    text = description.lower()
    for category, urgency, words in SUGGESTIONS:
        if category == "elevator" and urgency == 1 and not any(w in text for w in _ELEVATOR_WORDS):
            continue  # "trapped" alone (a cat up a tree) is not an elevator entrapment
        if any(word in text for word in words):
            return Suggestion(category, urgency)
    return Suggestion(*DEFAULT_SUGGESTION)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def report_problems(body: ReportIn, site: Site) -> list[tuple[str, str, str]]:
    """Return every problem with the report as (field, error type, message); empty when it can be opened.

    Mandatory (DOMAIN.md §5): name, contact, building or unit, description, and where it came from.
    """
    problems: list[tuple[str, str, str]] = []
    for name in ("reporter_name", "reporter_phone", "description", "source"):
        if _blank(getattr(body, name)):
            problems.append((name, "missing", "Field required"))
    unit = site.units.get(body.unit) if body.unit else None
    if body.unit and unit is None:
        problems.append(("unit", "unknown", f"unit {body.unit!r} is not in the site file"))
    if unit is None:  # a known unit says where; otherwise building and floor must
        if _blank(body.building):
            problems.append(("building", "missing", "Field required (or give a unit)"))
        if body.floor is None:
            problems.append(("floor", "missing", "Field required (or give a unit)"))
    building = body.building or (unit.building if unit else None)
    if building and building not in site.buildings:
        problems.append(("building", "unknown", f"building {building!r} is not in the site file"))
    elif building and body.floor is not None:
        b = site.buildings[building]
        if not b.lowest_floor <= body.floor <= b.highest_floor:
            problems.append(("floor", "out_of_range",
                             f"building {building} has floors {b.lowest_floor} to {b.highest_floor}"))
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
