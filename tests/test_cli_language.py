"""The `caretaker` command speaks the shell's language (docs/deploy.md, "The command's language"): zh_CN.* is
Chinese, anything else (C, en_US, unset) English, `--lang` overrides both; what it prints for programs
(the replay's lines, JSON logs) does not change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from caretaker.cli import cli_language
from tests.conftest import EXAMPLE_SITE

RULES = Path(__file__).resolve().parents[1] / "rules" / "default_rules.yaml"
LOCALE_VARS = ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE")


def caretaker(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS}
    return subprocess.run([sys.executable, "-m", "caretaker.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**base, **env})


@pytest.mark.parametrize("env, flag, expected", [
    ({"LANG": "zh_CN.UTF-8"}, None, "zh-CN"), ({"LANG": "C"}, None, "en"), ({}, None, "en"),
    ({"LANG": "C.UTF-8"}, None, "en"), ({"LANG": "en_US.UTF-8"}, None, "en"), ({"LANG": "de_DE.UTF-8"}, None, "en"),
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, None, "en"),  # LC_ALL first, as POSIX reads them
    ({"LC_MESSAGES": "zh_CN.GB18030", "LANG": "en_US.UTF-8"}, None, "zh-CN"),
    ({"LANG": "zh_CN.UTF-8"}, "en", "en"), ({"LANG": "C"}, "zh", "zh-CN"),
])
def test_the_language_the_command_picks(env, flag, expected):
    assert cli_language(env, flag) == expected


def test_check_site_says_ok_in_the_shell_s_language():
    zh = caretaker("check-site", str(EXAMPLE_SITE), LANG="zh_CN.UTF-8")
    en = caretaker("check-site", str(EXAMPLE_SITE), LANG="C")
    assert zh.returncode == en.returncode == 0
    assert zh.stdout.strip() == "harbor-view：4 栋楼、42 台设备、10 名技工 — 通过"
    assert en.stdout.strip() == "harbor-view: 4 buildings, 42 devices, 10 technicians — OK"


def test_check_site_counts_its_problems_in_the_shell_s_language(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(EXAMPLE_SITE.read_text(encoding="utf-8").replace("timezone: Asia/Shanghai", "timezone: Mars/Base"),
                    encoding="utf-8")
    zh = caretaker("check-site", str(site), LANG="zh_CN.UTF-8")
    en = caretaker("check-site", str(site), LANG="C")
    assert zh.returncode == en.returncode == 1
    assert zh.stderr.splitlines()[-1] == f"{site} 中有 1 处问题" and "Mars/Base" in zh.stderr
    assert en.stderr.splitlines()[-1] == f"1 problem in {site}" and "Mars/Base" in en.stderr


def test_rules_check_and_a_file_it_cannot_read(tmp_path):
    zh = caretaker("rules", "check", str(RULES), LANG="zh_CN.UTF-8")
    en = caretaker("rules", "check", str(RULES), LANG="C")
    assert zh.returncode == en.returncode == 0
    assert zh.stdout.strip() == f"{RULES}：19 条规则、3 个预案 — 通过"
    assert en.stdout.strip() == f"{RULES}: 19 rules, 3 playbooks — OK"
    gone = tmp_path / "gone.yaml"
    zh = caretaker("rules", "check", str(gone), LANG="zh_CN.UTF-8")
    en = caretaker("rules", "check", str(gone), LANG="C")
    assert zh.returncode == en.returncode == 1
    assert zh.stderr.startswith(f"{gone}：无法读取：") and en.stderr.startswith(f"{gone}: cannot read: ")


def test_lang_overrides_the_shell_and_a_language_we_do_not_speak_is_refused():
    done = caretaker("--lang", "en", "rules", "check", str(RULES), LANG="zh_CN.UTF-8")
    assert done.returncode == 0 and done.stdout.strip().endswith("— OK")
    done = caretaker("--lang", "zh-CN", "rules", "check", str(RULES), LANG="C")
    assert done.returncode == 0 and done.stdout.strip().endswith("— 通过")
    done = caretaker("--lang", "fr", "rules", "check", str(RULES), LANG="zh_CN.UTF-8")
    assert done.returncode == 1 and done.stderr.strip() == "caretaker：--lang 只能是 zh-CN 或 en，实际为 fr"


def test_run_refuses_to_start_in_the_shell_s_language(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: x\n    title: X\n    device_types: [water_leak]\n"
                     "    when: {metric: humidity, op: '>', value: 3}\n    urgency: 1\n    category: plumbing\n")
    zh = caretaker("run", CARETAKER_SITE_FILE=str(EXAMPLE_SITE), CARETAKER_RULES_FILE=str(rules), LANG="zh_CN.UTF-8")
    en = caretaker("run", CARETAKER_SITE_FILE=str(EXAMPLE_SITE), CARETAKER_RULES_FILE=str(rules), LANG="C")
    assert zh.returncode == en.returncode == 1
    assert zh.stderr.startswith("caretaker：无法启动：\n") and f"{rules}:5: rules[0].when.metric" in zh.stderr
    assert en.stderr.startswith("caretaker: cannot start:\n") and f"{rules}:5: rules[0].when.metric" in en.stderr


def test_a_bad_setting_is_refused_in_the_shell_s_language():
    zh = caretaker("demo", CARETAKER_HTTP_PORT="eighty", LANG="zh_CN.UTF-8")
    en = caretaker("demo", CARETAKER_HTTP_PORT="eighty", LANG="C")
    assert zh.returncode == en.returncode == 1
    assert zh.stderr.strip() == "caretaker：设置有误：CARETAKER_HTTP_PORT 必须是端口号（1-65535），实际为 'eighty'"
    assert en.stderr.strip() == "caretaker: bad settings: CARETAKER_HTTP_PORT must be a port number (1-65535), got 'eighty'"
