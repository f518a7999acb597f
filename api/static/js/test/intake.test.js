import { test } from "node:test";
import assert from "node:assert/strict";
import { reportBody } from "../panels/intake.js";

test("the report body leaves blanks out so the API names each missing field", () => {
  assert.deepEqual(reportBody({ reporter_name: "  ", reporter_phone: "137", unit: "", building: "A", floor: "3",
    zone: "", description: " 楼道灯不亮 ", source: "phone", category: "electrical", urgency: "3" }),
    { reporter_phone: "137", building: "A", floor: 3, description: "楼道灯不亮", source: "phone", category: "electrical", urgency: 3 });
  assert.deepEqual(reportBody({ floor: "" }), {});
  assert.equal(reportBody({ floor: "-2" }).floor, -2);
});
