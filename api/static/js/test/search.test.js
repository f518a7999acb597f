import { test } from "node:test";
import assert from "node:assert/strict";
import { dayStart, searchQuery } from "../panels/search.js";
import { viewFromHash } from "../views.js";
import { readFileSync } from "node:fs";
import { vocabulary } from "../statuses.js";

const vocab = vocabulary(JSON.parse(readFileSync(new URL("./meta.json", import.meta.url), "utf8")));

test("a day starts at midnight in the estate's zone", () => {
  assert.equal(dayStart("2026-12-01", "Asia/Shanghai"), "2026-11-30T16:00:00.000Z");
  assert.equal(dayStart("2026-07-01", "Europe/London"), "2026-06-30T23:00:00.000Z");
  assert.equal(dayStart("2026-12-01", "UTC"), "2026-12-01T00:00:00.000Z");
});

test("the filters become the API's query, the last day included whole", () => {
  const q = new URLSearchParams(searchQuery({ status: "closed", building: "A", category: "", urgency: "1", assignee: "",
    q: " 漏水 ", from: "2026-11-01", to: "2026-11-30" }, "Asia/Shanghai", 25));
  assert.equal(q.get("status"), "closed");
  assert.equal(q.get("building"), "A");
  assert.equal(q.get("category"), null);
  assert.equal(q.get("urgency"), "1");
  assert.equal(q.get("q"), "漏水");
  assert.equal(q.get("from"), "2026-10-31T16:00:00.000Z");
  assert.equal(q.get("to"), "2026-11-30T16:00:00.000Z");
  assert.equal(q.get("offset"), "25");
  assert.equal(new URLSearchParams(searchQuery({ status: "open" }, "UTC", 0, 25, vocab)).get("status"), "open,assigned,accepted,on_site");
});

test("the view comes from the address, the board by default", () => {
  assert.equal(viewFromHash("#tickets"), "tickets");
  assert.equal(viewFromHash(""), "board");
  assert.equal(viewFromHash("#token=abc"), "board");
});
