"""The `caretaker` command refuses to start with a clear message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import EXAMPLE_SITE, free_port


def caretaker(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "caretaker.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_run_without_a_site_file_says_which_setting_is_missing():
    done = caretaker("run", CARETAKER_SITE_FILE="")
    assert done.returncode == 1 and "CARETAKER_SITE_FILE" in done.stderr and "Traceback" not in done.stderr


def test_run_with_an_unreachable_database_names_it_without_the_password():
    done = caretaker("run", CARETAKER_SITE_FILE=str(EXAMPLE_SITE),
                     CARETAKER_DATABASE_URL=f"postgresql://someone:hunter2@127.0.0.1:{free_port()}/caretaker")
    assert done.returncode == 1 and "cannot reach the database" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout and "Traceback" not in done.stderr


def test_run_with_an_unreachable_broker_says_so(tmp_path):
    done = caretaker("run", CARETAKER_SITE_FILE=str(EXAMPLE_SITE),
                     CARETAKER_DATABASE_URL=f"sqlite:///{tmp_path / 'c.db'}",
                     CARETAKER_MQTT_URL=f"mqtt://127.0.0.1:{free_port()}", CARETAKER_HTTP_PORT=str(free_port()))
    assert done.returncode == 1 and "cannot connect to the broker" in done.stderr and "Traceback" not in done.stderr


def test_run_with_a_bad_rules_file_names_the_line(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - id: x\n    title: X\n    device_types: [water_leak]\n"
                     "    when: {metric: humidity, op: '>', value: 3}\n    urgency: 1\n    category: plumbing\n")
    done = caretaker("run", CARETAKER_SITE_FILE=str(EXAMPLE_SITE), CARETAKER_RULES_FILE=str(rules))
    assert done.returncode == 1 and f"{rules}:5: rules[0].when.metric" in done.stderr


def test_check_site_lists_every_problem_and_fails(tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(EXAMPLE_SITE.read_text().replace("timezone: Asia/Shanghai", "timezone: Mars/Base")
                    .replace("type: water_leak", "type: water_leek", 1))
    done = caretaker("check-site", str(site))
    assert done.returncode == 1
    assert "unknown time zone 'Mars/Base'" in done.stderr and "water_leek" in done.stderr
    assert caretaker("check-site", str(EXAMPLE_SITE)).returncode == 0


def test_version_names_the_installed_release():
    done = caretaker("--version")
    assert done.returncode == 0 and done.stdout.startswith("caretaker ") and "unknown" not in done.stdout


def test_json_logs_are_one_object_per_line_naming_the_estate(mosquitto, tmp_path):
    import json

    proc = subprocess.Popen(
        [sys.executable, "-m", "caretaker.cli", "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "CARETAKER_SITE_FILE": str(EXAMPLE_SITE), "CARETAKER_LOG_FORMAT": "json",
             "CARETAKER_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CARETAKER_MQTT_URL": mosquitto.url,
             "CARETAKER_MQTT_CLIENT_ID": "json-logs-test", "CARETAKER_HTTP_PORT": str(free_port()),
             "CARETAKER_ADMIN_TOKEN": "json-logs-test-admin-token"})  # else the first line is a first-run token
    try:
        assert proc.stdout.readline().startswith("caretaker: site harbor-view")  # started: logs were written
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert lines, "no log lines"
    connected = [entry for entry in lines if "connected to" in entry["message"]]
    assert connected and connected[0]["site"] == "harbor-view" and connected[0]["level"] == "info"
    assert all({"ts", "level", "logger", "message"} <= entry.keys() for entry in lines)


def test_a_bad_log_format_is_refused_by_name():
    done = caretaker("run", CARETAKER_SITE_FILE=str(EXAMPLE_SITE), CARETAKER_LOG_FORMAT="xml")
    assert done.returncode == 1 and "CARETAKER_LOG_FORMAT" in done.stderr and "Traceback" not in done.stderr
