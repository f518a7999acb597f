// Silences in force or to come: what each covers, until when, who set it; ending one early.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { label } from "../i18n.js";
import { buildingName, technicianName } from "../names.js";
import { at, ms, now, state, t } from "../state.js";
import { silenceForm } from "./alarms.js";

/** "Tower B (2号楼) · water pressure", "A-B2-LEAK-1 · rule low-pressure": what a silence's matchers cover. */
export function describeMatchers(m, meta, lang, tr) {
  const parts = [];
  if (m.building) parts.push(buildingName(meta, m.building));
  if (m.floor !== undefined && m.floor !== null) parts.push(tr("place.floor", { floor: m.floor }));
  if (m.zone) parts.push(m.zone);
  if (m.device) parts.push(m.device);
  if (m.device_type) parts.push(label(meta && meta.device_types, m.device_type, lang));
  if (m.rule) parts.push(tr("silence.rule", { rule: m.rule }));
  return parts.join(" · ");
}

export async function loadSilences() {
  try { state.silences = await api("/api/v1/silences"); } catch (e) { if (e.status !== 403) throw e; state.silences = []; }
  renderSilences();
}

export function renderSilences() {
  const list = state.silences || [];
  const when = now();
  $("silence-count").textContent = list.length;
  $("silences").replaceChildren(...(list.length ? list.map((s) => h("li", { "data-id": String(s.id) },
    h("span", { class: "what" }, describeMatchers(s.matchers, state.meta, state.lang, t),
      h("span", { class: `tag ${s.active ? "warn" : "off"}` }, s.active ? t("silence.active") : t("silence.planned"))),
    h("span", { class: "when" }, ms(s.starts_at) > when ? at(s.starts_at) : ""),
    h("span", { class: "meta" }, t("silence.until", { time: at(s.ends_at), who: technicianName(state.meta, s.author) }), " — ", s.reason),
    h("button", { type: "button", class: "quiet", "data-action": "end-silence", onclick: () => endSilence(s.id) }, t("silence.end"))))
    : [h("li", { class: "empty" }, t("silence.none"))]));
}

async function endSilence(id) {
  try { await api(`/api/v1/silences/${id}`, { method: "DELETE" }); await loadSilences(); }
  catch (e) { showError(e.message); }
}

export function wireSilences() {
  $("new-silence").onclick = () => silenceForm();
}
