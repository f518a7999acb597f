"""Device, technician and supervisor ids are broker logins: `check-site` refuses one used twice across the
lists, and the usernames the broker ACL gives the service and integrations, each with its line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from caretaker.estate import parse_site
from tests.estate.test_site_file import FILENAME, problems_of, site_text

# BASE_LINES: device A-B1-LEAK-1 on line 12, B-EL-1 on 13, technician t-wang on 15, supervisor s-li on 21
SUPERVISOR = '  - {{id: {0}, name: Li Na, phone: "13900139000"}}'
DEVICE = "  - {{id: {0}, type: elevator, building: B, floor: 1}}"


@pytest.mark.parametrize(
    ("replace", "line", "path", "fragment"),
    [
        ({"L13": DEVICE.format("t-wang")}, 15, "technicians[0].id",
         "technician id 't-wang' is already a device id (line 13)"),
        ({"L21": SUPERVISOR.format("t-wang")}, 21, "supervisors[0].id",
         "supervisor id 't-wang' is already a technician id (line 15)"),
        ({"L21": SUPERVISOR.format("A-B1-LEAK-1")}, 21, "supervisors[0].id",
         "supervisor id 'A-B1-LEAK-1' is already a device id (line 12)"),
        ({"L13": DEVICE.format("A-B1-LEAK-1")}, 13, "devices[1].id",
         "duplicate device id 'A-B1-LEAK-1' (first on line 12)"),
        ({"L15": "  - id: caretaker"}, 15, "technicians[0].id", "technician id 'caretaker' is reserved"),
        ({"L13": DEVICE.format("integrator")}, 13, "devices[1].id", "device id 'integrator' is reserved"),
        ({"L21": SUPERVISOR.format("caretaker")}, 21, "supervisors[0].id", "supervisor id 'caretaker' is reserved"),
    ],
    ids=["device-and-technician", "technician-and-supervisor", "device-and-supervisor", "two-devices",
         "technician-caretaker", "device-integrator", "supervisor-caretaker"],
)
def test_an_id_used_twice_or_reserved_is_named_with_its_line(replace, line, path, fragment):
    problems = problems_of(site_text(**replace))
    matching = [p for p in problems if p.path == path and fragment in p.message]
    assert matching, f"no problem at {path} with {fragment!r} in {problems}"
    assert matching[0].line == line
    assert len(problems) == 1  # named once, not once per list


def test_a_clash_reports_each_later_use_and_the_rest_of_the_file_still_loads_when_fixed():
    text = site_text(L13=DEVICE.format("s-li"), L15="  - id: s-li")
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [(15, "technicians[0].id"), (21, "supervisors[0].id")]
    assert all("already a device id (line 13)" in p.message for p in problems)
    assert parse_site(site_text(), FILENAME).supervisors["s-li"]


def test_reserved_names_are_exact_usernames_and_other_ids_pass():
    # Mosquitto usernames are case-sensitive: "Caretaker-1" or "integrators" are other logins
    site = parse_site(site_text(L13=DEVICE.format("caretaker-1"), L15="  - id: Integrator"), FILENAME)
    assert "caretaker-1" in site.devices and "Integrator" in site.technicians


def test_check_site_refuses_a_clash_naming_the_file_and_line(tmp_path: Path):
    site = tmp_path / "estate.yaml"
    site.write_text(site_text(L21=SUPERVISOR.format("integrator")), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "caretaker.cli", "check-site", str(site)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ))
    assert done.returncode == 1
    assert f"{site}:21: supervisors[0].id: supervisor id 'integrator' is reserved" in done.stderr
