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
