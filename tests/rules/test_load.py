"""Rule files load strictly: the default file loads; every problem is named with its line, all at once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from caretaker.estate.model import DEVICE_TYPES
from caretaker.rules.load import RulesError, load_rules, parse_rules
from caretaker.estate.shifts import parse_shift
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
    Scope,
    StatusCondition,
    TimedUrgency,
)

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
    assert len(rules) == 19
    assert len({r.id for r in rules}) == 19
    by_id = {r.id: r for r in rules}
    assert by_id["water-leak"].clear_for == timedelta(seconds=30)
    assert by_id["low-water-tank"].hold_for == timedelta(minutes=1)
    assert by_id["transformer-overheating"].hold_for == timedelta(seconds=30)
    assert by_id["transformer-overheating"].clear_for == timedelta(minutes=2)
    assert by_id["generator-start-failed"].clear_after == timedelta(minutes=30)
    assert by_id["door-held-open"].clear_after == timedelta(minutes=10)
    assert by_id["pump-fault"].clear_after == timedelta(minutes=15)
    assert by_id["device-offline"].device_types == frozenset({"*"})
    assert isinstance(by_id["device-offline"].condition, StatusCondition)
    assert isinstance(by_id["door-forced"].condition, EventCondition)
    assert isinstance(by_id["elevator-stopped-occupied"].condition, AllOf)
    assert by_id["low-water-pressure"].condition == MetricCondition("pressure_kpa", "<", 150)
    assert {r.urgency for r in rules} <= {1, 2, 3}
    assert all(r.applies_to(t) for r in rules if "*" in r.device_types for t in DEVICE_TYPES)
    # the new keys
    assert by_id["transformer-overheating"].clear_condition == MetricCondition("temp_c", "<", 85)
    assert by_id["pressure-falling-fast"].condition == ChangeCondition("pressure_kpa", "drop", 50.0,
                                                                        timedelta(seconds=60))
    assert by_id["badge-denied-burst"].condition == CountCondition(EventCondition("badge_denied"), 5,
                                                                    timedelta(minutes=2))
    assert by_id["device-silent"].condition == AbsentCondition(3.0, timedelta(minutes=5))
    assert by_id["entrapment-risk"].condition == AlertCondition("elevator-stopped-occupied", "mains-power-lost",
                                                                 "building")
    (night,) = by_id["door-held-open"].timed_urgency
    assert night.urgency == 1 and night.windows == (parse_shift("Mon-Sun 22:00-06:00"),)
    # chatter is on by default for rules whose condition holds; an event has nothing to flip
    assert {r.id for r in rules if r.chatter is None} == {
        "generator-start-failed", "elevator-alarm-button", "door-forced", "door-held-open", "badge-denied-burst"}
    assert all(r.chatter == Chatter(4, timedelta(minutes=10)) for r in rules if r.chatter is not None)
    assert {r.id for r in rules if "mains-power-lost" in r.suppressed_by} == {
        "low-water-pressure", "pressure-falling-fast", "pump-fault", "ups-on-battery", "elevator-fault",
        "elevator-stopped", "device-offline", "device-silent"}
    assert by_id["elevator-stopped-occupied"].suppressed_by == () and by_id["entrapment-risk"].suppressed_by == ()
    assert all(r.scope is None and r.active == () for r in rules)


def test_alarms_an_outage_explains_wait_for_the_outage_rule() -> None:
    by_id = {r.id: r for r in load_rules(DEFAULT_RULES_FILE)}
    outage = by_id["mains-power-lost"].hold_for
    assert outage == timedelta(seconds=5)
    for rule in by_id.values():
        if rule.suppressed_by and not rule.is_event_rule and rule.id != "pressure-falling-fast":
            assert rule.hold_for >= outage + timedelta(seconds=2), rule.id
    # a change holds only while the old value is in its window: it must not wait, or it would never raise
    assert by_id["pressure-falling-fast"].hold_for == timedelta(0)
    assert by_id["pump-fault"].hold_for == timedelta(seconds=7)  # written without `for`
    assert by_id["ups-on-battery"].hold_for == timedelta(seconds=10)  # its own `for` is longer: kept
    assert by_id["device-offline"].hold_for == timedelta(minutes=2)
    assert by_id["water-leak"].hold_for == timedelta(0)  # nothing explains a leak


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


# -- the alarm model's keys ------------------------------------------------------------------------

DOOR = GOOD.replace("[water_leak]", "[access_door]").replace(
    '{metric: leak, op: "==", value: true}', "{event: badge_denied}").replace("category: plumbing", "category: security")
PRESSURE = GOOD.replace("[water_leak]", "[water_pressure]").replace(
    '{metric: leak, op: "==", value: true}', "{metric: pressure_kpa, drop: 50, within: 60s}")
HOT = GOOD.replace("[water_leak]", "[transformer]").replace(
    '{metric: leak, op: "==", value: true}', '{metric: temp_c, op: ">", value: 90}').replace(
    "category: plumbing", "category: electrical")
SECOND = """\
  - id: r2
    title: Trapped
    device_types: [elevator]
    when: {alert: r1, with: r1, same: zone}
    urgency: 1
    category: elevator
"""

VALID = [
    # (id, text, attribute, expected)
    ("deadband", HOT + '    clear_when: {metric: temp_c, op: "<", value: 85}\n', "clear_condition",
     MetricCondition("temp_c", "<", 85)),
    ("deadband-any", HOT + '    clear_when: {any: [{metric: temp_c, op: "<", value: 85}]}\n', "clear_condition",
     AnyOf((MetricCondition("temp_c", "<", 85),))),
    ("drop", PRESSURE, "condition", ChangeCondition("pressure_kpa", "drop", 50.0, timedelta(seconds=60))),
    ("rise", PRESSURE.replace("drop: 50", "rise: 20.5").replace("60s", "5m"), "condition",
     ChangeCondition("pressure_kpa", "rise", 20.5, timedelta(minutes=5))),
    ("count", DOOR.replace("{event: badge_denied}", "{event: badge_denied, count: 5, within: 2m}"), "condition",
     CountCondition(EventCondition("badge_denied"), 5, timedelta(minutes=2))),
    ("count-with-data", DOOR.replace("{event: badge_denied}", "{event: badge_denied, data: {badge: X}, count: 3, "
                                     "within: 90}"), "condition",
     CountCondition(EventCondition("badge_denied", {"badge": "X"}), 3, timedelta(seconds=90))),
    ("single-event-is-not-a-count", DOOR, "condition", EventCondition("badge_denied")),
    ("absent", GOOD.replace('{metric: leak, op: "==", value: true}', "{absent_for: 2.5, fallback_interval: 1m}"),
     "condition", AbsentCondition(2.5, timedelta(minutes=1))),
    ("absent-default-fallback", GOOD.replace('{metric: leak, op: "==", value: true}', "{absent_for: 3}"),
     "condition", AbsentCondition(3.0, timedelta(minutes=5))),
    ("scope", GOOD + "    scope: {buildings: [A, B], floors: [-2, 10], zones: [east], devices: 'A-*-LEAK-*'}\n",
     "scope", Scope(frozenset({"A", "B"}), (-2, 10), frozenset({"east"}), "A-*-LEAK-*")),
    ("scope-floors-only", GOOD + "    scope: {floors: [3, 3]}\n", "scope", Scope(floors=(3, 3))),
    ("urgency-by-time", GOOD + "    urgency_by_time:\n      - {windows: [\"Mon-Fri 18:00-08:00\", \"Sat-Sun 00:00-24:00\"],"
     " urgency: 2}\n", "timed_urgency",
     (TimedUrgency((parse_shift("Mon-Fri 18:00-08:00"), parse_shift("Sat-Sun 00:00-24:00")), 2),)),
    ("active-hours", GOOD + '    active_hours: ["Mon-Fri 08:00-18:00"]\n', "active", (parse_shift("Mon-Fri 08:00-18:00"),)),
    ("chatter-default-on", GOOD, "chatter", Chatter(4, timedelta(minutes=10))),
    ("chatter-set", GOOD + "    chatter: {flips: 3, within: 5m}\n", "chatter", Chatter(3, timedelta(minutes=5))),
    ("chatter-off-quoted", GOOD + '    chatter: "off"\n', "chatter", None),
    # written as docs and the brief spell it; YAML reads a bare off as the boolean false
    ("chatter-off", GOOD + "    chatter: off\n", "chatter", None),
    ("chatter-none-for-an-event", DOOR, "chatter", None),
]


@pytest.mark.parametrize(("text", "attribute", "expected"), [v[1:] for v in VALID], ids=[v[0] for v in VALID])
def test_alarm_model_keys_load(text: str, attribute: str, expected: object) -> None:
    rule = parse_rules(text)[0]
    assert getattr(rule, attribute) == expected


def test_cross_references_load() -> None:
    text = GOOD + "    suppressed_by: [r2]\n" + SECOND
    r1, r2 = parse_rules(text)
    assert r1.suppressed_by == ("r2",)
    assert r2.condition == AlertCondition("r1", "r1", "zone")
    assert parse_rules(GOOD + SECOND.replace(", same: zone", ""))[1].condition.same == "building"


NEW_KEY_PROBLEMS = [
    # (id, text, line, path, words in the message)
    ("change-on-a-bool-metric", GOOD.replace('{metric: leak, op: "==", value: true}', "{metric: leak, drop: 1, within: 60s}"),
     6, "rules[0].when.metric", ["numeric", "leak"]),
    ("change-with-drop-and-rise", PRESSURE.replace("drop: 50,", "drop: 50, rise: 20,"), 6, "rules[0].when",
     ["exactly one of drop or rise"]),
    ("change-drop-not-positive", PRESSURE.replace("drop: 50", "drop: 0"), 6, "rules[0].when.drop", ["greater than 0"]),
    ("change-bad-within", PRESSURE.replace("60s", "soon"), 6, "rules[0].when.within", ["'soon'"]),
    ("count-without-within", DOOR.replace("{event: badge_denied}", "{event: badge_denied, count: 5}"), 6,
     "rules[0].when.within", ["within"]),
    ("count-zero", DOOR.replace("{event: badge_denied}", "{event: badge_denied, count: 0, within: 1m}"), 6,
     "rules[0].when.count", ["greater than or equal to 1"]),
    ("for-on-an-event-rule", DOOR + "    for: 30s\n", 9, "rules[0].for", ["event", "for"]),
    ("for-on-a-count-rule", DOOR.replace("{event: badge_denied}", "{event: badge_denied, count: 5, within: 2m}")
     + "    for: 30s\n", 9, "rules[0].for", ["for"]),
    ("clear-when-an-event", GOOD + "    clear_when: {event: badge_denied}\n", 9, "rules[0].clear_when",
     ["clear_when", "metric"]),
    ("clear-when-a-metric-the-type-lacks", GOOD + '    clear_when: {metric: temp_c, op: "<", value: 1}\n', 9,
     "rules[0].clear_when.metric", ["temp_c"]),
    ("absent-for-zero", GOOD.replace('{metric: leak, op: "==", value: true}', "{absent_for: 0}"), 6,
     "rules[0].when.absent_for", ["greater than 0"]),
    ("alert-same-floor", GOOD + SECOND.replace("same: zone", "same: floor"), 12, "rules[1].when.same",
     ["building", "zone"]),
    ("bad-window-in-urgency-by-time", GOOD + '    urgency_by_time:\n      - {windows: ["Mon-Sun 22:00-6pm"], urgency: 1}\n',
     10, "rules[0].urgency_by_time[0].windows[0]", ["'6pm'", "HH:MM"]),
    ("urgency-by-time-level-5", GOOD + '    urgency_by_time:\n      - {windows: ["22:00-06:00"], urgency: 5}\n',
     10, "rules[0].urgency_by_time[0].urgency", ["1, 2, 3 or 4"]),
    ("bad-day-in-active-hours", GOOD + '    active_hours: ["Funday 08:00-18:00"]\n', 9, "rules[0].active_hours[0]",
     ["Funday"]),
    ("scope-floors-reversed", GOOD + "    scope: {floors: [10, 2]}\n", 9, "rules[0].scope.floors",
     ["lowest, highest"]),
    ("scope-unknown-key", GOOD + "    scope: {building: [A]}\n", 9, "rules[0].scope.building", ["xtra"]),
    ("chatter-flips-1", GOOD + "    chatter: {flips: 1, within: 10m}\n", 9, "rules[0].chatter.flips",
     ["greater than or equal to 2"]),
    ("chatter-bad-within", GOOD + "    chatter: {flips: 4, within: later}\n", 9, "rules[0].chatter.within",
     ["'later'"]),
]


@pytest.mark.parametrize(("text", "line", "path", "words"), [p[1:] for p in NEW_KEY_PROBLEMS],
                         ids=[p[0] for p in NEW_KEY_PROBLEMS])
def test_new_key_problem_named_with_its_line(text: str, line: int, path: str, words: list[str]) -> None:
    test_problem_named_with_its_line(text, line, path, words)


# a wrong reference is named at the name that is wrong, like every other problem; not at the rule's first line
UNKNOWN_REFERENCES = [
    ("unknown-rule-in-suppressed-by", GOOD + "    suppressed_by: [mains-lost]\n", 9, "rules[0].suppressed_by[0]",
     "mains-lost"),
    ("unknown-alert", GOOD + SECOND.replace("alert: r1", "alert: r9"), 12, "rules[1].when.alert", "r9"),
]


@pytest.mark.parametrize(("text", "line", "path", "name"), [u[1:] for u in UNKNOWN_REFERENCES],
                         ids=[u[0] for u in UNKNOWN_REFERENCES])
def test_unknown_rule_reference_named_at_its_line(text: str, line: int, path: str, name: str) -> None:
    found = problems_of(text)
    assert len(found) == 1 and name in found[0][2] and "does not have" in found[0][2], found
    assert found[0][:2] == (line, path), found


# like a mistake in `when`, a mistake in `chatter` is told once, at the key that is wrong; not also as
# "rules[0].chatter.literal['off']: Input should be 'off'" (the other member of the union it might have meant)
CHATTER_MISTAKES = [
    ("flips-1", GOOD + "    chatter: {flips: 1, within: 10m}\n", (9, "rules[0].chatter.flips")),
    ("not-a-mapping-or-off", GOOD + "    chatter: on\n", (9, "rules[0].chatter")),
]


@pytest.mark.parametrize(("text", "where"), [c[1:] for c in CHATTER_MISTAKES], ids=[c[0] for c in CHATTER_MISTAKES])
def test_chatter_mistake_reported_once(text: str, where: tuple[int, str]) -> None:
    found = problems_of(text)
    assert [p[:2] for p in found] == [where], found
