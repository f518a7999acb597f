"""YAML with lines: the helpers the site and rules loaders share to point at the offending line."""

from __future__ import annotations

from typing import Any

import pytest

from caretaker.estate.errors import SiteError
from caretaker.estate.yamllines import format_path, line_of, load_yaml_with_lines, read_yaml_with_lines

TEXT = """\
site: tiny
defaults: &day
  shifts: ["Mon-Fri 08:00-18:00"]
technicians:
  - id: t-1
    <<: *day
  - id: t-2
    skills:
      - plumbing
sla:
  1: {accept: 2m}
"""


def test_values_and_lines() -> None:
    data, lines = load_yaml_with_lines(TEXT, "x.yaml")
    assert data["technicians"][0] == {"id": "t-1", "shifts": ["Mon-Fri 08:00-18:00"]}  # merge key resolved
    assert lines[()] == 1
    assert lines[("site",)] == 1
    assert lines[("technicians",)] == 4
    assert lines[("technicians", 0)] == 5
    assert lines[("technicians", 1, "skills")] == 8
    assert lines[("technicians", 1, "skills", 0)] == 9
    assert lines[("sla", 1, "accept")] == 11


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("technicians", 1, "skills", 0), 9),
        (("technicians", 1, "name"), 7),      # absent key: its mapping's line
        (("technicians", 5, "name"), 4),      # absent item: the list's line
        (("nowhere",), 1),
    ],
    ids=["present", "missing-key", "missing-item", "missing-top"],
)
def test_line_of_falls_back_to_the_nearest_ancestor(path: tuple[Any, ...], expected: int) -> None:
    _, lines = load_yaml_with_lines(TEXT, "x.yaml")
    assert line_of(path, lines) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), ""),
        (("site",), "site"),
        (("technicians", 1, "skills", 0), "technicians[1].skills[0]"),
        (("sla", 1, "accept"), "sla.1.accept"),  # a mapping key that is a number is not an index
    ],
    ids=["root", "top", "list-indexes", "numeric-mapping-key"],
)
def test_format_path(path: tuple[Any, ...], expected: str) -> None:
    data, _ = load_yaml_with_lines(TEXT, "x.yaml")
    assert format_path(path, data) == expected


def test_duplicate_keys_are_refused_or_returned() -> None:
    text = "site: a\nname: x\nsite: b\n"
    with pytest.raises(SiteError) as caught:
        load_yaml_with_lines(text, "x.yaml")
    assert str(caught.value) == "x.yaml:3: site: duplicate key 'site' (first on line 1)"
    data, _, problems = read_yaml_with_lines(text, "x.yaml")
    assert data == {"site": "a", "name": "x"}  # the first one is kept
    assert [(p.line, p.path) for p in problems] == [(3, "site")]


def test_a_mapping_as_key_is_a_problem() -> None:
    _, _, problems = read_yaml_with_lines("? {a: 1}\n: b\nc: d\n", "x.yaml")
    assert [(p.line, p.message) for p in problems] == [(1, "a key must be a plain word or number")]


def test_a_recursive_alias_does_not_loop_forever() -> None:
    _, _, problems = read_yaml_with_lines("a: &x [*x]\n", "x.yaml")
    assert problems and "nested too deeply" in problems[0].message
