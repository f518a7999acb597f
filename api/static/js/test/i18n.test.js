import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fill, label, matchLanguage, pickLanguage, translator } from "../i18n.js";
import { where } from "../names.js";

const catalogue = (lang) => JSON.parse(readFileSync(new URL(`../../i18n/${lang}.json`, import.meta.url), "utf8"));

test("?lang= wins, then the operator's choice, then the browser, then the site file", () => {
  assert.equal(pickLanguage({ query: "en", stored: "zh-CN", browser: ["zh-CN"], site: "zh-CN" }), "en");
  assert.equal(pickLanguage({ stored: "en", browser: ["zh-CN"], site: "zh-CN" }), "en");
  assert.equal(pickLanguage({ browser: ["en-GB", "zh"], site: "zh-CN" }), "en");
  assert.equal(pickLanguage({ browser: ["fr-FR"], site: "en" }), "en");
  assert.equal(pickLanguage({ browser: ["fr-FR"], site: "zh-CN" }), "zh-CN");
  assert.equal(pickLanguage({ query: "klingon", browser: [] }), "zh-CN");
  assert.equal(matchLanguage("zh-TW"), "zh-CN");
  assert.equal(matchLanguage("de"), null);
});

test("a sentence comes from the catalogue with its values filled in", () => {
  const zh = translator(catalogue("zh-CN"));
  const en = translator(catalogue("en"));
  assert.equal(zh("deadline.late", { d: "02:00" }), "超时 02:00");
  assert.equal(en("deadline.late", { d: "02:00" }), "02:00 late");
  assert.equal(en("no.such.key"), "no.such.key");
  assert.equal(fill("{a} and {b}", { a: 1 }), "1 and {b}");
});

test("both catalogues hold the same keys with the same placeholders", () => {
  const zh = catalogue("zh-CN"), en = catalogue("en");
  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  const holes = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const key of Object.keys(en)) assert.deepEqual(holes(zh[key]), holes(en[key]), key);
});

test("vocabulary labels come from the API's entries in the page's language", () => {
  const statuses = [{ id: "open", label: { "zh-CN": "待派单", en: "open" } }];
  assert.equal(label(statuses, "open", "zh-CN"), "待派单");
  assert.equal(label(statuses, "gone", "en"), "gone");
});

test("a place reads with the site file's building name and the floor in the language", () => {
  const meta = { buildings: [{ id: "A", name: "1号楼" }] };
  const zh = translator(catalogue("zh-CN"));
  assert.equal(where({ building: "A", floor: -2, zone: "泵房" }, meta, zh), "1号楼 · 地下 2 层 · 泵房");
  assert.equal(where({ building: "Q", floor: 3 }, meta, translator(catalogue("en"))), "Q · floor 3");
});
