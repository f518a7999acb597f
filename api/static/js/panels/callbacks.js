// Call-backs (回访): resolved tickets a person reported, earliest due first, with the time left (24 h for a
// repair, 48 h for another request) and the outcome: satisfied (the rating closes it), not fixed (reopen),
// or no answer (a note; it stays in the queue).

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { openForm } from "../forms.js";
import { duration } from "../time.js";
import { technicianName, where } from "../names.js";
import { at, categoryLabel, level, ms, now, state, t } from "../state.js";
import { act } from "./tickets.js";

/** "5:12:09 left" or "overdue 1:02:00", from the deadline and now. Pure but for the words. */
export function timeLeft(dueMs, nowMs, tr) {
  const left = dueMs - nowMs;
  return left >= 0 ? tr("callback.left", { d: duration(left) }) : tr("callback.overdue", { d: duration(-left).replace("−", "") });
}

function row(c) {
  const tk = c.ticket;
  const caller = tk.reporter ? `${tk.reporter.name || ""} ${tk.reporter.phone || ""}`.trim() : "—";
  return h("tr", { "data-id": tk.id, class: c.overdue ? "overdue" : "" },
    h("td", { class: `due ${c.overdue ? "late" : ""}`, "data-due": c.due_at }, timeLeft(ms(c.due_at), now(), t),
      h("small", {}, t("callback.due", { time: at(c.due_at), h: c.window_h }))),
    h("td", {}, h("span", { class: "level" }, level(tk.urgency)), " ", h("b", {}, tk.title), h("small", {}, tk.id)),
    h("td", {}, where(tk.location, state.meta, t), h("small", {}, categoryLabel(tk.category))),
    h("td", {}, tk.assignee ? technicianName(state.meta, tk.assignee) : "—", h("small", {}, tk.resolution_note || "")),
    h("td", { class: "caller" }, caller),
    h("td", {}, h("div", { class: "outcomes" },
      h("button", { type: "button", "data-action": "satisfied", onclick: () => satisfied(tk) }, t("callback.satisfied")),
      h("button", { type: "button", class: "danger", "data-action": "not-fixed", onclick: () => notFixed(tk) }, t("callback.not_fixed")),
      h("button", { type: "button", class: "quiet", "data-action": "no-answer", onclick: () => noAnswer(tk) }, t("callback.no_answer")))));
}

export async function loadCallbacks() {
  try {
    state.callbacks = await api("/api/v1/callbacks");
    const head = ["callback.col_due", "callback.col_ticket", "callback.col_where", "callback.col_fixed_by", "callback.col_caller", ""];
    $("callback-list").replaceChildren(h("thead", {}, h("tr", {}, ...head.map((k) => h("th", {}, k ? t(k) : "")))),
      h("tbody", {}, ...(state.callbacks.length ? state.callbacks.map(row)
        : [h("tr", {}, h("td", { colspan: head.length, class: "empty" }, t("callback.none")))])));
    $("callback-count").textContent = state.callbacks.length;
    $("view-callbacks").dataset.loaded = String(now());
  } catch (e) { showError(e.message); }
}

/** Once a second while shown: the countdowns move. */
export function tickCallbacks() {
  for (const el of document.querySelectorAll("#callback-list td[data-due]")) {
    el.firstChild.textContent = timeLeft(ms(el.dataset.due), now(), t);
  }
}

function satisfied(tk) {
  openForm({
    title: t("callback.satisfied_title", { id: tk.id }), submit: t("callback.record"),
    fields: [{ name: "satisfaction", label: t("callback.rating"), type: "select", value: "5",
               options: [5, 4, 3, 2, 1].map((n) => [n, t(`callback.score_${n}`)]) },
             { name: "note", label: t("callback.note"), type: "textarea", rows: 2 }],
    onSubmit: async (v) => {
      const done = await api(`/api/v1/tickets/${encodeURIComponent(tk.id)}/verify`, { method: "POST",
        body: JSON.stringify({ satisfaction: Number(v.satisfaction), note: v.note.trim() || null }) });
      if (done) await loadCallbacks();
    },
  });
}

function notFixed(tk) {
  openForm({
    title: t("callback.not_fixed_title", { id: tk.id }), intro: t("callback.not_fixed_intro"), submit: t("callback.reopen"),
    fields: [{ name: "note", label: t("callback.what_is_wrong"), type: "textarea", required: true, rows: 2 }],
    onSubmit: async (v) => {
      const done = await act(tk.id, "reopen", { note: `${t("callback.reopen_prefix")} ${v.note.trim()}` });
      if (done) await loadCallbacks();
    },
  });
}

async function noAnswer(tk) {
  try {
    await api(`/api/v1/tickets/${encodeURIComponent(tk.id)}/notes`, { method: "POST", body: JSON.stringify({ note: t("callback.no_answer_note") }) });
    await loadCallbacks();
  } catch (e) { showError(e.message); }
}
