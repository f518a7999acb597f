"""Photos (docs/api.md, "Photos"): uploaded by the ticket's technician, checked by their bytes and size,
served only to staff and the ticket's technicians; `resolve` names only images of its own ticket. And what
a technician's ticket adds (route, device values), `GET /api/v1/me`, and the /tech page's files."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import func, select

from caretaker.api.photos import MAX_BYTES
from caretaker.api.tables import PhotoRow
from api_support import LEAK_REPORT, place_technician
from caretaker.dispatch.tables import TicketRow
from caretaker.ingest.tables import DeviceStateRow
from tests.browser.pictures import TINY_JPEG, png
from tests.faults.privacy_support import server  # noqa: F401  (the app on a real socket)

OTHER_REPORT = {"reporter_name": "Sun Li", "reporter_phone": "13600136000", "unit": "A-2801",
                "description": "门禁坏了", "source": "phone"}


def _upload(client, ticket_id: str, headers: dict[str, str], data: bytes, name: str = "site.png",
            content_type: str = "image/png"):
    return client.post(f"/api/v1/tickets/{ticket_id}/photos", headers=headers,
                       files={"file": (name, data, content_type)})


def _photos_stored(ctx) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(PhotoRow))


def _accepted(client, issue, ticket: dict[str, Any]) -> dict[str, str]:
    wang = issue("technician", "t-wang")
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=wang).status_code == 200
    return wang


def test_the_assigned_technician_uploads_a_photo_and_only_those_allowed_see_it(client, ctx, issue, operator,
                                                                               wang_ticket):
    wang = _accepted(client, issue, wang_ticket)
    picture = png()
    answer = _upload(client, wang_ticket["id"], wang, picture, content_type="application/octet-stream")
    assert answer.status_code == 201, answer.text
    url = answer.json()["url"]
    assert url.startswith("/api/v1/photos/PH-") and answer.json()["content_type"] == "image/png"

    for who in (wang, operator):
        shown = client.get(url, headers=who)
        assert shown.status_code == 200 and shown.content == picture
        assert shown.headers["content-type"] == "image/png"  # from the bytes, not from what the phone said
        assert shown.headers["cache-control"].startswith("private")
    assert client.get(url, headers=issue("technician", "t-huang")).status_code == 403
    assert client.get(url, headers=issue("integrator", "bms-1")).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get("/api/v1/photos/PH-nosuchphoto000000", headers=operator).status_code == 404


def test_a_file_that_is_no_image_is_415_whatever_it_claims(client, ctx, issue, wang_ticket):
    wang = _accepted(client, issue, wang_ticket)
    fake = b"<?php system($_GET['c']); ?>" + b"\x00" * 100
    answer = _upload(client, wang_ticket["id"], wang, fake, name="photo.jpg", content_type="image/jpeg")
    assert answer.status_code == 415, answer.text
    assert _upload(client, wang_ticket["id"], wang, b"", name="empty.jpg").status_code == 415
    assert _photos_stored(ctx) == 0
    # JPEG, WebP and HEIC pass by their first bytes
    webp = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
    for data, kind in ((TINY_JPEG, "image/jpeg"), (webp, "image/webp"), (heic, "image/heic")):
        answer = _upload(client, wang_ticket["id"], wang, data, content_type="application/octet-stream")
        assert answer.status_code == 201 and answer.json()["content_type"] == kind, answer.text


def test_a_photo_over_10_mb_is_413_and_nothing_is_stored(client, ctx, issue, wang_ticket):
    wang = _accepted(client, issue, wang_ticket)
    just_over = TINY_JPEG + b"\x00" * (MAX_BYTES + 1 - len(TINY_JPEG))  # inside the envelope: read, then refused
    assert _upload(client, wang_ticket["id"], wang, just_over).status_code == 413
    far_over = TINY_JPEG + b"\x00" * (12 * 1024 * 1024)  # refused at the door by its Content-Length
    answer = _upload(client, wang_ticket["id"], wang, far_over)
    assert answer.status_code == 413 and "最多接受" in answer.json()["detail"]  # the estate speaks zh-CN
    assert _photos_stored(ctx) == 0
    exactly = TINY_JPEG + b"\x00" * (MAX_BYTES - len(TINY_JPEG))
    assert _upload(client, wang_ticket["id"], wang, exactly).status_code == 201


def test_a_photo_for_someone_elses_ticket_is_refused(client, ctx, issue, operator, wang_ticket):
    huang = issue("technician", "t-huang")
    assert _upload(client, wang_ticket["id"], huang, png()).status_code == 403
    assert _upload(client, "T-000000-NOPE", huang, png()).status_code == 404
    assert _upload(client, wang_ticket["id"], issue("integrator", "bms-1"), png()).status_code == 403
    assert _photos_stored(ctx) == 0
    # the control room may add one to any ticket
    assert _upload(client, wang_ticket["id"], operator, png()).status_code == 201
    # a field of another name is no photo
    wang = issue("technician", "t-wang")
    answer = client.post(f"/api/v1/tickets/{wang_ticket['id']}/photos", headers=wang,
                         files={"picture": ("a.png", png(), "image/png")})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "file"]


def test_photos_are_taken_while_the_ticket_is_worked(client, ctx, issue, wang_ticket):
    wang = _accepted(client, issue, wang_ticket)
    url = _upload(client, wang_ticket["id"], wang, png()).json()["url"]
    body = {"note": "replaced the joint", "photos": [url]}
    assert client.post(f"/api/v1/tickets/{wang_ticket['id']}/resolve", json=body, headers=wang).status_code == 200
    assert _upload(client, wang_ticket["id"], wang, png()).status_code == 409
    assert client.get(url, headers=wang).status_code == 200  # still theirs to see


def test_resolve_takes_only_images_of_its_own_ticket(client, ctx, issue, operator, wang_ticket):
    wang = _accepted(client, issue, wang_ticket)
    other = client.post("/api/v1/tickets", json=OTHER_REPORT, headers=operator).json()
    assert other["id"] != wang_ticket["id"]
    elsewhere = _upload(client, other["id"], operator, png()).json()["url"]
    resolve = f"/api/v1/tickets/{wang_ticket['id']}/resolve"
    not_an_image = "data:image/png;base64," + base64.b64encode(b"hello").decode()
    for photos, index in (([elsewhere], 0), (["/api/v1/photos/PH-neveruploaded00000"], 0),
                          (["https://files.example/ok.jpg", not_an_image], 1), (["data:image/png;base64,AAAA"], 0)):
        answer = client.post(resolve, json={"note": "fixed", "photos": photos}, headers=wang)
        assert answer.status_code == 422, (photos, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "photos", index], answer.text
    assert client.get(f"/api/v1/tickets/{wang_ticket['id']}", headers=wang).json()["status"] == "accepted"

    own = _upload(client, wang_ticket["id"], wang, png()).json()["url"]
    thumbnail = "data:image/jpeg;base64," + base64.b64encode(TINY_JPEG).decode()
    answer = client.post(resolve, json={"note": "fixed", "photos": [own, thumbnail]}, headers=wang)
    assert answer.status_code == 200, answer.text
    assert answer.json()["photos"] == [own, thumbnail]
    assert client.get(own, headers=operator).content == png()


def test_a_technician_sees_the_route_and_the_device_values(client, ctx, issue, operator, wang_ticket):
    with ctx.sessions.begin() as session:  # a sensor's ticket: the leak detector in A's basement
        session.get(TicketRow, wang_ticket["id"]).device_id = "A-B2-LEAK-1"
        session.add(DeviceStateRow(device_id="A-B2-LEAK-1", online=True, values={"leak": True},
                                   last_seen=ctx.clock.now()))
    wang = issue("technician", "t-wang")
    place_technician(ctx, "t-wang", building="B", floor=5, zone=None)
    mine = client.get(f"/api/v1/tickets/{wang_ticket['id']}", headers=wang).json()
    route = mine["route"]
    assert route["building_name"] == "Tower A (1号楼)" and route["floor"] == wang_ticket["location"]["floor"]
    # B floor 5 down to 1 (4 floors), the walk B to A (120 s), up to the ticket's floor
    up = abs(wang_ticket["location"]["floor"] - 1)
    assert route["travel_s"] == 4 * 15 + 120 + up * 15
    assert route["origin"]["building"] == "B" and route["origin"]["floor"] == 5
    assert mine["device_values"]["values"] == {"leak": True} and mine["device_values"]["online"] is True
    listed = client.get("/api/v1/tickets", headers=wang).json()
    assert listed[0]["route"]["travel_s"] == route["travel_s"]
    accepted = client.post(f"/api/v1/tickets/{wang_ticket['id']}/accept", headers=wang).json()
    assert accepted["route"]["building_name"] == "Tower A (1号楼)"
    staff = client.get(f"/api/v1/tickets/{wang_ticket['id']}", headers=operator).json()
    assert staff["route"] is None and staff["device_values"] is None


def test_me_names_the_caller_and_the_site(client, issue, operator):
    me = client.get("/api/v1/me", headers=issue("technician", "t-wang")).json()
    assert me["role"] == "technician" and me["subject"] == "t-wang" and me["name"]
    assert me["site"]["locale"] in ("zh-CN", "en") and me["site"]["timezone"] == "Asia/Shanghai"
    assert client.get("/api/v1/me", headers=operator).json()["name"] is None
    assert client.get("/api/v1/me").status_code == 401


def test_the_tech_page_installs_as_an_app(client, ctx):
    page = client.get("/tech")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'data-site-locale="{ctx.site.locale}"' in page.text and "default-src 'self'" in page.headers[
        "content-security-policy"]
    worker = client.get("/tech/sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/tech"
    manifest = client.get("/tech/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == "/tech" and body["scope"] == "/tech" and body["display"] == "standalone"
    for icon in body["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    for module in ("app.js", "api.js", "queue.js", "view.js", "i18n.js", "alerts.js"):
        answer = client.get(f"/tech/static/{module}")
        assert answer.status_code == 200 and "javascript" in answer.headers["content-type"], module
    zh, en = client.get("/tech/static/i18n/zh-CN.json").json(), client.get("/tech/static/i18n/en.json").json()
    assert set(zh) == set(en), "the catalogues name different sentences"
    # every sentence the page names is in the catalogues
    shell = "".join(client.get(f"/tech/static/{m}").text for m in ("app.js", "view.js")) + page.text
    import re
    named = set(re.findall(r'data-i18n(?:-placeholder)?="([a-z_.0-9]+)"', shell))
    named |= set(re.findall(r'\bt\("([a-z_.0-9]+)"', shell))
    assert named and not named - set(zh), sorted(named - set(zh))


def test_an_oversized_upload_is_refused_before_its_body_is_sent(server, issue, wang_ticket):
    """Over a real socket: the headers announce 20 MB and no byte of the body follows; 413 comes at once."""
    import socket
    from urllib.parse import urlparse

    token = issue("technician", "t-wang")["Authorization"]
    address = urlparse(server)
    head = (f"POST /api/v1/tickets/{wang_ticket['id']}/photos HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"Authorization: {token}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
            f"Content-Length: {20 * 1024 * 1024}\r\n\r\n").encode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
