"""Helpers the API tests share (a module of its own: `conftest` is not importable by a unique name)."""

from __future__ import annotations

from datetime import datetime, timezone

import tests.fakes
from caretaker.api.deps import ApiContext
from caretaker.dispatch.tables import TechnicianLocationRow

ADMIN_TOKEN = "test-admin-token-not-a-secret"
# Monday 10:00 in Asia/Shanghai: the day shift is on (t-wang plumbing+electrical, t-huang elevator, ...)
MONDAY_10AM = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


class FakeClock(tests.fakes.FakeClock):
    """The shared fake clock, standing at Monday 10:00 in Shanghai unless told otherwise."""

    def __init__(self, at: datetime = MONDAY_10AM) -> None:
        super().__init__(at)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)


def place_technician(ctx: ApiContext, tech: str, building: str = "A", floor: int = 1, zone: str | None = "lobby",
                     at: datetime | None = None) -> None:
    """Put a technician on the estate, as their app would, so dispatch can choose them."""
    with ctx.sessions.begin() as session:
        session.merge(TechnicianLocationRow(technician=tech, building=building, floor=floor, zone=zone,
                                            ts=at or ctx.clock.now(), source="app"))


LEAK_REPORT = {
    "reporter_name": "Qian Hui", "reporter_phone": "13700137001", "unit": "A-0302",
    "description": "Water leaking from the ceiling in the kitchen", "source": "phone",
}
