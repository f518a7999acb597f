// Complaints and suggestions (docs/api.md, "Kinds of report"): which to answer first, and how much of a
// service complaint's 12-hour answer clock is left. Pure: the words come from the catalogue (panels/complaints.js).

import { WARN_FRACTION } from "./deadlines.js";

const ms = (iso) => (iso ? Date.parse(iso) : null);

/** The catalogue key of a report's kind: "kind.complaint_service", "kind.complaint_safety", "kind.suggestion", … */
export function kindKey(tk) {
  if (tk.kind === "complaint") return `kind.complaint_${tk.complaint_type || "service"}`;
  return `kind.${tk.kind || "repair"}`;
}

/** The form's kind choice ("complaint:safety", "suggestion", "") as the API's fields; "" leaves it to the words. */
export function kindFields(choice) {
  if (!choice) return {};
  const [kind, complaintType] = String(choice).split(":");
  return complaintType ? { kind, complaint_type: complaintType } : { kind };
}

/** The answer clock of an unanswered report at `nowMs`: `none` (a safety complaint, a suggestion: no 12 h
 *  clock), else `ok`, `warn` (80 % gone, when the supervisors are warned) or `late`, with the ms left. */
export function answerClock(tk, nowMs) {
  const by = ms(tk.answer_by);
  if (by === null || tk.answered_at) return { state: "none", left: null, by: null };
  const left = by - nowMs;
  if (left < 0) return { state: "late", left, by };
  const from = ms(tk.created_at);
  const warn = from !== null && by > from && (nowMs - from) / (by - from) >= WARN_FRACTION;
  return { state: warn ? "warn" : "ok", left, by };
}

/** Whether an answer came after its deadline. */
export function answeredLate(tk) {
  return !!(tk.answered_at && tk.answer_by && ms(tk.answered_at) > ms(tk.answer_by));
}

/** The view's three lists: complaints still to answer (safety first: level 1 at once, then the nearest answer
 *  deadline, overdue ones at the top of those), suggestions still to answer (oldest first), then what was
 *  answered (latest answer first). Cancelled and closed reports without an answer are left out. */
export function arrange(tickets, final = new Set()) {  // final: the meta's final statuses (statuses.js)
  const open = [], suggestions = [], answered = [];
  for (const tk of tickets) {
    if (tk.kind !== "complaint" && tk.kind !== "suggestion") continue;
    if (tk.answered_at) answered.push(tk);
    else if (final.has(tk.status)) continue;  // over without an answer: nothing left to answer
    else (tk.kind === "complaint" ? open : suggestions).push(tk);
  }
  const created = (a, b) => String(a.created_at).localeCompare(String(b.created_at));
  const clock = (tk) => (tk.answer_by ? ms(tk.answer_by) : -Infinity);  // no clock: a safety complaint, at once
  open.sort((a, b) => clock(a) - clock(b) || a.urgency - b.urgency || created(a, b));
  suggestions.sort(created);
  answered.sort((a, b) => String(b.answered_at).localeCompare(String(a.answered_at)));
  return { open, suggestions, answered };
}
