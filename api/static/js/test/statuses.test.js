import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { statusList, vocabulary } from "../statuses.js";
import { statusGroups } from "../panels/search.js";

// the vocabulary as GET /api/v1/meta serves it (tests/api/test_control_room_vocabulary.py keeps it equal)
const meta = JSON.parse(readFileSync(new URL("./meta.json", import.meta.url), "utf8"));
const v = vocabulary(meta);

test("the board lists every status the meta does not call final", () => {
  assert.equal(statusList(v, v.board), "open,assigned,accepted,on_site,resolved,verified");
  assert.deepEqual([...v.final], ["closed", "cancelled"]);
});

test("which statuses are unassigned, not yet accepted, awaiting the call-back", () => {
  assert.deepEqual([...v.unassigned], ["open"]);
  assert.deepEqual([...v.unaccepted], ["open", "assigned"]);
  assert.deepEqual([...v.awaitingCallback], ["resolved", "verified"]);
});

test("a button is offered where dispatch's table allows the step", () => {
  assert.equal(v.allows("on_site", "assign"), true);
  assert.equal(v.allows("resolved", "assign"), false);
  assert.equal(v.allows("verified", "verify"), true);
  assert.equal(v.allows("closed", "cancel"), false);
  assert.equal(v.allows("open", "no-such-step"), false);
});

test("assignments live or ended, alarms active or cleared", () => {
  assert.deepEqual([...v.liveAssignment], ["waiting", "offered", "accepted", "on_site"]);
  assert.ok(v.assignmentStatuses.includes("withdrawn") && !v.liveAssignment.has("withdrawn"));
  assert.deepEqual([...v.activeAlert], ["raised"]);
  assert.deepEqual(v.alertStates, ["raised", "cleared"]);
});

test("a status the service adds is taken as it is classed, with no change to the page", () => {
  const more = structuredClone(meta);
  more.ticket_statuses.push({ id: "paused", groups: ["open"], label: { en: "paused", "zh-CN": "暂停" } });
  more.alert_states.push({ id: "latched", active: true, label: { en: "latched", "zh-CN": "锁定" } });
  const w = vocabulary(more);
  assert.ok(w.board.has("paused") && w.unassigned.has("paused"));
  assert.ok(w.activeAlert.has("latched"));
});

test("before the meta arrives nothing is assumed", () => {
  const empty = vocabulary(null);
  assert.equal(empty.board.size, 0);
  assert.equal(empty.allows("open", "assign"), false);
});

test("the search's status choices: open, fixed, then each final status", () => {
  assert.deepEqual(statusGroups(v), [["open", "open,assigned,accepted,on_site"], ["fixed", "resolved,verified"],
    ["closed", "closed"], ["cancelled", "cancelled"]]);
});
