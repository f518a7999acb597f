import { test } from "node:test";
import assert from "node:assert/strict";
import { barGeometry } from "../charts.js";

test("bars scale to the largest value and leave a gap for no data", () => {
  const { top, bars } = barGeometry([2, 4, null, 1], { width: 124, height: 124, pad: 24, gap: 0 });
  assert.equal(top, 4);
  assert.deepEqual(bars.map((b) => b.h), [50, 100, 0, 25]);
  assert.deepEqual(bars.map((b) => b.x), [24, 49, 74, 99]);
  assert.equal(bars[1].y, 0);
});

test("a fixed scale (percentages) clips nothing above it", () => {
  const { top, bars } = barGeometry([50, 100, 120], { width: 100, height: 124, pad: 24, max: 100 });
  assert.equal(top, 100);
  assert.deepEqual(bars.map((b) => b.h), [50, 100, 100]);
});

test("bars leave room above for their value and stay narrow when few", () => {
  const { base, bars } = barGeometry([10], { width: 524, height: 138, pad: 24, bottom: 24, head: 14, maxBar: 56 });
  assert.equal(base, 114);
  assert.equal(bars[0].y, 14);
  assert.equal(bars[0].w, 56);
  assert.equal(bars[0].x, 24 + (500 - 56) / 2);
});

test("no values still draws an empty frame", () => {
  assert.deepEqual(barGeometry([], { width: 100, height: 100 }).bars, []);
});
