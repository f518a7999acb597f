"""The language of the API's error texts (docs/api.md, "Language"): `?lang=`, else `Accept-Language`, else the
site file's `locale`; the JSON keeps FastAPI's shape (`detail`; a 422's `type` and `loc`), only the words change."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from api_support import ADMIN, LEAK_REPORT, bearer
from caretaker.api.app import create_app


def _english_site(ctx):
    return dataclasses.replace(ctx, site=dataclasses.replace(ctx.site, locale="en"))


def test_the_example_estate_is_chinese(ctx):
    assert ctx.site.locale == "zh-CN"  # what "by site default" below relies on


@pytest.mark.parametrize("how, expected", [
    ({}, "令牌无效"),  # the site's locale
    ({"params": {"lang": "en"}}, "unknown token"),
    ({"headers": {"Accept-Language": "en-GB,en;q=0.9"}}, "unknown token"),
    ({"params": {"lang": "zh-CN"}, "headers": {"Accept-Language": "en"}}, "令牌无效"),  # ?lang= first
    ({"headers": {"Accept-Language": "fr-FR,fr;q=0.9"}}, "令牌无效"),  # a language we do not speak: the site's
])
def test_a_401_in_the_language_asked_for(client, how, expected):
    headers = {**bearer("not-a-token"), **how.get("headers", {})}
    response = client.get("/api/v1/tickets", headers=headers, params=how.get("params"))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": expected}


def test_a_missing_token_and_a_forbidden_role(client, issue):
    assert client.get("/api/v1/tickets").json() == {"detail": "需要登录令牌（Bearer token）"}
    assert client.get("/api/v1/tickets", params={"lang": "en"}).json() == {"detail": "a bearer token is required"}
    integrator = issue("integrator", "bms-1")
    zh = client.post("/api/v1/tickets", json=LEAK_REPORT, headers=integrator)
    en = client.post("/api/v1/tickets", json=LEAK_REPORT, headers={**integrator, "Accept-Language": "en"})
    assert (zh.status_code, zh.json()) == (403, {"detail": "角色 integrator 无权执行此操作"})
    assert (en.status_code, en.json()) == (403, {"detail": "role integrator may not do this"})


def test_an_unknown_ticket_and_a_step_not_allowed_in_both_languages(client, ctx, operator, wang_ticket):
    zh = client.get("/api/v1/tickets/T-NONE", headers=operator)
    en = client.get("/api/v1/tickets/T-NONE", headers=operator, params={"lang": "en"})
    assert (zh.status_code, zh.json()) == (404, {"detail": "工单 T-NONE 不存在"})
    assert (en.status_code, en.json()) == (404, {"detail": "ticket 'T-NONE' does not exist"})
    # verifying an assigned ticket: 409, the status (a code, for programs) kept as it is
    path = f"/api/v1/tickets/{wang_ticket['id']}/verify"
    zh = client.post(path, headers=operator, json={})
    en = client.post(path, headers={**operator, "Accept-Language": "en-US"}, json={})
    assert zh.status_code == en.status_code == 409
    assert zh.json() == {"detail": f"工单 {wang_ticket['id']} 当前为「已派单」，不能回访确认", "status": "assigned"}
    assert en.json() == {"detail": f"cannot verify ticket '{wang_ticket['id']}' while it is assigned",
                         "status": "assigned"}


def test_a_technician_on_someone_elses_ticket(client, issue, wang_ticket):
    chen = issue("technician", "t-chen")
    zh = client.post(f"/api/v1/tickets/{wang_ticket['id']}/accept", headers=chen)
    en = client.post(f"/api/v1/tickets/{wang_ticket['id']}/accept", headers=chen, params={"lang": "en"})
    assert zh.status_code == en.status_code == 403
    assert zh.json()["detail"] == f"工单 {wang_ticket['id']} 未派给 t-chen"
    assert en.json()["detail"] == f"ticket '{wang_ticket['id']}' is not assigned to 't-chen'"


def test_a_422_keeps_its_type_and_loc_and_changes_only_msg(client, operator):
    body = {"technician": "t-nobody"}
    zh = client.post("/api/v1/tickets/T-1/assign", headers=operator, json=body)
    en = client.post("/api/v1/tickets/T-1/assign", headers={**operator, "Accept-Language": "en"}, json=body)
    assert zh.status_code == en.status_code == 422
    (z,), (e,) = zh.json()["detail"], en.json()["detail"]
    assert {k: v for k, v in z.items() if k != "msg"} == {k: v for k, v in e.items() if k != "msg"}
    assert (e["type"], e["loc"], e["input"]) == ("unknown", ["body", "technician"], "t-nobody")
    assert (z["msg"], e["msg"]) == ("项目文件中没有技工 t-nobody", "technician 't-nobody' is not in the site file")


def test_unknown_token_ids_and_a_revoked_rotation(client, issue):
    zh = client.delete("/api/v1/tokens/nope", headers=ADMIN)
    en = client.delete("/api/v1/tokens/nope", headers=ADMIN, params={"lang": "en"})
    assert (zh.status_code, zh.json()) == (404, {"detail": "令牌 nope 不存在"})
    assert (en.status_code, en.json()) == (404, {"detail": "token 'nope' does not exist"})


def test_an_english_estate_answers_in_english_unless_asked_for_chinese(ctx):
    with TestClient(create_app(_english_site(ctx))) as client:
        assert client.get("/api/v1/tickets", headers=bearer("x")).json() == {"detail": "unknown token"}
        asked = client.get("/api/v1/tickets", headers={**bearer("x"), "Accept-Language": "zh-CN,zh;q=0.9"})
        assert asked.json() == {"detail": "令牌无效"}
        assert client.get("/api/v1/devices/nope", headers=ADMIN, params={"lang": "zh"}).json() == {
            "detail": "项目文件中没有设备 nope"}
        assert client.get("/api/v1/devices/nope", headers=ADMIN).json() == {
            "detail": "device 'nope' is not in the site file"}


def test_a_report_forms_problems_are_said_in_the_language_asked_for(client, operator):
    body = {"source": "phone", "reporter_name": "", "reporter_phone": "13800138000", "unit": "Z-9999",
            "description": "楼道灯不亮"}
    zh = client.post("/api/v1/tickets", headers=operator, json=body)
    en = client.post("/api/v1/tickets", headers={**operator, "Accept-Language": "en"}, json=body)
    assert zh.status_code == en.status_code == 422
    said = {tuple(d["loc"]): d["msg"] for d in zh.json()["detail"]}
    told = {tuple(d["loc"]): d["msg"] for d in en.json()["detail"]}
    assert said.keys() == told.keys() == {("body", "reporter_name"), ("body", "unit"), ("body", "building"),
                                          ("body", "floor")}
    assert said[("body", "unit")] == "项目文件中没有房号 Z-9999"
    assert told[("body", "unit")] == "unit 'Z-9999' is not in the site file"
    assert said[("body", "building")] == "此项为必填（或填写房号）"
    assert told[("body", "building")] == "Field required (or give a unit)"
    assert all(not any("a" <= ch <= "z" for ch in msg) for msg in said.values() if "Z-9999" not in msg), said

    outside = {**body, "reporter_name": "Li Lei", "unit": None, "building": "A", "floor": 99}
    zh = client.post("/api/v1/tickets", headers=operator, json=outside).json()["detail"]
    en = client.post("/api/v1/tickets", headers={**operator, "Accept-Language": "en"}, json=outside).json()["detail"]
    assert [d["msg"] for d in zh if d["loc"] == ["body", "floor"]][0].startswith("楼栋 A 的楼层为")
    assert [d["msg"] for d in en if d["loc"] == ["body", "floor"]][0].startswith("building A has floors")
