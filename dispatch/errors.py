"""Dispatch's errors, with messages built from ids as catalogue keys (caretaker/i18n, English as `str`); the API
turns them into 404, 403 and 409 in the reader's language."""

from __future__ import annotations

from caretaker import i18n


class DispatchError(Exception):
    """Base of the errors raised by dispatch."""


class TicketNotFound(DispatchError):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(i18n.said("error.ticket_unknown", ticket=ticket_id))
        self.ticket_id = ticket_id


class NotYourTicket(DispatchError):
    def __init__(self, ticket_id: str, technician: str) -> None:
        super().__init__(i18n.said("error.ticket_not_yours", ticket=ticket_id, technician=technician))


class StepNotAllowed(DispatchError):
    def __init__(self, ticket_id: str, step: str, status: str) -> None:
        super().__init__(i18n.said("error.step_not_allowed", step=i18n.named("step", step), ticket=ticket_id,
                                    status=i18n.named("status", status)))
        self.status = status


class BadRequest(DispatchError):
    """A step's input is wrong in a way the schema cannot say (unknown technician, missing evidence)."""


class AssignmentNotFound(TicketNotFound):
    """An `AS-…` id that names no assignment (answered 404 like an unknown ticket)."""

    def __init__(self, assignment: str) -> None:
        DispatchError.__init__(self, i18n.said("error.assignment_unknown", assignment=assignment))
        self.ticket_id = assignment


class NotYourAssignment(NotYourTicket):
    def __init__(self, assignment: str, technician: str) -> None:
        DispatchError.__init__(self, i18n.said("error.assignment_not_yours", assignment=assignment,
                                               technician=technician))


class AssignmentStepNotAllowed(StepNotAllowed):
    """A step its assignment's status does not allow (409), or a refusal with its own reason."""

    def __init__(self, message: str | i18n.Said, status: str) -> None:
        DispatchError.__init__(self, message)
        self.status = status
