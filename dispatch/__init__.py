"""Tickets: lifecycle, choosing the technician, SLA deadlines and escalation, pushes through an outbox."""
