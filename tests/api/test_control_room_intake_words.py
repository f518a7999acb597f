"""The report form's suggestion understands Chinese and English (docs/operators.md#intake): 44 reports as
residents and front desks word them, each with the trade and level an experienced dispatcher would give."""

from __future__ import annotations

import pytest

from caretaker.api.intake import Suggestion, load_word_rules, suggest, suggest_why

REPORTS = [
    # elevator: someone inside is level 1; anything else about a lift is level 2
    ("电梯困人", "elevator", 1),
    ("2号楼电梯困人了，里面有个老人", "elevator", 1),
    ("有人被关在电梯里出不来", "elevator", 1),
    ("电梯卡在8楼，里面有小孩", "elevator", 1),
    ("My mother is stuck in the lift between floors 3 and 4", "elevator", 1),
    ("Elevator stopped with two people trapped inside", "elevator", 1),
    ("电梯门关不上", "elevator", 2),
    ("电梯一直在响，异响很大", "elevator", 2),
    ("The lift smells of burning and shakes", "elevator", 2),
    ("The escalator at the mall entrance is not moving", "elevator", 2),
    # water
    ("楼上漏水，天花板在滴水", "plumbing", 1),
    ("地下车库水管爆了，到处是水", "plumbing", 1),
    ("Water is pouring through the kitchen ceiling", "plumbing", 1),
    ("Burst pipe in the car park, water everywhere", "plumbing", 1),
    ("卫生间墙面渗水", "plumbing", 1),
    ("家里停水了，什么时候来水？", "plumbing", 2),
    ("高层水压太低，洗澡没有热水", "plumbing", 2),
    ("No water in the whole of tower B since 7 am", "plumbing", 2),
    ("马桶堵了，冲不下去", "plumbing", 3),
    ("厨房地漏堵了，有返味", "plumbing", 3),
    ("The bathroom tap keeps running and will not turn off", "plumbing", 3),
    ("Kitchen sink is blocked", "plumbing", 3),
    # electricity
    ("楼道灯不亮", "electrical", 3),
    ("3楼走廊的灯坏了两个星期了", "electrical", 3),
    ("The corridor lights on floor 9 are out", "electrical", 3),
    ("卧室插座没电", "electrical", 2),
    ("Socket in the living room does not work", "electrical", 3),
    ("家里突然停电了，跳闸推不上去", "electrical", 2),
    ("Power cut in my flat, the breaker keeps tripping", "electrical", 2),
    ("Blackout in the whole of Block C", "electrical", 2),
    ("插座冒烟还有火花", "electrical", 1),
    ("Sparks coming out of the switch in the hallway", "electrical", 1),
    ("配电箱有漏电，摸了一下被电到", "electrical", 1),
    # fire, smoke, gas: danger to people
    ("厨房有很浓的煤气味", "security", 1),
    ("There is smoke coming from the bin room", "security", 1),
    ("楼道里着火了", "security", 1),
    # doors, gates, cameras
    ("单元门禁刷不开", "security", 3),
    ("The lobby door does not close", "security", 3),
    ("车库道闸不抬杆", "security", 3),
    ("The intercom at gate 2 is broken", "security", 3),
    ("Block C entrance has no heating", "general", 4),  # "lock" is not in "Block"
    # cleaning, enquiries and the rest
    ("垃圾站很臭，一直没人清理", "cleaning", 4),
    ("Rubbish left in the stairwell for days", "cleaning", 4),
    ("请问这个月的物业费怎么缴？", "general", 4),
    ("How do I pay my water bill?", "general", 4),
    ("客厅墙皮脱落", "general", 4),
    ("My cat is trapped on the balcony", "general", 4),
]


def test_the_table_is_long_enough():
    assert len(REPORTS) >= 40


@pytest.mark.parametrize(("text", "category", "urgency"), REPORTS, ids=[r[0][:24] for r in REPORTS])
def test_a_report_points_to_its_trade_and_level(text, category, urgency):
    assert suggest(text) == Suggestion(category, urgency), suggest_why(text)


def test_the_deciding_word_is_named_and_none_when_the_default_applies():
    assert suggest_why("楼道灯不亮") == (Suggestion("electrical", 3), "灯")
    assert suggest_why("客厅墙皮脱落") == (Suggestion("general", 4), None)


def test_a_words_file_naming_an_unknown_trade_is_refused(tmp_path):
    bad = tmp_path / "words.yaml"
    bad.write_text("rules:\n  - {category: cooking, urgency: 2, words: [stove]}\ndefault: {category: general, urgency: 4}\n")
    with pytest.raises(ValueError, match="cooking"):
        load_word_rules(bad)
