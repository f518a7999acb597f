"""The lifecycle table, every step from every status: allowed and where it leads, or the exact refusal."""

from __future__ import annotations

import pytest

from caretaker.dispatch.lifecycle import (
    AssignmentStatus as A,
    Refusal,
    Step,
    TicketStatus as T,
    assignment_step,
    ticket_status,
    ticket_step_refusal,
    vocabulary,
)

# (status, step) -> the status it leads to; every pair not listed is refused
ALLOWED_ASSIGNMENT = {
    (A.WAITING, Step.OFFER): A.OFFERED,
    (A.OFFERED, Step.ACCEPT): A.ACCEPTED, (A.OFFERED, Step.DECLINE): A.DECLINED,
    (A.OFFERED, Step.TIME_OUT): A.TIMED_OUT,
    (A.ACCEPTED, Step.ARRIVE): A.ON_SITE,
    (A.ACCEPTED, Step.DONE): A.DONE, (A.ON_SITE, Step.DONE): A.DONE,
    (A.ACCEPTED, Step.RESOLVE): A.DONE, (A.ON_SITE, Step.RESOLVE): A.DONE,
    **{(s, Step.WITHDRAW): A.WITHDRAWN for s in (A.WAITING, A.OFFERED, A.ACCEPTED, A.ON_SITE)},
}
ASSIGNMENT_STEPS = (Step.OFFER, Step.ACCEPT, Step.DECLINE, Step.TIME_OUT, Step.ARRIVE, Step.DONE, Step.RESOLVE,
                    Step.WITHDRAW)


@pytest.mark.parametrize("status", list(A))
@pytest.mark.parametrize("step", ASSIGNMENT_STEPS)
def test_every_assignment_step_from_every_status(status, step):
    result = assignment_step(status, step)
    if (status, step) in ALLOWED_ASSIGNMENT:
        assert result == ALLOWED_ASSIGNMENT[(status, step)]
    else:
        assert result == Refusal(step, status, f"cannot {step} an assignment while it is {status}")


@pytest.mark.parametrize("step", [Step.VERIFY, Step.REOPEN, Step.ASSIGN, Step.CANCEL])
def test_a_ticket_step_is_no_assignment_step(step):
    assert assignment_step(A.OFFERED, step) == Refusal(step, A.OFFERED, f"{step} is not a step of an assignment")


WORKING = {T.OPEN, T.ASSIGNED, T.ACCEPTED, T.ON_SITE}
ALLOWED_TICKET = {
    Step.ACCEPT: WORKING, Step.DECLINE: WORKING, Step.ARRIVE: WORKING, Step.DONE: WORKING,
    Step.RESOLVE: {T.ACCEPTED, T.ON_SITE},
    Step.VERIFY: {T.RESOLVED, T.VERIFIED},
    Step.REOPEN: {T.RESOLVED, T.VERIFIED, T.CLOSED},
    Step.ASSIGN: WORKING,
    Step.CANCEL: WORKING | {T.RESOLVED, T.VERIFIED},
}


@pytest.mark.parametrize("status", list(T))
@pytest.mark.parametrize("step", list(ALLOWED_TICKET))
def test_every_ticket_step_from_every_status(status, step):
    refusal = ticket_step_refusal(status, step)
    if status in ALLOWED_TICKET[step]:
        assert refusal is None
    else:
        assert refusal == Refusal(step, status, f"cannot {step} a ticket while it is {status}")


@pytest.mark.parametrize("owner, expected", [
    (None, T.OPEN), (A.WAITING, T.OPEN), (A.OFFERED, T.ASSIGNED), (A.ACCEPTED, T.ACCEPTED),
    (A.ON_SITE, T.ON_SITE), (A.DECLINED, T.OPEN), (A.TIMED_OUT, T.OPEN), (A.WITHDRAWN, T.OPEN),
    (A.DONE, T.RESOLVED),
])
def test_a_worked_tickets_status_follows_its_owners_assignment(owner, expected):
    for stage in (T.OPEN, T.ASSIGNED, T.ACCEPTED, T.ON_SITE):
        assert ticket_status(stage, owner) == expected


@pytest.mark.parametrize("stage", [T.RESOLVED, T.VERIFIED, T.CLOSED, T.CANCELLED])
def test_the_operators_stages_hold_whatever_the_assignments_say(stage):
    for owner in (None, *A):
        assert ticket_status(stage, owner) == stage


def test_the_vocabulary_names_every_status_once_with_its_groups():
    v = vocabulary()
    assert [s["id"] for s in v["ticket_statuses"]] == [s.value for s in T]
    assert [s["id"] for s in v["assignment_statuses"]] == [
        "waiting", "offered", "accepted", "on_site", "done", "declined", "timed_out", "withdrawn"]
    assert {s["id"]: s["groups"] for s in v["ticket_statuses"]}["closed"] == ["fixed", "final"]
    assert v["assignment_steps"]["accept"] == {"from": ["offered"], "to": "accepted"}
