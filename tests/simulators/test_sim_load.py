"""Load mode's site file: valid YAML in the shape of docs/site-file.md, every device type present."""

from __future__ import annotations

import re

import yaml

from caretaker.estate.model import DEVICE_TYPES, SKILLS

from caretaker.simulators.load import load_devices, write_load_site

ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def test_write_load_site_writes_the_contract_shape(tmp_path):
    path = tmp_path / "load.yaml"
    write_load_site(path, 250, site_id="load-1")
    doc = yaml.safe_load(path.read_text())
    assert {"site", "name", "timezone", "travel", "buildings", "devices", "technicians", "supervisors"} <= set(doc)
    assert doc["site"] == "load-1"
    assert isinstance(doc["travel"]["floor_s"], int)
    assert all(len(w) == 3 and isinstance(w[2], int) for w in doc["travel"]["buildings"])
    floors = {b["id"]: b["floors"] for b in doc["buildings"]}
    assert len(doc["devices"]) == 250 and len({d["id"] for d in doc["devices"]}) == 250
    for d in doc["devices"]:
        assert {"id", "type", "building", "floor", "zone"} <= set(d) and ID.match(d["id"])
        assert d["type"] in DEVICE_TYPES
        low, high = floors[d["building"]]
        assert low <= d["floor"] <= high
    assert {d["type"] for d in doc["devices"]} == set(DEVICE_TYPES)
    assert doc["technicians"]
    for t in doc["technicians"]:
        assert {"id", "name", "phone", "skills"} <= set(t) and set(t["skills"]) == set(SKILLS)
        assert "shifts" not in t and isinstance(t["phone"], str)
    assert all({"id", "name", "phone"} <= set(s) for s in doc["supervisors"])


def test_the_load_site_loads_with_the_estate_loader(tmp_path):
    from caretaker.estate.site import load_site  # noqa: PLC0415 - written by another engineer at the same time
    path = tmp_path / "load.yaml"
    write_load_site(path, 40)
    site = load_site(path)
    assert site.id == "load" and len(site.devices) == 40
    assert {d.id for d in load_devices(40)} == set(site.devices)
