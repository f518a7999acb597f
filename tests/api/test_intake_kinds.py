"""The report form tells a complaint or a suggestion from a repair by its words, in Chinese and English
(docs/operators.md#intake): a safety complaint is level 1 for security at once."""

from __future__ import annotations

import pytest

from caretaker.api.intake import KindSuggestion, Suggestion, suggest_all, suggest_kind

KINDS = [
    ("楼上有人高空抛物，差点砸到小孩", "complaint", "safety"),
    ("3号楼消防通道堵塞，堆满了杂物", "complaint", "safety"),
    ("安全出口被锁了，着急", "complaint", "safety"),
    ("Someone keeps throwing things from a balcony", "complaint", "safety"),
    ("The fire exit is blocked by bikes", "complaint", "safety"),
    ("投诉保安态度差，对业主大呼小叫", "complaint", "service"),
    ("保洁服务差，楼道一周没拖", "complaint", "service"),
    ("前台敷衍，没人管", "complaint", "service"),
    ("I want to complain about the cleaners", "complaint", "service"),
    ("The guard at gate 2 was rude to my mother", "complaint", "service"),
    ("建议小区增加电动车充电桩", "suggestion", None),
    ("希望增加儿童游乐设施", "suggestion", None),
    ("I suggest more benches by the pond", "suggestion", None),
    ("It would be nice to have a parcel locker", "suggestion", None),
    ("楼道灯不亮", "repair", None),
    ("电梯困人", "repair", None),
    ("Kitchen tap is dripping", "repair", None),
]


@pytest.mark.parametrize(("text", "kind", "complaint"), KINDS)
def test_kind_from_words(text: str, kind: str, complaint: str | None) -> None:
    got = suggest_kind(text)
    assert (got.kind, got.complaint_type) == (kind, complaint), got


def test_safety_complaint_is_level_1_security() -> None:
    found, word, kind = suggest_all("高空抛物")
    assert found == Suggestion("security", 1) and word == "高空抛物"
    assert kind == KindSuggestion("complaint", "safety", "高空抛物")


def test_a_service_complaint_keeps_the_trade_of_its_words() -> None:
    found, _, kind = suggest_all("投诉：垃圾三天没人清理")
    assert found.category == "cleaning" and kind.complaint_type == "service"
