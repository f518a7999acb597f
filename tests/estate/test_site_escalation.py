"""The site file's supervisors on shifts, escalation levels and contractors: `check-site` names every problem
with its line (unknown ids, bad durations, levels not increasing, ids used twice across the lists)."""

from __future__ import annotations

import pytest

from caretaker.estate import parse_site
from caretaker.estate.errors import SiteError
from tests.dispatch.escalation_site import SUPERVISORS, escalation_site_text


def problems(supervisors: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SiteError) as caught:
        parse_site(escalation_site_text(supervisors))
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def line_of(text: str, fragment: str) -> int:
    whole = escalation_site_text(text)
    return next(i for i, line in enumerate(whole.splitlines(), 1) if fragment in line)


def test_the_full_section_loads_with_shifts_roles_levels_and_contractors():
    site = parse_site(escalation_site_text())
    assert site.supervisors["m-chen"].role == "manager" and site.supervisors["s-li"].shifts
    assert [level.notify for level in site.escalation] == [("on_duty",), ("s-zhang",), ("m-chen",)]
    assert site.contractors["c-fix"].trades == frozenset({"plumbing", "electrical"})


@pytest.mark.parametrize(("old", "new", "fragment", "path", "message"), [
    ("notify: [m-chen]", "notify: [m-chan]", "m-chan", "escalation[2].notify[0]", "unknown supervisor 'm-chan'"),
    ("notify: [s-zhang]", "notify: [t-near]", "t-near]", "escalation[1].notify[0]", "unknown supervisor 't-near'"),
    ("after: 1h,", "after: 10m,", "after: 10m", "escalation[2].after",
     "level 2 starts after 10m, not later than the level before it (15m"),
    ("after: 15m,", "after: 0m,", "after: 0m, notify: [s-zhang]", "escalation[1].after",
     "level 1 starts after 0s, not later than the level before it (0s"),
    ("after: 1h,", "after: soon,", "after: soon", "escalation[2].after", "'soon' is not a duration"),
    ("arrive: 20m", "arrive: 0m", "arrive: 0m", "contractors[1].arrive", "a duration must be longer than zero"),
    ("trades: [elevator]", "trades: [lifts]", "trades: [lifts]", "contractors[2].trades[0]", "unknown skill 'lifts'"),
    ("role: manager", "role: boss", "role: boss", "supervisors[3].role", "unknown role 'boss'"),
    ('shifts: ["20:00-08:00"]', 'shifts: ["nights"]', "nights", "supervisors[1].shifts[0]", "no hours"),
    ("id: c-pipe", "id: s-li", "PipeCo", "contractors[1].id",
     "contractor id 's-li' is already a supervisor id"),
    ("id: c-lift", "id: t-sec", "LiftCare", "contractors[2].id", "contractor id 't-sec' is already a technician id"),
    ("id: c-lift", "id: c-fix", "LiftCare", "contractors[2].id", "duplicate contractor id 'c-fix'"),
    ("id: s-wu", "id: on_duty", "Wu Gang", "supervisors[1].id", "'on_duty' is kept for the escalation levels"),
], ids=["unknown-manager", "technician-in-level", "not-increasing", "two-at-once", "bad-after", "arrive-zero",
        "bad-trade", "bad-role", "bad-shift", "contractor-is-supervisor", "contractor-is-technician",
        "two-contractors", "supervisor-on-duty"])
def test_each_problem_is_named_with_its_line(old, new, fragment, path, message):
    assert old in SUPERVISORS
    text = SUPERVISORS.replace(old, new, 1)
    found = problems(text)
    assert any(p == path and message in m and line == line_of(text, fragment) for line, p, m in found), found
