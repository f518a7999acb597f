import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { deadlineClass, isLate, nextDeadline, sortTickets, steps as stepsOf } from "../deadlines.js";
import { vocabulary } from "../statuses.js";

const vocab = vocabulary(JSON.parse(readFileSync(new URL("./meta.json", import.meta.url), "utf8")));
const steps = (t) => stepsOf(t, vocab);

const T0 = Date.UTC(2026, 11, 1, 2, 0);
const iso = (ms) => new Date(ms).toISOString();
const ticket = (id, urgency, acceptIn, extra = {}) => ({
  id, urgency, status: "assigned", created_at: iso(T0), accept_by: iso(T0 + acceptIn * 1000),
  arrive_by: iso(T0 + 1800_000), resolve_by: iso(T0 + 7200_000), ...extra,
});

test("a step is ok, then amber at 80 % of its time, then late; done once done", () => {
  const [accept] = steps(ticket("a", 1, 100));
  assert.equal(deadlineClass(accept, T0 + 79_000), "ok");
  assert.equal(deadlineClass(accept, T0 + 80_000), "warn");
  assert.equal(deadlineClass(accept, T0 + 101_000), "late");
  const [accepted] = steps(ticket("a", 1, 100, { status: "accepted", accepted_at: iso(T0 + 50_000) }));
  assert.equal(deadlineClass(accepted, T0 + 500_000), "done");
});

test("a ticket without an arrive deadline has two steps", () => {
  assert.deepEqual(steps(ticket("a", 4, 100, { arrive_by: null })).map((s) => s.name), ["accept", "resolve"]);
});

test("a ticket is late once a pending step passed its deadline, or the service said so", () => {
  assert.equal(isLate(ticket("a", 2, 100), T0 + 50_000, vocab), false);
  assert.equal(isLate(ticket("a", 2, 100), T0 + 150_000, vocab), true);
  assert.equal(isLate(ticket("a", 2, 100, { breached: true }), T0, vocab), true);
});

test("the list puts the most urgent first, then the nearest deadline", () => {
  const list = [ticket("l3", 3, 60), ticket("l1-late", 1, 600), ticket("l1-soon", 1, 120), ticket("l2", 2, 10)];
  assert.deepEqual(sortTickets(list, vocab).map((t) => t.id), ["l1-soon", "l1-late", "l2", "l3"]);
  assert.equal(nextDeadline(ticket("x", 1, 120), vocab), T0 + 120_000);
  const fixed = ticket("r", 1, 1, { status: "resolved", accepted_at: iso(T0), arrived_at: iso(T0), resolved_at: iso(T0) });
  assert.equal(nextDeadline(fixed, vocab), Infinity);
});
