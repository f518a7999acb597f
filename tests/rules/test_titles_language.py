"""Alarm titles in the estate's language (docs/rules.md, "Titles"): the default rules' titles come from the
message catalogues, a `{zh-CN: …, en: …}` title picks the estate's, a plain title stays as written; a zh-CN
estate reads Chinese in the API (alerts, tickets) and an en estate English."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from caretaker import i18n
from caretaker.api.app import create_app
from caretaker.api.deps import ApiContext
from caretaker.db import make_engine, make_sessions, migrate
from caretaker.dispatch.service import Dispatcher
from caretaker.estates import load_estates
from caretaker.ingest.client import Inbound
from caretaker.pipeline import Pipeline
from caretaker.rules.evaluate import RuleIndex
from caretaker.rules.load import RulesError, in_locale, load_rules, parse_rules
from caretaker.settings import BUNDLED_RULES, Settings
from tests.fakes import FakeClock

SMALL_SITE = Path(__file__).resolve().parents[1] / "fixtures" / "small-site.yaml"
ADMIN_TOKEN = "titles-admin-token-0123456789abcdef"

RULE = """version: 1
rules:
  - id: my-leak
    title: {title}
    device_types: [water_leak]
    when: {{metric: leak, op: "==", value: true}}
    urgency: 1
    category: plumbing
"""


def titles(text: str, locale: str) -> list[str]:
    return [rule.title for rule in in_locale(parse_rules(text), locale)]


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(RulesError) as caught:
        parse_rules(text)
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def test_every_default_rule_has_its_title_in_both_catalogues():
    rules = load_rules(BUNDLED_RULES)
    for rule in rules:
        assert i18n.has(f"rule.{rule.id}"), rule.id
        zh, en = in_locale([rule], "zh-CN")[0].title, in_locale([rule], "en")[0].title
        assert zh and en and zh != en, rule.id
    by_id = {r.id: r for r in in_locale(rules, "zh-CN")}
    assert by_id["water-leak"].title == "漏水" and by_id["device-offline"].title == "设备离线"
    by_id = {r.id: r for r in in_locale(rules, "en")}
    assert by_id["water-leak"].title == "Water leak" and by_id["device-offline"].title == "Device offline"


def test_an_estate_without_a_language_we_speak_reads_chinese():
    assert titles(RULE.format(title="{key: rule.water-leak}"), None) == ["漏水"]


def test_a_plain_title_is_kept_in_every_language():
    text = RULE.format(title="Leak in the plant room")
    assert titles(text, "zh-CN") == titles(text, "en") == ["Leak in the plant room"]


def test_a_title_in_languages_picks_the_estate_s():
    text = RULE.format(title="{zh-CN: 机房漏水, en: Plant room leak}")
    assert titles(text, "zh-CN") == ["机房漏水"]
    assert titles(text, "en-GB") == ["Plant room leak"]


@pytest.mark.parametrize("title, path, words", [
    ("{zh-CN: 机房漏水}", "rules[0].title", ["needs both zh-CN and en (missing: en)"]),
    ("{en: Plant room leak}", "rules[0].title", ["zh-CN"]),
    ("{key: rule.no-such-rule}", "rules[0].title.key", ["rule.no-such-rule", "caretaker/i18n"]),
    ("{key: rule.water-leak, en: Leak}", "rules[0].title", ["not both"]),
    ("{zh-CN: 漏水, en: Leak, fr: Fuite}", "rules[0].title.fr", ["xtra"]),
    ("''", "rules[0].title", ["at least 1"]),
])
def test_a_bad_title_is_named_with_its_line(title, path, words):
    found = problems(RULE.format(title=title))
    assert [(line, where) for line, where, _ in found] == [(4, path)], found
    for word in words:
        assert word in found[0][2], found


# --- through the service's own loading, the pipeline and the API -------------------------------------------

def _estate(tmp_path: Path, locale: str):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(SMALL_SITE.read_text(encoding="utf-8") + f"\nlocale: {locale}\n", encoding="utf-8")
    settings = Settings(site_file=site_file, rules_file=BUNDLED_RULES, site_cache_dir="off")
    (loaded,) = load_estates(settings)
    return loaded


@pytest.mark.parametrize("locale, leak, offline", [("zh-CN", "漏水", "设备离线"), ("en", "Water leak", "Device offline")])
def test_an_estate_s_alerts_and_tickets_read_its_language(tmp_path, database_url, locale, leak, offline):
    loaded = _estate(tmp_path, locale)
    site = loaded.site
    assert site.locale == locale
    engine = make_engine(database_url)
    migrate(engine)
    clock = FakeClock()
    sessions = make_sessions(engine)
    pipeline = Pipeline(site, RuleIndex(loaded.rules, site.devices, site.timezone), Dispatcher(site, "caretaker"),
                        sessions, "caretaker", clock)
    now = clock.now().isoformat().replace("+00:00", "Z")
    topic = f"caretaker/{site.id}/devices/A-LEAK-2/telemetry"
    pipeline.process([Inbound(topic, json.dumps({"ts": now, "values": {"leak": True}}).encode(), 1, 1, False)])
    ctx = ApiContext(sessions=sessions, site=site, dispatcher=Dispatcher(site, "caretaker"), clock=clock,
                     admin_token=ADMIN_TOKEN, health=lambda: {"broker": True, "database": True},
                     metrics=lambda: "", wake_outbox=lambda: None, stream_poll_seconds=0.05)
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    try:
        with TestClient(create_app(ctx)) as client:
            alerts = client.get("/api/v1/alerts", headers=admin)
            assert alerts.status_code == 200, alerts.text
            (alert,) = [a for a in alerts.json() if a["rule"] == "water-leak"]
            assert alert["title"] == leak
            ticket = client.get(f"/api/v1/tickets/{alert['ticket']}", headers=admin)
            assert ticket.status_code == 200, ticket.text
            assert ticket.json()["title"].startswith(leak), ticket.json()["title"]
    finally:
        engine.dispose()
    assert any(r.id == "device-offline" and r.title == offline for r in loaded.rules)


# --- the service's own alarms ------------------------------------------------------------------------------

@pytest.mark.parametrize("locale, raised, cleared", [
    ("zh-CN", "指标 satisfaction 连续 3 天低于目标 85：80, 84.9, 70", "已回到目标"),
    ("en", "KPI satisfaction below its target 85 for 3 days running: 80, 84.9, 70", "back on target"),
    (None, "KPI satisfaction below its target 85 for 3 days running: 80, 84.9, 70", "back on target"),
])
def test_a_system_alarm_and_its_history_read_the_estate_s_language(database_url, locale, raised, cleared):
    from datetime import datetime, timezone

    from sqlalchemy import select

    from caretaker.api.kpi_watch import title
    from caretaker.rules.system import SystemAlarm
    from caretaker.rules.tables import AlertLogRow, AlertRow
    from caretaker.system_alarms import clear_alarm, raise_alarm

    engine = make_engine(database_url)
    migrate(engine)
    sessions = make_sessions(engine)
    now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    try:
        with sessions.begin() as session:
            raise_alarm(session, prefix="caretaker", site="s", kind=SystemAlarm.KPI_MISSED, subject="satisfaction",
                        title=title("satisfaction", [80, 84.9, 70], 85), urgency=3, now=now, locale=locale)
        with sessions.begin() as session:
            clear_alarm(session, prefix="caretaker", site="s", kind=SystemAlarm.KPI_MISSED, subject="satisfaction",
                        now=now, note=i18n.said("alarm.kpi_back"), locale=locale)
        with sessions() as session:
            (row,) = session.scalars(select(AlertRow)).all()
            notes = [(log.state, log.note) for log in session.scalars(select(AlertLogRow).order_by(AlertLogRow.at,
                                                                                                    AlertLogRow.state))]
        assert row.title == raised
        assert notes == [("cleared", cleared), ("raised", raised)]
    finally:
        engine.dispose()


def test_the_flooding_and_timer_alarms_have_both_languages():
    from caretaker.timer_audit import alarm_title
    from caretaker.dispatch.timers import Overdue

    said = alarm_title(Overdue(count=2, oldest_due_at=None))
    assert i18n.render(said, "zh-CN").startswith("定时任务自 ? 起逾期")
    assert str(said).startswith("Timers overdue since ?")
    assert i18n.say("alarm.flooding", "zh-CN", device="A-LEAK-1", rate="20").startswith("设备 A-LEAK-1 消息泛滥")


def test_rules_check_names_a_missing_language_without_pydantic_s_prefix():
    (found,) = problems(RULE.format(title="{zh-CN: 机房漏水}"))
    assert found[2] == "a title in languages needs both zh-CN and en (missing: en), or {key: …}"
