// Admin: the API's tokens (issue with a role and an expiry, list with last use, rotate, revoke). A new
// token's secret is shown once, here, and never again.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { formValues } from "../forms.js";
import { label } from "../i18n.js";
import { at, now, state, t } from "../state.js";

export const TTLS = [0, 86400, 30 * 86400, 90 * 86400, 365 * 86400];  // seconds; 0: never expires

/** A token's state as the list shows it. Pure. */
export function tokenState(tk) {
  if (tk.revoked) return tk.replaced_by ? "replaced" : "revoked";
  if (tk.expired) return "expired";
  return "active";
}

function ttlLabel(seconds) {
  if (!seconds) return t("admin.never");
  return seconds >= 365 * 86400 ? t("admin.years", { n: seconds / (365 * 86400) }) : t("dur.days", { n: seconds / 86400 });
}

function showSecret(issued) {
  $("token-issued").replaceChildren(h("p", {}, t("admin.issued", { role: label(state.meta.roles, issued.role, state.lang), subject: issued.subject })),
    h("code", { class: "secret", "data-token-id": issued.id }, issued.token), h("p", { class: "intro" }, t("admin.once")));
  $("token-issued").hidden = false;
}

function buildForm() {
  const roles = (state.meta.roles || []).map((r) => h("option", { value: r.id }, r.label[state.lang] || r.id));
  const subjects = h("datalist", { id: "token-subjects" }, ...state.meta.technicians.map((x) => h("option", { value: x.id }, x.name)));
  const field = (name, text, control) => h("label", { class: "field", "data-field": name }, h("span", {}, text), control,
    h("small", { class: "field-error", "data-error-for": name }));
  $("token-form-admin").replaceChildren(
    field("role", t("admin.role"), h("select", { name: "role" }, ...roles)),
    field("subject", t("admin.subject"), h("input", { name: "subject", list: "token-subjects", placeholder: t("admin.subject_hint"), autocomplete: "off" })),
    field("ttl", t("admin.expires"), h("select", { name: "ttl" }, ...TTLS.map((s) => h("option", { value: String(s) }, ttlLabel(s))))),
    h("div", { class: "field" }, h("span", {}, "\u00a0"), h("button", { type: "submit", "data-action": "issue" }, t("admin.issue"))), subjects);
  $("token-form-admin").value = "operator";
  $("token-form-admin").querySelector("[name=role]").value = "operator";
  $("token-form-admin").onsubmit = async (ev) => {
    ev.preventDefault();
    const v = formValues($("token-form-admin"));
    for (const el of $("token-form-admin").querySelectorAll(".field-error")) el.textContent = "";
    try {
      const issued = await api("/api/v1/tokens", { method: "POST", body: JSON.stringify({ role: v.role, subject: v.subject.trim(),
        ...(Number(v.ttl) ? { ttl: Number(v.ttl) } : {}) }) });
      showSecret(issued);
      await loadTokens();
    } catch (e) {
      const detail = e.body && Array.isArray(e.body.detail) ? e.body.detail : [];
      for (const d of detail) {
        const slot = $("token-form-admin").querySelector(`[data-error-for="${(d.loc || []).slice(-1)[0]}"]`);
        if (slot) slot.textContent = d.type === "missing" ? t("form.missing") : d.msg;
      }
      if (!detail.length) showError(e.message);
    }
  };
  state.adminBuilt = state.lang;
}

async function rotate(tk) {
  try { showSecret(await api(`/api/v1/tokens/${encodeURIComponent(tk.id)}/rotate`, { method: "POST", body: "{}" })); await loadTokens(); }
  catch (e) { showError(e.message); }
}

async function revoke(tk) {
  if (!confirm(t("admin.revoke_confirm", { subject: tk.subject, id: tk.id }))) return;
  try { await api(`/api/v1/tokens/${encodeURIComponent(tk.id)}`, { method: "DELETE" }); await loadTokens(); }
  catch (e) { showError(e.message); }
}

export async function loadTokens() {
  if (state.adminBuilt !== state.lang) buildForm();
  try {
    const list = await api("/api/v1/tokens");
    const head = ["admin.col_id", "admin.col_role", "admin.col_subject", "admin.col_created", "admin.col_expires", "admin.col_used", "admin.col_state", ""];
    $("token-list").replaceChildren(h("thead", {}, h("tr", {}, ...head.map((k) => h("th", {}, k ? t(k) : "")))),
      h("tbody", {}, ...list.map((tk) => {
        const st = tokenState(tk);
        return h("tr", { "data-id": tk.id, class: st },
          h("td", { class: "mono" }, tk.id), h("td", {}, label(state.meta.roles, tk.role, state.lang)),
          h("td", {}, tk.subject), h("td", {}, at(tk.created_at)), h("td", {}, tk.expires_at ? at(tk.expires_at) : t("admin.never")),
          h("td", {}, tk.last_used_at ? at(tk.last_used_at) : "—"),
          h("td", {}, h("span", { class: `tag ${st === "active" ? "on" : "off"}` }, t(`admin.state_${st}`))),
          h("td", {}, st === "active" ? h("span", { class: "outcomes" },
            h("button", { type: "button", class: "quiet", "data-action": "rotate", onclick: () => rotate(tk) }, t("admin.rotate")),
            h("button", { type: "button", class: "danger", "data-action": "revoke", onclick: () => revoke(tk) }, t("admin.revoke"))) : ""));
      })));
    $("view-admin").dataset.loaded = String(now());
  } catch (e) { showError(e.message); }
}
