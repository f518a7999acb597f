"""Which kind of report a request files (docs/api.md, "Kinds of report"): the `kind` and `complaint_type` it
names, else what the words suggest (api/intake_words.yaml `kinds:`); and what a safety complaint does to the
report's trade and level; pure."""

from __future__ import annotations

from dataclasses import replace

from caretaker import i18n
from caretaker.api import intake
from caretaker.api.schemas import ReportIn
from caretaker.dispatch.complaints import Kind
from caretaker.dispatch.incidents import Report

SAFETY_URGENCY = 1  # DOMAIN: a personal-safety complaint is handled at once as level 1
SAFETY_CATEGORY = "security"


def report_kind(body: ReportIn) -> tuple[Kind, list[tuple[str, str, str]]]:
    """Return the kind the report is filed as, and the problems with the fields that name it (field, error
    type, message), in the shape `intake.report_problems` gives."""
    guess = intake.suggest_kind(body.description or "")
    kind = body.kind or ("complaint" if body.complaint_type else guess.kind)
    if kind != "complaint":
        if body.complaint_type is not None:
            return Kind(kind), [("complaint_type", "value_error",
                                 i18n.said("intake.complaint_type_not_complaint", kind=kind))]
        return Kind(kind), []
    suggested = guess.complaint_type if guess.kind == "complaint" else None
    return Kind("complaint", body.complaint_type or suggested or "service"), []


def for_desk(kind: Kind, body: ReportIn) -> bool:
    """Whether the control room answers the report itself, with no technician: a suggestion, and a service
    complaint whose words name nothing to fix (态度差) and whose trade the operator did not name."""
    if kind.kind == "suggestion":
        return True
    if kind.kind == "complaint" and kind.complaint_type == "service" and body.category is None:
        return intake.suggest_why(body.description or "")[1] is None
    return False


def with_kind(report: Report, kind: Kind, body: ReportIn) -> Report:
    """A safety complaint is a level-1 security ticket at once, whatever level was asked for (a trade the
    operator named stays)."""
    if kind.kind == "complaint" and kind.complaint_type == "safety":
        return replace(report, urgency=SAFETY_URGENCY, category=body.category or SAFETY_CATEGORY)
    return report
