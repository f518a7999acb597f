"""The control room in Chinese and English (docs/operators.md): one catalogue per language with the same keys,
every text the page asks for present in both, the pure JavaScript tested by Node's own runner, and
GET /api/v1/meta serving the site's names, locale, time zone and labelled vocabularies."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import missing

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
LANGUAGES = ("zh-CN", "en")
# t("key"), t("key", {...}), t(`step.${x}`) is dynamic and checked by its own test below
T_CALL = re.compile(r"""\bt\(\s*"([a-z0-9_.]+)"\s*[,)]""")
KEY_LITERAL = re.compile(r"""\[\s*[^\]]*?"((?:summary|detail|kpi|alarms|tickets|techs)\.[a-z0-9_]+)\"""")


def _catalogue(lang: str) -> dict[str, str]:
    return json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


def _modules() -> list[Path]:
    return [p for p in (STATIC / "js").rglob("*.js") if "test" not in p.relative_to(STATIC / "js").parts]


def test_every_text_the_page_asks_for_is_in_both_catalogues():
    zh, en = _catalogue("zh-CN"), _catalogue("en")
    assert zh.keys() == en.keys(), sorted(zh.keys() ^ en.keys())
    wanted: set[str] = set()
    for module in _modules():
        source = module.read_text(encoding="utf-8")
        wanted |= set(T_CALL.findall(source)) | set(KEY_LITERAL.findall(source))
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    wanted |= set(re.findall(r'data-i18n(?:-placeholder|-title)?="([^"]+)"', html))
    assert len(wanted) > 80, "the scan found too few keys to be looking at the page"
    for lang, cat in (("zh-CN", zh), ("en", en)):
        assert not wanted - cat.keys(), (lang, sorted(wanted - cat.keys()))
    for step in ("accept", "arrive", "resolve"):  # t(`step.${name}`)
        assert f"step.{step}" in zh and f"step.{step}" in en
    for mode in ("live", "polling", "offline"):  # t(`link.${mode}`)
        assert f"link.{mode}" in zh
    from caretaker.api.candidates import REASON_CODES
    for code in (*REASON_CODES.values(), "available", "other", "slower"):  # t(`reason.${code}`)
        assert f"reason.{code}" in zh and f"reason.{code}" in en, code
    for matched in ("unit", "phone"):  # t(`intake.matched_${m}`)
        assert f"intake.matched_{matched}" in zh


def test_the_chinese_catalogue_is_chinese():
    zh, en = _catalogue("zh-CN"), _catalogue("en")
    same = [k for k in zh if zh[k] == en[k] and re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", zh[k]))]
    assert not same, f"untranslated: {same}"


def test_the_pages_javascript_holds_no_sentences():
    """Text a person reads comes from the catalogue: no string literal in the modules holds two English words."""
    sentence = re.compile(r"""(["'`])(?:(?!\1).)*\b[A-Z]?[a-z]{2,} [a-z]{2,} [a-z]{2,}\b(?:(?!\1).)*\1""")
    found = []
    for module in _modules():
        for n, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("//")[0] if "//" in line and '"//' not in line else line
            if code.lstrip().startswith(("//", "*", "/*")):
                continue
            for m in sentence.finditer(code):
                if code[:m.start()].rstrip().endswith(("class:", "class =", "className =")):
                    continue  # CSS classes, not words for a person
                found.append(f"{module.name}:{n}: {m.group(0)}")
    assert not found, found


def test_node_tests_of_the_pure_modules_pass():
    """The pure parts (times in the estate's zone, countdowns, sorting, catalogue lookup) run under `node --test`."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        missing("node is not installed (apt-get install nodejs)")
    result = subprocess.run([node, "--test", str(STATIC / "js" / "test")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert re.search(r"^# pass [1-9]", result.stdout, re.M), result.stdout[-2000:]


def test_meta_serves_names_locale_zone_and_labelled_vocabularies(client, operator):
    body = client.get("/api/v1/meta", headers=operator).json()
    assert body["site"]["locale"] == "zh-CN" and body["site"]["timezone"] == "Asia/Shanghai"
    assert {"id": "A", "name": "Tower A (1号楼)", "floors": [-2, 30]} in body["buildings"]
    assert {"id": "t-wang", "name": "Wang Jun"} .items() <= next(t for t in body["technicians"] if t["id"] == "t-wang").items()
    assert all("phone" not in t for t in body["technicians"])  # no personal data in a read any token may make
    statuses = {s["id"]: s for s in body["ticket_statuses"]}
    assert statuses["open"]["label"] == {"zh-CN": "待派单", "en": "open"}
    assert "final" in statuses["closed"]["groups"] and "open" in statuses["assigned"]["groups"]
    assert {c["id"] for c in body["categories"]} >= {"plumbing", "electrical", "elevator"}
    assert [u["id"] for u in body["urgencies"]] == [1, 2, 3, 4]


def test_meta_needs_a_token(client):
    assert client.get("/api/v1/meta").status_code == 401
