// Complaints and suggestions (投诉与建议, docs/api.md "Kinds of report"): complaints still to answer first,
// each with the time left on its 12-hour answer clock (overdue ones marked), then suggestions for the owners'
// committee, then what was answered, with the answer. "Answer…" records the rectification plan or the reply;
// the API's refusal (a blank answer) is shown in the form.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { openForm } from "../forms.js";
import { duration } from "../time.js";
import { technicianName, where } from "../names.js";
import { answerClock, answeredLate, arrange, kindKey } from "../complaints.js";
import { at, level, ms, now, sourceLabel, state, statusLabel, statuses, t } from "../state.js";
import { showDetail } from "./tickets.js";

const LIMIT = 200;  // newest first from the API, per kind

function clockText(tk, when) {
  const c = answerClock(tk, when);
  if (c.state === "none") return tk.kind === "complaint" ? t("complaints.safety_clock") : t("complaints.committee");
  return c.state === "late" ? t("complaints.overdue", { d: duration(-c.left).replace("−", "") })
    : t("complaints.left", { d: duration(c.left) });
}

function clockCell(tk) {
  const c = answerClock(tk, now());
  return h("div", { class: `answer-clock ${c.state}`, "data-answer-by": tk.answer_by || null,
      "data-created": tk.created_at, "data-id": tk.id },
    h("b", {}, clockText(tk, now())),
    c.by !== null ? h("small", {}, t("complaints.due", { time: at(c.by) })) : null);
}

function filedBy(tk) {
  const r = tk.reporter;
  const who = r && (r.name || r.phone) ? [r.name, r.phone].filter(Boolean).join(" ") : t("complaints.anonymous");
  return t("complaints.filed", { who, source: sourceLabel(tk.source), time: at(tk.created_at) });
}

function place(tk) {
  const unit = tk.reporter && tk.reporter.unit;
  return [unit ? t("complaints.unit", { unit }) : null, where(tk.location, state.meta, t)].filter(Boolean).join(" · ");
}

function handler(tk) {
  if (tk.assignee) return t("complaints.sent_to", { name: technicianName(state.meta, tk.assignee) });
  return tk.kind === "suggestion" ? t("complaints.for_committee") : t("complaints.desk");
}

function item(tk) {
  const late = !tk.answered_at && answerClock(tk, now()).state === "late";
  const answered = !!tk.answered_at;
  return h("li", { class: `report k-${tk.kind}${late ? " overdue" : ""}${answered ? " answered" : ""}`, "data-id": tk.id,
      "data-kind": tk.kind, "data-state": answered ? "answered" : late ? "overdue" : "open" },
    h("div", { class: "head" },
      h("span", { class: `kind k-${tk.complaint_type || tk.kind}` }, t(kindKey(tk))),
      tk.urgency === 1 ? h("span", { class: "level" }, level(tk.urgency)) : null,
      h("b", { class: "title" }, tk.title),
      h("span", { class: "status", "data-status": tk.status }, statusLabel(tk.status))),
    answered ? null : clockCell(tk),
    tk.description && tk.description.trim() !== tk.title ? h("p", { class: "said" }, tk.description) : null,
    h("div", { class: "meta" }, place(tk), " · ", filedBy(tk), " · ", handler(tk), " · ", tk.id),
    answered ? h("div", { class: "answer" },
      h("small", {}, t(answeredLate(tk) ? "complaints.answered_late_by" : "complaints.answered_by",
        { time: at(tk.answered_at), who: tk.answered_by || "—" })),
      h("p", { class: "answer-text" }, tk.answer || "")) : null,
    h("div", { class: "buttons" },
      h("button", { type: "button", class: "quiet", "data-action": "details", onclick: () => showDetail(tk.id) }, t("tickets.details")),
      !answered && state.canOperate ? h("button", { type: "button", class: "primary", "data-action": "answer",
        onclick: () => openAnswer(tk) }, t("complaints.answer")) : null));
}

function section(key, emptyKey, list, id) {
  return h("section", { class: "report-group", id },
    h("h3", {}, t(key), " ", h("span", { class: "count" }, String(list.length))),
    h("ol", { class: "reports" }, ...(list.length ? list.map(item) : [h("li", { class: "empty" }, t(emptyKey))])));
}

export async function loadComplaints() {
  try {
    const [complaints, suggestions] = await Promise.all(["complaint", "suggestion"].map((kind) =>
      api(`/api/v1/tickets?kind=${kind}&limit=${LIMIT}`)));
    const { open, suggestions: waiting, answered } = arrange([...complaints, ...suggestions], statuses().final);
    $("complaint-list").replaceChildren(
      section("complaints.open", "complaints.none_open", open, "complaints-open"),
      section("complaints.suggestions", "complaints.none_suggestions", waiting, "complaints-suggestions"),
      section("complaints.answered", "complaints.none_answered", answered, "complaints-answered"));
    $("complaint-count").textContent = String(open.length + waiting.length);
    $("view-complaints").dataset.loaded = String(now());
  } catch (e) { showError(e.message); }
}

/** Once a second while shown: the answer clocks move, and one that runs out is marked overdue. */
export function tickComplaints() {
  const when = now();
  for (const el of document.querySelectorAll("#complaint-list .answer-clock[data-answer-by]")) {
    const tk = { kind: "complaint", answer_by: el.dataset.answerBy, created_at: el.dataset.created };
    const c = answerClock(tk, when);
    el.firstChild.textContent = clockText(tk, when);
    el.className = `answer-clock ${c.state}`;
    if (c.state === "late") {
      const li = el.closest("li.report");
      li.classList.add("overdue"); li.dataset.state = "overdue";
    }
    el.dataset.left = String(ms(el.dataset.answerBy) - when);
  }
}

let pending = null;
/** A ticket changed (the live stream, a report filed): a complaint's or suggestion's reloads the view while shown. */
export function onReportChanged(tk) {
  if (document.body.dataset.view !== "complaints" || (tk.kind !== "complaint" && tk.kind !== "suggestion")) return;
  clearTimeout(pending);
  pending = setTimeout(loadComplaints, 300);  // a burst of events, one reload
}

/** The Answer form, from this view or a ticket's details; `after` runs once the API has taken the answer. */
export function openAnswer(tk, after = loadComplaints) {
  const complaint = tk.kind === "complaint";
  const form = openForm({
    title: t(complaint ? "complaints.answer_complaint" : "complaints.answer_suggestion", { id: tk.id }),
    intro: t(complaint ? "complaints.plan_intro" : "complaints.reply_intro"), submit: t("complaints.send"),
    fields: [{ name: "answer", label: t(complaint ? "complaints.plan" : "complaints.reply"), type: "textarea", rows: 4,
               wide: true }],
    extra: h("p", { class: "said quoted" }, tk.description || tk.title),
    onSubmit: async (v) => {
      // sent as typed: a blank answer is the API's to refuse, with its own words (shown in the form)
      await api(`/api/v1/tickets/${encodeURIComponent(tk.id)}/answer`, { method: "POST", body: JSON.stringify({ answer: v.answer }) });
      await after();
    },
  });
  form.dataset.form = "answer";
}
