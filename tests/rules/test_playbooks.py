"""Playbooks: matching an alarm, what a ticket still lacks, and the rules file's `playbooks:` checked strictly."""

from __future__ import annotations

import pytest

from caretaker.rules.load import DEFAULT_PLAYBOOKS, RulesError, load_playbooks, parse_playbooks
from caretaker.rules.playbooks import matching, missing_trades

RULE = """
version: 1
rules:
  - id: water-leak
    title: Water leak
    device_types: [water_leak]
    when: {metric: leak, op: "==", value: true}
    urgency: 1
    category: plumbing
"""


def test_the_default_rules_file_spells_out_the_default_playbooks():
    assert load_playbooks("rules/default_rules.yaml") == DEFAULT_PLAYBOOKS
    assert parse_playbooks(RULE) == DEFAULT_PLAYBOOKS  # no section: the defaults


@pytest.mark.parametrize("rule, urgency, expected", [
    ("water-leak", 1, ["burst-pipe"]),
    ("water-leak", 2, []),  # a level-2 leak needs no guard
    ("mains-power-lost", 2, ["mains-lost"]),
    ("elevator-alarm-button", 1, ["entrapment"]),
    ("pump-fault", 3, []),
])
def test_an_alarm_calls_for_the_playbooks_of_its_rule_and_level(rule, urgency, expected):
    assert [p.id for p in matching(DEFAULT_PLAYBOOKS, rule, urgency)] == expected


@pytest.mark.parametrize("wanted, present, expected", [
    (["security"], ["plumbing"], ["security"]),
    (["security"], ["plumbing", "security"], []),  # never twice the same trade
    (["security", "security"], ["plumbing", "security"], ["security"]),  # unless the playbook says so
    (["elevator", "security"], ["elevator"], ["security"]),  # the owner's trade counts as present
    (["cleaning"], [], ["cleaning"]),
])
def test_a_ticket_gains_only_the_trades_it_lacks(wanted, present, expected):
    assert missing_trades(wanted, "plumbing" if "plumbing" in present else "elevator", present) == expected


@pytest.mark.parametrize("section, message", [
    ("playbooks:\n  - {id: p, rules: [water-leak], now: [plumbers]}", "unknown trade 'plumbers'"),
    ("playbooks:\n  - {id: p, rules: [no-such-rule], now: [security]}", "refers to rule 'no-such-rule'"),
    ("playbooks:\n  - {id: p, rules: [water-leak], later: [cleaning]}", "Extra inputs are not permitted"),
    ("playbooks:\n  - {id: p, rules: [water-leak]}\n  - {id: p, rules: [water-leak]}", "duplicate playbook id"),
    ("playbooks:\n  - {id: p, rules: [water-leak], levels: [5]}", "Input should be 1, 2, 3 or 4"),
])
def test_a_wrong_playbook_is_named_with_its_line(section, message):
    with pytest.raises(RulesError) as caught:
        parse_playbooks(RULE + section, "rules.yaml")
    assert message in str(caught.value) and "rules.yaml:" in str(caught.value)


def test_a_custom_playbook_replaces_the_defaults():
    [book] = parse_playbooks(RULE + "playbooks:\n  - {id: p, rules: [water-leak], now: [security, security]}")
    assert (book.id, book.now, book.on_resolve, book.levels) == ("p", ("security", "security"), (), {1, 2, 3, 4})
