"""The message catalogues (caretaker/i18n): every key in both languages with the same parameters, and the
language a request, a shell or a site picks."""

import pytest

from caretaker import i18n


def test_every_key_exists_in_both_languages_with_the_same_parameters():
    zh, en = i18n.CATALOGUES["zh-CN"], i18n.CATALOGUES["en"]
    assert set(zh) == set(en), f"only in zh-CN: {sorted(set(zh) - set(en))}; only in en: {sorted(set(en) - set(zh))}"
    for key in zh:
        assert (zh[key] and en[key]) or key.endswith("sep.place"), key  # Chinese joins a place's parts with nothing
        assert i18n.parameters(zh[key]) == i18n.parameters(en[key]), key


def test_a_chinese_estate_reads_chinese_and_an_english_request_english():
    assert i18n.say("error.ticket_unknown", "zh-CN", ticket="T-1") == "工单 T-1 不存在"
    assert i18n.say("error.ticket_unknown", "en", ticket="T-1") == "ticket 'T-1' does not exist"
    assert i18n.say("choice.off_shift", i18n.pick("zh-CN")) == "非当班"
    assert i18n.say("choice.off_shift", i18n.pick("zh-CN", accept_language="en-GB,en;q=0.9")) == "off shift"


def test_a_missing_parameter_is_left_visible_not_raised():
    assert i18n.say("error.role_forbidden", "en") == "role {role} may not do this"


@pytest.mark.parametrize("site, lang, accept, expected", [
    ("zh-CN", None, None, "zh-CN"), ("en", None, None, "en"), (None, None, None, "zh-CN"),
    ("zh-CN", "en", "zh-CN", "en"), ("en", None, "zh-TW,zh;q=0.8", "zh-CN"),
    ("en", None, "fr-FR,zh;q=0.5", "en"),  # the browser first prefers a language we do not speak: the site's
    ("zh-CN", "xx", "en-US", "en"),
])
def test_pick(site, lang, accept, expected):
    assert i18n.pick(site, lang, accept) == expected


@pytest.mark.parametrize("env, site, expected", [
    ({"LANG": "zh_CN.UTF-8"}, "en", "zh-CN"), ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, None, "en"),
    ({"LANG": "C.UTF-8"}, "en", "en"), ({}, None, "zh-CN"), ({"LANG": "de_DE.UTF-8"}, "en", "en"),
])
def test_from_env(env, site, expected):
    assert i18n.from_env(env, site) == expected
