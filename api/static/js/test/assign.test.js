import { test } from "node:test";
import assert from "node:assert/strict";
import { travelText, worseThanAutomatic } from "../panels/assign.js";

const tr = (key, p) => (key === "assign.seconds" ? `${p.s} s` : `${p.m} min ${p.s} s`);

test("travel reads in minutes and seconds", () => {
  assert.equal(travelText(45, tr), "45 s");
  assert.equal(travelText(125, tr), "2 min 05 s");
  assert.equal(travelText(null, tr), "—");
});

test("only dispatch's own choice goes without a confirmation", () => {
  const auto = { technician: "t-chen", available: true, travel_s: 30 };
  assert.equal(worseThanAutomatic(auto, auto), null);
  assert.deepEqual(worseThanAutomatic({ technician: "t-wang", available: false, reason_code: "off_shift" }, auto),
    { code: "off_shift", automatic: "t-chen" });
  assert.deepEqual(worseThanAutomatic({ technician: "t-guo", available: true, travel_s: 90 }, auto),
    { code: "slower", automatic: "t-chen" });
  assert.deepEqual(worseThanAutomatic({ technician: "t-liu", available: false, reason_code: "lacks_trade" }, null),
    { code: "lacks_trade", automatic: null });
});
