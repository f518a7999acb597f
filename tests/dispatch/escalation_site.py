"""A site file with supervisors on shifts, a manager, three escalation levels and two contractors, for the
escalation and contractor tests (pure and against the service)."""

from __future__ import annotations

from pathlib import Path

from caretaker.estate import parse_site
from caretaker.estate.model import Site

SMALL_SITE = Path(__file__).resolve().parent.parent / "fixtures" / "small-site.yaml"

# Asia/Shanghai: s-li works weekdays 08:00-20:00, s-wu every night 20:00-08:00, s-zhang weekend days (and is
# named at level 1, so told then whatever the shift); m-chen is the manager, never `on_duty`
SUPERVISORS = """supervisors:
  - {id: s-li, name: Li Na, phone: "13900000001", shifts: ["Mon-Fri 08:00-20:00"]}
  - {id: s-wu, name: Wu Gang, phone: "13900000003", shifts: ["20:00-08:00"]}
  - {id: s-zhang, name: Zhang Wei, phone: "13900000002", shifts: ["Sat-Sun 08:00-20:00"]}
  - {id: m-chen, name: Chen Min, phone: "13900000009", role: manager}
escalation:
  - {after: 0m, notify: [on_duty]}
  - {after: 15m, notify: [s-zhang]}
  - {after: 1h, notify: [m-chen]}
contractors:
  - {id: c-fix, name: QuickFix, phone: "4008000001", trades: [plumbing, electrical], arrive: 30m}
  - {id: c-pipe, name: PipeCo, phone: "4008000002", trades: [plumbing], arrive: 20m}
  - {id: c-lift, name: LiftCare, phone: "4008000003", trades: [elevator], arrive: 45m}
"""


def escalation_site_text(supervisors: str = SUPERVISORS, technicians: str | None = None) -> str:
    """Return the small test site with its supervisors replaced by `supervisors` (and, given, its technicians)."""
    text = SMALL_SITE.read_text(encoding="utf-8")
    head, _, rest = text.partition("supervisors:\n")
    tail = rest[rest.index("sla:"):]
    if technicians is not None:
        before, _, after = head.partition("technicians:\n")
        head = before + technicians
    return head + supervisors + tail


def escalation_site(supervisors: str = SUPERVISORS) -> Site:
    return parse_site(escalation_site_text(supervisors))
