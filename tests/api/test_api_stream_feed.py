"""The live feed under a storm: more changes in the look-back window than one poll used to read."""

from __future__ import annotations

from datetime import timedelta

from caretaker.api.deps import User
from caretaker.api.stream import ChangeFeed
from caretaker.rules.tables import AlertRow

OPERATOR = User("operator", "op-1")


def _raise(ctx, first: int, count: int, step_ms: int = 10) -> list[str]:
    now = ctx.clock.now()
    ids = [f"AL-{n:012d}" for n in range(first, first + count)]
    with ctx.sessions.begin() as session:
        session.add_all(AlertRow(id=i, rule_id="water-leak", device_id="A-B2-LEAK-1", urgency=1, category="plumbing",
                                 title="Water leak", state="raised", raised_at=now + timedelta(milliseconds=k * step_ms))
                        for k, i in enumerate(ids))
    return ids


def _alerts(batch) -> list[str]:
    import json

    return [json.loads(data)["id"] for event, data in batch.events if event == "alert"]


def test_a_storm_of_alerts_reaches_the_feed_in_one_poll_each_once(ctx, clock):
    feed = ChangeFeed(OPERATOR)
    with ctx.sessions() as session:
        feed.prime(session, clock.now())
    storm = _raise(ctx, 0, 700)  # more than the 500 one poll used to read, all inside the 60 s window
    clock.advance(seconds=8)
    with ctx.sessions() as session:
        assert _alerts(feed.poll(session, clock.now())) == storm  # all of them, in the order raised
    more = _raise(ctx, 700, 5)
    clock.advance(seconds=1)
    with ctx.sessions() as session:
        assert _alerts(feed.poll(session, clock.now())) == more  # the window's 700 old ones crowd out nothing
        assert _alerts(feed.poll(session, clock.now())) == []


def test_priming_sends_nothing(ctx, clock):
    _raise(ctx, 0, 20)
    feed = ChangeFeed(OPERATOR)
    with ctx.sessions() as session:
        feed.prime(session, clock.now())
        assert feed.poll(session, clock.now()).events == []
