"""The worker commits before it acknowledges, waits out a database outage, and isolates a breaking message."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from caretaker.pipeline import BatchResult, BreakingMessage
from caretaker.worker import BatchCommitter
from caretaker.ingest.client import Inbound


class ScriptedPipeline:
    """A pipeline port that fails as told: on any part holding a poison topic (naming the message, as the
    pipeline does when applying it raises, or at the commit, naming none), or a number of outages first."""

    def __init__(self, poison: set[str] = frozenset(), outages: int = 0, names_it: bool = False) -> None:
        self.poison, self.outages, self.names_it = poison, outages, names_it
        self.committed: list[str] = []
        self.dead: list[tuple[str, str]] = []
        self.reloads = 0
        self.attempts: list[int] = []  # the size of each part tried

    def process(self, batch):
        self.attempts.append(len(batch))
        if self.outages:
            self.outages -= 1
            raise OperationalError("SELECT 1", {}, Exception("connection refused"))
        breaking = next((m for m in batch if m.topic in self.poison), None)
        if breaking is not None and self.names_it:
            raise BreakingMessage(breaking) from ValueError("cannot handle this one")
        if breaking is not None:
            raise ValueError("cannot handle this one")
        self.committed.extend(m.topic for m in batch)
        return BatchResult(accepted=len(batch))

    def reload(self) -> None:
        self.reloads += 1

    def store_rejections(self, rejections) -> None:
        self.dead.extend((r.topic, r.reason) for r in rejections)


def messages(*topics: str) -> list[Inbound]:
    return [Inbound(topic, b"{}", mid, 1) for mid, topic in enumerate(topics, start=1)]


def run(pipeline: ScriptedPipeline, batch: list[Inbound]) -> list[str]:
    acked: list[str] = []
    sleeps: list[float] = []
    BatchCommitter(pipeline, lambda part, _result: acked.extend(m.topic for m in part), sleep=sleeps.append).commit(batch)
    return acked


def test_one_breaking_message_is_dead_lettered_and_every_other_is_committed_in_order():
    pipeline = ScriptedPipeline(poison={"t/4"})
    batch = messages(*(f"t/{n}" for n in range(1, 9)))
    acked = run(pipeline, batch)
    assert pipeline.committed == ["t/1", "t/2", "t/3", "t/5", "t/6", "t/7", "t/8"]
    assert pipeline.dead == [("t/4", "internal_error")]
    assert acked == [f"t/{n}" for n in range(1, 9)]  # all acknowledged, each after its effects are kept
    assert pipeline.reloads >= 1  # memory went back to what the database holds after each failure


def test_a_message_the_pipeline_names_is_dead_lettered_without_splitting_the_batch():
    pipeline = ScriptedPipeline(poison={"t/300"}, names_it=True)
    batch = messages(*(f"t/{n}" for n in range(1, 501)))
    acked = run(pipeline, batch)
    assert pipeline.committed == [f"t/{n}" for n in range(1, 501) if n != 300]
    assert pipeline.dead == [("t/300", "internal_error")]
    assert acked == [f"t/{n}" for n in range(1, 501)]  # in the batch's order
    # the whole batch once, then what came before the breaking message and what came after it: not the
    # nineteen tries and ten reloads of halving 500 messages down to one
    assert pipeline.attempts == [500, 299, 200] and pipeline.reloads == 1


def test_a_named_message_breaking_for_want_of_the_database_is_retried_not_dead_lettered():
    class OutageWhileApplying(ScriptedPipeline):
        def process(self, batch):
            if self.outages:
                self.outages -= 1
                raise BreakingMessage(batch[1]) from OperationalError("SELECT 1", {}, Exception("connection refused"))
            return super().process(batch)

    pipeline = OutageWhileApplying(outages=2)
    acked = run(pipeline, messages("a", "b", "c"))
    assert pipeline.committed == ["a", "b", "c"] and acked == ["a", "b", "c"] and pipeline.dead == []


def test_a_database_outage_retries_the_same_messages_and_loses_none():
    pipeline = ScriptedPipeline(outages=3)
    acked = run(pipeline, messages("a", "b", "c"))
    assert pipeline.committed == ["a", "b", "c"] and acked == ["a", "b", "c"]
    assert pipeline.dead == []


def test_nothing_is_acknowledged_when_stopping_before_the_commit():
    pipeline = ScriptedPipeline(outages=1)
    acked: list[str] = []
    BatchCommitter(pipeline, lambda part, _r: acked.extend(m.topic for m in part), sleep=lambda _s: None).commit(
        messages("a"), stopping=lambda: pipeline.outages == 0)
    assert acked == [] and pipeline.committed == []  # the broker redelivers it to the next run
