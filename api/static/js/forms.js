// One dialog for every small form of the page (shelve, silence, note, report, assign, token): fields in,
// values out; a refusal from the API is shown inside the form, next to the fields it names.

import { $, h } from "./dom.js";
import { t } from "./state.js";

/** Durations an operator picks from, in minutes, for shelving and silences. */
export const DURATIONS = [30, 60, 120, 240, 480, 1440, 4320, 10080];

export function durationLabel(minutes) {
  if (minutes < 60) return t("dur.minutes", { n: minutes });
  if (minutes < 1440) return t("dur.hours", { n: minutes / 60 });
  return t("dur.days", { n: minutes / 1440 });
}

/** The instant `minutes` after `fromMs`, as the API takes it (RFC 3339, UTC). */
export function after(fromMs, minutes) {
  return new Date(fromMs + minutes * 60000).toISOString();
}

function field(f) {
  const id = `form-${f.name}`;
  let input;
  if (f.type === "select") {
    input = h("select", { id, name: f.name, required: f.required },
      ...f.options.map(([value, text]) => h("option", { value: String(value) }, text)));
    if (f.value !== undefined && f.value !== null) input.value = String(f.value);
  } else if (f.type === "textarea") {
    input = h("textarea", { id, name: f.name, rows: f.rows || 3, required: f.required, maxlength: f.maxlength || 4000 });
    input.value = f.value || "";
  } else {
    input = h("input", { id, name: f.name, type: f.type || "text", required: f.required, value: f.value ?? "",
      min: f.min, max: f.max, placeholder: f.placeholder, autocomplete: "off", maxlength: f.maxlength, list: f.list });
  }
  if (f.oninput) input.addEventListener("input", () => f.oninput(input.value, input));
  if (f.onchange) input.addEventListener("change", () => f.onchange(input.value, input));
  return h("label", { class: `field${f.wide ? " wide" : ""}`, "data-field": f.name },
    h("span", {}, f.label, f.required || f.mark ? h("b", { class: "req" }, " *") : null), input,
    h("small", { class: "field-error", "data-error-for": f.name }));
}

/** The values of the open form, by field name (numbers where the field is a number). */
export function formValues(form) {
  const out = {};
  for (const el of form.querySelectorAll("input[name], select[name], textarea[name]")) {
    out[el.name] = el.type === "number" && el.value !== "" ? Number(el.value) : el.value;
  }
  return out;
}

/** A field's refusal goes once the operator edits it. */
export function clearFieldError(fieldEl) {
  if (!fieldEl) return;
  fieldEl.classList.remove("bad");
  const slot = fieldEl.querySelector(".field-error");
  if (slot) slot.textContent = "";
}

/** Show the API's 422 in the form: each field it names gets its message; the rest goes to the top. */
export function showFormErrors(form, err) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll(".field.bad")) el.classList.remove("bad");
  const general = [];
  const detail = err && err.body && Array.isArray(err.body.detail) ? err.body.detail : null;
  if (!detail) general.push(err.message);
  for (const d of detail || []) {
    const name = (d.loc || []).slice(1).join(".");
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name.split(".").pop())}"]`);
    const text = d.type === "missing" ? t("form.missing") : d.msg;
    if (slot) { slot.textContent = text; slot.closest(".field").classList.add("bad"); } else general.push(`${name}: ${d.msg}`);
  }
  const missing = (detail || []).filter((d) => d.type === "missing").map((d) => (d.loc || []).slice(-1)[0]);
  const names = missing.map((m) => { const f = form.querySelector(`[data-field="${CSS.escape(m)}"] span`); return f ? f.firstChild.textContent : m; });
  if (missing.length) general.unshift(t("form.missing_list", { fields: names.join(t("form.list_sep")) }));
  form.querySelector(".form-error").textContent = general.join(" ");
  form.querySelector(".form-error").hidden = !general.length;
}

/** Open the form dialog; onSubmit(values, form) may throw the API's error, which stays in the form. */
export function openForm({ title, intro = null, fields, submit, onSubmit, extra = null, wide = false }) {
  const dialog = $("form-dialog");
  const form = h("form", { method: "dialog", class: wide ? "wide-form" : "" },
    h("h2", {}, title), intro ? h("p", { class: "intro" }, intro) : null,
    h("div", { class: "form-error", role: "alert", hidden: true }),
    h("div", { class: "fields" }, ...fields.map(field)),
    extra,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "quiet", "data-action": "close", onclick: () => dialog.close() }, t("form.close")),
      h("button", { type: "submit", "data-action": "submit" }, submit)));
  form.addEventListener("input", (ev) => {
    clearFieldError(ev.target.closest(".field"));
    if (!form.querySelector(".field.bad")) form.querySelector(".form-error").hidden = true;  // all put right
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const button = form.querySelector("[data-action=submit]");
    button.disabled = true;
    try { await onSubmit(formValues(form), form); if (dialog.open) dialog.close(); }
    catch (err) { showFormErrors(form, err); }
    finally { button.disabled = false; }
  });
  dialog.replaceChildren(form);
  dialog.classList.toggle("wide", wide);
  if (!dialog.open) dialog.showModal();
  return form;
}
