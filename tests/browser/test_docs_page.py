"""/docs in a real browser: Swagger UI 5, served from the service's own files, renders the OpenAPI 3.1 document
(Swagger UI 4 said "Unable to render this definition"), and "Try it out" really calls the API. The shared
fixtures of tests/browser/conftest.py: Debian's Chromium, the console guard, screenshots, the live service."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

TIMEOUT_MS = 20_000  # a busy two-core machine parses the 1.5 MB bundle slowly; the test waits for elements


def open_docs(browser, console, base: str):
    page = browser.new_page()
    console.watch(page)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None)
    page.goto(f"{base}/docs", timeout=TIMEOUT_MS)
    page.locator('.opblock-tag[data-tag="tickets"]').wait_for(timeout=TIMEOUT_MS)
    return page, outside


def test_docs_render_every_tag_without_errors_or_the_internet(browser, console, shoot, live):
    page, outside = open_docs(browser, console, live.url)
    body = page.inner_text("body")
    assert "Unable to render" not in body and "Could not render" not in body
    for tag in ("tickets", "alerts", "health"):
        assert page.locator(f'.opblock-tag[data-tag="{tag}"]').count() == 1, tag
    assert page.locator(".opblock").count() >= 20  # every operation, each as a block
    assert "Open a ticket" in body or page.locator(".opblock-summary-description").count() >= 20
    assert page.locator(".version-stamp").first.inner_text().strip().startswith("OAS 3.1")  # the 3.1 document, read
    assert outside == [], outside  # nothing fetched from a CDN
    assert console.unexpected() == []
    shoot(page, "docs")
    page.close()


def test_try_it_out_calls_the_api(browser, console, shoot, live):
    token = live.token("operator", "docs-reader")
    page, _ = open_docs(browser, console, live.url)
    # GET /healthz without a token: the service answers with its checks
    health = page.locator("#operations-health-healthz_healthz_get")
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    status = health.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=TIMEOUT_MS)
    assert status.inner_text().strip() == "200"
    assert '"status": "ok"' in health.locator(".live-responses-table .microlight, .live-responses-table pre").first.inner_text()

    # an authorised call: an operator's token through "Authorize", then GET /api/v1/tickets
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux")
    dialog.locator("input").first.fill(token)
    dialog.locator("button.modal-btn.authorize").click()
    dialog.locator("button.modal-btn.btn-done").click()
    tickets = page.locator('[id^="operations-tickets-"][id$="_get"]').filter(has_text="/api/v1/tickets").first
    tickets.locator(".opblock-summary").click()
    tickets.get_by_role("button", name="Try it out").click()
    tickets.get_by_role("button", name="Execute").click()
    status = tickets.locator(".live-responses-table .response .response-col_status").first
    status.wait_for(timeout=TIMEOUT_MS)
    assert status.inner_text().strip() == "200", tickets.locator(".live-responses-table").inner_text()
    shoot(page, "try-it-out")
    assert console.unexpected() == []
    page.close()
