"""T10 and T11 wait for the scale-out issue: they are not applicable to this version.

T10: several instances against one broker and database, fed the same recording as one instance → the same
tickets, opened within ±1 s. T11: one of three instances killed mid-stream, back after 2 min → 0 lost; its
estates resume on another instance within the lease time + 10 s.

This version runs one `caretaker run` per site (docs/deploy.md, "Scaling out"): each instance subscribes to
all of its site's topics without MQTT shared subscriptions and keeps the rules' state in its own memory,
so a second instance for the same site would process every message again, and nothing hands a site over
to another instance. There is nothing yet for these tests to exercise. They are kept here, marked as
expected failures, so the suite shows them as waiting (`xfailed`), never as passing; `strict=True` turns
the day they pass by accident into a failure that asks for the real test.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.faults

WAITING = ("waits for the scale-out issue: one caretaker run per site in this version "
           "(docs/deploy.md, Scaling out)")


@pytest.mark.xfail(strict=True, reason=WAITING)
def test_t10_several_instances_open_the_same_tickets_as_one_within_a_second():
    pytest.fail("T10 not applicable yet: " + WAITING)


@pytest.mark.xfail(strict=True, reason=WAITING)
def test_t11_a_killed_instances_estates_resume_on_another_within_the_lease_time():
    pytest.fail("T11 not applicable yet: " + WAITING)
