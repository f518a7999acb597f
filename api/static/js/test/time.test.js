import { test } from "node:test";
import assert from "node:assert/strict";
import { dayKey, duration, formatTime } from "../time.js";

const SH = "Asia/Shanghai";
// 2026-12-01 00:30 UTC is 08:30 in Shanghai, the same day
const MORNING = Date.UTC(2026, 11, 1, 0, 30, 5);

test("a time is shown in the estate's zone, not the browser's", () => {
  assert.equal(formatTime(MORNING, { zone: SH, lang: "en", now: MORNING }), "08:30");
  assert.equal(formatTime(MORNING, { zone: "Europe/London", lang: "en", now: MORNING }), "00:30");
  assert.equal(formatTime(MORNING, { zone: SH, lang: "en", now: MORNING, seconds: true }), "08:30:05");
});

test("the date is added when the instant is not today in the estate", () => {
  // 2026-11-30 17:00 UTC is 01:00 on 1 December in Shanghai: today there, though yesterday in UTC
  const night = Date.UTC(2026, 10, 30, 17, 0);
  assert.equal(formatTime(night, { zone: SH, lang: "en", now: MORNING }), "01:00");
  const yesterday = Date.UTC(2026, 10, 30, 2, 15);
  assert.equal(formatTime(yesterday, { zone: SH, lang: "en", now: MORNING }), "Nov 30 10:15");
  assert.equal(formatTime(yesterday, { zone: SH, lang: "zh-CN", now: MORNING }), "11月30日 10:15");
  assert.equal(formatTime(Date.UTC(2025, 5, 3, 4, 0), { zone: SH, lang: "en", now: MORNING }), "Jun 3, 2025 12:00");
  assert.equal(dayKey(night, SH), "2026-12-01");
  assert.equal(dayKey(night, "UTC"), "2026-11-30");
});

test("no instant reads as a dash", () => {
  assert.equal(formatTime(null, { zone: SH, lang: "en", now: MORNING }), "—");
});

test("countdowns count minutes and seconds, then hours, and go negative when late", () => {
  assert.equal(duration(299_000), "04:59");
  assert.equal(duration(3_723_000), "1:02:03");
  assert.equal(duration(-61_000), "−01:01");
  assert.equal(duration(0), "00:00");
});
