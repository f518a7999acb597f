"""When a ticket's work stops, pure: what each support assignment becomes when the owner resolves, the
ticket closes (a verify with a rating) or is cancelled (docs/operations.md, "Assignments")."""

from __future__ import annotations

import pytest

from caretaker.dispatch.lifecycle import ENDED, AssignmentStatus as A, Step, support_end


@pytest.mark.parametrize("step", [Step.RESOLVE, Step.VERIFY])
@pytest.mark.parametrize("status, expected", [
    (A.WAITING, A.WITHDRAWN), (A.OFFERED, A.WITHDRAWN), (A.ACCEPTED, A.WITHDRAWN),  # not begun: taken back
    (A.ON_SITE, A.DONE),  # the work on site ends with the incident's
])
def test_resolving_or_closing_finishes_the_work_on_site_and_takes_back_the_rest(step, status, expected):
    assert support_end(status, step) == expected


@pytest.mark.parametrize("status", [A.WAITING, A.OFFERED, A.ACCEPTED, A.ON_SITE])
def test_a_cancelled_ticket_takes_every_support_back(status):
    assert support_end(status, Step.CANCEL) == A.WITHDRAWN


@pytest.mark.parametrize("step", [Step.RESOLVE, Step.VERIFY, Step.CANCEL])
@pytest.mark.parametrize("status", ENDED)
def test_an_ended_assignment_stays_as_it_ended(step, status):
    assert support_end(status, step) is None
