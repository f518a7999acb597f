import { test } from "node:test";
import assert from "node:assert/strict";
import { assignmentEvents, timelines } from "../timeline.js";

const at = (min) => new Date(Date.UTC(2026, 11, 1, 2, min)).toISOString();
const T = (min) => Date.parse(at(min));
const a = (id, extra) => ({ id, trade: "plumbing", role: "owner", cycle: 1, technician: "t-wang", status: "offered",
  offered_at: null, accepted_at: null, arrived_at: null, done_at: null, ended_at: null, ...extra });

test("a finished assignment: offered, accepted, arrived, done, each at its own time", () => {
  const done = a("AS-2", { status: "done", offered_at: at(0), accepted_at: at(1), arrived_at: at(9), done_at: at(40), ended_at: at(40) });
  assert.deepEqual(assignmentEvents(done), [{ step: "offered", at: T(0) }, { step: "accepted", at: T(1) },
    { step: "arrived", at: T(9) }, { step: "done", at: T(40) }]);
});

test("a withdrawn owner's work taken on by the next one reads as reassigned to them", () => {
  const first = a("AS-9", { status: "withdrawn", offered_at: at(0), accepted_at: at(1), ended_at: at(5) });
  const second = a("AS-10", { technician: "t-chen", status: "accepted", offered_at: at(5), accepted_at: at(6) });
  const support = a("AS-11", { trade: "security", role: "support", technician: "t-gao", offered_at: at(0) });
  const [one, two, three] = timelines([second, support, first], new Set(["offered", "accepted"]));
  assert.equal(one.assignment.id, "AS-9");
  assert.deepEqual(one.events.map((e) => e.step), ["offered", "accepted", "withdrawn", "reassigned"]);
  assert.equal(one.events[3].to, "t-chen");
  assert.equal(one.live, false);
  assert.deepEqual(two.events.map((e) => e.step), ["offered", "accepted"]);
  assert.equal(two.live, true);
  assert.equal(three.assignment.role, "support");  // another trade: not what AS-9 was handed to
  assert.deepEqual(three.events.map((e) => e.step), ["offered"]);
});

test("timed out and declined end with their own step; the last of a trade is reassigned to nobody", () => {
  assert.deepEqual(assignmentEvents(a("AS-1", { status: "timed_out", offered_at: at(0), ended_at: at(2) })).map((e) => e.step),
    ["offered", "timed_out"]);
  const declined = a("AS-3", { status: "declined", offered_at: at(0), ended_at: at(1) });
  const [only] = timelines([declined]);
  assert.deepEqual(only.events.map((e) => e.step), ["offered", "declined"]);
});

test("a reopened ticket's second cycle is not the first one's reassignment", () => {
  const first = a("AS-1", { status: "done", offered_at: at(0), done_at: at(30) });
  const again = a("AS-5", { cycle: 2, status: "offered", offered_at: at(60) });
  const withdrawn = a("AS-4", { status: "withdrawn", offered_at: at(0), ended_at: at(3) });
  const list = timelines([again, first, withdrawn]);
  assert.deepEqual(list.map((x) => x.assignment.id), ["AS-1", "AS-4", "AS-5"]);
  assert.equal(list[1].events.some((e) => e.step === "reassigned"), false);
  assert.deepEqual(timelines(null), []);
});
