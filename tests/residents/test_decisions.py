"""The pure decisions of what residents are told: a supply cut is news once, its end once; who to call."""

from __future__ import annotations

from datetime import datetime, timezone

from caretaker.api.residents import check_on_json
from caretaker.dispatch import residents
from caretaker.dispatch.residents import NoticeType, on_cleared, on_raised
from caretaker.estate.site import load_site
from tests.residents.support import UNITS_A, UNITS_B, VULNERABLE, site_with_units

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_a_cut_is_news_at_its_first_alarm_and_its_end_at_its_last():
    first = on_raised(None, "A", "power", "AL-1", T0)
    assert first.notice is NoticeType.OUTAGE and first.cut.alerts == {"AL-1"}
    second = on_raised(first.cut, "A", "power", "AL-2", T0)  # another meter of the building
    assert second.notice is None and second.cut.alerts == {"AL-1", "AL-2"} and second.cut.since == T0
    again = on_raised(second.cut, "A", "power", "AL-1", T0)  # the same alarm seen again
    assert again.notice is None and again.cut == second.cut
    one_back = on_cleared(second.cut, "AL-1")
    assert one_back.notice is None and one_back.cut.alerts == {"AL-2"}
    over = on_cleared(one_back.cut, "AL-2")
    assert over.notice is NoticeType.RESTORED and over.cut is None


def test_an_alarm_residents_were_not_told_of_ends_nothing():
    assert on_cleared(None, "AL-9") == residents.CutChange(None, None)
    cut = on_raised(None, "A", "water", "AL-1", T0).cut
    assert on_cleared(cut, "AL-9") == residents.CutChange(cut, None)


def test_only_the_supply_rules_are_cuts():
    assert residents.supply_of("mains-power-lost") == "power"
    assert residents.supply_of("low-water-pressure") == "water"
    assert residents.supply_of("water-leak") is None and residents.supply_of("ups-on-battery") is None


def test_the_vulnerable_are_listed_in_full_for_staff_and_masked_for_anyone_else(tmp_path):
    site = load_site(site_with_units(tmp_path))
    people = residents.check_on(site, "A")
    assert check_on_json(people, "full") == [VULNERABLE]
    assert check_on_json(people, "masked") == [{"unit": None, "floor": 10, "name": None, "phone": "137****7000"}]
    assert residents.check_on(site, "B") == []


def test_words_in_both_languages(tmp_path):
    assert residents.status_words("zh-CN", "accepted", "王军", 230) == "工程师王军已出发，预计4分钟到达"
    assert residents.status_words("en", "accepted", "Wang Jun", 230) == "Wang Jun is on the way, about 4 minutes"
    assert residents.status_words("zh-CN", "accepted", "王军", None) == "工程师王军已出发"
    assert residents.status_words("en", "on_site", None, None) == "An engineer has arrived and is working on it"
    site = load_site(site_with_units(tmp_path))
    assert residents.cut_text(site, NoticeType.OUTAGE, "power", "A").startswith("【停电通知】A栋目前停电")


def test_a_plant_rooms_cut_reaches_the_buildings_it_feeds_and_each_unit_hears_once(tmp_path):
    site = load_site(site_with_units(tmp_path, plant=True))
    everyone = [(u, "A") for u in UNITS_A] + [(u, "B") for u in UNITS_B]
    assert residents.units_to_tell(site, "P", []) == everyone  # P has no units; A and B go dark
    assert residents.units_to_tell(site, "A", ["P"]) == []  # A's residents already know
    assert residents.units_to_tell(site, "P", ["A"]) == [(u, "B") for u in UNITS_B]
    assert residents.units_to_tell(site, "B", []) == [(u, "B") for u in UNITS_B]  # B feeds nobody
    assert residents.check_on(site, "P") == residents.check_on(site, "A") != []
