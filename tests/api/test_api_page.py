"""The control-room page, the OpenAPI document and the docs, all served without the internet."""

from __future__ import annotations



def test_control_room_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '/static/app.js' in page.text and '/static/style.css' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from the internet
    for asset, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/tickets", "/api/v1/tickets/{ticket_id}/resolve", "/api/v1/alerts/{alert_id}/ack",
                 "/api/v1/devices/{device_id}/telemetry", "/api/v1/technicians", "/api/v1/kpis",
                 "/api/v1/deadletters", "/api/v1/tokens", "/api/v1/stream", "/healthz", "/metrics"):
        assert path in paths, path


def test_docs_load_nothing_from_the_internet(client):
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text and "cdn" not in page.text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
