"""The control room reads its status vocabulary from GET /api/v1/meta (docs/operators.md, "Statuses"): the meta
names which ticket statuses are open, fixed or final, which assignments are live and which alarms are active;
the page's JavaScript keeps no list of statuses of its own, and its Node tests run on the meta as served."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from caretaker.api.vocabulary import vocabulary

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
FIXTURE = STATIC / "js" / "test" / "meta.json"  # what the Node tests (js/test/*.test.js) take as the meta


def _modules() -> list[Path]:
    return [p for p in (STATIC / "js").rglob("*.js") if "test" not in p.relative_to(STATIC / "js").parts]


def _status_ids() -> set[str]:
    v = vocabulary()
    return {s["id"] for key in ("ticket_statuses", "assignment_statuses", "alert_states") for s in v[key]}


def _bare(value: Any) -> Any:
    """The vocabulary without its labels: the Node tests ask what a status means, not what it is called."""
    if isinstance(value, dict):
        return {k: _bare(v) for k, v in value.items() if k != "label"}
    return [_bare(v) for v in value] if isinstance(value, list) else value


def test_the_node_tests_meta_is_the_one_served():
    served = vocabulary()
    kept = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert kept == {key: _bare(served[key]) for key in kept}, (
        "api/static/js/test/meta.json differs from GET /api/v1/meta: write it again from "
        "caretaker.api.vocabulary.vocabulary(), labels left out")


def test_meta_says_which_statuses_are_open_live_and_active():
    v = vocabulary()
    assert [s["id"] for s in v["alert_states"] if s["active"]] == ["raised"]
    assert {s["id"]: s["live"] for s in v["assignment_statuses"]}["withdrawn"] is False
    assert all(set(s["label"]) == {"zh-CN", "en"} for s in v["assignment_statuses"])


def test_the_page_keeps_no_list_of_statuses_of_its_own():
    ids = "|".join(sorted(map(re.escape, _status_ids())))
    # ["open", "assigned", ...] or status === "raised": a copy of the vocabulary in the page
    listed = re.compile(rf"""\[\s*"({ids})"\s*,\s*"({ids})"|\b(status|state)\s*[!=]==?\s*"({ids})\"""")
    found = [f"{p.relative_to(STATIC)}:{n}: {line.strip()}" for p in _modules()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if listed.search(line)]
    assert not found, "\n".join(found)


def test_every_step_of_an_assignment_timeline_has_its_words_in_both_languages():
    """timeline.js names a step by the assignment status it ended in (t(`timeline.${step}`))."""
    steps = {"offered", "accepted", "arrived", "reassigned"} | {
        s["id"] for s in vocabulary()["assignment_statuses"] if not s["live"]}
    for lang in ("zh-CN", "en"):
        catalogue = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
        assert not {f"timeline.{s}" for s in steps} - catalogue.keys(), lang
