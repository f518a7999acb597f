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
        assert json_over.status_code == 413 and "最多接受 65536" in json_over.json()["detail"]  # the estate speaks zh-CN


def test_the_door_s_refusals_are_said_in_the_request_s_language(ctx) -> None:
    """A 413, a 429 and an unstorable input's 422 are answered before any route runs, yet in `?lang=` or
    the browser's language like every other error (docs/api.md, "Language")."""
    app = create_app(ctx, ApiLimits(body_bytes=64 * 1024, rate="3/minute"))
    body = b"{" + b" " * (64 * 1024) + b"}"
    with TestClient(app) as client:
        zh = client.post("/api/v1/tickets?lang=zh-CN", content=body, headers={"Content-Type": "application/json"})
        en = client.post("/api/v1/tickets", content=body,
                         headers={"Content-Type": "application/json", "Accept-Language": "en-GB,en;q=0.9"})
        assert zh.status_code == en.status_code == 413
        assert "最多接受 65536 字节" in zh.json()["detail"] and "at most 65536" in en.json()["detail"]

        nul = client.get("/api/v1/alerts", params={"device": "A\x00", "lang": "zh-CN"})
        assert nul.status_code == 422
        assert nul.json()["detail"][0]["msg"] == "不允许 NUL 字符（\\u0000）"
        assert nul.json()["detail"][0]["loc"] == ["query", "device"]
        nul_en = client.get("/api/v1/alerts", params={"device": "A\x00", "lang": "en"})
        assert nul_en.json()["detail"][0]["msg"] == "NUL characters (\\u0000) are not allowed"

        headers = {"Authorization": "Bearer not-a-real-token"}
        for _ in range(3):
            assert client.get("/api/v1/alerts?lang=zh-CN", headers=headers).status_code == 401
        over = client.get("/api/v1/alerts?lang=zh-CN", headers=headers)
        assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
        assert "3/minute" in over.json()["detail"] and "秒后再试" in over.json()["detail"]
        over_en = client.get("/api/v1/alerts?lang=en", headers=headers)
        assert over_en.json()["detail"].startswith("over the rate of 3/minute for this token")
