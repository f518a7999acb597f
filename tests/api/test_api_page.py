"""The control-room page, the OpenAPI document and the docs, all served without the internet."""

from __future__ import annotations

from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "api" / "static" / "js"


def page_script(client) -> str:
    """Every ES module of the control room as served (the page's JavaScript is split by job)."""
    parts = []
    for path in sorted(JS.rglob("*.js")):
        if "test" in path.relative_to(JS).parts:
            continue
        response = client.get(f"/static/js/{path.relative_to(JS).as_posix()}")
        assert response.status_code == 200 and "javascript" in response.headers["content-type"], path
        parts.append(response.text)
    return "\n".join(parts)



def test_control_room_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '/static/js/main.js' in page.text and '/static/style.css' in page.text
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from the internet
    for asset, kind in (("js/main.js", "javascript"), ("style.css", "text/css"), ("i18n/zh-CN.json", "json")):
        response = client.get(f"/static/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]


def test_control_room_shows_devices_and_the_figures(client):
    """docs/operations.md: devices by building and floor with their state, and the figures the service is judged by."""
    page = client.get("/")
    assert page.status_code == 200
    for element in ('id="devices"', 'id="device-count"', 'id="kpis"', 'id="kpi-window"', 'id="kpi-note"',
                    'id="tickets"', 'id="alerts"', 'id="technicians"', 'id="flood"'):
        assert element in page.text, element
    js = page_script(client)
    assert '"/api/v1/devices"' in js and '"/api/v1/kpis"' in js  # the kpis call has no from/to: the default window
    for field in ("response_compliance_pct", "first_time_fix_pct", "satisfaction", "mean_accept_s", "mean_arrive_s",
                  "mean_resolve_s", "breaches_by_level", "repeat_reports", "top_faulty_devices", "alarms_per_10min"):
        assert field in js, field  # every figure the page shows is a field the API really returns
    assert "open_alerts" in js and "activeAlert" in js  # a device alarms while an alert is active (meta's alert_states)
    for endpoint in ("/api/v1/tickets", "/api/v1/alerts", "/api/v1/technicians", "/api/v1/stream"):
        assert endpoint in js, endpoint  # the existing behaviour stays
    # nothing from the internet (the SVG namespace is a name, not an address)
    assert "http://" not in js.replace("http://www.w3.org/2000/svg", "") and "https://" not in js
    style = client.get("/static/style.css")
    assert style.status_code == 200 and "text/css" in style.headers["content-type"]
    assert ".building" in style.text and ".kpi" in style.text
    assert "http://" not in style.text and "https://" not in style.text and "@import" not in style.text


def test_kpi_fields_the_page_reads_are_served(client, operator):
    """The page's figures come from GET /api/v1/kpis; the names it reads must be the API's names."""
    kpis = client.get("/api/v1/kpis", headers=operator)
    assert kpis.status_code == 200
    body = kpis.json()
    js = page_script(client)
    for field in ("response_compliance_pct", "first_time_fix_pct", "satisfaction", "mean_accept_s", "mean_arrive_s",
                  "mean_resolve_s", "breaches_by_level", "repeat_reports", "repeat_tickets", "top_faulty_devices",
                  "alarms_per_10min", "alarms_peak_10min", "steps_due", "steps_on_time", "closed", "rated"):
        assert field in body and field in js, field
    devices = client.get("/api/v1/devices", headers=operator)
    assert devices.status_code == 200 and devices.json()
    for field in ("id", "type", "location", "online", "open_alerts"):
        assert field in devices.json()[0], field


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
