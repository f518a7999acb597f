"""Dispatch's errors, with messages built from ids; the API turns them into 404, 403 and 409."""

from __future__ import annotations


class DispatchError(Exception):
    """Base of the errors raised by dispatch."""


class TicketNotFound(DispatchError):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"ticket {ticket_id!r} does not exist")
        self.ticket_id = ticket_id


class NotYourTicket(DispatchError):
    def __init__(self, ticket_id: str, technician: str) -> None:
        super().__init__(f"ticket {ticket_id!r} is not assigned to {technician!r}")


class StepNotAllowed(DispatchError):
    def __init__(self, ticket_id: str, step: str, status: str) -> None:
        super().__init__(f"cannot {step} ticket {ticket_id!r} while it is {status}")
        self.status = status


class BadRequest(DispatchError):
    """A step's input is wrong in a way the schema cannot say (unknown technician, missing evidence)."""


class AssignmentNotFound(TicketNotFound):
    """An `AS-…` id that names no assignment (answered 404 like an unknown ticket)."""

    def __init__(self, assignment: str) -> None:
        DispatchError.__init__(self, f"assignment {assignment!r} does not exist")
        self.ticket_id = assignment


class NotYourAssignment(NotYourTicket):
    def __init__(self, assignment: str, technician: str) -> None:
        DispatchError.__init__(self, f"assignment {assignment!r} is not {technician!r}'s")


class AssignmentStepNotAllowed(StepNotAllowed):
    """A step its assignment's status does not allow (409), or a refusal with its own reason."""

    def __init__(self, message: str, status: str) -> None:
        DispatchError.__init__(self, message)
        self.status = status
