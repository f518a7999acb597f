"""The site file's channels (docs/site-file.md, docs/channels.md): `${VAR}`s read from the environment, each
problem named with its line, never a secret's value, in the errors or in `check-site`'s output."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from caretaker.estate import SiteError, parse_site
from tests.estate.test_site_file import BASE_LINES, FILENAME

SECRET = "value-of-the-secret-4b1c9e"

CHANNEL_LINES = [
    "channels:",                                                                      # 24
    "  - id: ops-webhook",                                                            # 25
    "    kind: webhook",                                                              # 26
    "    url: https://ops.example/caretaker?key=${OPS_KEY}",                          # 27
    "    secret: ${OPS_SECRET}",                                                      # 28
    "    takes: [notice, dispatch, alert, resident]",                                 # 29
    "  - id: ops-wecom",                                                              # 30
    "    kind: apprise",                                                              # 31
    "    url: wecombot://${WECOM_KEY}",                                               # 32
    "    takes: [notice]",                                                            # 33
    "    to: [s-li]",                                                                 # 34
    "locale: en",                                                                     # 35
]
ENV = {"OPS_KEY": "key-" + SECRET, "OPS_SECRET": SECRET, "WECOM_KEY": "wecom" + SECRET.replace("-", "")}


def text(**replace: str) -> str:
    lines = BASE_LINES + CHANNEL_LINES
    for key, value in replace.items():
        lines[int(key[1:]) - 1] = value
    return "\n".join(lines) + "\n"


def problems(source: str, environ: dict[str, str] | None = None) -> list[tuple[int | None, str, str]]:
    with pytest.raises(SiteError) as caught:
        parse_site(source, FILENAME, environ=ENV if environ is None else environ)
    found = [(p.line, p.path, p.message) for p in caught.value.problems]
    assert SECRET not in str(caught.value) and all(v not in str(caught.value) for v in ENV.values())
    return found


def test_channels_load_with_their_secrets_from_the_environment():
    site = parse_site(text(L16='    name: Wang Jun\n    notify: [ops-wecom]'), FILENAME, environ=ENV)
    hook, wecom = site.channels["ops-webhook"], site.channels["ops-wecom"]
    assert hook.url == f"https://ops.example/caretaker?key=key-{SECRET}" and hook.secret == SECRET
    assert hook.takes == {"notice", "dispatch", "alert", "resident"} and hook.to is None
    assert wecom.url == f"wecombot://{ENV['WECOM_KEY']}" and wecom.to == {"s-li"} and wecom.secret is None
    assert site.technicians["t-wang"].notify == ("ops-wecom",)
    assert site.locale == "en"
    assert SECRET not in repr(site.channels) and SECRET not in repr(hook)


def test_the_locale_defaults_to_chinese_and_channels_are_optional():
    site = parse_site("\n".join(BASE_LINES) + "\n", FILENAME, environ={})
    assert site.locale == "zh-CN" and site.channels == {}


def test_a_missing_variable_names_the_variable_and_the_line_never_a_value():
    found = problems(text(), environ={"OPS_KEY": ENV["OPS_KEY"]})
    assert (28, "channels[0].secret", "environment variable OPS_SECRET is not set (or empty)") in found
    assert (32, "channels[1].url", "environment variable WECOM_KEY is not set (or empty)") in found
    assert len(found) == 2


@pytest.mark.parametrize(("replace", "line", "path", "fragment"), [
    ({"L26": "    kind: sms"}, 26, "channels[0].kind", "unknown channel kind 'sms'; expected one of webhook, apprise"),
    ({"L29": "    takes: [dispatch, everything]"}, 29, "channels[0].takes[1]", "unknown message kind 'everything'"),
    ({"L29": "    takes: []"}, 29, "channels[0].takes", "needs at least one entry"),
    ({"L34": "    to: [s-nobody]"}, 34, "channels[1].to[0]", "unknown person 's-nobody'"),
    ({"L30": "  - id: ops-webhook"}, 30, "channels[1].id", "duplicate channel id 'ops-webhook' (first on line 25)"),
    ({"L30": "  - id: t-wang"}, 30, "channels[1].id", "channel id 't-wang' is already a technician id (line 15)"),
    ({"L28": f"    secret: {SECRET}"}, 28, "channels[0].secret", "write the secret as ${VARIABLE}"),
    ({"L27": "    url: ftp://ops.example/${OPS_KEY}"}, 27, "channels[0].url",
     "a webhook url must start with http:// or https://"),
    ({"L32": "    url: nosuchservice://${WECOM_KEY}"}, 32, "channels[1].url",
     "Apprise cannot use this nosuchservice:// url"),
    ({"L21": '  - {id: s-li, name: Li Na, phone: "13900139000", notify: [ops-wecom, ops-sms]}'}, 21,
     "supervisors[0].notify[1]", "unknown channel 'ops-sms' (channels: ops-webhook, ops-wecom)"),
    ({"L19": '    notify: [ops-pager]'}, 19, "technicians[0].notify[0]", "unknown channel 'ops-pager'"),
    ({"L35": "locale: fr"}, 35, "locale", "unknown locale 'fr'; expected one of zh-CN, en"),
], ids=["kind", "takes", "takes-empty", "to", "duplicate", "clash", "literal-secret", "webhook-url", "apprise-url",
        "supervisor-notify", "technician-notify", "locale"])
def test_each_channel_problem_is_named_with_its_line(replace, line, path, fragment):
    found = problems(text(**replace))
    assert any(p[0] == line and p[1] == path and fragment in p[2] for p in found), found


def test_check_site_shows_problems_but_never_a_secret(tmp_path):
    site = tmp_path / "site.yaml"
    # a literal secret and an Apprise url it cannot parse (Apprise itself would log that url whole)
    site.write_text(text(L28=f"    secret: {SECRET}", L32=f"    url: nosuchservice://{SECRET}"), encoding="utf-8")
    env = {**os.environ, **{k: v for k, v in ENV.items() if k != "OPS_KEY"}}
    done = subprocess.run([sys.executable, "-m", "caretaker.cli", "check-site", str(site)], capture_output=True,
                          text=True, env=env, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "site.yaml:27: channels[0].url: environment variable OPS_KEY is not set" in output
    assert "site.yaml:28: channels[0].secret: write the secret as ${VARIABLE}" in output
    assert "site.yaml:32: channels[1].url: Apprise cannot use this nosuchservice:// url" in output
    assert SECRET not in output and ENV["OPS_SECRET"] not in output


def test_check_site_passes_a_good_file_without_showing_its_secrets(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(text(), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "caretaker.cli", "check-site", str(site)], capture_output=True,
                          text=True, env={**os.environ, **ENV}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert all(value not in done.stdout + done.stderr for value in ENV.values())
