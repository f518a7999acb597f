// How a figure reads and how it stands against its target (docs/operations.md, service figures). Pure.

export const DASH = "—";
/** One decimal unless whole: never rounds a miss up to its target (89.6 stays 89.6). */
export const one = (v) => v.toFixed(v === Math.round(v) ? 0 : 1);
export const pct = (v) => (v === null || v === undefined ? DASH : `${one(v)} %`);

export function minutes(seconds, t) {
  if (seconds === null || seconds === undefined) return DASH;
  const m = seconds / 60;
  return t("kpi.minutes", { n: m < 10 ? m.toFixed(1) : Math.round(m) });
}

/** met: good; within 10 points: warn; further: bad; no data: none. */
export function against(v, target) {
  if (v === null || v === undefined) return "none";
  return v >= target ? "good" : v >= target - 10 ? "warn" : "bad";
}
