"""Rule files load strictly: the default file loads; every problem is named with its line, all at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from estate.model import DEVICE_TYPES
from rules.load import RulesError, load_rules, parse_rules
from rules.model import AllOf, EventCondition, MetricCondition, StatusCondition

DEFAULT_RULES_FILE = Path(__file__).resolve().parents[2] / "rules" / "default_rules.yaml"

# one good rule; line numbers below count from the top of this text (line 1: "version: 1")
GOOD = """\
version: 1
rules:
  - id: r1
    title: Leak
    device_types: [water_leak]
    when: {metric: leak, op: "==", value: true}
    urgency: 1
    category: plumbing
"""


def problems_of(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml")
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_default_rules_load() -> None:
    rules = load_rules(DEFAULT_RULES_FILE)
    assert len(rules) == 14
    assert len({r.id for r in rules}) == 14
    by_id = {r.id: r for r in rules}
    assert by_id["water-leak"].clear_for == timedelta(seconds=30)
    assert by_id["low-water-tank"].hold_for == timedelta(minutes=1)
    assert by_id["transformer-overheating"].hold_for == timedelta(seconds=30)
    assert by_id["transformer-overheating"].clear_for == timedelta(minutes=2)
    assert by_id["generator-start-failed"].clear_after == timedelta(minutes=30)
    assert by_id["door-held-open"].clear_after == timedelta(minutes=10)
    assert by_id["pump-fault"].hold_for == timedelta(0) and by_id["pump-fault"].clear_after == timedelta(minutes=15)
    assert by_id["device-offline"].device_types == frozenset({"*"})
    assert isinstance(by_id["device-offline"].condition, StatusCondition)
    assert isinstance(by_id["door-forced"].condition, EventCondition)
    assert isinstance(by_id["elevator-stopped-occupied"].condition, AllOf)
    assert by_id["low-water-pressure"].condition == MetricCondition("pressure_kpa", "<", 150)
    assert {r.urgency for r in rules} <= {1, 2, 3}
    assert all(r.applies_to(t) for r in rules if "*" in r.device_types for t in DEVICE_TYPES)


def test_good_rule_loads() -> None:
    (rule,) = parse_rules(GOOD)
    assert rule.id == "r1" and rule.urgency == 1 and rule.category == "plumbing"
    assert rule.condition == MetricCondition("leak", "==", True)
    assert (rule.hold_for, rule.clear_for, rule.clear_after) == (timedelta(0), timedelta(0), timedelta(minutes=15))


def test_disabled_rule_is_checked_but_not_returned() -> None:
    assert parse_rules(GOOD + "    enabled: false\n") == []
    assert problems_of(GOOD.replace("category: plumbing", "category: plumber") + "    enabled: false\n")


def test_durations_in_every_spelling() -> None:
    (rule,) = parse_rules(GOOD + "    for: 1m30s\n    clear_for: 45\n    clear_after: 1h\n")
    assert rule.hold_for == timedelta(seconds=90)
    assert rule.clear_for == timedelta(seconds=45)
    assert rule.clear_after == timedelta(hours=1)


PROBLEMS = [
    # (id, text, line, path, words in the message)
    ("unknown-key", GOOD + "    colour: red\n", 9, "rules[0].colour", ["xtra"]),
    ("unknown-top-level-key", GOOD + "defaults: {}\n", 9, "defaults", ["xtra"]),
    ("title-wrong-type", GOOD.replace("title: Leak", "title: [a, b]"), 4, "rules[0].title", ["string"]),
    ("device-types-not-a-list", GOOD.replace("[water_leak]", "water_leak"), 5, "rules[0].device_types", ["list"]),
    ("urgency-a-string", GOOD.replace("urgency: 1", "urgency: high"), 7, "rules[0].urgency", ["1, 2, 3 or 4"]),
    ("urgency-0", GOOD.replace("urgency: 1", "urgency: 0"), 7, "rules[0].urgency", ["1, 2, 3 or 4"]),
    ("urgency-5", GOOD.replace("urgency: 1", "urgency: 5"), 7, "rules[0].urgency", ["1, 2, 3 or 4"]),
    ("missing-when", GOOD.replace('    when: {metric: leak, op: "==", value: true}\n', ""), 3, "rules[0].when",
     ["required"]),
    ("bad-rule-id", GOOD.replace("id: r1", "id: 'r 1'"), 3, "rules[0].id", ["pattern"]),
    ("version-2", GOOD.replace("version: 1", "version: 2"), 1, "version", ["1"]),
    ("top-level-a-list", "- a\n- b\n", 1, "", ["dictionary"]),
    ("unknown-device-type", GOOD.replace("[water_leak]", "[water_leak, toaster]"), 5, "rules[0].device_types[1]",
     ["unknown device type", "toaster"]),
    ("metric-no-listed-type-has", GOOD.replace('metric: leak, op: "==", value: true', 'metric: pressure_kpa, op: "<", value: 3'),
     6, "rules[0].when.metric", ["water_leak", "pressure_kpa"]),
    ("metric-of-a-sibling-type", GOOD.replace("[water_leak]", "[water_leak, water_tank]")
     .replace('metric: leak, op: "==", value: true', 'metric: temp_c, op: ">", value: 3'),
     6, "rules[0].when.metric", ["water_leak, water_tank", "temp_c"]),
    ("event-not-sent-by-type", GOOD.replace('{metric: leak, op: "==", value: true}', "{event: door_forced}"),
     6, "rules[0].when.event", ["water_leak", "door_forced"]),
    ("event-of-another-type", GOOD.replace("[water_leak]", "[elevator]")
     .replace('{metric: leak, op: "==", value: true}', "{event: start_failed}"), 6, "rules[0].when.event",
     ["elevator", "start_failed"]),
    ("bool-metric-compared-with-gt", GOOD.replace('"=="', '">"'), 6, "rules[0].when.op", [">", "numeric", "leak"]),
    ("bool-metric-compared-with-le", GOOD.replace('"=="', '"<="'), 6, "rules[0].when.op", ["<=", "leak"]),
    ("state-metric-compared-with-lt", GOOD.replace("[water_leak]", "[elevator]")
     .replace('metric: leak, op: "==", value: true', 'metric: state, op: "<", value: fault'), 6, "rules[0].when.op",
     ["numeric", "state"]),
    ("bool-metric-between", GOOD.replace('op: "==", value: true', "op: between, value: [0, 1]"), 6, "rules[0].when",
     ["leak"]),
    ("state-metric-between", GOOD.replace("[water_leak]", "[elevator]")
     .replace('metric: leak, op: "==", value: true', "metric: state, op: between, value: [0, 1]"), 6, "rules[0].when",
     ["state"]),
    ("between-low-above-high", GOOD.replace("[water_leak]", "[water_tank]")
     .replace('metric: leak, op: "==", value: true', "metric: level_pct, op: between, value: [50, 10]"), 6,
     "rules[0].when.value", ["low <= high"]),
    ("number-metric-compared-with-string", GOOD.replace("[water_leak]", "[water_pressure]")
     .replace('metric: leak, op: "==", value: true', 'metric: pressure_kpa, op: "<", value: "150"'), 6,
     "rules[0].when.value", ["'150'", "pressure_kpa"]),
    ("misspelt-elevator-state", GOOD.replace("[water_leak]", "[elevator]")
     .replace('metric: leak, op: "==", value: true', 'metric: state, op: "==", value: stoped'), 6,
     "rules[0].when.value", ["'stoped'", "state"]),
    ("nested-condition-bool-gt", GOOD.replace("[water_leak]", "[elevator]").replace(
        '{metric: leak, op: "==", value: true}',
        '{all: [{metric: state, op: "==", value: stopped}, {metric: occupied, op: ">", value: true}]}'),
     6, "rules[0].when.all[1].op", ["occupied"]),
    ("bad-duration-unit", GOOD + "    for: 30x\n", 9, "rules[0].for", ["'30x'", "duration"]),
    ("bad-duration-word", GOOD + "    clear_for: soon\n", 9, "rules[0].clear_for", ["'soon'"]),
    ("negative-duration", GOOD + "    clear_after: -5\n", 9, "rules[0].clear_after", ["-5"]),
    ("units-out-of-order", GOOD + "    for: 30s1m\n", 9, "rules[0].for", ["largest to smallest"]),
    ("duration-a-bool", GOOD + "    for: true\n", 9, "rules[0].for", []),
    ("duplicate-rule-id", GOOD + GOOD.split("rules:\n")[1], 9, "rules[1].id", ["duplicate", "r1", "rules[0]"]),
    ("category-not-a-skill", GOOD.replace("category: plumbing", "category: plumber"), 8, "rules[0].category",
     ["skill", "plumbing"]),
    ("duplicate-yaml-key", GOOD + "    urgency: 2\n", 9, "rules[0].urgency", ["duplicate key"]),
    ("not-yaml", "version: 1\nrules: [\n  - id: x\n", 3, "", ["not valid YAML"]),
    ("tab-indented-yaml", "version: 1\nrules:\n\t- id: x\n", 3, "", ["not valid YAML"]),
    ("empty-file", "", 1, "", ["empty"]),
]


@pytest.mark.parametrize(("text", "line", "path", "words"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_problem_named_with_its_line(text: str, line: int, path: str, words: list[str]) -> None:
    found = problems_of(text)
    matching = [p for p in found if p[0] == line and p[1].startswith(path)]
    assert matching, f"no problem at line {line}, {path}: {found}"
    for word in words:
        assert any(word in message for _, _, message in matching), f"{word!r} not in {matching}"


# A mistake inside `when` must be told once, at the key that is wrong; not as one message per
# kind of condition the union might have meant ("when.metric: Extra inputs are not permitted" for
# a metric that is right, "when.all: Field required" for a key nobody wrote).
CONDITION_MISTAKES = [
    ("bad-op", GOOD.replace('"=="', '"=~"'), "rules[0].when.op"),
    ("unknown-key-in-when", GOOD.replace("value: true}", "value: true, hold: 3}"), "rules[0].when.hold"),
    ("status-online", GOOD.replace('{metric: leak, op: "==", value: true}', "{status: online}"), "rules[0].when.status"),
]


@pytest.mark.parametrize(("text", "path"), [c[1:] for c in CONDITION_MISTAKES], ids=[c[0] for c in CONDITION_MISTAKES])
def test_condition_mistake_reported_once_at_the_wrong_key(text: str, path: str) -> None:
    found = problems_of(text)
    assert [p[:2] for p in found] == [(6, path)], found


def test_several_problems_reported_together_in_file_order() -> None:
    text = """\
version: 1
rules:
  - id: r1
    title: Leak
    device_types: [toaster, water_leak]
    when: {metric: leak, op: ">", value: true}
    urgency: 1
    category: plumber
    for: soon
  - id: r1
    title: Door
    device_types: [access_door]
    when: {event: alarm_button}
    urgency: 1
    category: security
    clear_after: 10q
"""
    found = problems_of(text)
    assert [(line, path) for line, path, _ in found] == [
        (5, "rules[0].device_types[0]"),
        (6, "rules[0].when.op"),
        (8, "rules[0].category"),
        (9, "rules[0].for"),
        (10, "rules[1].id"),
        (13, "rules[1].when.event"),
        (16, "rules[1].clear_after"),
    ]


def test_several_shape_problems_reported_together() -> None:
    text = GOOD.replace("urgency: 1", "urgency: 9").replace("title: Leak", "title: ''") + "    colour: red\n"
    found = problems_of(text)
    assert {(line, path) for line, path, _ in found} == {
        (4, "rules[0].title"), (7, "rules[0].urgency"), (9, "rules[0].colour"),
    }


def test_error_text_names_file_line_and_path() -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(GOOD.replace("category: plumbing", "category: plumber"), "my-rules.yaml")
    assert "my-rules.yaml:8: rules[0].category: category must be a skill" in str(caught.value)
    assert caught.value.filename == "my-rules.yaml"


def test_load_rules_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD.replace("urgency: 1", "urgency: 7"), encoding="utf-8")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert str(caught.value).startswith(f"{path}:7: rules[0].urgency")
