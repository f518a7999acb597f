"""Suggesting category and urgency from a report's words; pure."""

from __future__ import annotations

import pytest

from caretaker.api.intake import Suggestion, suggest


@pytest.mark.parametrize(("text", "expected"), [
    ("Water leaking under the sink", Suggestion("plumbing", 1)),
    ("厨房漏水", Suggestion("plumbing", 1)),
    ("No water since this morning", Suggestion("plumbing", 2)),
    ("Power is out on floor 12", Suggestion("electrical", 2)),
    ("家里停电了", Suggestion("electrical", 2)),
    ("Someone trapped in the lift", Suggestion("elevator", 1)),
    ("电梯困人", Suggestion("elevator", 1)),
    ("电梯很慢", Suggestion("elevator", 2)),
    ("The lobby door does not close", Suggestion("security", 3)),
    ("门禁卡刷不开", Suggestion("security", 3)),
    ("When is the fee due?", Suggestion("general", 4)),
    ("My cat is trapped on the balcony", Suggestion("general", 4)),
], ids=["leak", "leak-zh", "no-water", "power", "power-zh", "entrapment", "entrapment-zh", "lift-slow",
        "door", "door-zh", "enquiry", "trapped-not-lift"])
def test_suggest(text, expected):
    assert suggest(text) == expected
