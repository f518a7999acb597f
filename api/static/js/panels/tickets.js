// Open tickets: a card each with live countdowns, the operator's buttons, and the detail dialog.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { deadlineClass, isLate, sortTickets, steps } from "../deadlines.js";
import { duration } from "../time.js";
import { technicianName, where } from "../names.js";
import { assignmentStatusLabel, at, categoryLabel, level, now, sourceLabel, state, statusLabel, statuses, t } from "../state.js";
import { timelines } from "../timeline.js";
import { answerClock, answeredLate, kindKey } from "../complaints.js";
import { loadComplaints, openAnswer } from "./complaints.js";  // it imports this module: used only once both are loaded

const hooks = { changed: () => {}, assign: () => {} };
export function onTicketsChanged(callback) { hooks.changed = callback; }
/** What the Assign button opens (the ranked candidates, panels/assign.js: it imports this module). */
export function onAssign(callback) { hooks.assign = callback; }

export function deadlineText(step, when) {
  if (step.done) return t("deadline.done");
  return when > step.by ? t("deadline.late", { d: duration(step.by - when).replace("−", "") }) : duration(step.by - when);
}

function ticketCard(tk) {
  const when = now();
  const vocab = statuses();
  const deadlines = steps(tk, vocab).map((s) => h("span", { class: `deadline ${deadlineClass(s, when)}`, "data-ticket": tk.id,
    "data-step": s.name }, h("small", {}, t("deadline.by", { step: t(`step.${s.name}`), time: at(s.by) })),
    deadlineText(s, when)));
  return h("article", { class: `ticket u${tk.urgency}${isLate(tk, when, vocab) ? " breached" : ""}`, "data-id": tk.id },
    h("div", {},
      h("div", { class: "title" }, h("span", { class: "level" }, level(tk.urgency)), tk.title),
      h("div", { class: "meta" }, h("span", { class: "status", "data-status": tk.status }, statusLabel(tk.status)), " ",
        h("b", { class: "assignee" }, tk.assignee ? technicianName(state.meta, tk.assignee) : t("tickets.nobody")),
        " · ", where(tk.location, state.meta, t), " · ", categoryLabel(tk.category),
        tk.device ? ` · ${tk.device}` : "", " · ", tk.id)),
    h("div", { class: "buttons" }, ...operatorButtons(tk)),
    h("div", { class: "deadlines" }, ...deadlines));
}

function operatorButtons(tk) {
  if (!state.canOperate) return [];
  const allows = (step) => statuses().allows(tk.status, step);  // the buttons dispatch would take (meta's lifecycle)
  const out = [h("button", { type: "button", class: "quiet", "data-action": "details", onclick: () => showDetail(tk.id) },
    t("tickets.details"))];
  if (allows("assign")) {
    out.push(h("button", { type: "button", "data-action": "assign", onclick: () => hooks.assign(tk) }, t("tickets.assign")));
  }
  if (allows("verify")) {
    const score = h("select", { "aria-label": t("tickets.callback_score") }, h("option", { value: "" }, t("tickets.callback_score")),
      ...[5, 4, 3, 2, 1].map((n) => h("option", { value: String(n) }, t("tickets.score", { n }))));
    score.addEventListener("change", () => score.value && act(tk.id, "verify", { satisfaction: Number(score.value) }));
    out.push(score, h("button", { type: "button", onclick: () => act(tk.id, "reopen", { note: t("tickets.reopen_note") }) },
      t("tickets.reopen")));
  }
  if (allows("cancel")) {
    out.push(h("button", { type: "button", class: "danger", "data-action": "cancel", onclick: () => {
      const note = prompt(t("tickets.cancel_why", { id: tk.id }));
      if (note !== null) act(tk.id, "cancel", { note });
    } }, t("tickets.cancel")));
  }
  return out;
}

export async function act(id, step, body) {
  try {
    const tk = await api(`/api/v1/tickets/${encodeURIComponent(id)}/${step}`, { method: "POST", body: JSON.stringify(body) });
    hooks.changed(tk); showError("");
    return tk;
  } catch (e) { showError(t("error.step", { step, id, error: e.message })); return null; }
}

/** A history entry as a person reads it: a note is an operator's words, a step is the status it reached. */
function historyItem(e) {
  const isNote = e.status === "note";
  return h("li", { class: isNote ? "note" : "" }, `${at(e.at)} `,
    h("b", {}, isNote ? t("history.note") : statusLabel(e.status)), " ",
    t("detail.by", { who: e.by === "system" ? t("who.system") : technicianName(state.meta, e.by) }),
    e.note ? ` — ${e.note}` : "");
}

/** One assignment: who, which trade, owner or support, its status, and its own timeline in the estate's time. */
function assignmentItem({ assignment: a, live, events }) {
  const name = (id) => (id ? technicianName(state.meta, id) : t("timeline.nobody"));
  const pending = [];
  if (a.accept_by && a.offered_at && !a.accepted_at && !a.ended_at) pending.push(h("li", { class: "pending", "data-step": "accept_by" }, t("timeline.accept_by", { time: at(a.accept_by) })));
  return h("li", { class: `assignment${live ? " live" : ""}`, "data-assignment": a.id, "data-status": a.status, "data-role": a.role },
    h("div", { class: "head" }, h("b", { class: "who" }, name(a.technician)), " · ", categoryLabel(a.trade), " · ",
      t(`assignment_role.${a.role}`), " ", h("span", { class: "status", "data-status": a.status }, assignmentStatusLabel(a.status))),
    h("ol", { class: "timeline" }, ...events.map((e) => h("li", { "data-step": e.step },
      h("time", {}, at(e.at)), " ", e.step === "reassigned" ? t("timeline.reassigned", { who: name(e.to) }) : t(`timeline.${e.step}`))),
    ...pending));
}

function noteForm(tk) {
  const text = h("textarea", { rows: 2, maxlength: 4000, "aria-label": t("detail.note"), placeholder: t("detail.note_hint"), name: "note" });
  const error = h("small", { class: "field-error" });
  const add = h("button", { type: "button", "data-action": "add-note", onclick: async () => {
    if (!text.value.trim()) { error.textContent = t("form.missing"); return; }
    add.disabled = true;
    try {
      const after = await api(`/api/v1/tickets/${encodeURIComponent(tk.id)}/notes`, { method: "POST", body: JSON.stringify({ note: text.value }) });
      text.value = ""; error.textContent = "";
      $("detail-history").replaceChildren(...after.history.map(historyItem));
    } catch (e) { error.textContent = e.message; } finally { add.disabled = false; }
  } }, t("detail.add_note"));
  return [h("label", { class: "field wide" }, h("span", {}, t("detail.note")), text, error), h("div", { class: "actions left" }, add)];
}

/** A complaint's or suggestion's kind, answer clock and answer (docs/api.md, "Kinds of report"). */
function reportRows(tk) {
  if (tk.kind !== "complaint" && tk.kind !== "suggestion") return [];
  const rows = [["detail.kind", t(kindKey(tk))]];
  if (tk.answered_at) {
    rows.push(["detail.answer", `${tk.answer || ""} — ${t(answeredLate(tk) ? "complaints.answered_late_by"
      : "complaints.answered_by", { time: at(tk.answered_at), who: tk.answered_by || "—" })}`]);
  } else if (tk.answer_by) {
    const c = answerClock(tk, now());
    rows.push(["detail.answer", `${t(c.state === "late" ? "complaints.overdue" : "complaints.left",
      { d: duration(Math.abs(c.left)).replace("−", "") })} · ${t("complaints.due", { time: at(tk.answer_by) })}`]);
  } else {
    rows.push(["detail.answer", t(tk.kind === "suggestion" ? "complaints.committee" : "complaints.safety_clock")]);
  }
  return rows;
}

function answerButton(tk) {
  if ((tk.kind !== "complaint" && tk.kind !== "suggestion") || tk.answered_at || !state.canOperate) return [];
  return [h("button", { type: "button", class: "primary", "data-action": "answer",
    onclick: () => openAnswer(tk, async () => { await showDetail(tk.id); await loadComplaints(); }) }, t("complaints.answer"))];
}

export async function showDetail(id) {
  try {
    const tk = await api(`/api/v1/tickets/${encodeURIComponent(id)}`);  // audited: it carries the reporter
    $("detail-title").textContent = `${tk.id} — ${tk.title}`;
    const rows = [["detail.status", statusLabel(tk.status)], ["detail.level", `${level(tk.urgency)} ${categoryLabel(tk.category)}`],
      ["detail.where", where(tk.location, state.meta, t)],
      ["detail.assignee", tk.assignee ? technicianName(state.meta, tk.assignee) : "—"],
      ["detail.contractor", tk.contractor || "—"],
      ["detail.check_on", (tk.check_on || []).map((c) => t("detail.check_on_item", {
        unit: c.unit || "—", floor: c.floor, name: c.name || "", phone: c.phone || "",
      })).join("; ") || "—"],
      ...reportRows(tk),
      ["detail.created", at(tk.created_at)],
      ["detail.source", sourceLabel(tk.source)], ["detail.description", tk.description || "—"],
      ["detail.reporter", tk.reporter ? `${tk.reporter.name || ""} ${tk.reporter.phone || ""} ${tk.reporter.unit || ""}` : "—"],
      ["detail.alerts", tk.alerts.join(", ") || "—"], ["detail.resolution", tk.resolution_note || "—"],
      ["detail.rating", tk.satisfaction ? `${tk.satisfaction} / 5` : "—"]];
    $("detail-body").replaceChildren(...rows.flatMap(([k, v]) => [h("dt", {}, t(k)), h("dd", {}, v)]));
    const plans = timelines(tk.assignments, statuses().liveAssignment);
    $("detail-assignments").replaceChildren(...(plans.length ? plans.map(assignmentItem)
      : [h("li", { class: "empty" }, t("timeline.none"))]));
    $("detail-history").replaceChildren(...tk.history.map(historyItem));
    $("detail-note").replaceChildren(...answerButton(tk), ...(state.canOperate ? noteForm(tk) : []));
    $("detail-dialog").dataset.ticket = tk.id;
    if (!$("detail-dialog").open) $("detail-dialog").showModal();
  } catch (e) { showError(e.message); }
}

export function renderTickets() {
  const list = sortTickets(state.tickets.values(), statuses());
  $("tickets").replaceChildren(...(list.length ? list.map(ticketCard) : [h("div", { class: "empty" }, t("tickets.none"))]));
  $("ticket-count").textContent = list.length;
}

/** Once a second: move the countdowns without rebuilding the cards (a half-open select keeps its state). */
export function tickTickets() {
  const when = now(), vocab = statuses();
  for (const el of document.querySelectorAll(".deadline[data-ticket]")) {
    const tk = state.tickets.get(el.dataset.ticket);
    const s = tk && steps(tk, vocab).find((x) => x.name === el.dataset.step);
    if (!s) continue;
    el.className = `deadline ${deadlineClass(s, when)}`;
    el.lastChild.textContent = deadlineText(s, when);
  }
}
