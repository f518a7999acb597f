// Recent alarms: what each is, its tags (chattering, explained, silenced, shelved) and acknowledging it.

import { $, h, showError } from "../dom.js";
import { api } from "../api.js";
import { buildingName, technicianName } from "../names.js";
import { at, level, ms, now, state, t } from "../state.js";

export const FLOOD = 10;               // docs/operations.md: 10 or more alarms in 10 minutes
export const TEN_MIN = 10 * 60 * 1000;

export function recentAlerts() {
  const since = now() - TEN_MIN;
  return [...state.alerts.values()].filter((a) => ms(a.raised_at) >= since).sort((a, b) => ms(b.raised_at) - ms(a.raised_at));
}

function alertTags(a) {
  // why an alarm opened no ticket of its own, or needs a technician's eye later
  const tags = [];
  if (a.chattering) tags.push(h("span", { class: "tag warn", title: t("alarms.chattering_why") }, t("alarms.chattering")));
  if (a.suppressed_by) tags.push(h("span", { class: "tag off", title: t("alarms.explained_by", { id: a.suppressed_by }) }, t("alarms.explained")));
  if (a.silence) tags.push(h("span", { class: "tag off", title: t("alarms.silence_n", { id: a.silence }) }, t("alarms.silenced")));
  if (a.shelved_until && ms(a.shelved_until) > now()) {
    tags.push(h("span", { class: "tag off", title: a.shelve_reason || "" }, t("alarms.shelved_until", { time: at(a.shelved_until) })));
  }
  return tags;
}

function alarmActions(a) {
  if (a.acked_at) return h("span", { class: "meta" }, t("alarms.acked_by", { who: technicianName(state.meta, a.acked_by) }));
  if (a.state === "cleared") return h("span", { class: "meta" }, t("alarms.cleared"));  // nothing left to acknowledge
  return h("button", { type: "button", "data-action": "ack", onclick: () => ack(a.id) }, t("alarms.ack"));
}

export function renderAlerts() {
  const recent = recentAlerts();
  const key = state.lang + recent.map((a) => a.id + a.state + (a.acked_at || "") + (a.shelved_until || "") + a.chattering).join();
  if (key !== state.alertKey) {  // rebuilt only when something changed, so an Ack click is never lost
    state.alertKey = key;
    $("alerts").replaceChildren(...(recent.length ? recent.map((a) => h("li", { class: `u${a.urgency} ${a.state}`, "data-id": a.id },
      h("span", { class: "what" }, `${level(a.urgency)} ${a.title}`, ...alertTags(a)),
      h("span", { class: "when" }, at(a.raised_at)),
      h("span", { class: "meta" }, a.device || t("alarms.system"), a.building ? ` · ${buildingName(state.meta, a.building)}` : "",
        a.state === "cleared" ? ` · ${t("alarms.cleared")}` : "", a.ticket ? ` · ${a.ticket}` : ""),
      alarmActions(a))) : [h("li", { class: "empty" }, t("alarms.none"))]));
  }
  $("alert-count").textContent = recent.length;
  // a planned shutdown's silenced alarms are expected, not a flood for the operator
  const counted = recent.filter((a) => !a.silence).length;
  const flood = $("flood");
  flood.hidden = counted < FLOOD;
  flood.textContent = t("flood.text", { n: counted });
}

async function ack(id) {
  try {
    const a = await api(`/api/v1/alerts/${encodeURIComponent(id)}/ack`, { method: "POST", body: "{}" });
    state.alerts.set(a.id, a); renderAlerts();
  } catch (e) { showError(e.message); }
}
