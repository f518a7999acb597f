"""Tokens on the admin's page, in Chinese and in English (docs/operators.md#admin): issue one with a role and
an expiry (its secret shown once, and it works), the list with expiry and last use, rotate (the new secret
works, the old one is marked rotated) and revoke (refused at once). An operator sees no Admin tab."""

from __future__ import annotations

import pytest

from tests.browser.control_room_support import chromium, open_room, room, screenshot  # noqa: F401

WORDS = {"zh-CN": {"rotated": "已轮换", "revoked": "已吊销", "never": "永久"},
         "en": {"rotated": "rotated", "revoked": "revoked", "never": "never"}}
TECH = {"zh-CN": "t-chen", "en": "t-zhou"}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_issue_list_rotate_and_revoke_tokens(open_room, room, lang):
    page = open_room(lang, token=room.admin)
    page.click("#views [data-view=admin]")
    page.wait_for_selector("#view-admin[data-loaded]")
    form = "#token-form-admin"
    page.select_option(f"{form} [name=role]", "technician")
    page.fill(f"{form} [name=subject]", "nobody-here")
    page.click(f"{form} [data-action=issue]")
    page.wait_for_selector(f"{form} [data-error-for=subject]:text('nobody-here')")  # not in the site file
    page.fill(f"{form} [name=subject]", TECH[lang])
    page.select_option(f"{form} [name=ttl]", str(30 * 86400))
    page.click(f"{form} [data-action=issue]")
    page.wait_for_selector("#token-issued:not([hidden]) code.secret")
    secret = page.inner_text("#token-issued code.secret")
    ident = page.get_attribute("#token-issued code.secret", "data-token-id")
    me = room.call("GET", "/api/v1/me", token=secret).json()
    assert (me["role"], me["subject"]) == ("technician", TECH[lang])
    row = f"#token-list tr[data-id='{ident}']"
    page.wait_for_selector(row)
    assert WORDS[lang]["never"] not in page.inner_text(row)  # it has an expiry
    screenshot(page, f"admin-tokens-{lang}")

    page.click(f"{row} [data-action=rotate]")
    page.wait_for_selector(f"#token-issued code.secret:not([data-token-id='{ident}'])")
    rotated = page.inner_text("#token-issued code.secret")
    new_ident = page.get_attribute("#token-issued code.secret", "data-token-id")
    assert rotated != secret and room.call("GET", "/api/v1/me", token=rotated).status_code == 200
    page.wait_for_selector(f"{row}.replaced")
    assert WORDS[lang]["rotated"] in page.inner_text(row)

    page.once("dialog", lambda d: d.accept())
    page.click(f"#token-list tr[data-id='{new_ident}'] [data-action=revoke]")
    page.wait_for_selector(f"#token-list tr[data-id='{new_ident}'].revoked")
    assert WORDS[lang]["revoked"] in page.inner_text(f"#token-list tr[data-id='{new_ident}']")
    assert room.call("GET", "/api/v1/me", token=rotated).status_code == 401


def test_an_operator_sees_no_admin_tab(open_room):
    page = open_room("en")
    assert page.locator("#admin-tab").is_hidden()
