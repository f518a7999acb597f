import { test } from "node:test";
import assert from "node:assert/strict";
import { answerClock, answeredLate, arrange, kindFields, kindKey } from "../complaints.js";
import { reportBody } from "../panels/intake.js";

const H = 3_600_000;
const filed = Date.UTC(2026, 11, 2, 1, 0);
const iso = (ms) => new Date(ms).toISOString();
const complaint = (id, over = {}) => ({ id, kind: "complaint", complaint_type: "service", status: "open", urgency: 3,
  created_at: iso(filed), answer_by: iso(filed + 12 * H), answered_at: null, ...over });

test("a service complaint's answer clock: time left, amber once 80 % is gone, then overdue", () => {
  const tk = complaint("T-1");
  assert.deepEqual(answerClock(tk, filed + H), { state: "ok", left: 11 * H, by: filed + 12 * H });
  assert.equal(answerClock(tk, filed + 10 * H).state, "warn");  // past 9 h 36 min: the supervisors are warned
  const late = answerClock(tk, filed + 13 * H);
  assert.equal(late.state, "late");
  assert.equal(late.left, -H);
});

test("a safety complaint and a suggestion have no 12-hour clock; an answered one has none left", () => {
  assert.equal(answerClock(complaint("T-2", { complaint_type: "safety", answer_by: null }), filed).state, "none");
  assert.equal(answerClock({ kind: "suggestion", created_at: iso(filed), answer_by: null }, filed).state, "none");
  assert.equal(answerClock(complaint("T-3", { answered_at: iso(filed + H) }), filed + 20 * H).state, "none");
});

test("complaints to answer come first, safety and the nearest deadline at the top; then suggestions; then the answered", () => {
  const later = complaint("T-later", { created_at: iso(filed + 2 * H), answer_by: iso(filed + 14 * H) });
  const sooner = complaint("T-sooner");
  const safety = complaint("T-safety", { complaint_type: "safety", urgency: 1, answer_by: null, created_at: iso(filed + 5 * H) });
  const oldIdea = { id: "S-old", kind: "suggestion", status: "open", created_at: iso(filed - H), answered_at: null };
  const newIdea = { id: "S-new", kind: "suggestion", status: "open", created_at: iso(filed + H), answered_at: null };
  const done = complaint("T-done", { status: "resolved", answered_at: iso(filed + 3 * H), answer: "已整改" });
  const closedIdea = { id: "S-closed", kind: "suggestion", status: "closed", created_at: iso(filed), answered_at: iso(filed + 4 * H) };
  const cancelled = complaint("T-cancelled", { status: "cancelled" });
  const repair = { id: "T-repair", kind: "repair", status: "open", created_at: iso(filed) };
  const { open, suggestions, answered } = arrange([newIdea, later, done, repair, oldIdea, sooner, cancelled, closedIdea, safety], new Set(["closed", "cancelled"]));
  assert.deepEqual(open.map((x) => x.id), ["T-safety", "T-sooner", "T-later"]);
  assert.deepEqual(suggestions.map((x) => x.id), ["S-old", "S-new"]);
  assert.deepEqual(answered.map((x) => x.id), ["S-closed", "T-done"]);
});

test("an answer after its deadline is late", () => {
  assert.equal(answeredLate(complaint("T-4", { answered_at: iso(filed + 13 * H) })), true);
  assert.equal(answeredLate(complaint("T-5", { answered_at: iso(filed + 11 * H) })), false);
  assert.equal(answeredLate({ kind: "suggestion", answered_at: iso(filed), answer_by: null }), false);
});

test("each kind has its catalogue key, and the form's choice becomes the API's fields", () => {
  assert.equal(kindKey(complaint("T-6")), "kind.complaint_service");
  assert.equal(kindKey({ kind: "complaint", complaint_type: "safety" }), "kind.complaint_safety");
  assert.equal(kindKey({ kind: "suggestion" }), "kind.suggestion");
  assert.equal(kindKey({}), "kind.repair");
  assert.deepEqual(kindFields("complaint:safety"), { kind: "complaint", complaint_type: "safety" });
  assert.deepEqual(kindFields("suggestion"), { kind: "suggestion" });
  assert.deepEqual(kindFields(""), {});
});

test("a report's kind goes in the body; what the words should decide is left out", () => {
  const v = { reporter_name: "Qian Hui", reporter_phone: "137", unit: "A-0302", description: "前台态度差", source: "phone",
    category: "general", urgency: "4", kind: "complaint:service" };
  assert.deepEqual(reportBody(v), { reporter_name: "Qian Hui", reporter_phone: "137", unit: "A-0302", description: "前台态度差",
    source: "phone", category: "general", urgency: 4, kind: "complaint", complaint_type: "service" });
  const left = reportBody(v, ["category", "kind", "complaint_type"]);
  assert.equal("category" in left || "kind" in left || "complaint_type" in left, false);
  assert.equal(left.urgency, 4);
});
