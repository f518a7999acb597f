"""FastAPI's own 422s in the request's language (docs/api.md, "Language"): a missing field, a wrong type, a
text too long, a number out of range, a field the API does not take, each `msg` naming the field in
Chinese for a zh-CN request and in English for an en one; `type`, `loc` and `input` as FastAPI writes them."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from api_support import ADMIN, LEAK_REPORT
from caretaker.api.app import create_app
from caretaker.api.language import field_name

CASES = [
    # (path, body, type, loc, zh msg, en msg)
    ("/api/v1/tokens", {"subject": "op-2"}, "missing", ["body", "role"],
     "缺少必填字段 role", "role: field required"),
    ("/api/v1/tokens", {"role": "operator", "subject": "op-2", "ttl": "soon"}, "int_parsing", ["body", "ttl"],
     "ttl 应为整数", "ttl: should be an integer"),
    ("/api/v1/tokens", {"role": "operator", "subject": "op-2", "ttl": 5}, "greater_than_equal", ["body", "ttl"],
     "ttl 不能小于 60", "ttl: should be at least 60"),
    ("/api/v1/tickets", {**LEAK_REPORT, "title": "漏" * 201}, "string_too_long", ["body", "title"],
     "title 最多 200 个字符", "title: should have at most 200 characters"),
    ("/api/v1/tickets", {**LEAK_REPORT, "urgency": 9}, "less_than_equal", ["body", "urgency"],
     "urgency 不能大于 4", "urgency: should be at most 4"),
    ("/api/v1/tickets", {**LEAK_REPORT, "colour": "red"}, "extra_forbidden", ["body", "colour"],
     "不认识的字段 colour", "colour: unknown field"),
    ("/api/v1/tickets", {**LEAK_REPORT, "description": 42}, "string_type", ["body", "description"],
     "description 应为文本", "description: should be a string"),
]


def _english(ctx):
    return dataclasses.replace(ctx, site=dataclasses.replace(ctx.site, locale="en"))


def _one(response) -> dict:
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    return problem


@pytest.mark.parametrize("path, body, kind, loc, zh, en", CASES, ids=[c[2] for c in CASES])
def test_a_chinese_estate_reads_chinese_and_an_english_estate_english(ctx, client, path, body, kind, loc, zh, en):
    here = _one(client.post(path, json=body, headers=ADMIN))
    assert (here["type"], here["loc"], here["msg"]) == (kind, loc, zh)
    with TestClient(create_app(_english(ctx))) as english:
        there = _one(english.post(path, json=body, headers=ADMIN))
    assert (there["type"], there["loc"], there["msg"]) == (kind, loc, en)
    assert {k: v for k, v in here.items() if k != "msg"} == {k: v for k, v in there.items() if k != "msg"}


def test_the_request_s_language_wins_over_the_estate_s(ctx, client):
    body = {**LEAK_REPORT, "urgency": 0}
    assert _one(client.post("/api/v1/tickets", json=body, headers={**ADMIN, "Accept-Language": "en-GB"}))["msg"] \
        == "urgency: should be at least 1"
    with TestClient(create_app(_english(ctx))) as english:
        assert _one(english.post("/api/v1/tickets", json=body, headers=ADMIN, params={"lang": "zh-CN"}))["msg"] \
            == "urgency 不能小于 1"


def test_every_problem_of_one_body_is_named(client):
    body = {"role": "operator", "subject": "op-2", "ttl": 5, "extra": 1}
    response = client.post("/api/v1/tokens", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert sorted(p["msg"] for p in response.json()["detail"]) == ["ttl 不能小于 60", "不认识的字段 extra"]


def test_a_body_that_is_not_json_at_all(client):
    response = client.post("/api/v1/tickets", content=b'{"unit": ', headers={**ADMIN, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert [p["type"] for p in response.json()["detail"]] == ["json_invalid"]
    assert response.json()["detail"][0]["msg"] == "请求体不是有效的 JSON"
    english = client.post("/api/v1/tickets", content=b'{"unit": ', params={"lang": "en"},
                          headers={**ADMIN, "Content-Type": "application/json"})
    assert english.json()["detail"][0]["msg"] == "the body is not valid JSON"


@pytest.mark.parametrize("loc, name", [
    (("body", "title"), "title"), (("body", "photos", 0), "photos[0]"), (("query", "limit"), "limit"),
    (("body", "place", "floor"), "place.floor"), (("body",), "body"),
])
def test_field_name(loc, name):
    assert field_name(loc) == name
