import { test } from "node:test";
import assert from "node:assert/strict";
import { timeLeft } from "../panels/callbacks.js";

const tr = (key, p) => `${key === "callback.left" ? "left" : "overdue"} ${p.d}`;

test("a call-back counts down to its deadline, then counts the time overdue", () => {
  const due = Date.UTC(2026, 11, 2, 2, 0);
  assert.equal(timeLeft(due, due - 3_600_000 - 5_000, tr), "left 1:00:05");
  assert.equal(timeLeft(due, due + 90_000, tr), "overdue 01:30");
});
