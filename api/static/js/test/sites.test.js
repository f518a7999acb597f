import { test } from "node:test";
import assert from "node:assert/strict";
import { apiHeaders, pickSite } from "../sites.js";

const two = [{ id: "harbor-view", name: "Harbor View" }, { id: "river-park", name: "River Park" }];

test("one estate: nothing to choose, no header", () => {
  assert.equal(pickSite({ sites: [two[0]], stored: "harbor-view" }), null);
  assert.equal(pickSite({ sites: [] }), null);
  assert.deepEqual(apiHeaders("tok", null), { Authorization: "Bearer tok" });
});

test("several: the address, then the last choice, then the first listed", () => {
  assert.equal(pickSite({ sites: two, query: "river-park", stored: "harbor-view" }), "river-park");
  assert.equal(pickSite({ sites: two, stored: "river-park" }), "river-park");
  assert.equal(pickSite({ sites: two }), "harbor-view");
  // an estate the token no longer sees (or a typo in the address) is not chosen
  assert.equal(pickSite({ sites: two, query: "gone", stored: "also-gone" }), "harbor-view");
  assert.deepEqual(apiHeaders("tok", "river-park"), { Authorization: "Bearer tok", "X-Caretaker-Site": "river-park" });
});
