"""Technician bots: location, badge swipes, and replies to dispatches, on virtual time."""

from __future__ import annotations

import json
import random

import pytest

from caretaker.estate.model import Place

from caretaker.simulators.clock import VirtualScheduler
from caretaker.simulators.devices import DeviceFleet
from caretaker.simulators.technicians import BotConfig, TechnicianBot, default_behaviours

ZERO = (0.0, 0.0)


def _bot(site, recorder, **config) -> tuple[TechnicianBot, VirtualScheduler]:
    scheduler = VirtualScheduler()
    fleet = DeviceFleet(site, lambda d: recorder, scheduler)
    bot = TechnicianBot(site.technicians["t-wang"], site, fleet, recorder, scheduler, random.Random(0),
                        config=BotConfig(**config))
    bot.start()
    return bot, scheduler


def _dispatch(kind: str, ticket="T-1", building="B", floor=4, zone="riser") -> bytes:
    return json.dumps({"type": kind, "ticket": ticket, "urgency": 1, "category": "water", "title": "leak",
                       "device": None, "location": {"building": building, "floor": floor, "zone": zone},
                       "accept_by": "2026-11-23T02:02:00Z", "arrive_by": None,
                       "resolve_by": "2026-11-23T04:00:00Z", "travel_s": 120, "reason": "nearest"}).encode()


def _replies(recorder) -> list[tuple[object, str]]:
    return [(m.body["ticket"], m.body["action"]) for m in recorder.on("/technicians/t-wang/reply")]


def test_start_reports_a_location_and_swipes_in(small_site, recorder):
    bot, _ = _bot(small_site, recorder)
    location = recorder.on("/technicians/t-wang/location")[0]
    assert location.topic == "caretaker/test-site/technicians/t-wang/location" and location.qos == 1
    assert set(location.body) >= {"ts", "building", "floor"} and location.body["building"] in ("A", "B")
    swipe = recorder.on("/event")[0]
    assert swipe.body["type"] == "badge_granted" and swipe.body["data"] == {"badge": "B-1001"}
    assert small_site.devices[swipe.topic.split("/")[3]].place.building == location.body["building"]


def test_assigned_dispatch_is_accepted_then_the_bot_walks_there_and_arrives(small_site, recorder):
    bot, scheduler = _bot(small_site, recorder, accept_delay_s=ZERO, walk_s=(20.0, 20.0))
    bot.place = Place("A", 1, "lobby")  # start in the other building
    bot.on_message(bot.dispatch_topic, _dispatch("assigned"))
    scheduler.run_for(0.0)
    assert _replies(recorder) == [("T-1", "accept")]
    reply = recorder.on("/reply")[0]
    assert reply.qos == 1 and set(reply.body) == {"ts", "ticket", "action"}
    start = len(recorder.messages)
    scheduler.run_for(30.0)
    assert _replies(recorder) == [("T-1", "accept"), ("T-1", "arrive")]
    walk = recorder.messages[start:]
    swipes = [m for m in walk if m.topic.endswith("/event") and m.body["type"] == "badge_granted"]
    assert swipes and swipes[0].topic.endswith("/devices/B-L1-DOOR-1/event")
    last_location = [m for m in walk if m.topic.endswith("/location")][-1].body
    assert (last_location["building"], last_location["floor"], last_location["zone"]) == ("B", 4, "riser")
    arrive_at = next(i for i, m in enumerate(walk) if m.topic.endswith("/reply"))
    assert [m for m in walk[:arrive_at] if m.topic.endswith("/location")], "arrive before being there"


def test_delays_scale_with_speed(small_site, recorder):
    bot, scheduler = _bot(small_site, recorder, accept_delay_s=(10.0, 10.0), speed=10.0)
    bot.handle_dispatch(json.loads(_dispatch("assigned")))
    scheduler.run_for(0.9)
    assert _replies(recorder) == []
    scheduler.run_for(0.2)
    assert _replies(recorder) == [("T-1", "accept")]


def test_withdrawn_before_accepting_drops_the_ticket(small_site, recorder):
    bot, scheduler = _bot(small_site, recorder, accept_delay_s=(5.0, 5.0))
    bot.on_message(bot.dispatch_topic, _dispatch("assigned"))
    scheduler.run_for(1.0)
    bot.on_message(bot.dispatch_topic, _dispatch("withdrawn"))
    scheduler.run_for(120.0)
    assert _replies(recorder) == []
    assert bot.busy_with is None


def test_withdrawn_while_walking_stops_the_walk(small_site, recorder):
    bot, scheduler = _bot(small_site, recorder, accept_delay_s=ZERO, walk_s=(30.0, 30.0))
    bot.on_message(bot.dispatch_topic, _dispatch("assigned"))
    scheduler.run_for(5.0)
    bot.on_message(bot.dispatch_topic, _dispatch("withdrawn"))
    scheduler.run_for(60.0)
    assert _replies(recorder) == [("T-1", "accept")]


@pytest.mark.parametrize(("behaviour", "expected"), [("decline", [("T-1", "decline")]), ("ignore", [])])
def test_configured_bots_decline_or_ignore(behaviour, expected, small_site, recorder):
    bot, scheduler = _bot(small_site, recorder, behaviour=behaviour, accept_delay_s=ZERO)
    bot.on_message(bot.dispatch_topic, _dispatch("assigned"))
    scheduler.run_for(300.0)
    assert _replies(recorder) == expected


def test_a_bad_dispatch_is_dropped_without_raising(small_site, recorder):
    bot, scheduler = _bot(small_site, recorder, accept_delay_s=ZERO)
    bot.on_message(bot.dispatch_topic, b"not json")
    bot.on_message(bot.dispatch_topic, b"[1, 2]")
    bot.on_message(bot.dispatch_topic, b'{"type": "assigned"}')
    bot.on_message(bot.dispatch_topic, b'{"type": "assigned", "ticket": 7, "location": null}')
    scheduler.run_for(120.0)
    assert _replies(recorder)[0] == (7, "accept")


def test_idle_bots_wander_between_buildings(small_site, recorder):
    _, scheduler = _bot(small_site, recorder, wander_s=(60.0, 60.0))
    scheduler.run_for(600.0)
    assert {m.body["building"] for m in recorder.on("/location")} == {"A", "B"}


def test_default_behaviours_keep_most_bots_accepting(small_site):
    behaviours = default_behaviours(small_site)
    assert list(behaviours.values()).count("decline") == 1
    assert list(behaviours.values()).count("accept") == 2
