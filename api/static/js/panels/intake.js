// A phone or front-desk report: who, where, what; the trade and level the words point to (changeable); the
// unit's and the caller's earlier tickets before it is filed. What is missing comes back from the API, all
// at once, and is shown on the form.

import { $, h } from "../dom.js";
import { api } from "../api.js";
import { clearFieldError, openForm } from "../forms.js";
import { at, categoryLabel, level, sourceLabel, state, statusLabel, t } from "../state.js";
import { showDetail } from "./tickets.js";
import { kindFields } from "../complaints.js";

const hooks = { filed: () => {} };
export function onFiled(callback) { hooks.filed = callback; }

/** Wait `ms` after the last call before running `fn` (typing pauses, then one request). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

/** The form's kind choices: "" leaves it to the words (docs/api.md, "Kinds of report"). */
export const KINDS = ["", "repair", "complaint:service", "complaint:safety", "suggestion", "enquiry"];

/** The body POST /api/v1/tickets takes: blanks left out, so the API names each missing field; the names in
 *  `leave` are left to the API to work out from the words. Pure. */
export function reportBody(v, leave = []) {
  const body = {};
  for (const key of ["reporter_name", "reporter_phone", "unit", "building", "zone", "description", "source", "category", "title"]) {
    const value = typeof v[key] === "string" ? v[key].trim() : v[key];
    if (value) body[key] = value;
  }
  if (v.floor !== "" && v.floor !== undefined && v.floor !== null) body.floor = Number(v.floor);
  if (v.urgency) body.urgency = Number(v.urgency);
  Object.assign(body, kindFields(v.kind));
  for (const name of leave) delete body[name];
  return body;
}

const kindLabel = (choice) => t(`kind.${choice.replace(":", "_")}`);

function earlierList(list) {
  if (!list.length) return [h("li", { class: "empty" }, t("intake.no_earlier"))];
  return list.map((tk) => h("li", { "data-id": tk.id },
    h("span", { class: "what" }, `${level(tk.urgency)} ${tk.title}`),
    h("span", { class: "when" }, at(tk.created_at)),
    h("span", { class: "meta" }, `${tk.id} · ${statusLabel(tk.status)} · ${categoryLabel(tk.category)} · `,
      tk.matched.map((m) => t(`intake.matched_${m}`)).join(t("form.list_sep")))));
}

export function openIntake() {
  const m = state.meta;
  const touched = { category: false, urgency: false, kind: false };
  const earlier = h("ul", { class: "alerts earlier", id: "intake-earlier" }, h("li", { class: "empty" }, t("intake.earlier_hint")));
  const hint = h("p", { class: "suggestion", id: "intake-suggestion" }, "");
  let form = null;
  const refreshEarlier = debounce(async () => {
    const unit = form.querySelector("[name=unit]").value.trim();
    const phone = form.querySelector("[name=reporter_phone]").value.trim();
    if (!unit && !phone) { earlier.replaceChildren(h("li", { class: "empty" }, t("intake.earlier_hint"))); return; }
    try {
      const q = new URLSearchParams({ ...(unit ? { unit } : {}), ...(phone ? { phone } : {}) });
      earlier.replaceChildren(...earlierList(await api(`/api/v1/reports/earlier?${q}`)));
      earlier.dataset.loaded = `${unit}|${phone}`;
    } catch (e) { earlier.replaceChildren(h("li", { class: "empty" }, e.message)); }
  }, 350);
  const refreshSuggestion = debounce(async (text) => {
    if (!text.trim()) { hint.textContent = ""; return; }
    try {
      const s = await api("/api/v1/reports/suggest", { method: "POST", body: JSON.stringify({ description: text }) });
      if (!touched.category) form.querySelector("[name=category]").value = s.category;
      if (!touched.urgency) form.querySelector("[name=urgency]").value = String(s.urgency);
      const kind = s.kind === "complaint" ? `complaint:${s.complaint_type || "service"}` : s.kind || "repair";
      if (!touched.kind) form.querySelector("[name=kind]").value = kind;
      hint.textContent = s.word ? t("intake.suggested", { trade: categoryLabel(s.category), level: level(s.urgency), word: s.word })
        : t("intake.suggested_default", { trade: categoryLabel(s.category), level: level(s.urgency) });
      if (s.kind_word && kind !== "repair") {
        hint.textContent += ` ${t("intake.kind_suggested", { word: s.kind_word, kind: kindLabel(kind) })}`;
      }
      hint.dataset.category = s.category; hint.dataset.urgency = String(s.urgency); hint.dataset.kind = kind;
    } catch (_) { /* the suggestion is help, not a step: the form works without it */ }
  }, 300);
  form = openForm({
    title: t("intake.title"), intro: t("intake.intro"), submit: t("intake.file"), wide: true,
    fields: [
      { name: "source", label: t("intake.source"), type: "select", value: "phone",
        options: ["phone", "desk", "wechat", "app"].map((s) => [s, sourceLabel(s)]) },
      { name: "reporter_name", label: t("intake.name"), mark: true, maxlength: 100 },
      { name: "reporter_phone", label: t("intake.phone"), mark: true, type: "tel", maxlength: 32, oninput: () => refreshEarlier() },
      { name: "unit", label: t("intake.unit"), placeholder: t("intake.unit_hint"), maxlength: 64, oninput: () => {
        refreshEarlier();  // a unit says where: building and floor are no longer missing
        for (const name of ["building", "floor"]) clearFieldError(form.querySelector(`[data-field=${name}]`));
      } },
      { name: "building", label: t("intake.building"), type: "select", options: [["", t("intake.from_unit")], ...m.buildings.map((b) => [b.id, b.name])] },
      { name: "floor", label: t("intake.floor"), type: "number", placeholder: t("intake.from_unit") },
      { name: "zone", label: t("intake.zone"), maxlength: 64 },
      { name: "description", label: t("intake.description"), type: "textarea", mark: true, rows: 3, oninput: (v) => refreshSuggestion(v) },
      { name: "kind", label: t("intake.kind"), type: "select", value: "",
        options: KINDS.map((k) => [k, k ? kindLabel(k) : t("intake.kind_auto")]), onchange: () => { touched.kind = true; } },
      { name: "category", label: t("intake.trade"), type: "select", options: m.categories.map((c) => [c.id, categoryLabel(c.id)]), value: "general",
        onchange: () => { touched.category = true; } },
      { name: "urgency", label: t("intake.level"), type: "select", options: m.urgencies.map((u) => [u.id, u.label[state.lang] || u.id]), value: "4",
        onchange: () => { touched.urgency = true; } },
    ],
    extra: h("div", { class: "intake-extra" }, hint, h("h3", {}, t("intake.earlier")), earlier),
    onSubmit: async (v) => {
      // a complaint's or suggestion's trade, unless the operator named one, is the API's to find in the words
      // (no trade word: the control room answers it, no technician is sent); an untouched kind, likewise
      const report = v.kind && v.kind !== "repair" && v.kind !== "enquiry";
      const leave = [...(touched.kind ? [] : ["kind", "complaint_type"]), ...(report && !touched.category ? ["category"] : [])];
      const tk = await api("/api/v1/tickets", { method: "POST", body: JSON.stringify(reportBody(v, leave)) });
      hooks.filed(tk);
      $("form-dialog").close();
      showDetail(tk.id);
    },
  });
  form.dataset.form = "intake";
}
