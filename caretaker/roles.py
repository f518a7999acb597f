"""What one `caretaker run` does (docs/deploy.md, "Scaling out"): `ingest` (claim estates, take their messages,
evaluate the rules, open tickets), `timers` (deadlines, escalation, housekeeping), `api` (the HTTP API, the
pages and the live stream, all read from the database). All three by default; any of them apart."""

from __future__ import annotations

from typing import Iterable

ROLES = ("ingest", "timers", "api")


def parse_roles(value: str | Iterable[str] | None) -> frozenset[str]:
    """`ingest,timers` or ["api"] or "all" → the roles; raises ValueError naming the unknown one; pure."""
    if value is None:
        return frozenset(ROLES)
    words = value.replace(" ", ",").split(",") if isinstance(value, str) else list(value)
    names = {word.strip().lower() for word in words if word.strip()}
    if not names or names == {"all"}:
        return frozenset(ROLES)
    unknown = sorted(names - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role {', '.join(unknown)}: choose from {', '.join(ROLES)} (or all)")
    return frozenset(names)


def describe(roles: frozenset[str]) -> str:
    return ",".join(role for role in ROLES if role in roles)
