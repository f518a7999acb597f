"""Site file loading: a good file becomes a Site; every kind of problem is named with its line and path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from caretaker.estate import DEFAULT_SLA, Place, SiteError, SiteProblem, load_site, parse_site, travel_seconds
from caretaker.estate.model import ShiftWindow

FILENAME = "tiny.yaml"

# A small valid site. Cases below replace one numbered line, so line numbers never shift.
BASE_LINES = [
    "site: tiny",                                                         # 1
    "name: Tiny Estate",                                                  # 2
    "timezone: Asia/Shanghai",                                            # 3
    "travel:",                                                            # 4
    "  floor_s: 15",                                                      # 5
    "  buildings:",                                                       # 6
    "    - [A, B, 120]",                                                  # 7
    "buildings:",                                                         # 8
    "  - {id: A, floors: [-1, 10]}",                                      # 9
    "  - {id: B, floors: [1, 5]}",                                        # 10
    "devices:",                                                           # 11
    "  - {id: A-B1-LEAK-1, type: water_leak, building: A, floor: -1}",    # 12
    "  - {id: B-EL-1, type: elevator, building: B, floor: 1}",            # 13
    "technicians:",                                                       # 14
    "  - id: t-wang",                                                     # 15
    "    name: Wang Jun",                                                 # 16
    '    phone: "13800138000"',                                           # 17
    "    skills: [plumbing]",                                             # 18
    '    shifts: ["Mon-Fri 08:00-18:00"]',                                # 19
    "supervisors:",                                                       # 20
    '  - {id: s-li, name: Li Na, phone: "13900139000"}',                  # 21
    "sla:",                                                               # 22
    "  1: {accept: 2m, arrive: 30m, resolve: 2h}",                        # 23
]


def site_text(**replace: str) -> str:
    """BASE_LINES with lines replaced, given as L<number>="new text"."""
    lines = list(BASE_LINES)
    for key, text in replace.items():
        lines[int(key[1:]) - 1] = text
    return "\n".join(lines) + "\n"


def problems_of(text: str) -> list[SiteProblem]:
    with pytest.raises(SiteError) as caught:
        parse_site(text, FILENAME)
    return caught.value.problems


def test_base_site_loads() -> None:
    site = parse_site(site_text(), FILENAME)
    assert site.id == "tiny"
    assert site.name == "Tiny Estate"
    assert site.timezone == "Asia/Shanghai"
    assert site.travel.floor_s == 15
    assert site.travel.walks == {frozenset({"A", "B"}): 120}
    assert site.travel.location_ttl == timedelta(minutes=30)
    assert (site.buildings["A"].lowest_floor, site.buildings["A"].highest_floor) == (-1, 10)
    assert site.devices["A-B1-LEAK-1"].place == Place("A", -1)
    assert site.devices["A-B1-LEAK-1"].family == "water"
    tech = site.technicians["t-wang"]
    assert tech.skills == frozenset({"plumbing"})
    assert tech.badge is None
    assert tech.shifts == (ShiftWindow(frozenset({0, 1, 2, 3, 4}), 480, 1080),)
    assert site.supervisors["s-li"].phone == "13900139000"
    assert site.units == {}
    assert travel_seconds(site, Place("A", -1), Place("B", 3)) == 1 * 15 + 120 + 2 * 15  # -1 to 1 is one floor: no floor 0


def test_sla_levels_left_out_keep_the_defaults() -> None:
    site = parse_site(site_text(L23="  3: {accept: 10m, resolve: 8h}"), FILENAME)
    assert site.sla[3].accept == timedelta(minutes=10)
    assert site.sla[3].arrive is None
    assert site.sla[3].resolve == timedelta(hours=8)
    assert {level: site.sla[level] for level in (1, 2, 4)} == {level: DEFAULT_SLA[level] for level in (1, 2, 4)}
    assert list(site.sla) == [1, 2, 3, 4]


def test_no_sla_block_means_all_defaults() -> None:
    text = "\n".join(BASE_LINES[:21]) + "\n"
    assert parse_site(text, FILENAME).sla == DEFAULT_SLA


def test_optional_extras_are_read() -> None:
    text = site_text(
        L5="  floor_s: 20\n  location_ttl: 45m",
        L9="  - {id: A, name: Tower A, floors: [-1, 10]}",
        L12="  - {id: A-B1-LEAK-1, type: water_leak, building: A, floor: -1, zone: pump-room, interval: 5m,"
            " overrides: {leak-rule: {hold_s: 10}}}",
        L19="    badge: B-1001",
    ) + "units:\n  - id: A-0302\n    building: A\n    floor: 3\n    residents:\n" \
        '      - {name: Zhao Min, phone: "+8613700137000", vulnerable: true}\n'
    site = parse_site(text, FILENAME)
    assert site.travel.floor_s == 20
    assert site.travel.location_ttl == timedelta(minutes=45)
    assert site.buildings["A"].name == "Tower A"
    device = site.devices["A-B1-LEAK-1"]
    assert (device.place.zone, device.interval_s, device.overrides) == ("pump-room", 300, {"leak-rule": {"hold_s": 10}})
    tech = site.technicians["t-wang"]
    assert (tech.badge, tech.shifts) == ("B-1001", None)
    assert site.technician_by_badge("B-1001") == tech
    resident = site.units["A-0302"].residents[0]
    assert (resident.name, resident.phone, resident.vulnerable) == ("Zhao Min", "+8613700137000", True)


def test_numeric_building_ids_are_read_as_text() -> None:
    text = site_text(L7="    - [1, B, 120]", L9="  - {id: 1, floors: [-1, 10]}",
                     L12="  - {id: A-B1-LEAK-1, type: water_leak, building: 1, floor: -1}")
    site = parse_site(text, FILENAME)
    assert set(site.buildings) == {"1", "B"}
    assert site.devices["A-B1-LEAK-1"].place.building == "1"


def test_walks_may_be_written_as_durations() -> None:
    site = parse_site(site_text(L7="    - [A, B, 2m]"), FILENAME)
    assert site.travel.walks == {frozenset({"A", "B"}): 120}


@pytest.mark.parametrize(
    ("replace", "line", "path", "fragment"),
    [
        ({"L12": "  - {id: A-B1-LEAK-1, type: water_leak, building: A, floor: -1, colour: red}"},
         12, "devices[0].colour", "unknown key 'colour'"),
        ({"L2": "nmae: Tiny Estate"}, 2, "nmae", "did you mean 'name'?"),
        ({"L5": "  floor_s: 15\n  speed: 3"}, 6, "travel.speed", "unknown key 'speed'"),
        ({"L12": '  - {id: A-B1-LEAK-1, type: water_leak, building: A, floor: "3"}'},
         12, "devices[0].floor", "valid integer"),
        ({"L18": "    skills: plumbing"}, 18, "technicians[0].skills", "expected a list"),
        ({"L13": "  - B-EL-1"}, 13, "devices[1]", "expected a mapping"),
        ({"L16": "    badge: B-1"}, 15, "technicians[0]", "missing required key 'name'"),
        ({"L13": "  - {id: B-EL-1, type: elevator, building: Z, floor: 1}"},
         13, "devices[1].building", "unknown building 'Z'"),
        ({"L12": "  - {id: A-B1-LEAK-1, type: water_leak, building: A, floor: -3}"},
         12, "devices[0].floor", "outside building A's floors -1 to 10"),
        ({"L13": "  - {id: A-B1-LEAK-1, type: elevator, building: B, floor: 1}"},
         13, "devices[1].id", "duplicate device id 'A-B1-LEAK-1' (first on line 12)"),
        ({"L10": "  - {id: A, floors: [1, 5]}"}, 10, "buildings[1].id", "duplicate building id 'A'"),
        ({"L19": '    shifts: ["Mon-Fri 08:00-25:00"]'}, 19, "technicians[0].shifts[0]", "25:00"),
        ({"L19": '    shifts: ["Mon-Fri 08:00-18:00", "Someday 08:00-09:00"]'},
         19, "technicians[0].shifts[1]", "unknown day 'Someday'"),
        ({"L3": "timezone: Asia/Atlantis"}, 3, "timezone", "unknown time zone 'Asia/Atlantis'"),
        ({"L23": "  1: {accept: 2x, arrive: 30m, resolve: 2h}"}, 23, "sla.1.accept", "'2x' is not a duration"),
        ({"L23": "  1: {accept: 2h, arrive: 30m, resolve: 2h}"}, 23, "sla.1", "accept (2h) is later than arrive"),
        ({"L23": "  5: {accept: 2m, resolve: 2h}"}, 23, "sla.5", "urgency level must be 1, 2, 3 or 4"),
        ({"L13": "  - {id: B-EL-1, type: lift, building: B, floor: 1}"},
         13, "devices[1].type", "unknown device type 'lift'"),
        ({"L18": "    skills: [plumbing, dancing]"}, 18, "technicians[0].skills[1]", "unknown skill 'dancing'"),
        ({"L18": "    skills: []"}, 18, "technicians[0].skills", "at least one"),
        ({"L17": "    phone: 13800138000"}, 17, "technicians[0].phone", "in quotes"),
        ({"L17": '    phone: "138-0013"'}, 17, "technicians[0].phone", "digits"),
        ({"L1": "site: tiny estate"}, 1, "site", "1-64 letters"),
        ({"L15": "  - id: t/wang"}, 15, "technicians[0].id", "1-64 letters"),
        ({"L10": "  - {id: B, floors: [5, 1]}"}, 10, "buildings[1].floors", "lowest floor 5 is above highest"),
        ({"L10": "  - {id: B, floors: [1]}"}, 10, "buildings[1].floors", "[lowest, highest]"),
        ({"L7": "    - [A, Q, 120]"}, 7, "travel.buildings[0]", "unknown building 'Q'"),
        ({"L7": "    - [A, B, -5]"}, 7, "travel.buildings[0]", "positive number of seconds"),
        ({"L7": "    - [A, A, 60]"}, 7, "travel.buildings[0]", "to itself"),
        ({"L7": "    - [A, B, 120]\n    - [B, A, 60]"}, 8, "travel.buildings[1]", "given twice"),
        ({"L5": "  floor_s: 0"}, 5, "travel.floor_s", "longer than zero"),
        ({"L16": "    name: Wang Jun\n    name: Wang Jin"}, 17, "technicians[0].name", "duplicate key 'name'"),
        ({"L21": "  []"}, 20, "supervisors", "at least one"),
        ({"L19": "    badge: B-1\n    shifts: []"}, 20, "technicians[0].shifts", "at least one"),
    ],
    ids=[
        "unknown-key", "unknown-key-suggestion", "unknown-key-nested",
        "wrong-type-int", "wrong-type-list", "wrong-type-mapping", "missing-key",
        "unknown-building", "floor-out-of-range", "duplicate-device-id", "duplicate-building-id",
        "bad-shift-hour", "bad-shift-day", "bad-timezone", "bad-duration", "sla-out-of-order", "sla-bad-level",
        "bad-device-type", "bad-skill", "no-skills", "phone-unquoted", "phone-not-digits",
        "bad-site-id", "bad-technician-id", "floors-reversed", "floors-not-a-pair",
        "walk-unknown-building", "walk-negative", "walk-to-itself", "walk-twice", "floor-s-zero",
        "duplicate-yaml-key", "no-supervisors", "empty-shifts",
    ],
)
def test_each_problem_names_its_line_and_path(replace: dict[str, str], line: int, path: str, fragment: str) -> None:
    problems = problems_of(site_text(**replace))
    matching = [p for p in problems if p.path == path and fragment in p.message]
    assert matching, f"no problem at {path} with {fragment!r} in {problems}"
    assert matching[0].line == line
    assert f"{FILENAME}:{line}: {path}: " in str(SiteError(problems, FILENAME))


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("site: [tiny\n", 2, "not valid YAML"),
        ("site: tiny\nname: Tiny\n\tbad: tab\n", 3, "not valid YAML"),
        ("site: tiny\n---\nsite: other\n", 2, "not valid YAML"),
        ("site: !!python/object:os.system x\n", 1, "not valid YAML"),
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("- site: tiny\n", 1, "the top level must be a mapping"),
        ("just some words\n", 1, "the top level must be a mapping"),
    ],
    ids=["unclosed-list", "tab", "two-documents", "python-tag", "empty", "only-comment", "top-list", "top-scalar"],
)
def test_unreadable_files_name_the_line(text: str, line: int, fragment: str) -> None:
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].line == line
    assert fragment in problems[0].message


def test_every_problem_is_reported_at_once() -> None:
    text = site_text(
        L3="timezone: Nowhere/Land",
        L12="  - {id: A-B1-LEAK-1, type: water_leek, building: A, floor: 99}",
        L13="  - {id: A-B1-LEAK-1, type: elevator, building: Z, floor: 1, color: red}",
        L17="    phone: 13800138000",
        L19='    shifts: ["Mon-Fri 8-18"]',
        L23="  1: {accept: soon, resolve: 2h}",
    )
    error = pytest.raises(SiteError, parse_site, text, FILENAME).value
    found = {(p.line, p.path) for p in error.problems}
    assert found >= {
        (3, "timezone"),
        (12, "devices[0].type"), (12, "devices[0].floor"),
        (13, "devices[1].id"), (13, "devices[1].building"), (13, "devices[1].color"),
        (17, "technicians[0].phone"),
        (19, "technicians[0].shifts[0]"),
        (23, "sla.1.accept"),
    }
    lines = str(error).splitlines()
    assert len(lines) == len(error.problems)
    assert all(line.startswith(f"{FILENAME}:") for line in lines)
    assert [p.line for p in error.problems] == sorted(p.line for p in error.problems if p.line is not None)


def test_error_text_is_one_problem_per_line() -> None:
    error = SiteError([SiteProblem(7, "devices[3].floor", "floor 40 is outside building A's floors -2 to 30"),
                       SiteProblem(2, "", "missing required key 'name'"),
                       SiteProblem(None, "", "cannot read the file")], "estate.yaml")
    assert str(error) == (
        "estate.yaml:2: missing required key 'name'\n"
        "estate.yaml:7: devices[3].floor: floor 40 is outside building A's floors -2 to 30\n"
        "estate.yaml: cannot read the file"
    )


def test_load_site_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(site_text(), encoding="utf-8")
    assert load_site(path).id == "tiny"
    assert load_site(str(path)).id == "tiny"


def test_load_site_names_the_file_in_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(site_text(L3="timezone: Nowhere/Land"), encoding="utf-8")
    error = pytest.raises(SiteError, load_site, path).value
    assert str(error) == f"{path}:3: timezone: unknown time zone 'Nowhere/Land'; use an IANA name like Asia/Shanghai"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "cannot read the file"), (b"site: \xff\xfe\n", "not UTF-8")],
    ids=["missing-file", "not-utf8"],
)
def test_load_site_refuses_unreadable_files(tmp_path: Path, content: bytes | None, fragment: str) -> None:
    path = tmp_path / "site.yaml"
    if content is not None:
        path.write_bytes(content)
    error = pytest.raises(SiteError, load_site, path).value
    assert fragment in str(error)
    assert error.filename == str(path)
