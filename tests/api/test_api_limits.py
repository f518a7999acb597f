"""Volume limits (api/limits.py): a route may take a larger body than the default; the JSON default holds."""

from __future__ import annotations

from fastapi import Request
from fastapi.testclient import TestClient

from caretaker.api.app import create_app
from caretaker.api.limits import ApiLimits


def test_a_route_with_its_own_body_limit_takes_a_larger_body(ctx) -> None:
    """The photo upload a later issue adds declares `max_body_size=`; the default must not refuse it first."""
    app = create_app(ctx, ApiLimits(body_bytes=64 * 1024))

    @app.post("/api/v1/tickets/{ticket_id}/photos-test", max_body_size=10 * 1024 * 1024 + 64 * 1024)
    async def upload(ticket_id: str, request: Request) -> dict:
        return {"bytes": len(await request.body())}

    with TestClient(app) as client:
        big = b"\x00" * (2 * 1024 * 1024)
        answer = client.post("/api/v1/tickets/T-1/photos-test", content=big,
                             headers={"Content-Type": "application/octet-stream"})
        assert answer.status_code == 200 and answer.json() == {"bytes": len(big)}
        too_big = client.post("/api/v1/tickets/T-1/photos-test", content=b"\x00" * (11 * 1024 * 1024),
                              headers={"Content-Type": "application/octet-stream"})
        assert too_big.status_code == 413
        json_over = client.post("/api/v1/tickets", content=b"{" + b" " * (64 * 1024) + b"}",
                                headers={"Content-Type": "application/json"})
        assert json_over.status_code == 413 and "at most 65536" in json_over.json()["detail"]
